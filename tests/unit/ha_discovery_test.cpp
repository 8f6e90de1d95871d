// Home Assistant discovery payloads for real decoded readings.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "fixture_loader.hpp"
#include "ha_discovery.hpp"
#include "meter_availability.hpp"

namespace evn_mbus {
namespace {

reading decoded(const std::string& id) {
    const auto& c = test::capture_by_id(id);
    auto d = test::decode_all(c.keys, test::concat(c.frames));
    if (d.readings.size() != 1) throw std::runtime_error("fixture " + id + " did not decode");
    return d.readings.front();
}

const nlohmann::json& sensor(const std::vector<discovery_message>& ms, const std::string& name) {
    for (const auto& m : ms) {
        if (m.topic.find("/" + name + "/config") != std::string::npos) return m.payload;
    }
    throw std::runtime_error("no sensor " + name);
}

// The daemon's status (its will) and the meter's own: a silent meter's values are unavailable.
nlohmann::json expected_availability(const std::string& prefix) {
    return nlohmann::json::array({
        {{"topic", prefix + "/status"},
         {"payload_available", "online"},
         {"payload_not_available", "offline"}},
        {{"topic", prefix + "/meter_status"},
         {"payload_available", "online"},
         {"payload_not_available", "offline"}},
    });
}

// evn-mbus itself, in every payload; its version is not the meter's firmware (sw_version).
const nlohmann::json expected_origin = {
    {"name", "evn-mbus"},
    {"sw_version", EVN_MBUS_VERSION},
};

// The daemon's own entities from <prefix>/diagnostics.
bool daemon_diagnostic(const discovery_message& m) {
    for (const auto* name : {"telegrams_ok", "telegrams_failed", "last_error"}) {
        if (m.topic.ends_with(std::string("/").append(name).append("/config"))) return true;
    }
    return false;
}

// The last topic level before /config: the value's name.
std::string name_of(const discovery_message& m) {
    const auto end = m.topic.rfind("/config");
    const auto start = m.topic.rfind('/', end - 1) + 1;
    return m.topic.substr(start, end - start);
}

TEST(ha_discovery, one_sensor_per_value_of_a_three_phase_meter) {
    const auto r = decoded("evn_kaifa_ma309_doc");
    const mqtt_config config;
    const auto ms = ha_discovery_messages(r, config);
    std::vector<std::string> topics;
    for (const auto& m : ms)
        topics.push_back(m.topic);
    const std::string base = "homeassistant/sensor/evn-mbus-181220000009/";
    EXPECT_EQ(topics,
              (std::vector<std::string>{
                  base + "w_p/config", base + "w_n/config", base + "p_p/config",
                  base + "p_n/config", base + "u1/config", base + "u2/config", base + "u3/config",
                  base + "i1/config", base + "i2/config", base + "i3/config", base + "phi/config",
                  base + "p_net/config", base + "clock/config", base + "telegrams_ok/config",
                  base + "telegrams_failed/config", base + "last_error/config"}));

    // The meter's firmware is unknown: no sw_version. Its number is its serial number.
    const nlohmann::json expected_device = {
        {"identifiers", {"evn-mbus-181220000009"}},
        {"name", "Smart meter 181220000009"},
        {"manufacturer", "Kaifa"},
        {"model", "Kaifa smart meter (obis-tagged push)"},
        {"model_id", "KFM"},
        {"serial_number", "181220000009"},
    };
    const nlohmann::json expected_w_p = {
        {"name", "Energy import"},     {"unique_id", "evn-mbus-181220000009-w_p"},
        {"device_class", "energy"},    {"state_class", "total_increasing"},
        {"unit_of_measurement", "Wh"}, {"suggested_display_precision", 0},
        {"state_topic", "evn/w_p"},    {"availability", expected_availability("evn")},
        {"availability_mode", "all"},  {"device", expected_device},
        {"origin", expected_origin},
    };
    EXPECT_EQ(sensor(ms, "w_p"), expected_w_p);

    std::set<std::string> ids;
    for (const auto& m : ms) {
        EXPECT_EQ(m.payload.at("device"), expected_device) << m.topic;
        EXPECT_EQ(m.payload.at("origin"), expected_origin) << m.topic;
        // Home Assistant refuses availability_topic next to an availability list.
        EXPECT_FALSE(m.payload.contains("availability_topic"));
        EXPECT_FALSE(m.payload.contains("expire_after"));
        ids.insert(m.payload.at("unique_id").get<std::string>());
        EXPECT_EQ(m.payload.at("unique_id"), "evn-mbus-181220000009-" + name_of(m));
        if (daemon_diagnostic(m)) continue;
        EXPECT_EQ(m.payload.at("availability"), expected_availability("evn"));
        EXPECT_EQ(m.payload.at("availability_mode"), "all");
        EXPECT_FALSE(m.payload.contains("value_template")) << m.topic;
        EXPECT_EQ(m.payload.at("state_topic"), "evn/" + name_of(m));
    }
    EXPECT_EQ(ids.size(), ms.size()) << "unique ids must differ";

    const auto& w_n = sensor(ms, "w_n");
    EXPECT_EQ(w_n.at("device_class"), "energy");
    EXPECT_EQ(w_n.at("state_class"), "total_increasing");
    EXPECT_EQ(w_n.at("state_topic"), "evn/w_n");
    for (const auto* name : {"p_p", "p_n"}) {
        const auto& p = sensor(ms, name);
        EXPECT_EQ(p.at("device_class"), "power");
        EXPECT_EQ(p.at("state_class"), "measurement");
        EXPECT_EQ(p.at("unit_of_measurement"), "W");
    }
    for (const auto* name : {"u1", "u2", "u3"}) {
        EXPECT_EQ(sensor(ms, name).at("device_class"), "voltage");
        EXPECT_EQ(sensor(ms, name).at("unit_of_measurement"), "V");
        EXPECT_EQ(sensor(ms, name).at("state_class"), "measurement");
    }
    for (const auto* name : {"i1", "i2", "i3"}) {
        EXPECT_EQ(sensor(ms, name).at("device_class"), "current");
        EXPECT_EQ(sensor(ms, name).at("unit_of_measurement"), "A");
    }
    const auto& phi = sensor(ms, "phi");
    EXPECT_EQ(phi.at("device_class"), "power_factor");
    EXPECT_EQ(phi.at("state_class"), "measurement");
    EXPECT_FALSE(phi.contains("unit_of_measurement"));
    EXPECT_EQ(phi.at("name"), "Power factor");
    EXPECT_EQ(sensor(ms, "u2").at("name"), "Voltage L2");
}

TEST(ha_discovery, only_the_values_the_meter_sends) {
    // Tinetz' Kaifa example carries single-phase values only.
    const auto r = decoded("tinetz_kaifa_ma309_doc");
    ASSERT_FALSE(r.meter_number.empty());
    const auto ms = ha_discovery_messages(r, mqtt_config{});
    std::set<std::string> names;
    for (const auto& m : ms)
        names.insert(name_of(m));
    // What it sends, p_net (it sends P+ and P-), its clock and the daemon's figures.
    std::set<std::string> sent = {"p_net", "clock", "telegrams_ok", "telegrams_failed",
                                  "last_error"};
    for (const auto& q : named_quantities()) {
        if (r.named(q.name)) sent.insert(std::string(q.name));
    }
    EXPECT_EQ(names, sent);
    EXPECT_EQ(names.count("u2"), 0u);
    EXPECT_EQ(names.count("u1"), 1u);
    EXPECT_EQ(names.count("r_p"), 1u);  // TINETZ sends reactive energy
    EXPECT_EQ(names.count("q_p"), 0u);  // ... but not reactive power
}

// The Wiener Netze Siemens IM350 (real capture, plaintext; implied OBIS codes): energy,
// reactive energy, power and reactive power, nothing else.
TEST(ha_discovery, implied_obis_profile_gets_its_sensors) {
    const auto& c = test::capture_by_id("wienernetze_siemens_rddl");
    telegram_decoder dec(decoder_keys{});
    reading r;
    ASSERT_FALSE(dec.decode_apdu(c.plaintext, r));
    mqtt_config config;
    config.discovery.unit = energy_unit::kwh;
    const auto ms = ha_discovery_messages(r, config);
    std::vector<std::string> topics;
    for (const auto& m : ms)
        topics.push_back(m.topic);
    const std::string base = "homeassistant/sensor/evn-mbus-SMS1030788000020/";
    EXPECT_EQ(topics, (std::vector<std::string>{
                          base + "w_p/config", base + "w_n/config", base + "r_p/config",
                          base + "r_n/config", base + "p_p/config", base + "p_n/config",
                          base + "q_p/config", base + "q_n/config", base + "p_net/config",
                          base + "clock/config", base + "telegrams_ok/config",
                          base + "telegrams_failed/config", base + "last_error/config"}));
    // Reactive energy: counts up, but is not "energy" (no kWh division, no device class).
    const auto& r_n = sensor(ms, "r_n");
    EXPECT_FALSE(r_n.contains("device_class"));
    EXPECT_EQ(r_n.at("state_class"), "total_increasing");
    EXPECT_EQ(r_n.at("unit_of_measurement"), "varh");
    EXPECT_FALSE(r_n.contains("value_template"));
    EXPECT_EQ(r_n.at("name"), "Reactive energy export");
    const auto& q_n = sensor(ms, "q_n");
    EXPECT_EQ(q_n.at("device_class"), "reactive_power");
    EXPECT_EQ(q_n.at("state_class"), "measurement");
    EXPECT_EQ(q_n.at("unit_of_measurement"), "var");
    EXPECT_EQ(q_n.at("state_topic"), "evn/q_n");
    EXPECT_EQ(sensor(ms, "w_p").at("unit_of_measurement"), "kWh");
    // No system title in a plaintext push: no manufacturer in the device, and the model says
    // only how the push is laid out.
    const auto& device = ms.front().payload.at("device");
    EXPECT_FALSE(device.contains("manufacturer"));
    EXPECT_FALSE(device.contains("model_id"));
    EXPECT_EQ(device.at("model"), "Smart meter (wiener-netze-im350 push)");
    EXPECT_EQ(device.at("serial_number"), "SMS1030788000020");
}

// Synthetic: a reading with every named quantity gets one sensor each, in the documented
// order, each with a unit, device class and state class Home Assistant accepts.
TEST(ha_discovery, every_named_quantity_has_a_sensor) {
    reading r;
    r.meter_number = "TEST0001";
    r.title = {'L', 'G', 'Z', 0, 0, 0, 0, 1};
    for (const auto& q : named_quantities()) {
        obis_value v;
        v.code = obis_code{{1, 0, q.c, q.d, q.e, 255}};
        v.type = axdr_type::double_long_unsigned;
        v.raw_unsigned = 1;
        r.values.push_back(v);
    }
    const auto ms = ha_discovery_messages(r, mqtt_config{});
    // Then p_net and the three phases' (it sends P+ and P- of each), and the daemon's three
    // diagnostics (no clock: none was sent).
    ASSERT_EQ(ms.size(), named_quantities().size() + 4 + 3);
    const std::set<std::string> allowed_classes = {
        "energy", "power", "reactive_power", "voltage", "current", "power_factor", "frequency"};
    for (std::size_t i = 0; i < named_quantities().size(); ++i) {
        const auto& q = named_quantities()[i];
        const auto& p = ms[i].payload;
        EXPECT_EQ(ms[i].topic,
                  "homeassistant/sensor/evn-mbus-TEST0001/" + std::string(q.name) + "/config");
        EXPECT_EQ(p.at("state_topic"), "evn/" + std::string(q.name));
        EXPECT_EQ(p.value("unit_of_measurement", ""), q.unit) << q.name;
        if (p.contains("device_class")) {
            EXPECT_EQ(allowed_classes.count(p.at("device_class")), 1u) << q.name;
        }
        const bool counter = q.d == 8;
        EXPECT_EQ(p.at("state_class"), counter ? "total_increasing" : "measurement") << q.name;
        EXPECT_EQ(p.at("device").at("manufacturer"), "Landis+Gyr");
    }
    EXPECT_EQ(sensor(ms, "f").at("device_class"), "frequency");
    EXPECT_EQ(sensor(ms, "f").at("unit_of_measurement"), "Hz");
    EXPECT_EQ(sensor(ms, "f").at("name"), "Frequency");
    EXPECT_EQ(sensor(ms, "phi2").at("device_class"), "power_factor");
    EXPECT_FALSE(sensor(ms, "phi2").contains("unit_of_measurement"));
    EXPECT_EQ(sensor(ms, "p3_n").at("device_class"), "power");
    EXPECT_EQ(sensor(ms, "p3_n").at("name"), "Power export L3");
    EXPECT_EQ(sensor(ms, "w_p_t2").at("device_class"), "energy");
    EXPECT_EQ(sensor(ms, "w_p_t2").at("name"), "Energy import tariff 2");
    const std::size_t derived = named_quantities().size();
    const char* const net_names[] = {"p_net", "p1_net", "p2_net", "p3_net"};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(name_of(ms[derived + i]), net_names[i]);
        EXPECT_EQ(ms[derived + i].payload.at("device_class"), "power");
    }
    EXPECT_EQ(sensor(ms, "p2_net").at("name"), "Net power L2 (import - export)");
    EXPECT_EQ(sensor(ms, "p2_net").at("state_topic"), "evn/p2_net");
}

// suggested_display_precision from the table: whole Wh (kWh with three decimals, the same
// digits), whole W and var, voltage to 0.1 V, current to 0.01 A, power factor 0.001, 0.01 Hz.
TEST(ha_discovery, display_precision_per_kind_of_value) {
    reading r;
    r.meter_number = "TEST0001";
    for (const auto& q : named_quantities()) {
        obis_value v;
        v.code = obis_code{{1, 0, q.c, q.d, q.e, 255}};
        v.type = axdr_type::double_long_unsigned;
        r.values.push_back(v);
    }
    mqtt_config config;
    auto ms = ha_discovery_messages(r, config);
    const std::map<std::string, int> expected = {
        {"w_p", 0},  {"w_n_t2", 0}, {"r_p", 0},    {"r_n_t1", 0}, {"p_p", 0},
        {"p2_n", 0}, {"p_net", 0},  {"p3_net", 0}, {"q_n", 0},    {"u1", 1},
        {"u3", 1},   {"i2", 2},     {"phi", 3},    {"phi1", 3},   {"f", 2}};
    for (const auto& [name, digits] : expected)
        EXPECT_EQ(sensor(ms, name).at("suggested_display_precision"), digits) << name;
    for (const auto& m : ms) {
        if (daemon_diagnostic(m)) {
            EXPECT_FALSE(m.payload.contains("suggested_display_precision")) << m.topic;
        } else {
            EXPECT_TRUE(m.payload.contains("suggested_display_precision")) << m.topic;
        }
    }
    config.discovery.unit = energy_unit::kwh;
    ms = ha_discovery_messages(r, config);
    EXPECT_EQ(sensor(ms, "w_p").at("suggested_display_precision"), 3);
    EXPECT_EQ(sensor(ms, "w_n_t1").at("suggested_display_precision"), 3);
    EXPECT_EQ(sensor(ms, "r_p").at("suggested_display_precision"), 0) << "varh stays varh";
    EXPECT_EQ(sensor(ms, "u2").at("suggested_display_precision"), 1);
}

// p_net: a power sensor of its own, from its topic or the state JSON as the others.
TEST(ha_discovery, net_power_is_a_power_sensor) {
    const auto r = decoded("evn_kaifa_ma309_doc");
    mqtt_config config;
    auto ms = ha_discovery_messages(r, config);
    const nlohmann::json& p = sensor(ms, "p_net");
    EXPECT_EQ(p.at("name"), "Net power (import - export)");
    EXPECT_EQ(p.at("unique_id"), "evn-mbus-181220000009-p_net");
    EXPECT_EQ(p.at("device_class"), "power");
    EXPECT_EQ(p.at("state_class"), "measurement");
    EXPECT_EQ(p.at("unit_of_measurement"), "W");
    EXPECT_EQ(p.at("state_topic"), "evn/p_net");
    EXPECT_EQ(p.at("availability"), expected_availability("evn"));
    EXPECT_FALSE(p.contains("entity_category"));
    // No per-phase power sent: no per-phase net power.
    EXPECT_THROW(sensor(ms, "p1_net"), std::runtime_error);

    config.publish_values = false;
    ms = ha_discovery_messages(r, config);
    EXPECT_EQ(sensor(ms, "p_net").at("state_topic"), "evn/state");
    EXPECT_EQ(sensor(ms, "p_net").at("value_template"), "{{ value_json.p_net }}");

    // Only P+ sent: no net power.
    auto import_only = r;
    std::erase_if(import_only.values, [](const obis_value& v) {
        const auto q = name_for(v.code);
        return q && q->name == "p_n";
    });
    for (const auto& m : ha_discovery_messages(import_only, mqtt_config{}))
        EXPECT_NE(name_of(m), "p_net");
}

// Home Assistant 2025.6 has a device class for reactive energy; older versions refuse it.
TEST(ha_discovery, reactive_energy_class_only_when_configured) {
    const auto& c = test::capture_by_id("wienernetze_siemens_rddl");
    telegram_decoder dec(decoder_keys{});
    reading r;
    ASSERT_FALSE(dec.decode_apdu(c.plaintext, r));
    mqtt_config config;
    for (const auto* name : {"r_p", "r_n"})
        EXPECT_FALSE(sensor(ha_discovery_messages(r, config), name).contains("device_class"));
    config.discovery.reactive_energy_class = true;
    const auto ms = ha_discovery_messages(r, config);
    for (const auto* name : {"r_p", "r_n"}) {
        EXPECT_EQ(sensor(ms, name).at("device_class"), "reactive_energy") << name;
        EXPECT_EQ(sensor(ms, name).at("unit_of_measurement"), "varh") << name;
        EXPECT_EQ(sensor(ms, name).at("state_class"), "total_increasing") << name;
    }
    // Nothing else changes.
    EXPECT_EQ(sensor(ms, "w_p").at("device_class"), "energy");
    EXPECT_EQ(sensor(ms, "q_p").at("device_class"), "reactive_power");
}

// Diagnostic entities: the meter clock (a meter value: available with the meter), the daemon's
// figures from <prefix>/diagnostics (available with the daemon alone).
TEST(ha_discovery, diagnostic_entities) {
    const auto r = decoded("evn_kaifa_ma309_doc");
    mqtt_config config;
    config.discovery.expire_after = std::chrono::seconds(90);
    auto ms = ha_discovery_messages(r, config);

    const nlohmann::json& clock = sensor(ms, "clock");
    EXPECT_EQ(clock.at("name"), "Meter clock");
    EXPECT_EQ(clock.at("unique_id"), "evn-mbus-181220000009-clock");
    EXPECT_EQ(clock.at("device_class"), "timestamp");
    EXPECT_EQ(clock.at("entity_category"), "diagnostic");
    EXPECT_EQ(clock.at("state_topic"), "evn/clock");
    EXPECT_EQ(clock.at("availability"), expected_availability("evn"));
    EXPECT_EQ(clock.at("expire_after"), 90);
    EXPECT_FALSE(clock.contains("state_class"));
    EXPECT_FALSE(clock.contains("unit_of_measurement"));

    const nlohmann::json daemon_only =
        nlohmann::json::array({{{"topic", "evn/status"},
                                {"payload_available", "online"},
                                {"payload_not_available", "offline"}}});
    const std::map<std::string, std::pair<std::string, std::string>> figures = {
        {"telegrams_ok", {"Telegrams decoded", "{{ value_json.telegrams_ok }}"}},
        {"telegrams_failed", {"Telegrams failed", "{{ value_json.telegrams_failed }}"}},
        {"last_error", {"Last error", "{{ value_json.last_error or 'none' }}"}},
    };
    for (const auto& [name, expected] : figures) {
        const nlohmann::json& p = sensor(ms, name);
        EXPECT_EQ(p.at("name"), expected.first) << name;
        EXPECT_EQ(p.at("value_template"), expected.second) << name;
        EXPECT_EQ(p.at("unique_id"), "evn-mbus-181220000009-" + name);
        EXPECT_EQ(p.at("entity_category"), "diagnostic") << name;
        EXPECT_EQ(p.at("state_topic"), "evn/diagnostics") << name;
        EXPECT_EQ(p.at("availability"), daemon_only) << name;
        EXPECT_FALSE(p.contains("availability_mode")) << name;
        EXPECT_FALSE(p.contains("expire_after")) << name;
        EXPECT_FALSE(p.contains("device_class")) << name;
        EXPECT_FALSE(p.contains("unit_of_measurement")) << name;
    }
    EXPECT_EQ(sensor(ms, "telegrams_ok").at("state_class"), "total_increasing");
    EXPECT_EQ(sensor(ms, "telegrams_failed").at("state_class"), "total_increasing");
    EXPECT_FALSE(sensor(ms, "last_error").contains("state_class")) << "text";
    // Values are not diagnostics.
    EXPECT_FALSE(sensor(ms, "w_p").contains("entity_category"));

    // The state JSON instead of per-value topics: the clock from it; the diagnostics unchanged.
    config.publish_values = false;
    ms = ha_discovery_messages(r, config);
    EXPECT_EQ(sensor(ms, "clock").at("state_topic"), "evn/state");
    EXPECT_EQ(sensor(ms, "clock").at("value_template"), "{{ value_json.clock }}");
    EXPECT_EQ(sensor(ms, "telegrams_ok").at("state_topic"), "evn/diagnostics");

    // No diagnostics topic (mqtt.diagnostics_interval_s 0): no sensors reading it.
    config.diagnostics_interval = std::chrono::seconds(0);
    ms = ha_discovery_messages(r, config);
    for (const auto& m : ms)
        EXPECT_FALSE(daemon_diagnostic(m)) << m.topic;
    EXPECT_NO_THROW(sensor(ms, "clock"));

    // A push without a clock: no clock entity.
    auto no_clock = r;
    no_clock.clock.reset();
    for (const auto& m : ha_discovery_messages(no_clock, mqtt_config{}))
        EXPECT_NE(name_of(m), "clock");
}

// The Landis+Gyr E450 sends no meter number: the device is its system title (4C475A677370B177,
// "LGZ" and five serial bytes), the same for every push, so that its entities stay put.
TEST(ha_discovery, meter_without_number_is_identified_by_system_title) {
    const auto r = decoded("lgz_e450_landis_gyr_e450");
    ASSERT_TRUE(r.meter_number.empty());
    const auto ms = ha_discovery_messages(r, mqtt_config{});
    ASSERT_FALSE(ms.empty());
    const std::string node = "evn-mbus-4C475A677370B177";
    // No number: no serial_number; the FLAG id as model_id (the E450 sends no device name).
    const nlohmann::json expected_device = {
        {"identifiers", {node}},
        {"name", "Smart meter LGZ 677370B177"},
        {"manufacturer", "Landis+Gyr"},
        {"model", "Landis+Gyr smart meter (obis-tagged push)"},
        {"model_id", "LGZ"},
    };
    std::set<std::string> ids;
    for (const auto& m : ms) {
        const std::string name = name_of(m);
        EXPECT_EQ(m.topic, "homeassistant/sensor/" + node + "/" + name + "/config");
        EXPECT_EQ(m.payload.at("unique_id"), node + "-" + name);
        EXPECT_EQ(m.payload.at("device"), expected_device);
        ids.insert(m.payload.at("unique_id").get<std::string>());
    }
    EXPECT_EQ(ids.size(), ms.size());
    EXPECT_EQ(sensor(ms, "w_p").at("device_class"), "energy");
    EXPECT_EQ(sensor(ms, "w_p_t2").at("state_class"), "total_increasing");
    // Stable: another decode of the meter's push, and a later push (other counter and
    // values), announce the same device and sensors.
    EXPECT_EQ(ha_discovery_messages(decoded("lgz_e450_landis_gyr_e450"), mqtt_config{}), ms);
    auto later = r;
    later.frame_counter += 10;
    later.values.front().raw_unsigned += 1000;
    EXPECT_EQ(ha_discovery_messages(later, mqtt_config{}), ms);
}

// A meter that sends its number keeps the ids it always had, system title or not.
TEST(ha_discovery, meter_number_stays_the_identity_when_there_is_a_title) {
    auto r = decoded("evn_kaifa_ma309_doc");
    ASSERT_NE(r.title, system_title{});
    const auto ms = ha_discovery_messages(r, mqtt_config{});
    EXPECT_EQ(sensor(ms, "w_p").at("unique_id"), "evn-mbus-181220000009-w_p");
    EXPECT_EQ(sensor(ms, "w_p").at("device").at("identifiers"),
              nlohmann::json::array({"evn-mbus-181220000009"}));
    r.title = {};
    EXPECT_EQ(sensor(ha_discovery_messages(r, mqtt_config{}), "w_p").at("unique_id"),
              "evn-mbus-181220000009-w_p");
}

TEST(meter_availability, online_while_readings_flow_offline_when_silent_or_lost) {
    using namespace std::chrono_literals;
    const meter_availability::clock::time_point t0{};
    meter_availability m(60s);
    EXPECT_FALSE(m.online());  // not known yet: not shown as current
    EXPECT_FALSE(m.deadline());
    EXPECT_FALSE(m.check(t0 + 1000s));
    EXPECT_FALSE(m.on_port_lost());

    EXPECT_TRUE(m.on_reading(t0));
    EXPECT_FALSE(m.on_reading(t0 + 5s));  // no change: nothing to publish
    EXPECT_EQ(m.deadline(), t0 + 65s);
    EXPECT_FALSE(m.check(t0 + 64s));
    EXPECT_TRUE(m.check(t0 + 65s));
    EXPECT_FALSE(m.online());
    EXPECT_FALSE(m.check(t0 + 66s));  // once
    EXPECT_FALSE(m.deadline());

    EXPECT_TRUE(m.on_reading(t0 + 100s));
    EXPECT_TRUE(m.on_port_lost());
    EXPECT_FALSE(m.on_port_lost());
    EXPECT_FALSE(m.online());

    // No limit (serial.no_data_warning_s 0): offline only when the port is lost.
    meter_availability unlimited(0s);
    EXPECT_TRUE(unlimited.on_reading(t0));
    EXPECT_FALSE(unlimited.deadline());
    EXPECT_FALSE(unlimited.check(t0 + 100000s));
    EXPECT_TRUE(unlimited.online());
    unlimited.set_limit(10s);
    EXPECT_TRUE(unlimited.check(t0 + 10s));
}

TEST(ha_discovery, kilowatt_hours_divide_in_home_assistant) {
    const auto r = decoded("evn_kaifa_ma309_doc");
    mqtt_config config;
    config.discovery.unit = energy_unit::kwh;
    const auto ms = ha_discovery_messages(r, config);
    for (const auto* name : {"w_p", "w_n"}) {
        EXPECT_EQ(sensor(ms, name).at("unit_of_measurement"), "kWh");
        EXPECT_EQ(sensor(ms, name).at("value_template"), "{{ value | float / 1000 }}");
        EXPECT_EQ(sensor(ms, name).at("state_topic"), std::string("evn/") + name);
    }
    EXPECT_EQ(sensor(ms, "p_p").at("unit_of_measurement"), "W");
    EXPECT_FALSE(sensor(ms, "p_p").contains("value_template"));
    EXPECT_FALSE(sensor(ms, "p_net").contains("value_template"));
}

TEST(ha_discovery, state_topic_when_per_value_topics_are_off) {
    const auto r = decoded("evn_kaifa_ma309_doc");
    mqtt_config config;
    config.publish_values = false;
    config.topic_prefix = "home/meter";
    auto ms = ha_discovery_messages(r, config);
    EXPECT_EQ(sensor(ms, "u1").at("state_topic"), "home/meter/state");
    EXPECT_EQ(sensor(ms, "u1").at("value_template"), "{{ value_json.u1 }}");
    EXPECT_EQ(sensor(ms, "u1").at("availability"), expected_availability("home/meter"));

    config.discovery.unit = energy_unit::kwh;
    ms = ha_discovery_messages(r, config);
    EXPECT_EQ(sensor(ms, "w_p").at("value_template"), "{{ value_json.w_p | float / 1000 }}");

    config.publish_json = false;  // nothing a sensor could read
    EXPECT_TRUE(ha_discovery_messages(r, config).empty());
}

TEST(ha_discovery, prefix_expiry_and_identity) {
    auto r = decoded("evn_kaifa_ma309_doc");
    mqtt_config config;
    config.discovery.prefix = "ha";
    config.discovery.expire_after = std::chrono::seconds(90);
    auto ms = ha_discovery_messages(r, config);
    ASSERT_FALSE(ms.empty());
    EXPECT_EQ(ms.front().topic, "ha/sensor/evn-mbus-181220000009/w_p/config");
    for (const auto& m : ms) {
        // The daemon's figures change only every diagnostics interval: they do not expire.
        if (daemon_diagnostic(m)) continue;
        EXPECT_EQ(m.payload.at("expire_after"), 90) << m.topic;
    }

    // Topic levels and ids allow [a-zA-Z0-9_-] only; the name keeps the number as sent.
    r.meter_number = "AB 12/3+";
    r.device_name = "KFM1200200000009";
    ms = ha_discovery_messages(r, config);
    EXPECT_EQ(ms.front().topic, "ha/sensor/evn-mbus-AB_12_3_/w_p/config");
    EXPECT_EQ(ms.front().payload.at("unique_id"), "evn-mbus-AB_12_3_-w_p");
    EXPECT_EQ(ms.front().payload.at("device").at("name"), "Smart meter AB 12/3+");
    EXPECT_EQ(ms.front().payload.at("device").at("serial_number"), "AB 12/3+");
    // The meter's own identification, when it sends one, is the model id.
    EXPECT_EQ(ms.front().payload.at("device").at("model_id"), "KFM1200200000009");
    EXPECT_EQ(ms.front().payload.at("device").at("model"), "Kaifa smart meter (obis-tagged push)");

    // Without a meter number the system title is the identity; without that too (a plaintext
    // push) there is no stable one: no discovery.
    r.meter_number.clear();
    ms = ha_discovery_messages(r, config);
    ASSERT_FALSE(ms.empty());
    EXPECT_EQ(ms.front().payload.at("unique_id"), "evn-mbus-4B464D6750000009-w_p");
    EXPECT_TRUE(ha_device_identified(r));
    r.title = {};
    EXPECT_TRUE(ha_discovery_messages(r, config).empty());
    EXPECT_FALSE(ha_device_identified(r));

    // The manufacturer is the FLAG id's owner, or the id itself.
    EXPECT_EQ(manufacturer_name("SAG"), "Sagemcom");
    EXPECT_EQ(manufacturer_name("ISK"), "Iskraemeco");
    EXPECT_EQ(manufacturer_name("LGZ"), "Landis+Gyr");
    EXPECT_EQ(manufacturer_name("SMS"), "Siemens");
    EXPECT_EQ(manufacturer_name("KFM"), "Kaifa");
    EXPECT_EQ(manufacturer_name("XYZ"), "XYZ");
}

}  // namespace
}  // namespace evn_mbus
