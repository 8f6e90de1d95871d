// The settings of the local HTTP API (http.*) and of MQTT throttling: defaults, what is read,
// and the messages for mistakes, with line and column.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config_loader.hpp"
#include "temp_dir.hpp"

namespace evn_mbus {
namespace {

const std::string key_section = "meter:\n  key: 36C66639E48A8CA4D6BC8B282A793BBB\n";

config_result load(const std::string& yaml, const std::string& dir = "") {
    return load_config_text(key_section + yaml, dir);
}

std::vector<config_problem> warnings_about(const config_result& r, const std::string& key) {
    std::vector<config_problem> out;
    for (const auto& w : r.warnings) {
        if (w.key == key) out.push_back(w);
    }
    return out;
}

const config_problem* problem_of(const config_result& r, const std::string& key) {
    for (const auto& p : r.problems) {
        if (p.key == key) return &p;
    }
    return nullptr;
}

TEST(config_http, off_by_default_and_every_key_is_read) {
    auto r = load("");
    ASSERT_TRUE(r.config);
    EXPECT_TRUE(r.config->http.listen.empty());
    EXPECT_EQ(r.config->mqtt.min_interval.count(), 0);
    EXPECT_FALSE(r.config->mqtt.on_change_only);
    EXPECT_EQ(r.config->mqtt.heartbeat.count(), 300);
    EXPECT_FALSE(r.config->mqtt.discovery.reactive_energy_class);

    r = load(
        "http:\n  listen: \"[::]:8081\"\n  username: grafana\n  password: \"p w\"\n"
        "  max_connections: 5\n  request_timeout_s: 3\n"
        "mqtt:\n  min_interval_s: 10\n  on_change_only: yes\n  heartbeat_s: 60\n"
        "  discovery:\n    reactive_energy_class: true\n");
    ASSERT_TRUE(r.config) << r.problems.front().message;
    const http_config& h = r.config->http;
    EXPECT_EQ(h.listen, "[::]:8081");
    EXPECT_EQ(h.username, "grafana");
    EXPECT_EQ(h.password, "p w");
    EXPECT_EQ(h.max_connections, 5u);
    EXPECT_EQ(h.request_timeout.count(), 3);
    EXPECT_EQ(r.config->mqtt.min_interval.count(), 10);
    EXPECT_TRUE(r.config->mqtt.on_change_only);
    EXPECT_EQ(r.config->mqtt.heartbeat.count(), 60);
    EXPECT_TRUE(r.config->mqtt.discovery.reactive_energy_class);
    EXPECT_TRUE(warnings_about(r, "http.listen").empty()) << "a password is set";
}

TEST(config_http, a_bad_listen_address_is_shown_at_its_column) {
    const auto r = load("http:\n  listen: 127.0.0.1:80800\n");
    EXPECT_FALSE(r.config);
    const auto* p = problem_of(r, "http.listen");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->line, 4);
    EXPECT_EQ(p->column, 11 + 10);  // the port, after "127.0.0.1:"
    EXPECT_NE(p->message.find("1 to 65535"), std::string::npos) << p->message;

