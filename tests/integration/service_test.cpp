// `evn-mbus run` as systemd runs it: its own process reading a pseudo-terminal, configured by a
// YAML file, told to reload and stop by signals, reporting to systemd over NOTIFY_SOCKET.
// MQTT is off here (--no-mqtt --print): the MQTT tests cover publishing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "child_process.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fake_uart.hpp"
#include "fixture_loader.hpp"
#include "mosquitto_broker.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;

const std::string binary = EVN_MBUS_BINARY;
const std::string fixtures = EVN_MBUS_FIXTURES_DIR;

const capture& evn() {
    return capture_by_id("evn_kaifa_ma309_doc");
}
const std::string evn_key = "36C66639E48A8CA4D6BC8B282A793BBB";
const std::string wrong_key = "00112233445566778899AABBCCDDEEFF";

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

// The idle gap is wide (a second; a real line needs 100 ms): these tests do not test pacing
// (the serial tests do), and a loaded machine can stall the paced writer past a short gap.
std::string config_text(const std::string& device, const std::string& key,
                        const std::string& extra = "") {
    return "serial:\n  device: " + device + "\n  idle_gap_ms: 1000\nmeter:\n  key: \"" + key +
           "\"\nlog:\n  level: info\n" + extra;
}

// The daemon on a fake serial line, logging to stderr.
struct rig {
    temp_dir dir{"evn-mbus-service"};
    std::string config = dir.file("evn-mbus.yaml");
    fake_uart uart{dir.file("ttyMeter")};

    std::unique_ptr<child_process> start(const std::string& key,
                                         std::vector<std::string> extra_args = {},
                                         const std::map<std::string, std::string>& env = {},
                                         const std::string& extra_config = "") {
        write_file(config, config_text(uart.link().string(), key, extra_config));
        std::vector<std::string> argv{binary,      "run",     "--config",     config,
                                      "--no-mqtt", "--print", "--log-target", "stderr"};
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        auto p = std::make_unique<child_process>(argv, env);
        if (!p->wait_for_stderr("open", 10s)) {
            ADD_FAILURE() << "the daemon did not open the serial port:\n" << p->err();
        }
        return p;
    }
};

TEST(service, reads_the_serial_line_and_prints_what_decode_prints) {
    rig r;
    auto d = r.start(evn_key);
    r.uart.send_push(evn().frames);
    ASSERT_TRUE(d->wait_for_stdout_lines(1, 10s)) << d->err();

    const auto ref =
        run_process({binary, "decode", "--key", evn_key, fixtures + "/evn_kaifa_ma309_doc.hex"});
    ASSERT_EQ(ref.status, 0);
    EXPECT_EQ(nlohmann::json::parse(d->out_lines().at(0)), nlohmann::json::parse(ref.out));
    EXPECT_NE(d->err().find("first reading from meter 181220000009"), std::string::npos)
        << d->err();

    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10s), 0) << d->err();
    EXPECT_NE(d->err().find("stopped (1 telegrams ok, 0 failed"), std::string::npos) << d->err();
}

// A port that is open but silent (interface not activated, wires on the wrong pins) gets one
// warning that says what to check, not one per interval; data ends it, and a new silence
// warns again.
TEST(service, a_silent_line_gets_one_warning_until_data_arrives) {
    rig r;
    const std::string device = r.uart.link().string();
    write_file(r.config, "serial:\n  device: " + device +
                             "\n  no_data_warning_s: 1\nmeter:\n  key: \"" + evn_key +
                             "\"\nlog:\n  level: info\n");
    child_process d(
        {binary, "run", "--config", r.config, "--no-mqtt", "--print", "--log-target", "stderr"});
    const std::string warning = "no data from the meter on " + device + " for 1 s";
    auto warnings = [&] {
        std::size_t n = 0;
        const std::string& err = d.err();
        for (auto pos = err.find(warning); pos != err.npos; pos = err.find(warning, pos + 1))
            ++n;
        return n;
    };
    ASSERT_TRUE(d.wait_for_stderr(warning, 10s)) << d.err();
    EXPECT_NE(d.err().find("activated in your grid operator's portal"), std::string::npos);
    std::this_thread::sleep_for(2500ms);
    EXPECT_EQ(warnings(), 1u) << d.err();

    r.uart.write_now(concat(evn().frames));
    ASSERT_TRUE(d.wait_for_stdout_lines(1, 10s)) << d.err();
    EXPECT_NE(d.err().find("data from the meter on " + device + " again"), std::string::npos)
        << d.err();
    ASSERT_TRUE(
        d.wait_until([&](const std::string&, const std::string&) { return warnings() == 2; }, 10s))
        << d.err();

    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(10s), 0) << d.err();
}

