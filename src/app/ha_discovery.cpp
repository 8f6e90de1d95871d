#include "ha_discovery.hpp"

#include <optional>
#include <span>
#include <string_view>

#include "evn_mbus/hex.hpp"

namespace evn_mbus {
namespace {

struct sensor_kind {
    std::string_view name;          // our value name, also the per-value topic
    std::string_view label;         // entity name in Home Assistant
    std::string_view device_class;  // Home Assistant's sensor device classes; empty: none
    std::string_view state_class;
    std::string_view unit;  // empty: no unit (power factor)
};

// One per named quantity (obis_code.hpp), in that order. Reactive energy has no device class
// in Home Assistant (it would refuse "varh" for "energy"); it still counts up.
constexpr sensor_kind sensor_kinds[] = {
    {"w_p", "Energy import", "energy", "total_increasing", "Wh"},
    {"w_n", "Energy export", "energy", "total_increasing", "Wh"},
    {"w_p_t1", "Energy import tariff 1", "energy", "total_increasing", "Wh"},
    {"w_p_t2", "Energy import tariff 2", "energy", "total_increasing", "Wh"},
    {"w_n_t1", "Energy export tariff 1", "energy", "total_increasing", "Wh"},
    {"w_n_t2", "Energy export tariff 2", "energy", "total_increasing", "Wh"},
    {"r_p", "Reactive energy import", "", "total_increasing", "varh"},
    {"r_n", "Reactive energy export", "", "total_increasing", "varh"},
    {"r_p_t1", "Reactive energy import tariff 1", "", "total_increasing", "varh"},
    {"r_p_t2", "Reactive energy import tariff 2", "", "total_increasing", "varh"},
    {"r_n_t1", "Reactive energy export tariff 1", "", "total_increasing", "varh"},
    {"r_n_t2", "Reactive energy export tariff 2", "", "total_increasing", "varh"},
    {"p_p", "Power import", "power", "measurement", "W"},
    {"p_n", "Power export", "power", "measurement", "W"},
    {"q_p", "Reactive power import", "reactive_power", "measurement", "var"},
    {"q_n", "Reactive power export", "reactive_power", "measurement", "var"},
    {"p1_p", "Power import L1", "power", "measurement", "W"},
    {"p2_p", "Power import L2", "power", "measurement", "W"},
    {"p3_p", "Power import L3", "power", "measurement", "W"},
    {"p1_n", "Power export L1", "power", "measurement", "W"},
    {"p2_n", "Power export L2", "power", "measurement", "W"},
    {"p3_n", "Power export L3", "power", "measurement", "W"},
    {"u1", "Voltage L1", "voltage", "measurement", "V"},
    {"u2", "Voltage L2", "voltage", "measurement", "V"},
    {"u3", "Voltage L3", "voltage", "measurement", "V"},
    {"i1", "Current L1", "current", "measurement", "A"},
    {"i2", "Current L2", "current", "measurement", "A"},
    {"i3", "Current L3", "current", "measurement", "A"},
    {"phi", "Power factor", "power_factor", "measurement", ""},
    {"phi1", "Power factor L1", "power_factor", "measurement", ""},
    {"phi2", "Power factor L2", "power_factor", "measurement", ""},
    {"phi3", "Power factor L3", "power_factor", "measurement", ""},
    {"f", "Frequency", "frequency", "measurement", "Hz"},
};

// Discovery topics and unique ids allow only [a-zA-Z0-9_-].
std::string topic_safe(const std::string& text) {
    std::string out = text;
    for (char& c : out) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) c = '_';
    }
    return out;
}

struct device_identity {
    std::string node;  // evn-mbus-<id>: topic level, device identifier, unique id prefix
    std::string name;  // the device's name in Home Assistant
};

