// The YAML configuration: defaults, every key, and the messages a user sees for mistakes.
#include "config_loader.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <tuple>

#include "client_id.hpp"
#include "mqtt_publisher.hpp"
#include "temp_dir.hpp"
#include "uri_text.hpp"

namespace evn_mbus {
namespace {

namespace fs = std::filesystem;

const std::string valid_key = "36C66639E48A8CA4D6BC8B282A793BBB";
const aes_key valid_key_bytes = {0x36, 0xC6, 0x66, 0x39, 0xE4, 0x8A, 0x8C, 0xA4,
                                 0xD6, 0xBC, 0x8B, 0x28, 0x2A, 0x79, 0x3B, 0xBB};
// The shipped example, beside the fixtures in the source tree.
const std::string example_config = std::string(EVN_MBUS_FIXTURES_DIR) + "/../config/evn-mbus.yaml";

std::string with_key(const std::string& yaml) {
    return yaml + "\nmeter:\n  key: " + valid_key + "\n";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
}

std::string all_messages(const config_result& r) {
    std::string s;
    for (const auto& p : r.problems)
        s += describe(p, "test.yaml") + "\n";
    return s;
}

// Every field, so that a field forgotten by the loader (or by this test) shows up.
void expect_same_config(const daemon_config& a, const daemon_config& b) {
    EXPECT_EQ(a.serial.device, b.serial.device);
    EXPECT_EQ(a.serial.baud, b.serial.baud);
    EXPECT_EQ(a.serial.parity, b.serial.parity);
    EXPECT_EQ(a.serial.data_bits, b.serial.data_bits);
    EXPECT_EQ(a.serial.stop_bits, b.serial.stop_bits);
    EXPECT_EQ(a.serial.idle_gap.count(), b.serial.idle_gap.count());
    EXPECT_EQ(a.serial.link, b.serial.link);
    EXPECT_EQ(a.serial.reopen_max.count(), b.serial.reopen_max.count());
    EXPECT_EQ(a.meter.key, b.meter.key);
    EXPECT_EQ(a.meter.auth_key, b.meter.auth_key);
    EXPECT_EQ(a.meter.key_file, b.meter.key_file);
    const mqtt_config& m = a.mqtt;
    const mqtt_config& n = b.mqtt;
    EXPECT_EQ(m.uri, n.uri);
    EXPECT_EQ(m.client_id, n.client_id);
    EXPECT_EQ(m.username, n.username);
    EXPECT_EQ(m.password, n.password);
    EXPECT_EQ(m.password_file, n.password_file);
    EXPECT_EQ(m.topic_prefix, n.topic_prefix);
    EXPECT_EQ(m.qos, n.qos);
    EXPECT_EQ(m.retain, n.retain);
    EXPECT_EQ(m.keepalive.count(), n.keepalive.count());
    EXPECT_EQ(m.clean_session, n.clean_session);
    EXPECT_EQ(m.publish_values, n.publish_values);
    EXPECT_EQ(m.publish_json, n.publish_json);
    EXPECT_EQ(m.publish_raw, n.publish_raw);
    EXPECT_EQ(m.publish_raw_plain, n.publish_raw_plain);
    EXPECT_EQ(m.queue_size, n.queue_size);
    EXPECT_EQ(m.queue_max_mb, n.queue_max_mb);
    EXPECT_EQ(m.reconnect_max.count(), n.reconnect_max.count());
    EXPECT_EQ(m.diagnostics_interval.count(), n.diagnostics_interval.count());
    EXPECT_EQ(m.shutdown_timeout.count(), n.shutdown_timeout.count());
    EXPECT_EQ(m.tls.ca_file, n.tls.ca_file);
    EXPECT_EQ(m.tls.cert_file, n.tls.cert_file);
    EXPECT_EQ(m.tls.key_file, n.tls.key_file);
    EXPECT_EQ(m.tls.verify, n.tls.verify);
    EXPECT_EQ(m.discovery.enabled, n.discovery.enabled);
    EXPECT_EQ(m.discovery.prefix, n.discovery.prefix);
    EXPECT_EQ(m.discovery.unit, n.discovery.unit);
    EXPECT_EQ(m.discovery.expire_after.count(), n.discovery.expire_after.count());
    EXPECT_EQ(a.log.level, b.log.level);
    EXPECT_EQ(a.log.target, b.log.target);
    EXPECT_EQ(a.log.summary_interval.count(), b.log.summary_interval.count());
    EXPECT_TRUE(a == b) << "a field not compared above differs";
}

daemon_config defaults_with_key() {
    daemon_config c;
    c.meter.key = valid_key_bytes;
    return c;
}

// The one problem of a result, or a failure that lists them all.
const config_problem& only_problem(const config_result& r) {
    static const config_problem none{"(none)", -1, -1, "(no problem reported)"};
    EXPECT_EQ(r.problems.size(), 1u) << all_messages(r);
    EXPECT_FALSE(r.config.has_value());
    return r.problems.empty() ? none : r.problems.front();
}

TEST(config_loader, only_a_key_gives_every_default) {
    const auto r = load_config_text("meter:\n  key: " + valid_key + "\n", "");
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_TRUE(r.problems.empty());
    expect_same_config(*r.config, defaults_with_key());
}

TEST(config_loader, key_may_have_spaces_separators_and_0x) {
    for (const std::string text :
         {"\"36 C6 66 39 E4 8A 8C A4 D6 BC 8B 28 2A 79 3B BB\"",
          "0x36C66639E48A8CA4D6BC8B282A793BBB", "36c66639e48a8ca4d6bc8b282a793bbb",
          "36:C6:66:39:E4:8A:8C:A4:D6:BC:8B:28:2A:79:3B:BB"}) {
        const auto r = load_config_text("meter:\n  key: " + text + "\n", "");
        ASSERT_TRUE(r.config) << text << "\n" << all_messages(r);
        EXPECT_EQ(r.config->meter.key, valid_key_bytes) << text;
    }
}

// Every key set to a value that is not its default.
const std::string every_key = R"(serial:
  device: /dev/ttyUSB1
  baud: 9600
  parity: none
  data_bits: 7
  stop_bits: 2
  idle_gap_ms: 250
  link: hdlc
  reopen_max_s: 30
meter:
  key: 36C66639E48A8CA4D6BC8B282A793BBB
  auth_key: 00112233445566778899AABBCCDDEEFF
mqtt:
  uri: ssl://broker.example.org:8883
  client_id: my-meter
  username: alice
  password: "s3cret pass "
  topic_prefix: home/meter
  qos: 2
  retain: true
  keepalive_s: 45
  clean_session: false
  publish_values: false
  publish_json: false
  publish_raw: false
  queue_size: 500
  queue_max_mb: 8
  reconnect_max_s: 120
  diagnostics_interval_s: 300
  shutdown_timeout_s: 20
  tls:
    verify: false
  discovery:
    enabled: false
    prefix: ha
    energy_unit: kWh
    expire_after_s: 600
log:
  level: debug
  target: journal
  summary_interval_s: 0
)";

TEST(config_loader, every_section_and_key_is_read) {
    const auto r = load_config_text(every_key, "/etc");
    ASSERT_TRUE(r.config) << all_messages(r);
    const daemon_config& c = *r.config;
    EXPECT_EQ(c.serial.device, "/dev/ttyUSB1");
    EXPECT_EQ(c.serial.baud, 9600u);
    EXPECT_EQ(c.serial.parity, serial_parity::none);
    EXPECT_EQ(c.serial.data_bits, 7u);
    EXPECT_EQ(c.serial.stop_bits, 2u);
    EXPECT_EQ(c.serial.idle_gap.count(), 250);
    EXPECT_EQ(c.serial.link, link_layer::hdlc);
    EXPECT_EQ(c.serial.reopen_max.count(), 30);
    EXPECT_EQ(c.meter.key, valid_key_bytes);
    ASSERT_TRUE(c.meter.auth_key);
    EXPECT_EQ(to_hex(*c.meter.auth_key), "00112233445566778899AABBCCDDEEFF");
    EXPECT_EQ(c.meter.key_file, "");
    EXPECT_EQ(c.mqtt.uri, "ssl://broker.example.org:8883");
    EXPECT_EQ(c.mqtt.client_id, "my-meter");
    EXPECT_EQ(c.mqtt.username, "alice");
    EXPECT_EQ(c.mqtt.password, "s3cret pass ");  // quoted: spaces kept
    EXPECT_EQ(c.mqtt.topic_prefix, "home/meter");
    EXPECT_EQ(c.mqtt.qos, 2);
    EXPECT_TRUE(c.mqtt.retain);
    EXPECT_EQ(c.mqtt.keepalive.count(), 45);
    EXPECT_FALSE(c.mqtt.clean_session);
    EXPECT_FALSE(c.mqtt.publish_values);
    EXPECT_FALSE(c.mqtt.publish_json);
    EXPECT_FALSE(c.mqtt.publish_raw);
    EXPECT_EQ(c.mqtt.queue_size, 500u);
    EXPECT_EQ(c.mqtt.queue_max_mb, 8u);
    EXPECT_EQ(c.mqtt.reconnect_max.count(), 120);
    EXPECT_EQ(c.mqtt.diagnostics_interval.count(), 300);
    EXPECT_EQ(c.mqtt.shutdown_timeout.count(), 20);
    EXPECT_FALSE(c.mqtt.tls.verify);
    EXPECT_FALSE(c.mqtt.discovery.enabled);
    EXPECT_EQ(c.mqtt.discovery.prefix, "ha");
    EXPECT_EQ(c.mqtt.discovery.unit, energy_unit::kwh);
    EXPECT_EQ(c.mqtt.discovery.expire_after.count(), 600);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.target, log_target::journal);
    EXPECT_EQ(c.log.summary_interval.count(), 0);
}

