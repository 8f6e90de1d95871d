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
// obis_code.hpp's named_quantities(), in that order), then one per derived value
// (derived_values.hpp: p_net, p1_net ...), each with a suggested display precision. The device
// is the meter number, or the system title when the meter sends no number. Empty when the
// reading has neither (a plaintext push without a number: no stable identity) or when neither
// per-value topics nor the state topic are published. Each sensor is available while both
// <prefix>/status (the daemon) and ha_meter_status_topic() (the meter) say "online".
//
// Diagnostic entities (entity_category diagnostic): the meter clock (a timestamp, available as
// the values are), and, unless mqtt.diagnostics_interval_s is 0, telegrams decoded, telegrams
// failed and the last error from the retained <prefix>/diagnostics JSON, available while the
// daemon is (their figures stay true while the meter is silent; no expire_after: they change
// only every diagnostics interval).
//
// The device card, for a person looking at it in Home Assistant:
//   manufacturer   the owner of the system title's FLAG id ("Kaifa"), absent without a title
//   model          "Kaifa smart meter (obis-tagged push)": the maker and how the push is laid
//                  out (reading.hpp's layout_name), which is what tells two meters of a grid
//                  operator apart; "Smart meter (wiener-netze push)" without a title
//   model_id       the meter's own identification when it sends one (reading::device_name:
//                  a DSMR P1 port's type line "ISK5\2M550T-1012", a DLMS logical device name
//                  "KFM1200200000009"), else the FLAG id ("LGZ")
//   serial_number  the meter number, when sent
//   no sw_version: Home Assistant shows it as the device's firmware, and the meter's firmware
//   is unknown; evn-mbus's version is in each payload's origin block instead (name, sw_version,
//   support_url).
// Only the names and these descriptive fields changed over time; the unique ids and topics
// are those of the first release.
std::vector<discovery_message> ha_discovery_messages(const reading& r, const mqtt_config& config);

// Whether the reading identifies a device (a meter number or a system title).
bool ha_device_identified(const reading& r);

// <prefix>/meter_status: retained "online" while readings flow, "offline" when the meter is
// silent, its port is lost, or the daemon stops.
std::string ha_meter_status_topic(const mqtt_config& config);

// The manufacturer's name for a DLMS FLAG id ("KFM" -> "Kaifa"); the id itself when unknown.
std::string manufacturer_name(const std::string& flag_id);

}  // namespace evn_mbus
