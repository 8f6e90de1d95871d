// serial.device as a network bridge's address (tcp://, rfc2217://): what is accepted, what is
// refused with which message and column, and the idle gap a network source gets by default.
#include "serial_endpoint.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <tuple>

#include "config_loader.hpp"

namespace evn_mbus {
namespace {

const std::string key_yaml = "meter:\n  key: 36C66639E48A8CA4D6BC8B282A793BBB\n";

serial_endpoint parsed(std::string_view text) {
    auto r = parse_serial_endpoint(text);
    if (const auto* p = std::get_if<endpoint_problem>(&r)) {
        ADD_FAILURE() << text << ": " << p->message;
        return {};
    }
    return std::get<serial_endpoint>(r);
}

TEST(serial_endpoint, a_path_is_a_local_device) {
    for (const char* path : {"/dev/ttyAMA0", "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0",
                             "relative/tty", "/tmp/a:b"}) {
        const auto e = parsed(path);
        EXPECT_EQ(e.transport, serial_transport::device) << path;
        EXPECT_FALSE(e.is_network());
        EXPECT_EQ(e.path, path);
        EXPECT_EQ(e.text(), path);
    }
}

TEST(serial_endpoint, tcp_and_rfc2217_addresses_with_names_ipv4_and_ipv6) {
    const std::tuple<std::string, serial_transport, std::string, int, std::string> cases[] = {
        {"tcp://bridge:2001", serial_transport::tcp, "bridge", 2001, "tcp://bridge:2001"},
        {"TCP://Keller-Pi.local:1", serial_transport::tcp, "Keller-Pi.local", 1,
         "tcp://Keller-Pi.local:1"},
        {"rfc2217://192.168.1.40:2002", serial_transport::rfc2217, "192.168.1.40", 2002,
         "rfc2217://192.168.1.40:2002"},
        {"tcp://[::1]:65535", serial_transport::tcp, "::1", 65535, "tcp://[::1]:65535"},
        {"rfc2217://[fd00::5]:2002", serial_transport::rfc2217, "fd00::5", 2002,
         "rfc2217://[fd00::5]:2002"},
        {"tcp://[fe80::1%eth0]:2001", serial_transport::tcp, "fe80::1%eth0", 2001,
         "tcp://[fe80::1%eth0]:2001"},
        {"tcp://[fe80::1%25eth0]:2001", serial_transport::tcp, "fe80::1%eth0", 2001,
         "tcp://[fe80::1%eth0]:2001"},
    };
    for (const auto& [text, transport, host, port, normal] : cases) {
        const auto e = parsed(text);
        EXPECT_EQ(e.transport, transport) << text;
        EXPECT_TRUE(e.is_network()) << text;
        EXPECT_EQ(e.host, host) << text;
        EXPECT_EQ(e.port, port) << text;
        EXPECT_EQ(e.text(), normal) << text;
    }
    EXPECT_EQ(parsed("tcp://bridge:2001").describe(), "network bridge tcp://bridge:2001");
    EXPECT_EQ(parsed("/dev/ttyUSB0").describe(), "serial port /dev/ttyUSB0");
}

TEST(serial_endpoint, wrong_addresses_say_what_and_where) {
    const std::tuple<std::string, std::size_t, std::string> cases[] = {
        {"socket://bridge:2001", 0, "write tcp://bridge:2001"},
        {"telnet://bridge:2001", 0, "rfc2217://bridge:2001"},
        {"tpc://bridge:2001", 0, "unknown scheme \"tpc://\""},
        {"tcp://bridge", 12, "port is missing; write tcp://bridge:PORT"},
        {"tcp://:2001", 6, "host name is missing"},
        {"tcp://bridge:", 13, "from 1 to 65535"},
        {"tcp://bridge:0", 13, "from 1 to 65535"},
        {"tcp://bridge:65536", 13, "from 1 to 65535"},
        {"tcp://bridge:99999999999999999999", 13, "from 1 to 65535"},
        {"tcp://bridge:20x1", 15, "nothing may follow the port (\"x1\")"},
        {"tcp://bridge:2001/", 17, "nothing may follow"},
        {"tcp://br idge:2001", 8, "not ' '"},
        {"tcp://::1:2001", 6, "IPv6 address must be written in brackets"},
        {"tcp://[::1:2001", 6, "no closing \"]\""},
        {"tcp://[::1]", 11, "port is missing; write tcp://[::1]:PORT"},
        {"tcp://[bridge]:2001", 7, "bridge in brackets is not an IPv6 address"},
        {"tcp://[fe80::1%]:2001", 14, "after '%' comes the interface"},
        {"tcp://[fe80::1%e/0]:2001", 14, "after '%' comes the interface"},
        {"rfc2217://user:pw@bridge:2002", 10, "no user name or password"},
    };
    for (const auto& [text, offset, message] : cases) {
        auto r = parse_serial_endpoint(text);
        const auto* p = std::get_if<endpoint_problem>(&r);
        ASSERT_NE(p, nullptr) << text;
        EXPECT_EQ(p->offset, offset) << text << ": " << p->message;
        EXPECT_NE(p->message.find(message), std::string::npos) << text << ": " << p->message;
    }
}

TEST(serial_endpoint, config_reports_a_wrong_address_at_its_column) {
    const std::tuple<std::string, int, int> cases[] = {
        // serial:\n  device: tcp://bridge\n -> the value starts at column 11, the port is
        // missing at its end (offset 12).
        {"serial:\n  device: tcp://bridge\n", 2, 23},
        {"serial:\n  device: \"tcp://bridge:20x1\"\n", 2, 27},
        {"serial:\n  device: 'socket://b:1'\n", 2, 12},
    };
    for (const auto& [yaml, line, column] : cases) {
        const auto r = load_config_text(yaml + key_yaml, "");
        ASSERT_EQ(r.problems.size(), 1u) << yaml;
        EXPECT_EQ(r.problems[0].key, "serial.device");
        EXPECT_EQ(r.problems[0].line, line) << yaml;
        EXPECT_EQ(r.problems[0].column, column) << yaml << r.problems[0].message;
        EXPECT_NE(r.problems[0].message.find("serial.device \""), std::string::npos);
    }
}

TEST(serial_endpoint, a_network_bridge_gets_the_longer_idle_gap_unless_the_file_sets_one) {
    auto r = load_config_text("serial:\n  device: tcp://127.0.0.1:2001\n" + key_yaml, "");
    ASSERT_TRUE(r.problems.empty());
    EXPECT_EQ(r.config->serial.idle_gap, network_idle_gap);
    // No "does not exist" warning for an address.
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.at(0).message;

    r = load_config_text("serial:\n  device: rfc2217://[::1]:2002\n  idle_gap_ms: 100\n" + key_yaml,
                         "");
    ASSERT_TRUE(r.problems.empty());
    EXPECT_EQ(r.config->serial.idle_gap, std::chrono::milliseconds(100));

    r = load_config_text("serial:\n  device: /dev/ttyAMA0\n" + key_yaml, "");
    ASSERT_TRUE(r.problems.empty());
    EXPECT_EQ(r.config->serial.idle_gap, serial_config{}.idle_gap);
    EXPECT_NE(serial_config{}.idle_gap, network_idle_gap);
}

// The packaged /etc/evn-mbus.yaml is the shipped example: a user who only changes the device
// to a bridge gets the network's gap (idle_gap_ms: auto there), one who writes a number keeps it.
TEST(serial_endpoint, the_shipped_example_with_a_bridge_gets_the_network_gap) {
    std::ifstream in(std::string(EVN_MBUS_FIXTURES_DIR) + "/../config/evn-mbus.yaml");
    std::ostringstream text;
    text << in.rdbuf();
    std::string yaml = text.str();
    const auto replace = [&](const std::string& from, const std::string& to) {
        const auto at = yaml.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        yaml.replace(at, from.size(), to);
    };
    replace("REPLACE_WITH_YOUR_32_HEX_DIGIT_KEY", "36C66639E48A8CA4D6BC8B282A793BBB");
    replace("device: /dev/ttyAMA0", "device: tcp://192.168.1.30:6638");
    auto r = load_config_text(yaml, "");
    ASSERT_TRUE(r.config) << r.problems.at(0).message;
    EXPECT_EQ(r.config->serial.idle_gap, network_idle_gap);
    replace("idle_gap_ms: auto", "idle_gap_ms: AUTO");
    r = load_config_text(yaml, "");
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->serial.idle_gap, network_idle_gap);
    replace("idle_gap_ms: AUTO", "idle_gap_ms: 250");
    r = load_config_text(yaml, "");
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->serial.idle_gap, std::chrono::milliseconds(250));
}

}  // namespace
}  // namespace evn_mbus