TEST(config_loader, words_are_case_insensitive_and_booleans_accept_yes_no) {
    const auto r = load_config_text(with_key("serial:\n  parity: Even\n  link: MBUS\nmqtt:\n"
                                             "  retain: yes\n  clean_session: Off\n"
                                             "  discovery:\n    energy_unit: kwh\n"
                                             "log:\n  level: WARN\n  target: Stderr\n"),
                                    "");
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_EQ(r.config->serial.parity, serial_parity::even);
    EXPECT_EQ(r.config->serial.link, link_layer::mbus);
    EXPECT_TRUE(r.config->mqtt.retain);
    EXPECT_FALSE(r.config->mqtt.clean_session);
    EXPECT_EQ(r.config->mqtt.discovery.unit, energy_unit::kwh);
    EXPECT_EQ(r.config->log.level, "warn");
    EXPECT_EQ(r.config->log.target, log_target::stderr_stream);
}

TEST(config_loader, empty_sections_and_empty_strings_keep_defaults) {
    const auto r = load_config_text(
        "serial:\n# baud: 9600\nmqtt:\n  client_id:\n  tls:\n  discovery: ~\nlog:\n" +
            std::string("meter:\n  key: ") + valid_key + "\n  auth_key: \"\"\n  key_file:\n",
        "");
    ASSERT_TRUE(r.config) << all_messages(r);
    expect_same_config(*r.config, defaults_with_key());
}

TEST(config_loader, unknown_key_names_its_place_and_the_closest_known_key) {
    const auto r = load_config_text(with_key("serial:\n  baud: 2400\n  idle_gap: 100\n"), "");
    const auto& p = only_problem(r);
    EXPECT_EQ(p.key, "serial.idle_gap");
    EXPECT_EQ(p.line, 3);
    EXPECT_EQ(p.column, 3);
    EXPECT_EQ(describe(p, "/etc/evn-mbus.yaml"),
              "/etc/evn-mbus.yaml:3:3: unknown key \"idle_gap\" in \"serial\"; did you mean "
              "\"idle_gap_ms\"?");
}

TEST(config_loader, typos_get_suggestions) {
    // The problem is on the line of the unknown key.
    const std::tuple<std::string, int, std::string> cases[] = {
        {"serial:\n  parit: even\n", 2, "did you mean \"parity\"?"},
        {"serial:\n  stopbits: 1\n", 2, "did you mean \"stop_bits\"?"},
        {"serial:\n  baudrate: 2400\n", 2, "did you mean \"baud\"?"},
        {"mqtt:\n  qso: 1\n", 2, "did you mean \"qos\"?"},
        {"mqtt:\n  url: tcp://x\n", 2, "did you mean \"uri\"?"},
        {"mqtt:\n  user: bob\n", 2, "did you mean \"username\"?"},
        {"mqtt:\n  keepalive: 30\n", 2, "did you mean \"keepalive_s\"?"},
        {"mqtt:\n  Retain: true\n", 2, "did you mean \"retain\"?"},
        {"seral:\n  baud: 2400\n", 1, "unknown section \"seral\"; did you mean \"serial\"?"},
        {"mqtt:\n  baud: 2400\n", 2, "did you mean \"serial.baud\"? (check the indentation)"},
        {"device: /dev/ttyUSB0\n", 1, "did you mean \"serial.device\"?"},
        {"mqtt:\n  ca_file: x\n", 2, "did you mean \"mqtt.tls.ca_file\"?"},
        {"serial.baud: 9600\n", 1, "\"serial:\" then \"  baud: ...\""},
    };
    for (const auto& [yaml, line, hint] : cases) {
        const auto r = load_config_text(with_key(yaml), "");
        ASSERT_EQ(r.problems.size(), 1u) << yaml << all_messages(r);
        EXPECT_NE(r.problems[0].message.find(hint), std::string::npos) << yaml << "\n"
                                                                       << r.problems[0].message;
        EXPECT_EQ(r.problems[0].line, line) << yaml;
    }
}

