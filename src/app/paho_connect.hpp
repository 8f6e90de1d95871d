// Everything the Paho client needs before its first connect, from the configuration: the
// broker's address (for the probe), the password (mqtt.password or mqtt.password_file), the
// client id (client_id.hpp when none is set), the client and its connect options (MQTT 3.1.1
// only, our own reconnects, the will on <prefix>/status, TLS as mqtt.tls says).
#pragma once

#include <mqtt/async_client.h>

#include <memory>
#include <string>

#include "broker_probe.hpp"
#include "daemon_config.hpp"

namespace evn_mbus {

struct paho_setup {
    broker_address address;
    std::string client_id;
    std::unique_ptr<mqtt::async_client> client;
    mqtt::connect_options options;
};

// Throws std::runtime_error, in words for the user, when the settings cannot work at all
// (a URI with a password, an unknown scheme, an unreadable password_file).
paho_setup paho_connect_setup(const mqtt_config& config, const std::string& status_topic);

}  // namespace evn_mbus