TEST(service, unusable_config_exits_78_and_says_what_to_fix) {
    temp_dir dir;
    const std::string config = dir.file("bad.yaml");
    write_file(config, "serial:\n  devize: /dev/ttyAMA0\nmeter:\n  key: \"" + evn_key + "\"\n");
    child_process d({binary, "run", "--config", config, "--log-target", "stderr"});
    EXPECT_EQ(d.wait(10s), 78);
    EXPECT_NE(d.err().find(config + ":2:3"), std::string::npos) << d.err();
    EXPECT_NE(d.err().find("device"), std::string::npos) << d.err();
    EXPECT_NE(d.err().find("cannot start"), std::string::npos) << d.err();
}

TEST(service, wrong_key_is_one_clear_line_then_a_count) {
    rig r;
    auto d = r.start(wrong_key, {}, {}, "  summary_interval_s: 1\n");
    for (int i = 0; i < 4; ++i) {
        r.uart.write_now(concat(evn().frames));
        std::this_thread::sleep_for(1200ms);  // an idle gap between pushes
    }
    ASSERT_TRUE(d->wait_for_stderr("not_a_valid_apdu 4", 10s)) << d->err();
    const std::string& err = d->err();
    std::size_t lines = 0;
    for (std::size_t pos = 0; (pos = err.find("telegram dropped", pos)) != err.npos; ++pos)
        ++lines;
    EXPECT_EQ(lines, 1u) << err;
    EXPECT_NE(err.find("key is most likely wrong"), std::string::npos) << err;
    EXPECT_TRUE(d->out().empty());
}

TEST(service, sighup_applies_a_good_config_and_rejects_a_bad_one) {
    rig r;
    auto d = r.start(wrong_key);
    r.uart.send_push(evn().frames);
    ASSERT_TRUE(d->wait_for_stderr("telegram dropped", 10s)) << d->err();

    // The right key, then SIGHUP: the next push decodes.
    write_file(r.config, config_text(r.uart.link().string(), evn_key));
    d->signal(SIGHUP);
    ASSERT_TRUE(d->wait_for_stderr("configuration reloaded", 10s)) << d->err();
    r.uart.send_push(evn().frames);
    ASSERT_TRUE(d->wait_for_stdout_lines(1, 10s)) << d->err();

    // A broken file, then SIGHUP: rejected with the reason, the running config stays.
    write_file(r.config, config_text(r.uart.link().string(), evn_key, "  levle: debug\n"));
    d->signal(SIGHUP);
    ASSERT_TRUE(d->wait_for_stderr("NOT applied", 10s)) << d->err();
    EXPECT_NE(d->err().find("levle"), std::string::npos) << d->err();
    // The same capture again still decodes with the running key; being the same telegram
    // (same frame counter), it is reported as a repeat instead of printed a second time.
    r.uart.send_push(evn().frames);
    ASSERT_TRUE(d->wait_for_stderr("again (last ", 10s)) << d->err();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10s), 0);
    EXPECT_EQ(d->out_lines().size(), 1u) << d->out();
    EXPECT_NE(d->err().find("1 repeated or old push not published"), std::string::npos) << d->err();
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

// An AMIS meter (Netz Oberoesterreich) waits for the reader: the daemon answers its search
// (SND_NKE) and every push with E5h, also a push it cannot decrypt, and never a damaged frame.
// The operator's example frame; the latency is a figure here (the benchmarks measure it).
TEST(service, an_amis_meter_is_answered_and_its_push_printed) {
    rig r;
    const capture& c = capture_by_id("amis_netzooe_spec_example");
    auto d = r.start(key_hex(c.id));
    const auto t0 = std::chrono::steady_clock::now();
    r.uart.write_now({0x10, 0x40, 0xF0, 0x30, 0x16});
    EXPECT_EQ(r.uart.read_back(1, 5s), (bytes{0xE5})) << d->err();
    const auto search_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    r.uart.write_now(concat(c.frames));
    EXPECT_EQ(r.uart.read_back(1, 5s), (bytes{0xE5})) << d->err();
    ASSERT_TRUE(d->wait_for_stdout_lines(1, 10s)) << d->err();
    const auto j = nlohmann::json::parse(d->out_lines().at(0));
    EXPECT_EQ(j.at("w_p"), 684544);
    EXPECT_EQ(j.at("p_n"), 117);
    EXPECT_EQ(j.at("clock"), "2014-07-01T06:12:31Z");
    EXPECT_NE(d->err().find("first reading from meter 00000000: Siemens (SAM)"), std::string::npos)
        << d->err();

    // A damaged frame (a ciphertext byte changed, the checksum no longer holds): no answer.
    bytes damaged = concat(c.frames);
    damaged[30] ^= 0x10;
    r.uart.write_now(damaged);
    EXPECT_TRUE(r.uart.read_back(1, 1500ms).empty());
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10s), 0) << d->err();
    std::cout << "[ figures  ] SND_NKE to E5 on a pty: " << search_us << " us\n";
}