TEST(config_loader, unknown_key_far_from_any_known_key_lists_the_known_keys) {
    const auto r = load_config_text(with_key("log:\n  colour: red\n"), "");
    const auto& p = only_problem(r);
    EXPECT_EQ(p.key, "log.colour");
    EXPECT_EQ(p.message.find("did you mean"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("level, target and summary_interval_s"), std::string::npos)
        << p.message;
}

TEST(config_loader, wrong_types_are_reported_at_the_value) {
    const std::tuple<std::string, std::string, int, int, std::string> cases[] = {
        {"serial:\n  baud: fast\n", "serial.baud", 2, 9, "\"fast\""},
        {"serial:\n  idle_gap_ms: 2.5\n", "serial.idle_gap_ms", 2, 16, "whole number"},
        {"mqtt:\n  retain: maybe\n", "mqtt.retain", 2, 11, "true or false"},
        {"mqtt:\n  qos: [1]\n", "mqtt.qos", 2, 8, "not a list"},
        {"log:\n  level:\n    a: b\n", "log.level", 3, 5, "not a section"},
        {"serial: 5\n", "serial", 1, 9, "must be a section"},
        {"mqtt:\n  tls: [a]\n", "mqtt.tls", 2, 8, "must be a section"},
        {"serial:\n  baud:\n", "serial.baud", 2, 3, "has no value"},
    };
    for (const auto& [yaml, key, line, column, text] : cases) {
        const auto r = load_config_text(with_key(yaml), "");
        const auto& p = only_problem(r);
        EXPECT_EQ(p.key, key) << yaml;
        EXPECT_EQ(p.line, line) << yaml;
        EXPECT_EQ(p.column, column) << yaml;
        EXPECT_NE(p.message.find(text), std::string::npos) << yaml << "\n" << p.message;
    }
}

TEST(config_loader, out_of_range_values_are_reported) {
    const std::pair<std::string, std::string> cases[] = {
        {"serial:\n  baud: 2401\n", "serial.baud"},
        {"serial:\n  baud: 200\n", "serial.baud"},
        {"serial:\n  baud: 230400\n", "serial.baud"},
        {"serial:\n  parity: mark\n", "serial.parity"},
        {"serial:\n  data_bits: 9\n", "serial.data_bits"},
        {"serial:\n  data_bits: 4\n", "serial.data_bits"},
        {"serial:\n  stop_bits: 0\n", "serial.stop_bits"},
        {"serial:\n  idle_gap_ms: 4\n", "serial.idle_gap_ms"},
        {"serial:\n  idle_gap_ms: 5001\n", "serial.idle_gap_ms"},
        {"serial:\n  idle_gap_ms: -100\n", "serial.idle_gap_ms"},
        {"serial:\n  link: serial\n", "serial.link"},
        {"mqtt:\n  qos: 3\n", "mqtt.qos"},
        {"mqtt:\n  qos: 99999999999999999999999\n", "mqtt.qos"},
        {"mqtt:\n  queue_size: 0\n", "mqtt.queue_size"},
        {"mqtt:\n  queue_size: 1000001\n", "mqtt.queue_size"},
        {"mqtt:\n  queue_max_mb: 0\n", "mqtt.queue_max_mb"},
        {"mqtt:\n  queue_max_mb: 1025\n", "mqtt.queue_max_mb"},
        {"mqtt:\n  uri: localhost:1883\n", "mqtt.uri"},
        {"mqtt:\n  uri: http://localhost\n", "mqtt.uri"},
        {"mqtt:\n  uri: tcp://\n", "mqtt.uri"},
        {"mqtt:\n  uri: tcp://host:99999\n", "mqtt.uri"},
        {"mqtt:\n  uri: tcp://host:port\n", "mqtt.uri"},
        {"mqtt:\n  uri: tcp://my host\n", "mqtt.uri"},
        {"mqtt:\n  topic_prefix: evn/#\n", "mqtt.topic_prefix"},
        {"mqtt:\n  topic_prefix: evn/\n", "mqtt.topic_prefix"},
        {"mqtt:\n  topic_prefix: \"\"\n", "mqtt.topic_prefix"},
        {"mqtt:\n  discovery:\n    energy_unit: MWh\n", "mqtt.discovery.energy_unit"},
        {"mqtt:\n  discovery:\n    expire_after_s: -1\n", "mqtt.discovery.expire_after_s"},
        {"log:\n  level: verbose\n", "log.level"},
        {"log:\n  target: syslog\n", "log.target"},
        {"serial:\n  device: \"\"\n", "serial.device"},
    };
    for (const auto& [yaml, key] : cases) {
        const auto r = load_config_text(with_key(yaml), "");
        const auto& p = only_problem(r);
        EXPECT_EQ(p.key, key) << yaml;
        EXPECT_EQ(p.line, yaml.starts_with("mqtt:\n  discovery") ? 3 : 2) << yaml;
        EXPECT_GT(p.column, 2) << yaml;
    }
}

TEST(config_loader, range_messages_say_what_is_allowed) {
    auto r = load_config_text(with_key("serial:\n  idle_gap_ms: 2\n"), "");
    EXPECT_EQ(only_problem(r).message,
              "serial.idle_gap_ms is 2, but must be a whole number from 5 to 5000 (milliseconds)");
    r = load_config_text(with_key("serial:\n  stop_bits: 3\n"), "");
    EXPECT_EQ(only_problem(r).message, "serial.stop_bits is 3, but must be 1 or 2");
    r = load_config_text(with_key("serial:\n  parity: evn\n"), "");
    EXPECT_EQ(only_problem(r).message,
              "serial.parity must be none, even or odd, not \"evn\"; did you mean \"even\"?");
    r = load_config_text(with_key("log:\n  level: warning\n"), "");
    EXPECT_NE(only_problem(r).message.find("did you mean \"warn\"?"), std::string::npos);
}

TEST(config_loader, accepted_values_at_the_limits) {
    const auto r = load_config_text(
        with_key("serial:\n  baud: 115200\n  idle_gap_ms: 5\n  data_bits: 5\nmqtt:\n"
                 "  uri: \"tcp://[::1]:1883\"\n  qos: 0\n  queue_size: 1000000\n"
                 "  topic_prefix: +1\n"),
        "");
    // "+1" is a wildcard, the rest is at the limits.
    const auto& p = only_problem(r);
    EXPECT_EQ(p.key, "mqtt.topic_prefix");
    for (const std::string uri : {"tcp://localhost", "ssl://broker:8883", "mqtt://10.0.0.2:1883",
                                  "mqtts://b.example.org", "ws://b:9001/mqtt", "wss://b/mqtt"}) {
        const auto ok = load_config_text(with_key("mqtt:\n  uri: " + uri + "\n"), "");
        ASSERT_TRUE(ok.config) << uri << all_messages(ok);
        EXPECT_EQ(ok.config->mqtt.uri, uri);
    }
}

TEST(config_loader, all_problems_are_reported_together_in_file_order) {
    const std::string yaml = R"(serial:
  baud: 1234
  parity: evn
  idle_gap: 100
mqtt:
  qos: 7
  retain: perhaps
  baud: 2400
log:
  level: loud
)";
    const auto r = load_config_text(yaml, "");
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.problems.size(), 8u) << all_messages(r);
    const std::string keys[] = {"serial.baud", "serial.parity", "serial.idle_gap", "mqtt.qos",
                                "mqtt.retain", "mqtt.baud",     "log.level",       "meter.key"};
    const int lines[] = {2, 3, 4, 6, 7, 8, 10, 0};
    for (std::size_t i = 0; i < r.problems.size(); ++i) {
        EXPECT_EQ(r.problems[i].key, keys[i]) << i;
        EXPECT_EQ(r.problems[i].line, lines[i]) << i;
    }
    // No meter section: the missing key is a problem of the file as a whole, so it comes last.
}

