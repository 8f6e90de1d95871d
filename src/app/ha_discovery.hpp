// Home Assistant MQTT discovery: the retained config messages that make the meter appear in
// Home Assistant as one device with a sensor per value, without any YAML there. A pure
// function of the reading and the settings, so that the payloads are unit-tested.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon_config.hpp"
#include "evn_mbus/reading.hpp"

namespace evn_mbus {

struct discovery_message {
    // <discovery prefix>/sensor/evn-mbus-<meter number, else system title in hex>/<value>/config
    std::string topic;
    nlohmann::json payload;

    bool operator==(const discovery_message&) const = default;
};

// One sensor per named value the reading contains (w_p, w_n, ..., phi, f: every name of
// obis_code.hpp's named_quantities(), in that order). The device is the meter number, or the
// system title when the meter sends no number. Empty when the reading has neither (a plaintext
// push without a number: no stable identity) or when neither per-value topics nor the state
// topic are published. Each sensor is available while both <prefix>/status (the daemon) and
// ha_meter_status_topic() (the meter) say "online".
std::vector<discovery_message> ha_discovery_messages(const reading& r, const mqtt_config& config);

// Whether the reading identifies a device (a meter number or a system title).
bool ha_device_identified(const reading& r);

// <prefix>/meter_status: retained "online" while readings flow, "offline" when the meter is
// silent, its port is lost, or the daemon stops.
std::string ha_meter_status_topic(const mqtt_config& config);

// The manufacturer's name for a DLMS FLAG id ("KFM" -> "Kaifa"); the id itself when unknown.
std::string manufacturer_name(const std::string& flag_id);

}  // namespace evn_mbus
