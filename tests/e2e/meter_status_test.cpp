// The meter's own availability, <prefix>/meter_status, with real processes: `evn-mbus simulate`
// on a pseudo-terminal -> `evn-mbus run` -> a real Mosquitto -> a subscriber. Home Assistant's
// sensors need both evn/status (the daemon) and evn/meter_status "online": a silent line or a
// lost port shows the values as unavailable while the daemon stays up.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "fixture_loader.hpp"
#include "mosquitto_broker.hpp"
#include "mqtt_subscriber.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;

const std::string binary = EVN_MBUS_BINARY;
const std::string evn_key = key_hex("evn_kaifa_ma309_doc");
const std::string meter_status = "evn/meter_status";

// The last payload on `topic`, or "" when none came.
std::string last_on(const std::vector<received_message>& ms, const std::string& topic) {
    for (auto it = ms.rbegin(); it != ms.rend(); ++it) {
        if (it->topic == topic) return it->payload;
    }
    return "";
}

struct meter_rig {
    temp_dir dir{"evn-mbus-meter-status"};
    mosquitto_broker broker;
    mqtt_subscriber sub{broker.uri(), {"evn/#", "homeassistant/#"}};
    std::unique_ptr<child_process> simulator;
    std::unique_ptr<child_process> daemon;

    std::string link() const { return dir.file("meter"); }

    // One push a second, until stopped; each run of the simulator counts from its own seed.
    void start_simulator(const std::string& seed) {
        simulator = std::make_unique<child_process>(std::vector<std::string>{
            binary, "simulate", "--link", link(), "--key", evn_key, "--interval", "1",
            "--meter-number", "123456789012", "--seed", seed});
        ASSERT_TRUE(simulator->wait_for_stdout_lines(1, 10s)) << simulator->err();
    }

    void start_daemon(const std::string& key = evn_key, const std::string& auth_key = "") {
        const std::string config = dir.file("evn-mbus.yaml");
        std::ofstream(config) << "serial:\n  device: " << link()
                              << "\n  idle_gap_ms: 500\n  reopen_max_s: 1\n  no_data_warning_s: 3"
                              << "\nmeter:\n  key: \"" << key << "\"\n  auth_key: \"" << auth_key
                              << "\"\nmqtt:\n  uri: " << broker.uri()
                              << "\n  reconnect_max_s: 1\nlog:\n  level: info\n";
        daemon = std::make_unique<child_process>(
            std::vector<std::string>{binary, "run", "--config", config, "--log-target", "stderr"});
    }

    // Waits until the last meter_status is `payload`; the daemon's log on failure.
    void expect_meter(const std::string& payload, std::chrono::milliseconds timeout = 30s) {
        const bool ok = sub.wait_for(
            [&](const std::vector<received_message>& ms) {
                return last_on(ms, meter_status) == payload;
            },
            timeout);
        // Collects the daemon's log meanwhile, so that a failure shows it.
        daemon->wait_until([](const std::string&, const std::string&) { return false; }, 10ms);
        EXPECT_TRUE(ok) << "meter_status never became " << payload << "; last: '"
                        << last_on(sub.messages(), meter_status) << "'\n"
                        << daemon->err();
    }
};

TEST(meter_status, offline_while_the_line_is_silent_or_the_port_lost_online_when_data_returns) {
    meter_rig r;
    r.start_simulator("7");
    r.start_daemon();
    r.expect_meter("online");
    // Before the first reading the daemon said "offline": a retained "online" of an earlier
    // run must not stand for a meter nobody has heard yet.
    const auto states = r.sub.payloads(meter_status);
    ASSERT_GE(states.size(), 2u);
    EXPECT_EQ(states.front(), "offline");

    // The discovery makes Home Assistant require both topics.
    const auto config = r.sub.payloads("homeassistant/sensor/evn-mbus-123456789012/w_p/config");
    ASSERT_FALSE(config.empty()) << r.daemon->err();
    const auto w_p = nlohmann::json::parse(config.back());
    EXPECT_EQ(w_p.at("availability_mode"), "all");
    EXPECT_EQ(w_p.at("availability").at(0).at("topic"), "evn/status");
    EXPECT_EQ(w_p.at("availability").at(1).at("topic"), meter_status);

    // The line goes silent (the meter's sender is frozen, the port stays open).
    r.simulator->signal(SIGSTOP);
    r.expect_meter("offline");
    EXPECT_EQ(last_on(r.sub.messages(), "evn/status"), "online") << "the daemon is up";
    EXPECT_NE(r.daemon->err().find("no reading from the meter for 3 s"), std::string::npos)
        << r.daemon->err();

    r.simulator->signal(SIGCONT);
    r.expect_meter("online");
    EXPECT_NE(r.daemon->err().find("readings arrive again"), std::string::npos) << r.daemon->err();

    // The port is lost: the simulator ends, its pseudo-terminal and link are gone.
    r.simulator->signal(SIGTERM);
    r.simulator->wait(10s);
    r.expect_meter("offline");
    EXPECT_NE(r.daemon->err().find("the serial port " + r.link() + " is gone"), std::string::npos)
        << r.daemon->err();
    EXPECT_EQ(last_on(r.sub.messages(), "evn/status"), "online");

    // Back (another counter: taken as a restarted meter within a few pushes).
    r.start_simulator("8");
    r.expect_meter("online");

    r.daemon->signal(SIGTERM);
    EXPECT_EQ(r.daemon->wait(15s), 0) << r.daemon->err();
    ASSERT_TRUE(r.sub.wait_for([](const std::vector<received_message>& ms) {
        return last_on(ms, "evn/status") == "offline";
    }));
    EXPECT_EQ(last_on(r.sub.messages(), meter_status), "offline");
}