TEST(config_loader, duplicate_key_is_reported) {
    const auto r = load_config_text(with_key("serial:\n  baud: 2400\n  baud: 9600\n"), "");
    const auto& p = only_problem(r);
    EXPECT_EQ(p.key, "serial.baud");
    EXPECT_EQ(p.line, 3);
    EXPECT_NE(p.message.find("first on line 2"), std::string::npos) << p.message;
}

void expect_where_to_get_the_key(const std::string& message) {
    EXPECT_NE(message.find("customer web portal"), std::string::npos) << message;
    EXPECT_NE(message.find("Smart Meter Webportal"), std::string::npos) << message;
    EXPECT_NE(message.find("Kundenschnittstelle"), std::string::npos) << message;
}

TEST(config_loader, placeholder_key_says_where_to_get_the_real_one) {
    for (const std::string key :
         {"REPLACE_WITH_YOUR_32_HEX_DIGIT_KEY", "00000000000000000000000000000000",
          "\"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\"", "<your key>",
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}) {
        const auto r = load_config_text("meter:\n  key: " + key + "\n", "");
        const auto& p = only_problem(r);
        EXPECT_EQ(p.key, "meter.key") << key;
        EXPECT_EQ(p.line, 2) << key;
        EXPECT_EQ(p.column, 8) << key;
        EXPECT_NE(p.message.find("placeholder"), std::string::npos) << p.message;
        expect_where_to_get_the_key(p.message);
    }
}

TEST(config_loader, missing_key_says_where_to_get_it) {
    const std::string inputs[] = {"",
                                  "# only a comment\n\n   # and another\n",
                                  "---\n",
                                  "serial:\n  baud: 2400\n",
                                  "meter:\n",
                                  "meter:\n  key: \"\"\n",
                                  "meter:\n  key:\n  key_file: \"\"\n"};
    for (const auto& yaml : inputs) {
        const auto r = load_config_text(yaml, "");
        const auto& p = only_problem(r);
        EXPECT_EQ(p.key, "meter.key") << yaml;
        EXPECT_NE(p.message.find("meter.key is not set"), std::string::npos) << p.message;
        expect_where_to_get_the_key(p.message);
    }
    EXPECT_EQ(only_problem(load_config_text("", "")).line, 0);
    EXPECT_EQ(only_problem(load_config_text("meter:\n", "")).line, 1);
}

TEST(config_loader, invalid_key_says_what_is_wrong_without_showing_it) {
    auto r = load_config_text("meter:\n  key: 36C66639E48A8CA4D6BC8B282A793BB\n", "");
    auto p = only_problem(r);
    EXPECT_NE(p.message.find("it has 31 hex digits"), std::string::npos) << p.message;
    EXPECT_EQ(p.message.find("36C66639"), std::string::npos) << p.message;
    r = load_config_text("meter:\n  key: 36C66639E48A8CA4D6BC8B282A793BBG\n", "");
    p = only_problem(r);
    EXPECT_NE(p.message.find("'G'"), std::string::npos) << p.message;
    r = load_config_text(with_key("") + "  auth_key: 1234\n", "");
    p = only_problem(r);
    EXPECT_EQ(p.key, "meter.auth_key");
}

