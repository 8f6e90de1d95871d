// `evn-mbus check-config` as a user runs it: exit status, the effective configuration with
// secrets hidden, and error lines that point into the file.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "child_process.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

namespace fs = std::filesystem;

const std::string binary = EVN_MBUS_BINARY;
const std::string example_config = std::string(EVN_MBUS_FIXTURES_DIR) + "/../config/evn-mbus.yaml";
const std::string key = "36C66639E48A8CA4D6BC8B282A793BBB";
const std::string placeholder = "REPLACE_WITH_YOUR_32_HEX_DIGIT_KEY";

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

// The key in any spelling a careless program might print it in.
void expect_no_key(const std::string& text) {
    for (const std::string& form :
         {key, std::string("36c66639e48a8ca4d6bc8b282a793bbb"), std::string("36C66639"),
          std::string("36 C6 66 39"), std::string("2A793BBB")}) {
        EXPECT_EQ(text.find(form), std::string::npos) << form << " in:\n" << text;
    }
}

std::size_t count_lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class check_config_cli : public ::testing::Test {
  protected:
    std::string write(const std::string& name, const std::string& content) {
        const std::string path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }
    const temp_dir tmp_{"evn-mbus-check"};
    const fs::path dir_ = tmp_.path();
};

// systemctl reload runs `check-config --quiet` first: problems reach the journal, the
// effective configuration does not, and the last line fits a running service too.
TEST_F(check_config_cli, quiet_prints_only_problems_and_the_reload_is_refused_in_words) {
    const std::string good =
        write("good.yaml", replaced(read_file(example_config), placeholder, key));
    const auto ok = run_process({binary, "check-config", "--quiet", "--config", good});
    ASSERT_EQ(ok.status, 0) << ok.err;
    EXPECT_EQ(ok.out, "");
    EXPECT_EQ(ok.err.find("meter:"), std::string::npos) << ok.err;
    const std::string bad = write("bad.yaml", read_file(example_config));
    const auto r = run_process({binary, "check-config", "-q", "--config", bad});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("placeholder"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("keeps its current configuration"), std::string::npos) << r.err;
}

TEST_F(check_config_cli, valid_config_prints_the_masked_effective_config_and_exits_0) {
    const std::string path =
        write("evn.yaml", replaced(read_file(example_config), placeholder, key));
    const auto r = run_process({binary, "check-config", "--config", path});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("configuration OK"), std::string::npos) << r.err;
    expect_no_key(r.out);
    expect_no_key(r.err);
    const YAML::Node n = YAML::Load(r.out);
    EXPECT_EQ(n["meter"]["key"].as<std::string>(), "********");
    EXPECT_EQ(n["meter"]["auth_key"].as<std::string>(), "(not set)");
    EXPECT_EQ(n["mqtt"]["password"].as<std::string>(), "(not set)");
    EXPECT_EQ(n["serial"]["baud"].as<int>(), 2400);
    EXPECT_EQ(n["serial"]["device"].as<std::string>(), "/dev/ttyAMA0");
    EXPECT_EQ(n["mqtt"]["discovery"]["prefix"].as<std::string>(), "homeassistant");
}

TEST_F(check_config_cli, key_file_and_password_stay_hidden) {
    write("meter.key", key + "\n");
    write("mqtt.pass", "hunter2-secret\n");
    const std::string path =
        write("evn.yaml",
              "meter:\n  key_file: meter.key\nmqtt:\n  username: u\n  password_file: mqtt.pass\n");
    const auto r = run_process({binary, "check-config", "-c", path});
    ASSERT_EQ(r.status, 0) << r.err;
    expect_no_key(r.out + r.err);
    EXPECT_EQ((r.out + r.err).find("hunter2"), std::string::npos) << r.out;
    const YAML::Node n = YAML::Load(r.out);
    EXPECT_EQ(n["meter"]["key"].as<std::string>(), "********");
    EXPECT_EQ(n["meter"]["key_file"].as<std::string>(), (dir_ / "meter.key").string());
    EXPECT_EQ(n["mqtt"]["password"].as<std::string>(), "********");
}