// What is retained survives the daemon and the broker: a killed daemon leaves meter_status
// "online" (one will only: evn/status "offline" covers it), a restarted one says "offline" until
// it hears the meter, and a broker restarted without persistence gets the state again.
TEST(meter_status, retained_state_is_right_after_a_killed_daemon_and_a_broker_restart) {
    meter_rig r;
    r.start_simulator("9");
    r.start_daemon();
    r.expect_meter("online");

    r.daemon->signal(SIGKILL);
    r.daemon->wait(10s);
    ASSERT_TRUE(r.sub.wait_for(
        [](const std::vector<received_message>& ms) {
            return last_on(ms, "evn/status") == "offline";
        },
        15s));

    r.simulator->signal(SIGSTOP);  // the meter silent while the daemon starts again
    r.sub.clear();
    r.start_daemon();
    r.expect_meter("offline");
    {
        mqtt_subscriber late(r.broker.uri(), {meter_status});
        ASSERT_TRUE(late.wait_for_count(meter_status, 1, 10s));
        EXPECT_EQ(late.messages().front().payload, "offline");
        EXPECT_TRUE(late.messages().front().retained);
    }
    r.simulator->signal(SIGCONT);
    r.expect_meter("online");

    r.broker.stop();
    r.broker.restart();
    ASSERT_TRUE(r.daemon->wait_for_stderr("connected again", 30s)) << r.daemon->err();
    mqtt_subscriber late(r.broker.uri(), {meter_status, "evn/status"});
    ASSERT_TRUE(late.wait_for(
        [](const std::vector<received_message>& ms) {
            return last_on(ms, meter_status) == "online" && last_on(ms, "evn/status") == "online";
        },
        10s))
        << r.daemon->err();
    // `late` may have subscribed before the daemon published again and then got the state live
    // (not flagged retained). Now the broker holds it: a subscriber from now on gets it retained.
    mqtt_subscriber later(r.broker.uri(), {meter_status});
    ASSERT_TRUE(later.wait_for_count(meter_status, 1, 10s));
    EXPECT_EQ(later.messages().front().payload, "online");
    EXPECT_TRUE(later.messages().front().retained);

    r.daemon->signal(SIGTERM);
    EXPECT_EQ(r.daemon->wait(15s), 0) << r.daemon->err();
}

// The Landis+Gyr E450 sends no meter number: its sensors are announced under its system title,
// through the whole chain (the publisher used to skip discovery without a number).
TEST(meter_status, a_meter_without_number_is_announced_by_its_system_title) {
    meter_rig r;
    r.simulator = std::make_unique<child_process>(std::vector<std::string>{
        binary, "simulate", "--link", r.link(), "--interval", "1", "--replay",
        std::string(EVN_MBUS_FIXTURES_DIR) + "/lgz_e450_landis_gyr_e450.hex"});
    ASSERT_TRUE(r.simulator->wait_for_stdout_lines(1, 10s)) << r.simulator->err();
    r.start_daemon(key_hex("lgz_e450_landis_gyr_e450"), auth_key_hex("lgz_e450_landis_gyr_e450"));
    const std::string topic = "homeassistant/sensor/evn-mbus-4C475A677370B177/w_p/config";
    ASSERT_TRUE(r.sub.wait_for_count(topic, 1, 30s)) << r.daemon->err();
    const auto w_p = nlohmann::json::parse(r.sub.payloads(topic).front());
    EXPECT_EQ(w_p.at("unique_id"), "evn-mbus-4C475A677370B177-w_p");
    EXPECT_EQ(w_p.at("device").at("name"), "Smart meter LGZ 677370B177");
    EXPECT_EQ(w_p.at("device").at("manufacturer"), "Landis+Gyr");
    r.expect_meter("online");
    EXPECT_EQ(r.daemon->err().find("discovery is skipped"), std::string::npos) << r.daemon->err();
    r.daemon->signal(SIGTERM);
    EXPECT_EQ(r.daemon->wait(15s), 0) << r.daemon->err();
}

}  // namespace
}  // namespace evn_mbus::test