// What surrounds the digits is named (the key's digits never are), with what is expected.
TEST(config_loader, key_with_a_name_or_comment_around_it_says_what_was_found) {
    const test::temp_dir tmp("evn-mbus-config");
    const fs::path dir = tmp.path();
    write_file(dir / "meter.key", "KEY=" + valid_key + "\n");
    auto r = load_config_text("meter:\n  key_file: meter.key\n", dir.string());
    auto p = only_problem(r);
    EXPECT_EQ(p.key, "meter.key_file");
    EXPECT_EQ(p.message.find("placeholder"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("it holds 36 characters: \"KEY=\" followed by 32 hex digits"),
              std::string::npos)
        << p.message;
    EXPECT_NE(p.message.find("exactly 32 hex digits"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("without a name before it"), std::string::npos) << p.message;
    EXPECT_EQ(p.message.find("36C66639"), std::string::npos) << p.message;
    EXPECT_EQ(p.message.find("2A793BBB"), std::string::npos) << p.message;

    // Inside quotes '#' is part of the value, not a comment.
    r = load_config_text("meter:\n  key: \"" + valid_key + " # my key\"\n", "");
    p = only_problem(r);
    EXPECT_EQ(p.key, "meter.key");
    EXPECT_EQ(p.message.find("placeholder"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("32 hex digits followed by \"# my key\""), std::string::npos)
        << p.message;
    EXPECT_NE(p.message.find("outside quotes"), std::string::npos) << p.message;
    EXPECT_EQ(p.message.find("36C66639"), std::string::npos) << p.message;

    // A key split by a stray character: no piece of it is shown either.
    r = load_config_text("meter:\n  key: \"36C66639E48A8CA4_D6BC8B282A793BBB\"\n", "");
    p = only_problem(r);
    EXPECT_EQ(p.message.find("D6BC"), std::string::npos) << p.message;
    EXPECT_EQ(p.message.find("36C6"), std::string::npos) << p.message;
}

TEST(config_loader, key_and_key_file_together_are_an_error) {
    const auto r =
        load_config_text("meter:\n  key: " + valid_key + "\n  key_file: /etc/evn.key\n", "");
    const auto& p = only_problem(r);
    EXPECT_EQ(p.key, "meter.key_file");
    EXPECT_EQ(p.line, 3);
    EXPECT_NE(p.message.find("both set"), std::string::npos) << p.message;
}

TEST(config_loader, relative_file_names_are_relative_to_the_config_file) {
    const test::temp_dir tmp("evn-mbus-config");
    const fs::path dir = tmp.path();
    fs::create_directory(dir / "secrets");
    write_file(dir / "secrets" / "meter.key",
               "# from the Smart Meter Webportal\n36 C6 66 39 E4 8A 8C A4\nD6 BC 8B 28 2A 79 3B "
               "BB\n");
    write_file(dir / "secrets" / "mqtt.pass", "hunter2\n");
    write_file(dir / "ca.pem", "not checked here\n");
    write_file(dir / "evn.yaml",
               "meter:\n  key_file: secrets/meter.key\nmqtt:\n  uri: ssl://b:8883\n"
               "  username: u\n  password_file: ./secrets/mqtt.pass\n  tls:\n"
               "    ca_file: ca.pem\n");
    // Loaded from another working directory: the names still resolve against the file's folder.
    const auto r = load_config_file((dir / "evn.yaml").string());
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_EQ(r.config->meter.key, valid_key_bytes);
    EXPECT_EQ(r.config->meter.key_file, (dir / "secrets" / "meter.key").string());
    EXPECT_EQ(r.config->mqtt.password, "hunter2");
    EXPECT_EQ(r.config->mqtt.password_file, (dir / "secrets" / "mqtt.pass").string());
    EXPECT_EQ(r.config->mqtt.tls.ca_file, (dir / "ca.pem").string());

    // The same text given with an origin directory.
    const auto t = load_config_text(read_file((dir / "evn.yaml").string()), dir.string());
    ASSERT_TRUE(t.config) << all_messages(t);
    EXPECT_EQ(t.config->meter.key, valid_key_bytes);
}

TEST(config_loader, unreadable_or_bad_key_file_is_reported_with_its_path) {
    const test::temp_dir tmp("evn-mbus-config");
    const fs::path dir = tmp.path();
    auto r = load_config_text("meter:\n  key_file: missing.key\n", dir.string());
    auto p = only_problem(r);
    EXPECT_EQ(p.key, "meter.key_file");
    EXPECT_EQ(p.line, 2);
    EXPECT_NE(p.message.find((dir / "missing.key").string()), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("does not exist"), std::string::npos) << p.message;

    write_file(dir / "placeholder.key", "REPLACE_WITH_YOUR_32_HEX_DIGIT_KEY\n");
    r = load_config_text("meter:\n  key_file: placeholder.key\n", dir.string());
    p = only_problem(r);
    EXPECT_NE(p.message.find("placeholder"), std::string::npos) << p.message;
    expect_where_to_get_the_key(p.message);

    r = load_config_text("meter:\n  key_file: .\n", dir.string());
    p = only_problem(r);
    EXPECT_NE(p.message.find("is a folder"), std::string::npos) << p.message;

    // A device is refused rather than read (it could block or never end).
    r = load_config_text("meter:\n  key_file: /dev/zero\n", "");
    p = only_problem(r);
    EXPECT_NE(p.message.find("not a regular file"), std::string::npos) << p.message;
}

TEST(config_loader, password_rules) {
    auto r = load_config_text(with_key("mqtt:\n  password: x\n"), "");
    EXPECT_NE(only_problem(r).message.find("mqtt.username is empty"), std::string::npos);
    r = load_config_text(with_key("mqtt:\n  username: u\n  password: x\n  password_file: f\n"), "");
    EXPECT_EQ(only_problem(r).key, "mqtt.password_file");
    const test::temp_dir tmp("evn-mbus-config");
    const fs::path dir = tmp.path();
    write_file(dir / "empty.pass", "\n");
    r = load_config_text(with_key("mqtt:\n  username: u\n  password_file: empty.pass\n"),
                         dir.string());
    EXPECT_NE(only_problem(r).message.find("is empty"), std::string::npos);
}

// Paho cannot use "user:password@" in the URI, and it would stand in every log line.
TEST(config_loader, credentials_in_the_uri_are_refused_without_showing_them) {
    auto r = load_config_text(with_key("mqtt:\n  uri: tcp://user:hunter2@broker:1883\n"), "");
    auto p = only_problem(r);
    EXPECT_EQ(p.key, "mqtt.uri");
    EXPECT_EQ(p.line, 2);
    EXPECT_EQ(p.column, 8);
    EXPECT_NE(p.message.find("mqtt.username"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("mqtt.password"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("\"tcp://broker:1883\""), std::string::npos) << p.message;
    EXPECT_EQ(p.message.find("hunter2"), std::string::npos) << p.message;
    // Other URI mistakes do not show the password either.
    for (const std::string uri : {"htp://u:hunter2@broker", "u:hunter2@broker:1883",
                                  "tcp://u:hun/ter2@broker:1883", "tcp://u:hunter2@"}) {
        r = load_config_text(with_key("mqtt:\n  uri: \"" + uri + "\"\n"), "");
        p = only_problem(r);
        EXPECT_EQ(p.key, "mqtt.uri") << uri;
        EXPECT_EQ(p.message.find("hunter2"), std::string::npos) << p.message;
        EXPECT_EQ(p.message.find("ter2"), std::string::npos) << p.message;
    }
}

// A configuration made in code (not by the loader) still never reaches a log line with it.
TEST(config_loader, publisher_refuses_credentials_in_the_uri_without_showing_them) {
    boost::asio::io_context io;
    mqtt_config m;
    m.uri = "tcp://user:hunter2@127.0.0.1:1";
    auto log = std::make_shared<spdlog::logger>("test");  // no sinks: nothing printed
    mqtt_publisher publisher(io, m, log);
    try {
        publisher.start();
        ADD_FAILURE() << "start() accepted a URI with a password";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
        EXPECT_NE(what.find("tcp://127.0.0.1:1"), std::string::npos) << what;
        EXPECT_NE(what.find("mqtt.username"), std::string::npos) << what;
    }
}

TEST(config_loader, uri_without_userinfo_strips_user_and_password) {
    EXPECT_EQ(uri_without_userinfo("tcp://user:pw@host:1883"), "tcp://host:1883");
    EXPECT_EQ(uri_without_userinfo("ssl://user@host"), "ssl://host");
    EXPECT_EQ(uri_without_userinfo("tcp://u:p@w@rd@host"), "tcp://host");
    EXPECT_EQ(uri_without_userinfo("u:pw@host:1883"), "host:1883");
    EXPECT_EQ(uri_without_userinfo("tcp://host:1883"), "tcp://host:1883");
    EXPECT_TRUE(uri_has_userinfo("tcp://u:p@host"));
    EXPECT_FALSE(uri_has_userinfo("tcp://[::1]:1883"));
}

std::vector<config_problem> warnings_about(const config_result& r, const std::string& key) {
    std::vector<config_problem> out;
    for (const auto& w : r.warnings)
        if (w.key == key) out.push_back(w);
    return out;
}

// A value that is not UTF-8 (an editor saving Latin-1, or noise) is a problem with its line:
// check-config could not show it back as it was written. The fuzzer found one in
// serial.device; comments may be in any encoding.
TEST(config_loader, a_value_that_is_not_utf8_is_a_problem) {
    auto r = load_config_text(
        with_key("serial:\n  device: \xff\xff\x06/dev\x03ttyUSB0\n  # Nieder\xf6sterreich\n"), "");
    EXPECT_FALSE(r.config);
    const auto& p = only_problem(r);
    EXPECT_EQ(p.key, "serial.device");
    EXPECT_EQ(p.line, 2);
    EXPECT_NE(p.message.find("is not UTF-8 text (byte 1 of the value)"), std::string::npos)
        << p.message;
    r = load_config_text(with_key("serial:\n  device: /dev/ttyNieder\xc3\xb6\n  # \xf6\n"), "");
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_EQ(r.config->serial.device, "/dev/ttyNieder\xc3\xb6");
    // Overlong forms, surrogates, code points past U+10FFFF and a cut-off sequence.
    for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82"}) {
        r = load_config_text(with_key(std::string("mqtt:\n  username: \"") + bad + "\"\n"), "");
        EXPECT_FALSE(r.config) << bad;
    }
    r = load_config_text(with_key("mqtt:\n  username: \"\xf0\x9f\x94\x8c \xe2\x82\xac\"\n"), "");
    EXPECT_TRUE(r.config) << all_messages(r);
}

// serial.link: apdu is the P1 port, which sends at 115200 8N1: M-Bus's 2400 8E1 is said.
TEST(config_loader, a_p1_link_on_an_m_bus_line_setting_is_warned_about) {
    auto r = load_config_text(with_key("serial:\n  device: /dev/null\n  link: apdu\n"), "");
    ASSERT_TRUE(r.config) << all_messages(r);
    const auto w = warnings_about(r, "serial.link");
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].message.find("2400 baud, parity even"), std::string::npos) << w[0].message;
    EXPECT_NE(w[0].message.find("serial.baud: 115200 and serial.parity: none"), std::string::npos)
        << w[0].message;
    r = load_config_text(with_key("serial:\n  device: /dev/null\n  link: apdu\n  baud: "
                                  "115200\n  parity: none\n"),
                         "");
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_TRUE(warnings_about(r, "serial.link").empty());
    r = load_config_text(with_key("serial:\n  device: /dev/null\n  link: hdlc\n"), "");
    EXPECT_TRUE(warnings_about(r, "serial.link").empty());
}

// serial.link: amis is Netz OOe's IR interface at 9600 8E1; each other line setting is said.
TEST(config_loader, an_amis_link_on_another_line_setting_is_warned_about) {
    const std::string amis = "serial:\n  device: /dev/null\n  link: amis\n";
    auto r = load_config_text(with_key(amis), "");
    ASSERT_TRUE(r.config) << all_messages(r);
    auto w = warnings_about(r, "serial.link");
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].message.find("2400 baud, 8 data bits, parity even, 1 stop bit"),
              std::string::npos)
        << w[0].message;
    EXPECT_NE(w[0].message.find("serial.baud: 9600"), std::string::npos) << w[0].message;
    r = load_config_text(with_key(amis + "  baud: 9600\n"), "");
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_TRUE(warnings_about(r, "serial.link").empty());
    EXPECT_EQ(r.config->serial.link, link_layer::amis);
    for (const char* other : {"  parity: none\n", "  data_bits: 7\n", "  stop_bits: 2\n"}) {
        r = load_config_text(with_key(amis + "  baud: 9600\n" + other), "");
        ASSERT_TRUE(r.config) << all_messages(r);
        EXPECT_EQ(warnings_about(r, "serial.link").size(), 1u) << other;
    }
}

