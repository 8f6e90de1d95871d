// The local HTTP API with real processes: `evn-mbus simulate` on a pseudo-terminal ->
// `evn-mbus run` with http.listen on a free loopback port -> a real Mosquitto, curl, a real
// Prometheus scraping /metrics, and hostile clients. What the API says must be what MQTT says,
// and no client may delay the meter's readings.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "fixture_loader.hpp"
#include "loopback_port.hpp"
#include "mosquitto_broker.hpp"
#include "mqtt_subscriber.hpp"
#include "prometheus_server.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const std::string binary = EVN_MBUS_BINARY;
const std::string evn_key = key_hex("evn_kaifa_ma309_doc");

struct api_rig {
    temp_dir dir{"evn-mbus-http-e2e"};
    mosquitto_broker broker;
    mqtt_subscriber sub{broker.uri(), {"evn/#"}};
    std::uint16_t port = free_port();
    std::unique_ptr<child_process> simulator;
    std::unique_ptr<child_process> daemon;

    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }

    void start_simulator() {
        simulator = std::make_unique<child_process>(std::vector<std::string>{
            binary, "simulate", "--link", dir.file("meter"), "--key", evn_key, "--interval", "1",
            "--meter-number", "123456789012", "--seed", "5"});
        ASSERT_TRUE(simulator->wait_for_stdout_lines(1, 10s)) << simulator->err();
    }

    // `extra` lines go under mqtt: and http: (indented by the caller).
    void start_daemon(const std::string& mqtt_extra = "", const std::string& http_extra = "") {
        const std::string config = dir.file("evn-mbus.yaml");
        std::ofstream(config) << "serial:\n  device: " << dir.file("meter")
                              << "\n  idle_gap_ms: 500\n  reopen_max_s: 1\nmeter:\n  key: \""
                              << evn_key << "\"\nmqtt:\n  uri: " << broker.uri()
                              << "\n  reconnect_max_s: 1\n"
                              << mqtt_extra << "http:\n  listen: 127.0.0.1:" << port << "\n"
                              << http_extra << "log:\n  level: info\n";
        daemon = std::make_unique<child_process>(
            std::vector<std::string>{binary, "run", "--config", config, "--log-target", "stderr"});
        ASSERT_TRUE(daemon->wait_for_stderr("HTTP API", 10s)) << daemon->err();
    }

    std::string log() {
        daemon->wait_until([](const std::string&, const std::string&) { return false; }, 10ms);
        return daemon->err();
    }

    // Every evn/state so far, parsed.
    std::vector<nlohmann::json> states() const {
        std::vector<nlohmann::json> out;
        for (const auto& p : sub.payloads("evn/state"))
            out.push_back(nlohmann::json::parse(p));
        return out;
    }
};

nlohmann::json without_age(nlohmann::json j) {
    j.erase("age_s");
    j.erase("received");
    return j;
}