// The real Netz Burgenland push's plaintext, encrypted again with frame counters after the
// capture's (so that each push is new to the daemon), in HDLC frames.
std::vector<bytes> burgenland_push(std::uint32_t frame_counter) {
    const capture& c = capture_by_id("lgz_e450_netzburgenland_amsreader_gh501_2");
    telegram_encoder enc;
    const system_title title{0x4C, 0x47, 0x5A, 0x67, 0x72, 0xA9, 0xA1, 0x11};  // the capture's
    bytes apdu;
    EXPECT_FALSE(
        enc.encrypt(c.plaintext, c.keys.key, std::nullopt, title, frame_counter, 0x20, apdu));
    return telegram_encoder::segment_hdlc(apdu);
}

// meter.layout from the YAML: a push no layout fits is said once with a layout to fill in
// (not once per push) and counted; after SIGHUP with the user's layout its values come out.
TEST(service, a_push_no_layout_fits_is_said_once_and_the_users_layout_names_it) {
    rig r;
    const std::string device = r.uart.link().string();
    auto config_with = [&](const std::string& layout) {
        return "serial:\n  device: " + device + "\n  idle_gap_ms: 1000\nmeter:\n  key: \"" +
               key_hex("lgz_e450_netzburgenland_amsreader_gh501_2") + "\"\n  layout: " + layout +
               "\nlog:\n  level: info\n";
    };
    write_file(r.config, config_with("wiener-netze"));
    child_process d(
        {binary, "run", "--config", r.config, "--no-mqtt", "--print", "--log-target", "stderr"});
    ASSERT_TRUE(d.wait_for_stderr("open", 10s)) << d.err();
    const std::string skeleton = "layout: [skip, skip, skip, skip, skip, skip, skip, skip";
    r.uart.send_push(burgenland_push(0x00300001));
    r.uart.send_push(burgenland_push(0x00300002));
    ASSERT_TRUE(d.wait_for_stdout_lines(2, 10s)) << d.err();
    EXPECT_EQ(count_of(d.err(), skeleton), 1u) << d.err();
    EXPECT_NE(d.err().find("meter.layout is wiener-netze"), std::string::npos) << d.err();
    EXPECT_EQ(d.out().find("w_p"), std::string::npos) << d.out();

    write_file(r.config,
               config_with("[1-0:32.7.0 V, 1-0:52.7.0 V, 1-0:72.7.0 V, 1-0:31.7.0 A scaler -2, "
                           "1-0:51.7.0 A scaler -2, 1-0:71.7.0 A scaler -2, 1-0:1.7.0 W, "
                           "1-0:2.7.0 W, 1-0:1.8.0 Wh, 1-0:2.8.0 Wh, skip, skip, skip, "
                           "0-0:96.1.0]"));
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("meter.layout is now your list of 14 positions", 10s)) << d.err();
    r.uart.send_push(burgenland_push(0x00300003));
    ASSERT_TRUE(d.wait_for_stdout_lines(3, 10s)) << d.err();
    const auto j = nlohmann::json::parse(d.out_lines().at(2));
    EXPECT_EQ(j.at("w_p"), 31358606);
    EXPECT_EQ(j.at("u1"), 236);
    EXPECT_EQ(j.at("meter_number"), "30137181");
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(10s), 0) << d.err();
    EXPECT_EQ(count_of(d.err(), skeleton), 1u) << d.err();
    EXPECT_NE(d.err().find("2 pushes with values left out (no layout fits)"), std::string::npos)
        << d.err();
}