// "password: #hunter2" is a comment to YAML: the password is empty and nothing said so.
TEST(config_loader, secret_emptied_by_a_yaml_rule_is_warned_about_with_the_rule) {
    const std::pair<std::string, std::string> cases[] = {
        {"#hunter2", "starts a comment"},
        {"&hunter2", "anchor"},
        {"!hunter2", "tag"},
    };
    for (const auto& [value, rule] : cases) {
        const auto r =
            load_config_text(with_key("mqtt:\n  username: u\n  password: " + value + "\n"), "");
        ASSERT_TRUE(r.config) << all_messages(r);
        EXPECT_EQ(r.config->mqtt.password, "");
        const auto w = warnings_about(r, "mqtt.password");
        ASSERT_EQ(w.size(), 1u) << value;
        EXPECT_EQ(w[0].line, 3);
        EXPECT_EQ(w[0].column, 13);
        EXPECT_EQ(w[0].message.rfind("mqtt.password is empty", 0), 0u) << w[0].message;
        EXPECT_NE(w[0].message.find(rule), std::string::npos) << w[0].message;
        EXPECT_NE(w[0].message.find("quotes"), std::string::npos) << w[0].message;
        EXPECT_EQ(w[0].message.find("hunter2"), std::string::npos) << w[0].message;
    }
    // The key: an error (it is required), and the warning says why it came out empty.
    auto r = load_config_text("meter:\n  key: #" + valid_key + "\n", "");
    EXPECT_NE(only_problem(r).message.find("meter.key is not set"), std::string::npos);
    ASSERT_EQ(warnings_about(r, "meter.key").size(), 1u);
    EXPECT_NE(warnings_about(r, "meter.key")[0].message.find("comment"), std::string::npos);
    EXPECT_EQ(warnings_about(r, "meter.key")[0].message.find("36C6"), std::string::npos);
    r = load_config_text(with_key("") + "  auth_key: !x\n", "");
    EXPECT_EQ(warnings_about(r, "meter.auth_key").size(), 1u);
    r = load_config_text(with_key("mqtt:\n  username: u\n  password_file: &f\n"), "");
    EXPECT_EQ(warnings_about(r, "mqtt.password_file").size(), 1u);

    // Quoted, empty on purpose, a YAML type tag, or a '#' inside the value: nothing to say.
    for (const std::string value : {"\"#hunter2\"", "'&x'", "\"\"", "", "!!str abc", "a#b"}) {
        r = load_config_text(with_key("mqtt:\n  username: u\n  password: " + value + "\n"), "");
        ASSERT_TRUE(r.config) << value << all_messages(r);
        EXPECT_TRUE(warnings_about(r, "mqtt.password").empty()) << value;
    }
    r = load_config_text(with_key("mqtt:\n  username: u\n  password: \"#hunter2\"\n"), "");
    EXPECT_EQ(r.config->mqtt.password, "#hunter2");
}

