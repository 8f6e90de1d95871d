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
    std::string topic;  // <discovery prefix>/sensor/evn-mbus-<meter number>/<value>/config
    nlohmann::json payload;

    bool operator==(const discovery_message&) const = default;
};

// One sensor per named value the reading contains (w_p, w_n, ..., phi, f: every name of
// obis_code.hpp's named_quantities(), in that order). Empty when the reading has no meter number
// (the device needs a stable identity) or when neither per-value topics nor the state topic are
// published.
std::vector<discovery_message> ha_discovery_messages(const reading& r, const mqtt_config& config);

// The manufacturer's name for a DLMS FLAG id ("KFM" -> "Kaifa"); the id itself when unknown.
std::string manufacturer_name(const std::string& flag_id);

}  // namespace evn_mbus
