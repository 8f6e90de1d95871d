#include "paho_connect.hpp"

#include <chrono>
#include <stdexcept>

#include "client_id.hpp"
#include "config_loader.hpp"
#include "key_text.hpp"
#include "small_file.hpp"
#include "uri_text.hpp"

namespace evn_mbus {
using namespace std::chrono_literals;

namespace {

constexpr int paho_max_inflight = 100;  // the send window plus status, discovery, diagnostics
constexpr int status_qos = 1;           // the will, like "online"/"offline"
constexpr auto connect_timeout = 10s;

// Read again at every (re)connect setup, so that a changed file takes effect on reload.
std::string read_password_file(const std::string& path) {
    std::string pw;
    if (std::string problem = read_small_file(path, max_key_file_bytes, pw); !problem.empty()) {
        throw std::runtime_error("cannot read mqtt.password_file '" + path + "': it " + problem +
                                 ". Make sure it exists and the evn-mbus user may read it.");
    }
    trim_secret_file_text(pw);
    return pw;
}

}  // namespace

paho_setup paho_connect_setup(const mqtt_config& config, const std::string& status_topic) {
    paho_setup out;
    // Refused here too (the configuration refuses it first): no log line below may show a
    // password, and Paho cannot use one in the URI.
    if (uri_has_userinfo(config.uri)) {
        throw std::runtime_error("mqtt.uri '" + uri_without_userinfo(config.uri) +
                                 "' must not hold a user name or password: set "
                                 "mqtt.username and mqtt.password instead");
    }
    const auto address = parse_broker_uri(config.uri);
    if (!address) {
        throw std::runtime_error("mqtt.uri '" + config.uri +
                                 "' is not a broker address: write tcp://host:1883 or, "
                                 "for TLS, ssl://host:8883");
    }
    std::string password = config.password;
    if (!config.password_file.empty()) password = read_password_file(config.password_file);
    // The loader fills client_id for a file; a configuration read from text (tests) gets the
    // main instance's id.
    const std::string client_id = config.client_id.empty()
                                      ? default_client_id(std::string_view(default_config_path))
                                      : config.client_id;
    try {
        out.client = std::make_unique<mqtt::async_client>(config.uri, client_id);
    } catch (const mqtt::exception& e) {
        throw std::runtime_error("cannot use mqtt.uri '" + config.uri + "' (" + e.what() +
                                 "): write tcp://host:1883 or, for TLS, ssl://host:8883");
    }

    mqtt::connect_options o;
    o.set_mqtt_version(MQTTVERSION_3_1_1);  // no silent fallback to 3.1 with a 2nd attempt
    o.set_keep_alive_interval(config.keepalive);
    o.set_clean_session(config.clean_session);
    o.set_connect_timeout(connect_timeout);
    o.set_automatic_reconnect(false);
    o.set_max_inflight(paho_max_inflight);
    o.set_will(mqtt::will_options(status_topic, std::string("offline"), status_qos, true));
    if (!config.username.empty()) o.set_user_name(config.username);
    if (!password.empty()) o.set_password(password);
    if (address->tls) {
        mqtt::ssl_options s;
        if (!config.tls.ca_file.empty()) s.set_trust_store(config.tls.ca_file);
        if (!config.tls.cert_file.empty()) s.set_key_store(config.tls.cert_file);
        if (!config.tls.key_file.empty()) s.set_private_key(config.tls.key_file);
        s.set_enable_server_cert_auth(config.tls.verify);
        s.set_verify(config.tls.verify);  // includes the host name check
        o.set_ssl(s);
    }
    out.options = o;
    out.address = *address;
    out.client_id = client_id;
    return out;
}

}  // namespace evn_mbus