TEST(config_loader, missing_serial_device_is_a_warning_not_an_error) {
    const test::temp_dir tmp("evn-mbus-config");
    const fs::path dir = tmp.path();
    const std::string missing = (dir / "ttyUSB7").string();
    auto r = load_config_text(with_key("serial:\n  device: " + missing + "\n"), "");
    ASSERT_TRUE(r.config) << all_messages(r);
    const auto w = warnings_about(r, "serial.device");
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].line, 2);
    EXPECT_EQ(w[0].column, 11);
    EXPECT_NE(w[0].message.find(missing), std::string::npos) << w[0].message;
    EXPECT_NE(w[0].message.find("does not exist"), std::string::npos) << w[0].message;
    r = load_config_text(with_key("serial:\n  device: /dev/null\n"), "");
    EXPECT_TRUE(warnings_about(r, "serial.device").empty());
}

// Two instances on one host with the default id would knock each other off the broker.
TEST(config_loader, default_client_id_names_the_host_and_the_instance) {
    EXPECT_EQ(default_client_id("pi", "/etc/evn-mbus.yaml"), "evn-mbus-pi");
    EXPECT_EQ(default_client_id("pi", "/etc/evn-mbus/meter2.yaml"), "evn-mbus-pi-meter2");
    EXPECT_EQ(default_client_id("pi", "/etc/evn-mbus/evn-mbus.yaml"), "evn-mbus-pi-evn-mbus");
    EXPECT_EQ(default_client_id("pi", "/home/u/my meter.v2.yaml"), "evn-mbus-pi-my-meter-v2");
    EXPECT_EQ(default_client_id("", "/etc/evn-mbus.yaml"), "evn-mbus");
    // Too long: shortened, and still different for different files.
    const std::string a =
        default_client_id("raspberrypi", "/etc/evn-mbus/" + std::string(60, 'a') + "1.yaml");
    const std::string b =
        default_client_id("raspberrypi", "/etc/evn-mbus/" + std::string(60, 'a') + "2.yaml");
    EXPECT_EQ(a.size(), max_client_id_length);
    EXPECT_EQ(b.size(), max_client_id_length);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.rfind("evn-mbus-raspberrypi-aaaa", 0), 0u) << a;

    // The loaded file gets it; a client_id set in the file stays as it is.
    const test::temp_dir tmp("evn-mbus-config");
    const fs::path dir = tmp.path();
    write_file(dir / "meter2.yaml", with_key(""));
    auto r = load_config_file((dir / "meter2.yaml").string());
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_EQ(r.config->mqtt.client_id, default_client_id((dir / "meter2.yaml").string()));
    EXPECT_TRUE(r.config->mqtt.client_id.ends_with("-meter2")) << r.config->mqtt.client_id;
    write_file(dir / "meter3.yaml", with_key("mqtt:\n  client_id: mine\n"));
    r = load_config_file((dir / "meter3.yaml").string());
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_EQ(r.config->mqtt.client_id, "mine");
}

TEST(config_loader, tls_files_must_exist_and_need_a_tls_uri) {
    const test::temp_dir tmp("evn-mbus-config");
    const fs::path dir = tmp.path();
    write_file(dir / "ca.pem", "x");
    auto r = load_config_text(
        with_key("mqtt:\n  uri: ssl://b:8883\n  tls:\n    ca_file: nope.pem\n"), dir.string());
    auto p = only_problem(r);
    EXPECT_EQ(p.key, "mqtt.tls.ca_file");
    EXPECT_NE(p.message.find("does not exist"), std::string::npos) << p.message;
    r = load_config_text(with_key("mqtt:\n  uri: tcp://b:1883\n  tls:\n    ca_file: ca.pem\n"),
                         dir.string());
    p = only_problem(r);
    EXPECT_EQ(p.key, "mqtt.tls");
    EXPECT_NE(p.message.find("does not use TLS"), std::string::npos) << p.message;
    r = load_config_text(with_key("mqtt:\n  uri: ssl://b\n  tls:\n    key_file: ca.pem\n"),
                         dir.string());
    EXPECT_EQ(only_problem(r).key, "mqtt.tls.key_file");
}

TEST(config_loader, malformed_yaml_is_reported_with_its_position) {
    auto r = load_config_text("serial:\n  baud: [2400, 9600\nmqtt:\n  qos: 1\n", "");
    auto p = only_problem(r);
    EXPECT_EQ(p.key, "");
    EXPECT_GT(p.line, 0);
    EXPECT_GT(p.column, 0);
    EXPECT_NE(p.message.find("not valid YAML"), std::string::npos) << p.message;

    r = load_config_text("serial:\n\tbaud: 2400\n", "");
    p = only_problem(r);
    EXPECT_EQ(p.line, 2);
    EXPECT_NE(p.message.find("line 2 is indented with a tab"), std::string::npos) << p.message;

    r = load_config_text("serial: {baud: 2400\n", "");
    EXPECT_NE(only_problem(r).message.find("not valid YAML"), std::string::npos);

    r = load_config_text("a: 1\n---\nb: 2\n", "");
    EXPECT_NE(only_problem(r).message.find("more than one YAML document"), std::string::npos);
    EXPECT_EQ(only_problem(r).line, 2);

    // yaml-cpp's LoadAll never returns on this one.
    r = load_config_text("# comment\n\n, ...\n  qo    ", "");
    EXPECT_NE(only_problem(r).message.find("unexpected \",\""), std::string::npos)
        << only_problem(r).message;
}

TEST(config_loader, top_level_must_be_a_map) {
    for (const std::string yaml : {"- serial\n- meter\n", "just some text\n", "42\n", "[1, 2]"}) {
        const auto r = load_config_text(yaml, "");
        const auto& p = only_problem(r);
        EXPECT_EQ(p.key, "") << yaml;
        EXPECT_EQ(p.line, 1) << yaml;
        EXPECT_NE(p.message.find("must consist of sections"), std::string::npos) << p.message;
    }
}

TEST(config_loader, missing_file_is_one_problem_that_says_so) {
    const test::temp_dir tmp("evn-mbus-config");
    const fs::path dir = tmp.path();
    const std::string path = (dir / "nope.yaml").string();
    const auto r = load_config_file(path);
    const auto& p = only_problem(r);
    EXPECT_NE(p.message.find(path), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("does not exist"), std::string::npos) << p.message;
    EXPECT_EQ(describe(p, path).rfind(path + ": ", 0), 0u);
}

TEST(config_loader, shipped_example_has_exactly_the_placeholder_problem) {
    const std::string text = read_file(example_config);
    ASSERT_FALSE(text.empty()) << example_config;
    const auto r = load_config_file(example_config);
    const auto& p = only_problem(r);
    EXPECT_EQ(p.key, "meter.key");
    EXPECT_GT(p.line, 0);
    EXPECT_NE(p.message.find("placeholder"), std::string::npos) << p.message;
    expect_where_to_get_the_key(p.message);
}