// 100 SIGHUPs in a second, each with other MQTT settings, while the broker is away: the
// daemon switches to the new settings and says so; it says it is stopping only when it is.
TEST(service, an_mqtt_reload_while_the_broker_is_away_is_not_called_a_stop) {
    mosquitto_broker broker;
    broker.stop();  // its port is known, but nothing listens
    rig r;
    const auto config = [&](int i) {
        return config_text(r.uart.link().string(), evn_key,
                           "mqtt:\n  uri: " + broker.uri() + "\n  topic_prefix: t" +
                               std::to_string(i) +
                               "\n  shutdown_timeout_s: 2\n  reconnect_max_s: 1\n");
    };
    write_file(r.config, config(0));
    child_process d({binary, "run", "--config", r.config, "--log-target", "stderr"});
    ASSERT_TRUE(d.wait_for_stderr("cannot connect to MQTT broker", 20s)) << d.err();
    for (int i = 1; i <= 100; ++i) {
        write_file(r.config, config(i));
        d.signal(SIGHUP);
        std::this_thread::sleep_for(10ms);
    }
    // Each old connection tries for its bound (1 s here), then a new one starts and fails;
    // the last one starts after the last reload.
    ASSERT_TRUE(d.wait_until(
        [](const std::string&, const std::string& err) {
            const auto failed = err.rfind("cannot connect to MQTT broker");
            return count_of(err, "cannot connect to MQTT broker") >= 2 &&
                   failed > err.rfind("configuration reloaded");
        },
        30s))
        << d.err();
    EXPECT_NE(
        d.err().find("MQTT settings changed: the MQTT broker " + broker.uri() + " is unreachable"),
        std::string::npos)
        << d.err();
    EXPECT_EQ(d.err().find("stopping"), std::string::npos) << d.err();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(20s), 0);
    EXPECT_NE(d.err().find("stopping: the MQTT broker " + broker.uri() + " is unreachable"),
              std::string::npos)
        << d.err();
}

// Every spelling of the key a log could contain: as configured, in lower case, byte-spaced.
std::vector<std::string> spellings(const std::string& key) {
    std::string lower = key;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string spaced;
    for (std::size_t i = 0; i < key.size(); i += 2) {
        if (i) spaced += ' ';
        spaced += key.substr(i, 2);
    }
    return {key, lower, spaced, lower.substr(0, 16), key.substr(16)};
}

TEST(service, the_key_never_reaches_the_log_even_at_trace) {
    rig r;
    auto d = r.start(evn_key, {"--log-level", "trace"});
    r.uart.send_push(evn().frames);
    ASSERT_TRUE(d->wait_for_stdout_lines(1, 10s)) << d->err();
    // A reload and a failing telegram log more lines; none may carry the key either.
    d->signal(SIGHUP);
    ASSERT_TRUE(d->wait_for_stderr("configuration reloaded", 10s));
    r.uart.write_now({0x68, 0x05, 0x05, 0x68, 0x53, 0xFF, 0x10, 0x01, 0x67, 0x00, 0x16});
    ASSERT_TRUE(d->wait_for_stderr("telegram dropped", 10s)) << d->err();
    d->signal(SIGTERM);
    ASSERT_EQ(d->wait(10s), 0);
    EXPECT_NE(d->err().find("read "), std::string::npos) << "trace output expected";
    for (const auto& s : spellings(evn_key)) {
        EXPECT_EQ(d->err().find(s), std::string::npos) << "key found in the log: " << s;
    }
}

// A NOTIFY_SOCKET like systemd's: a datagram socket that collects what the daemon reports.
class notify_socket {
  public:
    explicit notify_socket(const std::string& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path.copy(addr.sun_path, sizeof addr.sun_path - 1);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("bind notify socket");
        }
        timeval tv{0, 100000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~notify_socket() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    // Collects messages for up to `limit` until one contains `needle`.
    bool wait_for(const std::string& needle, std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) messages_.emplace_back(buf, static_cast<std::size_t>(n));
            for (const auto& m : messages_) {
                if (m.find(needle) != std::string::npos) return true;
            }
        }
        return false;
    }
    const std::vector<std::string>& messages() const { return messages_; }

  private:
    std::string path_;
    int fd_ = -1;
    std::vector<std::string> messages_;
};

TEST(service, tells_systemd_ready_status_watchdog_and_stopping) {
    rig r;
    notify_socket sock(r.dir.file("notify"));
    auto d = r.start(evn_key, {},
                     {{"NOTIFY_SOCKET", r.dir.file("notify")}, {"WATCHDOG_USEC", "400000"}});
    // sd_watchdog_enabled() checks WATCHDOG_PID when set; unset it means "for any PID".
    ASSERT_TRUE(sock.wait_for("READY=1", 5s));
    ASSERT_TRUE(sock.wait_for("WATCHDOG=1", 5s));
    r.uart.write_now(concat(evn().frames));  // pacing is not what this tests
    ASSERT_TRUE(sock.wait_for("STATUS=1 telegrams ok", 10s)) << d->err();
    std::this_thread::sleep_for(1s);  // five watchdog intervals (WATCHDOG_USEC / 2 = 200 ms)
    d->signal(SIGTERM);
    ASSERT_TRUE(sock.wait_for("STOPPING=1", 5s));
    EXPECT_EQ(d->wait(10s), 0);
    // The watchdog is fed repeatedly, not once.
    EXPECT_GE(std::count_if(sock.messages().begin(), sock.messages().end(),
                            [](const std::string& m) { return m == "WATCHDOG=1"; }),
              2);
}

}  // namespace
}  // namespace evn_mbus::test