    const auto named = load("http:\n  listen: \"pi.local:8080\"\n");
    ASSERT_NE(problem_of(named, "http.listen"), nullptr);
    EXPECT_NE(problem_of(named, "http.listen")->message.find("not an IP address"),
              std::string::npos);
}

TEST(config_http, username_and_password_go_together) {
    auto r = load("http:\n  listen: 127.0.0.1:8080\n  password: x\n");
    ASSERT_NE(problem_of(r, "http.password"), nullptr);
    EXPECT_NE(problem_of(r, "http.password")->message.find("http.username is empty"),
              std::string::npos);
    r = load("http:\n  listen: 127.0.0.1:8080\n  username: u\n");
    ASSERT_NE(problem_of(r, "http.username"), nullptr);
    EXPECT_EQ(problem_of(r, "http.username")->line, 5);  // at the user name
    r = load("http:\n  username: u\n  password: x\n  password_file: f\n");
    ASSERT_NE(problem_of(r, "http.password_file"), nullptr);
    r = load("http:\n  username: \"a:b\"\n  password: x\n");
    ASSERT_NE(problem_of(r, "http.username"), nullptr);
}

TEST(config_http, the_password_may_come_from_a_file_next_to_the_config) {
    const test::temp_dir tmp("evn-mbus-config-http");
    std::ofstream(tmp.file("http.pass")) << "s3cret\n";
    const auto r = load(
        "http:\n  listen: 127.0.0.1:8080\n  username: u\n  password_file: http.pass\n", tmp.path());
    ASSERT_TRUE(r.config) << r.problems.front().message;
    EXPECT_EQ(r.config->http.password, "s3cret");
    EXPECT_EQ(r.config->http.password_file, tmp.file("http.pass"));
}

TEST(config_http, listening_beyond_loopback_without_a_password_is_warned) {
    for (const std::string address : {"0.0.0.0:8080", "\"[::]:8080\"", "192.168.1.20:8080"}) {
        const auto r = load("http:\n  listen: " + address + "\n");
        ASSERT_TRUE(r.config) << address;
        const auto w = warnings_about(r, "http.listen");
        ASSERT_EQ(w.size(), 1u) << address;
        EXPECT_EQ(w[0].line, 4);
        EXPECT_NE(w[0].message.find("anyone on your network"), std::string::npos);
    }
    for (const std::string address : {"127.0.0.1:8080", "localhost:8080", "\"[::1]:8080\""}) {
        const auto r = load("http:\n  listen: " + address + "\n");
        ASSERT_TRUE(r.config) << address;
        EXPECT_TRUE(warnings_about(r, "http.listen").empty()) << address;
    }
}

TEST(config_http, heartbeat_and_interval_ranges) {
    EXPECT_NE(problem_of(load("mqtt:\n  heartbeat_s: 0\n"), "mqtt.heartbeat_s"), nullptr);
    EXPECT_NE(problem_of(load("mqtt:\n  min_interval_s: -1\n"), "mqtt.min_interval_s"), nullptr);
    EXPECT_NE(problem_of(load("http:\n  max_connections: 0\n"), "http.max_connections"), nullptr);
    EXPECT_NE(problem_of(load("http:\n  request_timeout_s: 0\n"), "http.request_timeout_s"),
              nullptr);
}

// Home Assistant's expire_after_s against values that are sent less often than that.
TEST(config_http, throttling_longer_than_expire_after_is_warned) {
    auto r = load("mqtt:\n  on_change_only: true\n  discovery:\n    expire_after_s: 60\n");
    ASSERT_TRUE(r.config);
    ASSERT_EQ(warnings_about(r, "mqtt.heartbeat_s").size(), 1u);
    EXPECT_NE(warnings_about(r, "mqtt.heartbeat_s")[0].message.find("unavailable"),
              std::string::npos);
    r = load(
        "mqtt:\n  on_change_only: true\n  heartbeat_s: 50\n  discovery:\n"
        "    expire_after_s: 60\n");
    EXPECT_TRUE(warnings_about(r, "mqtt.heartbeat_s").empty());
    r = load("mqtt:\n  min_interval_s: 60\n  discovery:\n    expire_after_s: 60\n");
    EXPECT_EQ(warnings_about(r, "mqtt.min_interval_s").size(), 1u);
    r = load("mqtt:\n  min_interval_s: 60\n");  // expire_after_s 0: never expires
    EXPECT_TRUE(warnings_about(r, "mqtt.min_interval_s").empty());
    r = load("mqtt:\n  on_change_only: true\n  publish_values: false\n");
    EXPECT_EQ(warnings_about(r, "mqtt.on_change_only").size(), 1u);
}

}  // namespace
}  // namespace evn_mbus