TEST_F(check_config_cli, password_in_the_uri_is_refused_and_never_printed) {
    const std::string path = write(
        "evn.yaml", "meter:\n  key: " + key + "\nmqtt:\n  uri: tcp://user:hunter2@broker:1883\n");
    const auto r = run_process({binary, "check-config", "-c", path});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ((r.out + r.err).find("hunter2"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind(path + ":4:8: mqtt.uri holds a user name or password", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("mqtt.username and mqtt.password"), std::string::npos) << r.err;
}

TEST_F(check_config_cli, password_emptied_by_a_comment_is_a_warning_that_names_the_rule) {
    const std::string path =
        write("evn.yaml", "serial:\n  device: /dev/null\nmeter:\n  key: " + key +
                              "\nmqtt:\n  username: u\n  password: #hunter2\n");
    const auto r = run_process({binary, "check-config", "-c", path});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ((r.out + r.err).find("hunter2"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind(path + ":7:13: warning: mqtt.password is empty", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("'#' after a space starts a comment"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("configuration OK"), std::string::npos) << r.err;
    EXPECT_EQ(YAML::Load(r.out)["mqtt"]["password"].as<std::string>(), "(not set)");
}

// The service logs the same warning at start (a user may never run check-config). Stopped by
// SIGTERM after a few seconds: the warning is its first line.
TEST_F(check_config_cli, run_logs_the_warning_about_an_emptied_password) {
    const std::string path = write(
        "evn.yaml", "serial:\n  device: " + (dir_ / "nope").string() + "\nmeter:\n  key: " + key +
                        "\nmqtt:\n  username: u\n  password: #hunter2\n");
    const auto r = run_process({"/usr/bin/timeout", "-s", "TERM", "4", binary, "run", "-c", path,
                                "--no-mqtt", "--log-target", "stderr"});
    EXPECT_NE(r.err.find(path + ":7:13: mqtt.password is empty"), std::string::npos) << r.err;
    EXPECT_EQ((r.out + r.err).find("hunter2"), std::string::npos) << r.err;
}

TEST_F(check_config_cli, missing_serial_device_is_a_warning) {
    const std::string device = (dir_ / "ttyUSB7").string();
    const std::string path =
        write("evn.yaml", "serial:\n  device: " + device + "\nmeter:\n  key: " + key + "\n");
    const auto r = run_process({binary, "check-config", "-c", path});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(
        r.err.rfind(path + ":2:11: warning: serial.device \"" + device + "\" does not exist", 0),
        0u)
        << r.err;
    EXPECT_NE(r.err.find("configuration OK"), std::string::npos) << r.err;
}

// A network bridge's address: a wrong one is an error pointing at the wrong character; a right
// one is shown in the effective configuration with the network's idle gap, and no warning
// about a device that does not exist.
TEST_F(check_config_cli, a_network_bridge_address_is_checked_to_the_column) {
    const std::string bad = write(
        "bad.yaml", "serial:\n  device: tcp://bridge.local:20o1\nmeter:\n  key: " + key + "\n");
    auto r = run_process({binary, "check-config", "-c", bad});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind(bad + ":2:32: serial.device \"tcp://bridge.local:20o1\": nothing may "
                                "follow the port (\"o1\")",
                          0),
              0u)
        << r.err;

    const std::string good =
        write("good.yaml", "serial:\n  device: rfc2217://[::1]:2002\nmeter:\n  key: " + key + "\n");
    r = run_process({binary, "check-config", "-c", good});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("device: rfc2217://[::1]:2002"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("idle_gap_ms: 500"), std::string::npos) << r.out;
}

TEST_F(check_config_cli, shows_the_client_id_derived_from_host_and_file) {
    const std::string path = write("meter2.yaml", "meter:\n  key: " + key + "\n");
    const auto r = run_process({binary, "check-config", "-c", path});
    ASSERT_EQ(r.status, 0) << r.err;
    char host[256] = {};
    ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
    EXPECT_EQ(YAML::Load(r.out)["mqtt"]["client_id"].as<std::string>(),
              std::string("evn-mbus-") + host + "-meter2")
        << r.out;
}

// "run" takes -c as check-config does (the README's commands use both).
TEST_F(check_config_cli, run_accepts_c_for_the_configuration_file) {
    const std::string path = write("bad.yaml", "meter:\n  key: 1234\n");
    const auto r = run_process({binary, "run", "-c", path, "--log-target", "stderr"});
    EXPECT_EQ(r.status, 78) << r.err;  // EX_CONFIG, as for --config
    EXPECT_NE(r.err.find(path + ":2:8: meter.key is not a valid key"), std::string::npos) << r.err;
}

TEST_F(check_config_cli, key_file_with_a_name_before_the_key_says_what_it_holds) {
    write("meter.key", "KEY=" + key + "\n");
    const std::string path = write("evn.yaml", "meter:\n  key_file: meter.key\n");
    const auto r = run_process({binary, "check-config", "-c", path});
    EXPECT_EQ(r.status, 1);
    expect_no_key(r.out + r.err);
    EXPECT_EQ(r.err.find("placeholder"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\"KEY=\" followed by 32 hex digits"), std::string::npos) << r.err;
}

TEST_F(check_config_cli, shipped_example_fails_only_on_the_placeholder_key) {
    const auto r = run_process({binary, "check-config", "--config", example_config});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    // The line number of the placeholder in the example.
    const std::string text = read_file(example_config);
    const auto at = text.find(placeholder);
    ASSERT_NE(at, std::string::npos);
    const auto line = std::count(text.begin(), text.begin() + static_cast<long>(at), '\n') + 1;
    const auto column = at - text.rfind('\n', at);
    const std::string expected = example_config + ":" + std::to_string(line) + ":" +
                                 std::to_string(column) + ": meter.key is still a placeholder";
    EXPECT_EQ(r.err.rfind(expected, 0), 0u) << r.err;
    EXPECT_NE(r.err.find("Smart Meter Webportal"), std::string::npos) << r.err;
    EXPECT_EQ(count_lines(r.err), 2u) << r.err;  // the problem and the summary
}

TEST_F(check_config_cli, every_problem_is_a_line_pointing_into_the_file) {
    const std::string path = write("bad.yaml",
                                   "serial:\n  idle_gap: 100\n  baud: 2401\nmeter:\n"
                                   "  key: " +
                                       key + "\nmqtt:\n  qos: 5\n");
    const auto r = run_process({binary, "check-config", "--config", path});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    expect_no_key(r.err);
    std::istringstream lines(r.err);
    std::vector<std::string> got;
    for (std::string l; std::getline(lines, l);)
        got.push_back(l);
    ASSERT_EQ(got.size(), 4u) << r.err;
    EXPECT_EQ(got[0], path +
                          ":2:3: unknown key \"idle_gap\" in \"serial\"; did you mean "
                          "\"idle_gap_ms\"?");
    EXPECT_EQ(got[1].rfind(path + ":3:9: serial.baud is 2401", 0), 0u) << got[1];
    EXPECT_EQ(got[2], path + ":7:8: mqtt.qos is 5, but must be a whole number from 0 to 2");
    EXPECT_NE(got[3].find("3 problems"), std::string::npos) << got[3];
}

TEST_F(check_config_cli, missing_file_says_so) {
    const std::string path = (dir_ / "nowhere.yaml").string();
    const auto r = run_process({binary, "check-config", "--config", path});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST_F(check_config_cli, malformed_yaml_fails_with_position) {
    const std::string path = write("tab.yaml", "serial:\n\tbaud: 2400\n");
    const auto r = run_process({binary, "check-config", "--config", path});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind(path + ":2:", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("tab"), std::string::npos) << r.err;
}

TEST_F(check_config_cli, default_path_is_etc_evn_mbus_yaml) {
    const auto help = run_process({binary, "check-config", "--help"});
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("/etc/evn-mbus.yaml"), std::string::npos) << help.out;
    // Whatever this machine has there, the messages name that file.
    const auto r = run_process({binary, "check-config"});
    EXPECT_NE(r.err.find("/etc/evn-mbus.yaml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace evn_mbus::test