TEST(config_loader, shipped_example_with_a_real_key_gives_the_defaults) {
    std::string text = read_file(example_config);
    const std::string placeholder = "REPLACE_WITH_YOUR_32_HEX_DIGIT_KEY";
    const auto at = text.find(placeholder);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, placeholder.size(), valid_key);
    const auto r = load_config_text(text, "/etc");
    ASSERT_TRUE(r.config) << all_messages(r);
    expect_same_config(*r.config, defaults_with_key());
}

TEST(config_loader, shipped_example_lists_every_key) {
    // Every key the loader knows is in the example (it documents them all): the effective
    // configuration names each key once, so compare the two key sets.
    const YAML::Node example = YAML::LoadFile(example_config);
    const YAML::Node effective = YAML::Load(effective_config_yaml(daemon_config{}));
    std::function<void(const YAML::Node&, const YAML::Node&, const std::string&)> compare =
        [&](const YAML::Node& a, const YAML::Node& b, const std::string& path) {
            ASSERT_EQ(a.size(), b.size()) << path;
            for (auto it = b.begin(); it != b.end(); ++it) {
                const std::string name = it->first.Scalar();
                ASSERT_TRUE(a[name]) << path << name << " is missing from the example";
                if (it->second.IsMap()) compare(a[name], it->second, path + name + ".");
            }
        };
    compare(example, effective, "");
}

TEST(config_loader, effective_config_masks_secrets_and_shows_everything_else) {
    const auto r = load_config_text(every_key, "");
    ASSERT_TRUE(r.config) << all_messages(r);
    const std::string yaml = effective_config_yaml(*r.config);
    EXPECT_EQ(yaml.find(valid_key), std::string::npos) << yaml;
    EXPECT_EQ(yaml.find("00112233445566778899AABBCCDDEEFF"), std::string::npos) << yaml;
    EXPECT_EQ(yaml.find("s3cret"), std::string::npos) << yaml;
    const YAML::Node n = YAML::Load(yaml);
    EXPECT_EQ(n["meter"]["key"].Scalar(), "********");
    EXPECT_EQ(n["meter"]["auth_key"].Scalar(), "********");
    EXPECT_EQ(n["mqtt"]["password"].Scalar(), "********");

    const YAML::Node d = YAML::Load(effective_config_yaml(daemon_config{}));
    EXPECT_EQ(d["meter"]["key"].Scalar(), "(not set)");
    EXPECT_EQ(d["meter"]["auth_key"].Scalar(), "(not set)");
    EXPECT_EQ(d["mqtt"]["password"].Scalar(), "(not set)");

    // With the secrets put back, the effective configuration loads to the same config: every
    // field is shown, with its value.
    std::string back = yaml;
    const auto put = [&](const std::string& from, const std::string& to) {
        const auto at = back.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        back.replace(at, from.size(), to);
    };
    put("key: \"********\"", "key: " + valid_key);
    put("auth_key: \"********\"", "auth_key: 00112233445566778899AABBCCDDEEFF");
    put("password: \"********\"", "password: \"s3cret pass \"");
    put("password: \"(not set)\"", "password: \"\"");  // http.password: no basic auth
    const auto again = load_config_text(back, "");
    ASSERT_TRUE(again.config) << back << all_messages(again);
    expect_same_config(*again.config, *r.config);
}

TEST(config_loader, describe_leaves_out_unknown_positions) {
    EXPECT_EQ(describe({"serial.baud", 4, 9, "m"}, "f.yaml"), "f.yaml:4:9: m");
    EXPECT_EQ(describe({"serial.baud", 4, 0, "m"}, "f.yaml"), "f.yaml:4: m");
    EXPECT_EQ(describe({"", 0, 0, "m"}, "f.yaml"), "f.yaml: m");
}

TEST(config_loader, hostile_input_neither_throws_nor_crashes) {
    std::vector<std::string> inputs = {
        std::string(100000, '['),
        std::string(100000, '{'),
        "a: &a [*a]\n",
        "serial: &s {device: *s}\n",
        "mqtt: &m {tls: *m, discovery: *m}\n",
        "meter: &m\n  key: *m\n",
        std::string("serial:\n  device: \"a\0b\"\n", 24),
        std::string("\0\0\0", 3),
        "\xff\xfe\x00\x01 garbage \x80\x81",
        "? [a, b]\n: c\n",
        "serial:\n  ? {x: 1}\n  : 2\n",
        "serial:\n  " + std::string(100000, 'x') + ": 1\n",
        "mqtt:\n  uri: \"tcp://[::1\"\n  topic_prefix: \"\\0\"\n",
        "mqtt:\n  uri: \"tcp://:\"\n",
        "mqtt:\n  uri: \"tcp://[]:\"\n",
        "meter:\n  key_file: /dev/stdin\n",
        "meter:\n  key_file: /proc/self/mem\n",
        "meter:\n  key: !!binary AAAA\n",
        "serial:\n  baud: !!int 0x10\n",
        "%YAML 1.2\n---\nserial: {}\n",
        "%TAG ! tag:x\n--- !foo\n",
        "*unknown\n",
        "&a a: b\n",
        "log:\n  level: " + std::string(5000, '\x01') + "\n",
    };
    std::string nested = "x: ";
    for (int i = 0; i < 5000; ++i)
        nested += "- ";
    inputs.push_back(nested);
    for (const auto& in : inputs) {
        config_result r;
        EXPECT_NO_THROW(r = load_config_text(in, "/tmp")) << in.substr(0, 40);
        EXPECT_EQ(r.config.has_value(), r.problems.empty()) << in.substr(0, 40);
        for (const auto& p : r.problems) {
            EXPECT_FALSE(p.message.empty());
            EXPECT_EQ(p.message.find('\x01'), std::string::npos);
        }
    }
}

// The plausibility gate's bound (plausibility_gate.hpp): whole kilowatts, 60 by default.
TEST(config_loader, meter_max_power_kw_is_read_and_bounded) {
    auto r = load_config_text("meter:\n  key: " + valid_key + "\n  max_power_kw: 150\n", "");
    ASSERT_TRUE(r.config) << all_messages(r);
    EXPECT_EQ(r.config->meter.max_power_kw, 150u);
    EXPECT_EQ(daemon_config{}.meter.max_power_kw, 60u);
    r = load_config_text("meter:\n  key: " + valid_key + "\n  max_power_kw: 0\n", "");
    EXPECT_NE(only_problem(r).message.find("meter.max_power_kw"), std::string::npos)
        << all_messages(r);
}

}  // namespace
}  // namespace evn_mbus
