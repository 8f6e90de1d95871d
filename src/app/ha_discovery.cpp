#include "ha_discovery.hpp"

#include <algorithm>
#include <optional>
#include <span>
#include <string_view>

#include "derived_values.hpp"
#include "evn_mbus/hex.hpp"

namespace evn_mbus {
namespace {

struct sensor_kind {
    std::string_view name;          // our value name, also the per-value topic
    std::string_view label;         // entity name in Home Assistant
    std::string_view device_class;  // Home Assistant's sensor device classes; empty: none
    std::string_view state_class;
    std::string_view unit;  // empty: no unit (power factor)
    int precision;          // suggested_display_precision in `unit` (kWh: 3 more than Wh)
};

// One per named quantity (obis_code.hpp), in that order, then the derived ones
// (derived_values.hpp). Reactive energy gets its device class only when
// mqtt.discovery.reactive_energy_class says so: Home Assistant before 2025.6 has none for it
// and refuses "varh" for "energy"; without a class it still counts up.
constexpr sensor_kind sensor_kinds[] = {
    {"w_p", "Energy import", "energy", "total_increasing", "Wh", 0},
    {"w_n", "Energy export", "energy", "total_increasing", "Wh", 0},
    {"w_p_t1", "Energy import tariff 1", "energy", "total_increasing", "Wh", 0},
    {"w_p_t2", "Energy import tariff 2", "energy", "total_increasing", "Wh", 0},
    {"w_n_t1", "Energy export tariff 1", "energy", "total_increasing", "Wh", 0},
    {"w_n_t2", "Energy export tariff 2", "energy", "total_increasing", "Wh", 0},
    {"r_p", "Reactive energy import", "reactive_energy", "total_increasing", "varh", 0},
    {"r_n", "Reactive energy export", "reactive_energy", "total_increasing", "varh", 0},
    {"r_p_t1", "Reactive energy import tariff 1", "reactive_energy", "total_increasing", "varh", 0},
    {"r_p_t2", "Reactive energy import tariff 2", "reactive_energy", "total_increasing", "varh", 0},
    {"r_n_t1", "Reactive energy export tariff 1", "reactive_energy", "total_increasing", "varh", 0},
    {"r_n_t2", "Reactive energy export tariff 2", "reactive_energy", "total_increasing", "varh", 0},
    {"p_p", "Power import", "power", "measurement", "W", 0},
    {"p_n", "Power export", "power", "measurement", "W", 0},
    {"q_p", "Reactive power import", "reactive_power", "measurement", "var", 0},
    {"q_n", "Reactive power export", "reactive_power", "measurement", "var", 0},
    {"p1_p", "Power import L1", "power", "measurement", "W", 0},
    {"p2_p", "Power import L2", "power", "measurement", "W", 0},
    {"p3_p", "Power import L3", "power", "measurement", "W", 0},
    {"p1_n", "Power export L1", "power", "measurement", "W", 0},
    {"p2_n", "Power export L2", "power", "measurement", "W", 0},
    {"p3_n", "Power export L3", "power", "measurement", "W", 0},
    {"u1", "Voltage L1", "voltage", "measurement", "V", 1},
    {"u2", "Voltage L2", "voltage", "measurement", "V", 1},
    {"u3", "Voltage L3", "voltage", "measurement", "V", 1},
    {"i1", "Current L1", "current", "measurement", "A", 2},
    {"i2", "Current L2", "current", "measurement", "A", 2},
    {"i3", "Current L3", "current", "measurement", "A", 2},
    {"phi", "Power factor", "power_factor", "measurement", "", 3},
    {"phi1", "Power factor L1", "power_factor", "measurement", "", 3},
    {"phi2", "Power factor L2", "power_factor", "measurement", "", 3},
    {"phi3", "Power factor L3", "power_factor", "measurement", "", 3},
    {"f", "Frequency", "frequency", "measurement", "Hz", 2},
    {"p_net", "Net power (import - export)", "power", "measurement", "W", 0},
    {"p1_net", "Net power L1 (import - export)", "power", "measurement", "W", 0},
    {"p2_net", "Net power L2 (import - export)", "power", "measurement", "W", 0},
    {"p3_net", "Net power L3 (import - export)", "power", "measurement", "W", 0},
};

// Diagnostic entities from the retained <prefix>/diagnostics JSON (daemon_stats.hpp): the
// daemon's, so available while the daemon is, also when the meter is silent.
struct diagnostic_kind {
    std::string_view name;  // unique id suffix and topic level
    std::string_view label;
    std::string_view state_class;  // empty: none (text)
    std::string_view value_template;
};

constexpr diagnostic_kind diagnostic_kinds[] = {
    {"telegrams_ok", "Telegrams decoded", "total_increasing", "{{ value_json.telegrams_ok }}"},
    {"telegrams_failed", "Telegrams failed", "total_increasing",
     "{{ value_json.telegrams_failed }}"},
    // null before the first failure: "none" reads better than an unknown state.
    {"last_error", "Last error", "", "{{ value_json.last_error or 'none' }}"},
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

// The device card: what identifies the meter to a person (see the header).
nlohmann::json device_of(const reading& r, const device_identity& identity) {
    nlohmann::json device = {
        {"identifiers", nlohmann::json::array({identity.node})},
        {"name", identity.name},
    };
    const std::string flag = r.manufacturer();
    if (!flag.empty()) device["manufacturer"] = manufacturer_name(flag);
    std::string model =
        flag.empty() ? std::string("Smart meter") : manufacturer_name(flag).append(" smart meter");
    model.append(" (").append(layout_name(r.layout)).append(" push)");
    device["model"] = std::move(model);
    if (!r.device_name.empty()) {
        device["model_id"] = r.device_name;
    } else if (!flag.empty()) {
        device["model_id"] = flag;
    }
    if (!r.meter_number.empty()) device["serial_number"] = r.meter_number;
    return device;
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
    const nlohmann::json device = device_of(r, *identity);
    const nlohmann::json origin = {
        {"name", "evn-mbus"}, {"sw_version", EVN_MBUS_VERSION},
        // No support_url: the project has no published home yet, and HA shows it as a link.
    };
    const auto online = [&](const std::string& topic) {
        return nlohmann::json{{"topic", topic},
                              {"payload_available", "online"},
                              {"payload_not_available", "offline"}};
    };
    // Available while both the daemon (its will says offline) and the meter (silent line, port
    // lost: mqtt_publisher.hpp) are: values of a silent meter are not shown as current.
    const nlohmann::json availability = nlohmann::json::array(
        {online(config.topic_prefix + "/status"), online(ha_meter_status_topic(config))});
    const auto base = [&](std::string_view name, std::string_view label) {
        return nlohmann::json{
            {"name", label},
            {"unique_id", node + "-" + std::string(name)},
            {"availability", availability},
            {"availability_mode", "all"},
            {"device", device},
            {"origin", origin},
        };
    };
    // A meter value: its own topic, or its field of the state JSON; `filter` converts units.
    const auto read_value = [&](nlohmann::json& p, std::string_view name,
                                const std::string& filter) {
        if (config.publish_values) {
            p["state_topic"] = config.topic_prefix + "/" + std::string(name);
            if (!filter.empty()) p["value_template"] = "{{ value" + filter + " }}";
        } else {
            p["state_topic"] = config.topic_prefix + "/state";
            p["value_template"] =
                std::string("{{ value_json.").append(name).append(filter).append(" }}");
        }
        if (config.discovery.expire_after.count() > 0) {
            p["expire_after"] = config.discovery.expire_after.count();
        }
    };
    const auto add = [&](std::string_view name, nlohmann::json p) {
        out.push_back(
            {config.discovery.prefix + "/sensor/" + node + "/" + std::string(name) + "/config",
             std::move(p)});
    };

    const bool kwh = config.discovery.unit == energy_unit::kwh;
    const auto derived = derived_values(r);
    const auto sent = [&](std::string_view name) {
        if (r.named(name)) return true;
        return std::any_of(derived.begin(), derived.end(),
                           [&](const derived_value& d) { return d.name == name; });
    };
    for (const auto& kind : sensor_kinds) {
        if (!sent(kind.name)) continue;
        const bool energy = kind.device_class == "energy";
        nlohmann::json p = base(kind.name, kind.label);
        p["state_class"] = kind.state_class;
        const bool has_class =
            !kind.device_class.empty() &&
            (kind.device_class != "reactive_energy" || config.discovery.reactive_energy_class);
        if (has_class) p["device_class"] = kind.device_class;
        if (energy) {
            p["unit_of_measurement"] = kwh ? "kWh" : "Wh";
        } else if (!kind.unit.empty()) {
            p["unit_of_measurement"] = kind.unit;
        }
        // The meter counts energy in Wh; kWh divides in Home Assistant, the topics stay Wh,
        // and shows the Wh digits.
        p["suggested_display_precision"] = kind.precision + (energy && kwh ? 3 : 0);
        read_value(p, kind.name, energy && kwh ? " | float / 1000" : "");
        add(kind.name, std::move(p));
    }

    // The meter's clock: the meter's, so available as its values are.
    if (r.clock) {
        nlohmann::json p = base("clock", "Meter clock");
        p["device_class"] = "timestamp";
        p["entity_category"] = "diagnostic";
        read_value(p, "clock", "");
        add("clock", std::move(p));
    }

    if (config.diagnostics_interval.count() > 0) {
        const nlohmann::json daemon_only =
            nlohmann::json::array({online(config.topic_prefix + "/status")});
        for (const auto& kind : diagnostic_kinds) {
            nlohmann::json p = base(kind.name, kind.label);
            p["availability"] = daemon_only;
            p.erase("availability_mode");
            p["entity_category"] = "diagnostic";
            if (!kind.state_class.empty()) p["state_class"] = kind.state_class;
            p["state_topic"] = config.topic_prefix + "/diagnostics";
            p["value_template"] = kind.value_template;
            add(kind.name, std::move(p));
        }
    }
    return out;
}

}  // namespace evn_mbus