TEST(http_api, reading_status_and_events_say_what_mqtt_says) {
    api_rig r;
    // Before the first reading: 503 with a reason, not an empty 200.
    r.start_daemon();
    const auto early = run_process(
        {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", r.url("/api/v1/reading")});
    EXPECT_EQ(early.out, "503") << r.log();

    r.start_simulator();
    ASSERT_TRUE(r.sub.wait_for_count("evn/state", 2, 20s)) << r.log();
    // SSE: a client that stays for three pushes gets the latest reading first, then each push.
    const auto events =
        run_process({"curl", "-s", "-N", "--max-time", "3.5", r.url("/api/v1/events")});
    // The reading endpoint: the state topic's object plus its age.
    const auto body = curl_get(r.url("/api/v1/reading"));
    ASSERT_TRUE(body) << r.log();
    const auto reading = nlohmann::json::parse(*body);
    ASSERT_TRUE(reading.contains("age_s"));
    EXPECT_GE(reading["age_s"].get<double>(), 0.0);
    EXPECT_LT(reading["age_s"].get<double>(), 5.0);
    bool found = false;
    for (const auto& s : r.states())
        found = found || s == without_age(reading);
    EXPECT_TRUE(found) << "no evn/state equals " << *body;

    // p_net = p_p - p_n, in the JSON and on its own topic.
    ASSERT_TRUE(reading.contains("p_net")) << *body;
    EXPECT_EQ(reading["p_net"],
              reading["p_p"].get<std::int64_t>() - reading["p_n"].get<std::int64_t>());
    const auto p_net = r.sub.payloads("evn/p_net");
    ASSERT_FALSE(p_net.empty());

    // Events: each data line is one published state.
    std::vector<nlohmann::json> event_data;
    std::istringstream lines(events.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("data: ", 0) == 0)
            event_data.push_back(nlohmann::json::parse(line.substr(6)));
    }
    EXPECT_GE(event_data.size(), 3u) << events.out;
    const auto states = r.states();
    for (const auto& e : event_data) {
        EXPECT_NE(std::find(states.begin(), states.end(), e), states.end()) << e.dump();
    }

    const auto status = curl_get(r.url("/api/v1/status"));
    ASSERT_TRUE(status);
    const auto st = nlohmann::json::parse(*status);
    EXPECT_GE(st.at("telegrams_ok").get<int>(), 3);
    EXPECT_EQ(st.at("mqtt").at("connected"), true);
    EXPECT_FALSE(st.at("version").get<std::string>().empty());

    r.daemon->signal(SIGTERM);
    EXPECT_EQ(r.daemon->wait(15s), 0) << r.log();
}

TEST(http_api, a_real_prometheus_scrapes_the_readings_with_basic_auth) {
    api_rig r;
    r.start_simulator();
    r.start_daemon("", "  username: grafana\n  password: \"s3cret pass\"\n");
    ASSERT_TRUE(r.sub.wait_for_count("evn/state", 1, 20s)) << r.log();

    // Without the password: 401; with it, promtool accepts the text.
    const auto anonymous =
        run_process({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", r.url("/metrics")});
    EXPECT_EQ(anonymous.out, "401");
    const auto text = curl_get(r.url("/metrics"), "grafana:s3cret pass");
    ASSERT_TRUE(text) << r.log();
    const auto lint = run_process({"promtool", "check", "metrics"}, *text);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err;
    EXPECT_EQ(lint.out + lint.err, "");

    prometheus_server prom({"127.0.0.1:" + std::to_string(r.port), "grafana", "s3cret pass"});
    std::optional<double> up;
    for (int i = 0; i < 60 && up != 1.0; ++i) {
        up = prom.scalar("up{job=\"evn-mbus\"}");
        if (up != 1.0) std::this_thread::sleep_for(500ms);
    }
    ASSERT_EQ(up, 1.0) << prom.log();
    std::optional<double> joules;
    for (int i = 0; i < 20 && !joules; ++i) {
        joules = prom.scalar("evn_mbus_active_energy_import_joules_total{meter=\"123456789012\"}");
        if (!joules) std::this_thread::sleep_for(500ms);
    }
    ASSERT_TRUE(joules) << prom.log();
    const auto p_net = prom.scalar("evn_mbus_active_power_net_watts");
    ASSERT_TRUE(p_net);
    // The value Prometheus stored is that of a reading that was published: w_p in Wh x 3600.
    bool energy_found = false, net_found = false;
    for (const auto& s : r.states()) {
        energy_found = energy_found || s.at("w_p").get<double>() * 3600.0 == *joules;
        net_found = net_found || s.at("p_net").get<double>() == *p_net;
    }
    EXPECT_TRUE(energy_found) << *joules << " J is w_p x 3600 of no published reading";
    EXPECT_TRUE(net_found) << *p_net << " W is p_net of no published reading";
    const auto failures = prom.scalar("evn_mbus_telegrams_ok_total");
    ASSERT_TRUE(failures);
    EXPECT_GE(*failures, 1.0);
}

// A state's meter clock ("2026-12-07T23:11:54..."), as seconds since the epoch.
std::int64_t clock_seconds(const nlohmann::json& state) {
    std::tm tm{};
    std::istringstream in(state.at("clock").get<std::string>());
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    EXPECT_FALSE(in.fail()) << state.at("clock");
    return static_cast<std::int64_t>(::timegm(&tm));
}

// A socket to the API that does whatever the test makes it do (nothing, at worst).
int connect_to(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

void send_all(int fd, const std::string& data) {
    for (std::size_t at = 0; at < data.size();) {
        const ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
        if (n <= 0) return;  // the server closed it: fine, that is one answer
        at += static_cast<std::size_t>(n);
    }
}

// The hostile clients of the issue, all at once, for `length`: 1,000 connections left open,
// slowloris clients sending a header byte every 100 ms, 100 KiB headers, POSTs and path
// traversal; they hold what they opened until the end.
void attack(std::uint16_t port, std::chrono::seconds length, std::atomic<int>& opened) {
    std::vector<int> fds;
    const auto end = steady::now() + length;
    for (int i = 0; i < 1000 && steady::now() < end; ++i) {
        if (const int fd = connect_to(port); fd >= 0) {
            fds.push_back(fd);
            ++opened;
        }
    }
    std::vector<int> slow;
    for (int i = 0; i < 20; ++i) {
        if (const int fd = connect_to(port); fd >= 0) slow.push_back(fd);
    }
    const std::string huge =
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100 * 1024, 'a') + "\r\n\r\n";
    const std::string slow_request =
        "GET /api/v1/reading HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'b') + "\r\n\r\n";
    std::size_t slow_at = 0;
    while (steady::now() < end) {
        for (const std::string& request :
             {huge,
              std::string("POST /api/v1/reading HTTP/1.1\r\nHost: x\r\nContent-Length: "
                          "5\r\n\r\nhello"),
              std::string("GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
              std::string("GET /%2e%2e/%2e%2e/etc/evn-mbus.yaml HTTP/1.1\r\nHost: x\r\n\r\n")}) {
            const int fd = connect_to(port);
            if (fd < 0) continue;
            send_all(fd, request);
            char buf[512];
            (void)::recv(fd, buf, sizeof buf, 0);
            ::close(fd);
        }
        for (const int fd : slow)
            send_all(fd, slow_request.substr(slow_at % slow_request.size(), 1));
        ++slow_at;
        std::this_thread::sleep_for(100ms);
    }
    for (const int fd : slow)
        ::close(fd);
    for (const int fd : fds)
        ::close(fd);
}

TEST(http_api, hostile_clients_do_not_delay_the_readings) {
    // 1,000 sockets and more in this process.
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ASSERT_GE(limit.rlim_cur, 1200u) << "the test needs more open files (ulimit -n)";

    api_rig r;
    r.start_simulator();
    r.start_daemon("", "  max_connections: 32\n  request_timeout_s: 2\n");
    ASSERT_TRUE(r.sub.wait_for_count("evn/state", 2, 20s)) << r.log();

    std::atomic<int> opened = 0;
    const auto attack_length = 10s;
    const std::size_t before = r.sub.payloads("evn/state").size();
    std::thread attacker([&] { attack(r.port, attack_length, opened); });
    // Each push is published while the attack goes on: the time between two states stays near
    // the meter's period (a second's pause plus about 1.4 s to send a push at 2400 baud).
    const auto start = steady::now();
    auto last = start;
    std::chrono::milliseconds longest{0};
    std::size_t seen = before;
    while (steady::now() - start < attack_length) {
        if (r.sub.wait_for_count("evn/state", seen + 1, 200ms)) {
            const auto now = steady::now();
            if (seen > before) {
                longest = std::max(
                    longest, std::chrono::duration_cast<std::chrono::milliseconds>(now - last));
            }
            last = now;
            ++seen;
        }
    }
    attacker.join();
    const std::size_t during = seen - before;
    std::cout << "attack: " << opened << " connections opened, " << during
              << " readings published in " << attack_length.count() << " s, longest gap "
              << longest.count() << " ms\n";
    EXPECT_GE(opened.load(), 1000);
    // Each push was published, once, in order: the simulator's clock moves a second a push
    // (--interval 1), so a lost one is a hole, a repeated one a zero.
    std::vector<std::int64_t> clocks;
    for (const auto& p : r.sub.payloads("evn/state"))
        clocks.push_back(clock_seconds(nlohmann::json::parse(p)));
    for (std::size_t i = 1; i < clocks.size(); ++i) {
        EXPECT_EQ(clocks[i] - clocks[i - 1], 1) << "state " << i << " of " << clocks.size();
    }
    // And they kept coming: the meter's period is about 1.45 s, so a push waited at most about
    // a period. The sanitizers slow every process of the test (the attacker, mosquitto_sub's
    // reader, the daemon) several times over, and the test's own clock with them.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    const std::size_t least = 3;
    const auto bound = 5000ms;
#else
    const std::size_t least = 5;
    const auto bound = 3000ms;
#endif
    EXPECT_GE(during, least) << r.log();
    EXPECT_LT(longest, bound) << "a push waited for the HTTP clients\n" << r.log();

    // The API serves again once the attackers are gone, and the daemon is still whole.
    std::optional<std::string> body;
    for (int i = 0; i < 20 && !body; ++i) {
        body = curl_get(r.url("/api/v1/reading"));
        if (!body) std::this_thread::sleep_for(250ms);
    }
    ASSERT_TRUE(body) << r.log();
    const auto status = nlohmann::json::parse(*curl_get(r.url("/api/v1/status")));
    EXPECT_GE(status.at("http").at("refused").get<int>(), 1);
    EXPECT_EQ(status.value("telegrams_failed", 0), 0) << status.dump();
    EXPECT_TRUE(r.daemon->running());
    const std::string log = r.log();
    EXPECT_EQ(log.find("etc/passwd"), std::string::npos) << log;
    r.daemon->signal(SIGTERM);
    EXPECT_EQ(r.daemon->wait(15s), 0) << r.log();
}

// A port another program holds: said, readings still published; a SIGHUP listens once it is
// free, and a reload of http.* keeps the latest reading (a poller gets no 503 meanwhile).
TEST(http_api, a_taken_port_is_said_and_a_reload_listens_with_the_latest_reading) {
    api_rig r;
    const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(holder, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(r.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(holder, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(holder, 1), 0);
    r.start_simulator();
    r.start_daemon();
    EXPECT_NE(r.log().find("HTTP API off: http.listen 127.0.0.1:" + std::to_string(r.port) +
                           ": the address is in use"),
              std::string::npos)
        << r.log();
    ASSERT_TRUE(r.sub.wait_for_count("evn/state", 1, 20s)) << r.log();

    ::close(holder);
    r.daemon->signal(SIGHUP);
    ASSERT_TRUE(r.daemon->wait_for_stderr("HTTP API on", 10s)) << r.log();
    std::optional<std::string> body;
    for (int i = 0; i < 20 && !body; ++i) {
        body = curl_get(r.url("/api/v1/reading"));
        if (!body) std::this_thread::sleep_for(250ms);
    }
    ASSERT_TRUE(body) << r.log();

    // The meter goes quiet; the HTTP settings change; the reading is still there.
    r.simulator->signal(SIGSTOP);
    std::this_thread::sleep_for(2s);
    const auto before = nlohmann::json::parse(*curl_get(r.url("/api/v1/reading")));
    {
        std::ifstream in(r.dir.file("evn-mbus.yaml"));
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto at = text.find("http:\n");
        ASSERT_NE(at, std::string::npos);
        text.insert(at + 6, "  max_connections: 8\n");
        std::ofstream(r.dir.file("evn-mbus.yaml")) << text;
    }
    const std::size_t listening = r.log().size();
    r.daemon->signal(SIGHUP);
    ASSERT_TRUE(r.daemon->wait_until(
        [&](const std::string&, const std::string& err) {
            return err.find("HTTP API on", listening) != std::string::npos;
        },
        10s))
        << r.log();
    const auto after = curl_get(r.url("/api/v1/reading"));
    ASSERT_TRUE(after) << "503 after the reload\n" << r.log();
    const auto j = nlohmann::json::parse(*after);
    EXPECT_EQ(without_age(j), without_age(before));
    EXPECT_GE(j.at("age_s").get<double>(), before.at("age_s").get<double>());
    r.simulator->signal(SIGCONT);
    r.daemon->signal(SIGTERM);
    EXPECT_EQ(r.daemon->wait(15s), 0) << r.log();
}

// mqtt.min_interval_s thins MQTT to one reading per interval, the newest; the HTTP API keeps
// every one. mqtt.on_change_only leaves out value topics that did not change.
TEST(mqtt_throttle, min_interval_sends_the_newest_reading_and_http_keeps_all) {
    api_rig r;
    r.start_simulator();
    r.start_daemon("  min_interval_s: 3\n  on_change_only: true\n  heartbeat_s: 600\n");
    ASSERT_TRUE(r.sub.wait_for_count("evn/state", 1, 20s)) << r.log();
    std::this_thread::sleep_for(9500ms);
    const auto body = curl_get(r.url("/api/v1/reading"));
    ASSERT_TRUE(body);
    const auto newest = without_age(nlohmann::json::parse(*body));
    const auto status = nlohmann::json::parse(*curl_get(r.url("/api/v1/status")));
    r.daemon->signal(SIGTERM);
    EXPECT_EQ(r.daemon->wait(15s), 0) << r.log();

    const auto states = r.states();
    const int decoded = status.at("telegrams_ok").get<int>();
    // About 7 pushes in ~10 s (one every 1.45 s at 2400 baud); at most one state per 3 s, plus
    // the first and the one waiting at the stop.
    EXPECT_GE(decoded, 6);
    EXPECT_LE(states.size(), 6u) << decoded << " readings decoded";
    EXPECT_GE(states.size(), 3u);
    // Energy is never lost: the last state sent is the newest reading (sent at the stop, if
    // it was waiting for its interval), or one that came after the API was asked.
    ASSERT_FALSE(states.empty());
    EXPECT_GE(states.back().at("w_p").get<double>(), newest.at("w_p").get<double>());
    EXPECT_GE(states.back().at("clock").get<std::string>(), newest.at("clock").get<std::string>());
    // Clocks strictly rise: no reading sent twice, none out of order.
    for (std::size_t i = 1; i < states.size(); ++i)
        EXPECT_LT(states[i - 1].at("clock").get<std::string>(),
                  states[i].at("clock").get<std::string>());
    // on_change_only: the meter number never changes, so it went once; the clock every time.
    EXPECT_EQ(r.sub.payloads("evn/meter_number").size(), 1u);
    EXPECT_EQ(r.sub.payloads("evn/clock").size(), states.size());
}

}  // namespace
}  // namespace evn_mbus::test