// The meter number where the meter sends one (unchanged since the first release: existing
// entities keep their ids); else the system title, which every encrypted push carries and
// which is the meter's own for life (a Landis+Gyr E450 sends no number). A plaintext push
// without a number has neither: no identity.
std::optional<device_identity> identity_of(const reading& r) {
    if (!r.meter_number.empty()) {
        return device_identity{"evn-mbus-" + topic_safe(r.meter_number),
                               "Smart meter " + r.meter_number};
    }
    if (r.title == system_title{}) return std::nullopt;
    const std::string id = r.manufacturer();
    // "LGZ 677370B177": the maker's letters and the serial part, as the title reads.
    const std::string shown =
        id.empty() ? to_hex(r.title) : id + " " + to_hex(std::span(r.title).subspan(3));
    return device_identity{"evn-mbus-" + to_hex(r.title), "Smart meter " + shown};
}

}  // namespace

bool ha_device_identified(const reading& r) {
    return identity_of(r).has_value();
}

std::string ha_meter_status_topic(const mqtt_config& config) {
    return config.topic_prefix + "/meter_status";
}

std::string manufacturer_name(const std::string& flag_id) {
    const auto name = flag_manufacturer(flag_id);
    return name.empty() ? flag_id : std::string(name);
}

std::vector<discovery_message> ha_discovery_messages(const reading& r, const mqtt_config& config) {
    std::vector<discovery_message> out;
    const auto identity = identity_of(r);
    if (!identity) return out;
    if (!config.publish_values && !config.publish_json) return out;

    const std::string& node = identity->node;
    nlohmann::json device = {
        {"identifiers", nlohmann::json::array({node})},
        {"name", identity->name},
        {"model", r.device_name.empty() ? std::string("Smart meter (M-Bus customer interface)")
                                        : r.device_name},
        {"sw_version", std::string("evn-mbus ") + EVN_MBUS_VERSION},
    };
    if (const auto m = r.manufacturer(); !m.empty()) device["manufacturer"] = manufacturer_name(m);

    // Available while both the daemon (its will says offline) and the meter (silent line, port
    // lost: mqtt_publisher.hpp) are: values of a silent meter are not shown as current.
    const nlohmann::json availability = nlohmann::json::array({
        {{"topic", config.topic_prefix + "/status"},
         {"payload_available", "online"},
         {"payload_not_available", "offline"}},
        {{"topic", ha_meter_status_topic(config)},
         {"payload_available", "online"},
         {"payload_not_available", "offline"}},
    });
    const bool kwh = config.discovery.unit == energy_unit::kwh;
    for (const auto& kind : sensor_kinds) {
        if (!r.named(kind.name)) continue;
        const std::string name(kind.name);
        const bool energy = kind.device_class == "energy";
        nlohmann::json p = {
            {"name", kind.label},
            {"unique_id", node + "-" + name},
            {"state_class", kind.state_class},
            {"availability", availability},
            {"availability_mode", "all"},
            {"device", device},
        };
        if (!kind.device_class.empty()) p["device_class"] = kind.device_class;
        if (energy) {
            p["unit_of_measurement"] = kwh ? "kWh" : "Wh";
        } else if (!kind.unit.empty()) {
            p["unit_of_measurement"] = kind.unit;
        }
        // The meter counts energy in Wh; kWh divides in Home Assistant, the topics stay Wh.
        const std::string divide = energy && kwh ? " | float / 1000" : "";
        if (config.publish_values) {
            p["state_topic"] = config.topic_prefix + "/" + name;
            if (!divide.empty()) p["value_template"] = "{{ value" + divide + " }}";
        } else {
            p["state_topic"] = config.topic_prefix + "/state";
            p["value_template"] = "{{ value_json." + name + divide + " }}";
        }
        if (config.discovery.expire_after.count() > 0) {
            p["expire_after"] = config.discovery.expire_after.count();
        }
        out.push_back(
            {config.discovery.prefix + "/sensor/" + node + "/" + name + "/config", std::move(p)});
    }
    return out;
}

}  // namespace evn_mbus
