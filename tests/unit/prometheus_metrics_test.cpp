// The Prometheus text exposition: values and their scaling on real captures, escaping, the
// families absent before the first reading, and Debian's promtool on the whole text.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "child_process.hpp"
#include "fixture_loader.hpp"
#include "prometheus_metrics.hpp"

namespace evn_mbus::test {
namespace {

reading decoded(const std::string& id) {
    const auto& c = capture_by_id(id);
    auto d = decode_all(c.keys, concat(c.frames));
    if (d.readings.empty()) throw std::runtime_error("fixture " + id + " did not decode");
    return d.readings.front();
}

metrics_snapshot snapshot_of(const reading* r) {
    metrics_snapshot s;
    s.latest = r;
    s.reading_age_seconds = 1.5;
    if (r) s.meter = prometheus_meter_label(*r);
    s.steady_now = s.stats.started + std::chrono::seconds(100);
    s.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'750'000'000));
    s.version = "1.2.3";
    return s;
}

// The sample lines, by everything before the value.
std::map<std::string, std::string> samples_of(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        out[line.substr(0, space)] = line.substr(space + 1);
    }
    return out;
}

bool has_family(const std::string& text, const std::string& name) {
    return text.find("# TYPE " + name + " ") != std::string::npos;
}

// EVN's Kaifa MA309 example: energy in joules, clock as Unix time, voltages by phase.
TEST(prometheus_metrics, evn_kaifa_values_in_base_units) {
    const reading r = decoded("evn_kaifa_ma309_doc");
    const auto text = prometheus_text(snapshot_of(&r));
    const auto s = samples_of(text);
    const std::string m = "{meter=\"181220000009\"";
    EXPECT_EQ(s.at("evn_mbus_active_energy_import_joules_total" + m + "}"), "46573200")
        << "12937 Wh x 3600";
    EXPECT_EQ(s.at("evn_mbus_active_energy_export_joules_total" + m + "}"), "0");
    EXPECT_EQ(s.at("evn_mbus_active_power_import_watts" + m + "}"), "0");
    EXPECT_EQ(s.at("evn_mbus_active_power_net_watts" + m + "}"), "0");
    EXPECT_EQ(s.at("evn_mbus_voltage_volts" + m + ",phase=\"L1\"}"), "233.7");
    EXPECT_EQ(s.at("evn_mbus_voltage_volts" + m + ",phase=\"L3\"}"), "0");
    EXPECT_EQ(s.at("evn_mbus_current_amperes" + m + ",phase=\"L2\"}"), "0");
    EXPECT_EQ(s.at("evn_mbus_meter_clock_timestamp_seconds" + m + "}"), "1632728835")
        << "2021-09-27T07:47:15Z";
    EXPECT_EQ(s.at("evn_mbus_last_reading_age_seconds" + m + "}"), "1.5");
    EXPECT_EQ(s.count("evn_mbus_power_factor_ratio" + m + "}"), 1u);
    // What the meter does not send has no family at all.
    for (const auto* absent :
         {"evn_mbus_frequency_hertz", "evn_mbus_reactive_power_import_vars",
          "evn_mbus_active_energy_import_tariff_joules_total",
          "evn_mbus_phase_active_power_net_watts", "evn_mbus_phase_power_factor_ratio"})
        EXPECT_FALSE(has_family(text, absent)) << absent;
    // Health beside it.
    EXPECT_EQ(s.at("evn_mbus_build_info{version=\"1.2.3\"}"), "1");
    EXPECT_EQ(s.at("evn_mbus_start_time_seconds"), "1749999900");
    EXPECT_EQ(s.at("evn_mbus_telegrams_ok_total"), "0");
    EXPECT_EQ(s.at("evn_mbus_mqtt_connected"), "0");
}

// Energienetze Steiermark's P1 capture: tariff registers as their own family with a tariff
// label, reactive energy in var-seconds, a household feeding in (negative net power).
TEST(prometheus_metrics, tariffs_reactive_energy_and_net_power) {
    const reading r = decoded("shrdzm_sagemcom_steiermark");
    const auto s = samples_of(prometheus_text(snapshot_of(&r)));
    const std::string m = std::string("{meter=\"").append(prometheus_meter_label(r)).append("\"");
    EXPECT_EQ(s.at("evn_mbus_active_energy_import_joules_total" + m + "}"),
              std::to_string(14159934LL * 3600));
    EXPECT_EQ(s.at("evn_mbus_active_energy_import_tariff_joules_total" + m + ",tariff=\"2\"}"),
              std::to_string(5639012LL * 3600));
    EXPECT_EQ(
        s.at("evn_mbus_reactive_energy_export_tariff_var_seconds_total" + m + ",tariff=\"1\"}"),
        std::to_string(12529385LL * 3600));
    EXPECT_EQ(s.at("evn_mbus_active_power_import_watts" + m + "}"), "544");
    EXPECT_EQ(s.at("evn_mbus_active_power_export_watts" + m + "}"), "1803");
    EXPECT_EQ(s.at("evn_mbus_active_power_net_watts" + m + "}"), "-1259");
    EXPECT_EQ(s.at("evn_mbus_reactive_power_export_vars" + m + "}"), "1659");
    // The tariffs are not in the total's family: sum() over it counts each Wh once.
    for (const auto& [key, value] : s) {
        if (key.starts_with("evn_mbus_active_energy_import_joules_total")) {
            EXPECT_EQ(key.find("tariff"), std::string::npos) << key;
        }
    }
}

// The Landis+Gyr E450 sends no meter number: its label is the system title.
TEST(prometheus_metrics, meter_label_is_the_number_else_the_system_title) {
    const reading lgz = decoded("lgz_e450_landis_gyr_e450");
    EXPECT_EQ(prometheus_meter_label(lgz), "4C475A677370B177");
    reading plain;
    EXPECT_EQ(prometheus_meter_label(plain), "");
    plain.meter_number = "SMS1030788000020";
    EXPECT_EQ(prometheus_meter_label(plain), "SMS1030788000020");
}

TEST(prometheus_metrics, before_the_first_reading_only_health) {
    auto snap = snapshot_of(nullptr);
    snap.stats.telegrams_ok = 0;
    snap.stats.failures = {{"bad_checksum", 2}, {"tag_mismatch", 1}};
    snap.mqtt.connected = true;
    snap.mqtt.queued = 3;
    snap.stats.mqtt_dropped = 7;
    snap.http_connections_open = 2;
    snap.http_requests_total = 40;
    snap.http_refused_total = 1;
    const auto text = prometheus_text(snap);
    EXPECT_EQ(text.find("meter="), std::string::npos) << text;
    EXPECT_FALSE(has_family(text, "evn_mbus_last_reading_age_seconds"));
    EXPECT_FALSE(has_family(text, "evn_mbus_active_energy_import_joules_total"));
    const auto s = samples_of(text);
    EXPECT_EQ(s.at("evn_mbus_telegram_failures_total{reason=\"bad_checksum\"}"), "2");
    EXPECT_EQ(s.at("evn_mbus_telegram_failures_total{reason=\"tag_mismatch\"}"), "1");
    EXPECT_EQ(s.at("evn_mbus_mqtt_connected"), "1");
    EXPECT_EQ(s.at("evn_mbus_mqtt_queued_readings"), "3");
    EXPECT_EQ(s.at("evn_mbus_mqtt_dropped_readings_total"), "7");
    EXPECT_EQ(s.at("evn_mbus_http_connections_open"), "2");
    EXPECT_EQ(s.at("evn_mbus_http_requests_total"), "40");
    EXPECT_EQ(s.at("evn_mbus_http_refused_connections_total"), "1");
    EXPECT_EQ(s.at("evn_mbus_repeated_pushes_total{reason=\"duplicate\"}"), "0");
    EXPECT_EQ(s.at("evn_mbus_plausibility_rejected_readings_total{reason=\"too_fast\"}"), "0");

    // No failure yet: no sample, so no family either.
    snap.stats.failures.clear();
    EXPECT_FALSE(has_family(prometheus_text(snap), "evn_mbus_telegram_failures_total"));
    // MQTT off: no MQTT families.
    snap.mqtt_enabled = false;
    EXPECT_EQ(prometheus_text(snap).find("evn_mbus_mqtt_"), std::string::npos);
}

TEST(prometheus_metrics, label_values_are_escaped) {
    EXPECT_EQ(prometheus_escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(prometheus_escape("plain 1-0:1.8.0"), "plain 1-0:1.8.0");
    reading r = decoded("evn_kaifa_ma309_doc");
    r.meter_number = "A\"1\\\n";
    auto snap = snapshot_of(&r);
    snap.stats.failures = {{"odd\"reason", 1}};
    snap.version = "1.0\\x";
    const auto s = samples_of(prometheus_text(snap));
    EXPECT_EQ(s.count("evn_mbus_active_power_net_watts{meter=\"A\\\"1\\\\\\n\"}"), 1u);
    EXPECT_EQ(s.count("evn_mbus_telegram_failures_total{reason=\"odd\\\"reason\"}"), 1u);
    EXPECT_EQ(s.count("evn_mbus_build_info{version=\"1.0\\\\x\"}"), 1u);
}

// Synthetic: a reading with every named quantity, as odd numbers as a meter may send.
TEST(prometheus_metrics, integers_exact_and_doubles_round_trip) {
    reading r;
    r.meter_number = "X";
    for (const auto& q : named_quantities()) {
        obis_value v;
        v.code = obis_code{{1, 0, q.c, q.d, q.e, 255}};
        v.type = axdr_type::double_long_unsigned;
        v.raw_unsigned = 4'294'967'295;  // the largest double-long-unsigned
        v.scaler = q.d == 8 ? 0 : -3;
        r.values.push_back(v);
    }
    auto snap = snapshot_of(&r);
    snap.stats.telegrams_ok = 18'446'744'073'709'551'615ULL;
    snap.reading_age_seconds = 0.1 + 0.2;
    const auto text = prometheus_text(snap);
    const auto s = samples_of(text);
    EXPECT_EQ(s.at("evn_mbus_active_energy_import_joules_total{meter=\"X\"}"), "15461882262000");
    EXPECT_EQ(s.at("evn_mbus_voltage_volts{meter=\"X\",phase=\"L2\"}"), "4294967.295");
    EXPECT_EQ(s.at("evn_mbus_phase_active_power_net_watts{meter=\"X\",phase=\"L3\"}"), "0");
    EXPECT_EQ(s.at("evn_mbus_telegrams_ok_total"), "18446744073709551615");
    EXPECT_EQ(s.at("evn_mbus_last_reading_age_seconds{meter=\"X\"}"), "0.30000000000000004");
    EXPECT_EQ(s.at("evn_mbus_phase_power_factor_ratio{meter=\"X\",phase=\"L1\"}"), "4294967.295");

    // Every family once, HELP then TYPE then its samples; counters end in _total and only
    // they do.
    std::istringstream in(text);
    std::set<std::string> seen;
    std::string current, type;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string first, name, kind;
        words >> first;
        if (first == "#") {
            words >> kind >> name;
            if (kind == "HELP") {
                EXPECT_TRUE(seen.insert(name).second) << name;
                EXPECT_TRUE(name.starts_with("evn_mbus_")) << name;
                current = name;
            } else {
                EXPECT_EQ(name, current);
                words >> type;
                EXPECT_EQ(type == "counter", name.ends_with("_total")) << name;
            }
            continue;
        }
        EXPECT_EQ(first.substr(0, first.find('{')), current) << line;
    }
    EXPECT_GE(seen.size(), 40u);
}

// Debian's promtool (package prometheus) checks the text of every capture against the format
// and the naming conventions: it must print nothing and exit 0.
TEST(prometheus_metrics, promtool_accepts_the_text_of_every_capture) {
    const auto version = run_process({"promtool", "--version"});
    ASSERT_EQ(version.status, 0) << "promtool is missing: apt-get install prometheus ("
                                 << version.err << ")";
    std::vector<reading> readings;
    for (const auto& c : all_captures())
        readings.push_back(decoded(c.id));
    reading every;  // every named quantity, with a system title only
    every.title = {'L', 'G', 'Z', 0, 0, 0, 0, 1};
    for (const auto& q : named_quantities()) {
        obis_value v;
        v.code = obis_code{{1, 0, q.c, q.d, q.e, 255}};
        v.type = axdr_type::double_long;
        v.raw_signed = 2301;
        v.scaler = -1;
        every.values.push_back(v);
    }
    readings.push_back(every);
    for (const auto& r : readings) {
        auto snap = snapshot_of(&r);
        snap.stats.failures = {{"bad_checksum", 1}};
        const auto text = prometheus_text(snap);
        const auto check = run_process({"promtool", "check", "metrics"}, text);
        EXPECT_EQ(check.status, 0) << check.err << check.out << "\n" << text;
        EXPECT_EQ(check.out + check.err, "") << text;
    }
}

}  // namespace
}  // namespace evn_mbus::test
