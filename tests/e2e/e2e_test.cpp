// The whole chain with real processes: `evn-mbus simulate` on a pseudo-terminal -> `evn-mbus
// run` -> a real Mosquitto on a loopback port -> a subscriber. What arrives is compared, as
// JSON, with what the simulator encoded (its --expect file) or with what `evn-mbus decode`
// says about the same capture.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "child_process.hpp"
#include "evn_mbus/hex.hpp"
#include "fixture_loader.hpp"
#include "json_lines.hpp"
#include "mosquitto_broker.hpp"
#include "mqtt_subscriber.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string binary = EVN_MBUS_BINARY;
const std::string fixtures = EVN_MBUS_FIXTURES_DIR;
const std::string evn_key = key_hex("evn_kaifa_ma309_doc");

std::vector<json> parse_all(const std::vector<std::string>& payloads) {
    std::vector<json> out;
    for (const auto& p : payloads)
        out.push_back(json::parse(p));
    return out;
}

// Broker, subscriber, simulator and daemon, started in that order so nothing is missed.
struct chain {
    temp_dir dir{"evn-mbus-e2e"};
    // Mosquitto drops QoS>0 messages for a subscriber that falls more than 1000 behind; the
    // soak's burst would lose messages in the test's own subscriber, not in evn-mbus.
    mosquitto_broker broker{mosquitto_broker::options{std::nullopt, {"max_queued_messages 0"}}};
    mqtt_subscriber sub{broker.uri(), {"evn/#"}};
    std::unique_ptr<child_process> simulator;
    std::unique_ptr<child_process> daemon;

    std::string link() const { return dir.file("meter"); }
    std::string expect_file() const { return dir.file("expect.jsonl"); }

    void start_simulator(std::vector<std::string> args) {
        std::vector<std::string> argv{binary, "simulate", "--link", link()};
        argv.insert(argv.end(), args.begin(), args.end());
        simulator = std::make_unique<child_process>(argv);
        ASSERT_TRUE(simulator->wait_for_stdout_lines(1, 10s)) << simulator->err();
    }

    void start_daemon(const std::string& key, const std::string& extra_mqtt = "",
                      const std::string& auth_key = "") {
        const std::string config = dir.file("evn-mbus.yaml");
        std::ofstream(config) << "serial:\n  device: " << link() << "\nmeter:\n  key: \"" << key
                              << (auth_key.empty() ? "" : "\"\n  auth_key: \"" + auth_key)
                              << "\"\nmqtt:\n  uri: " << broker.uri()
                              << "\n  diagnostics_interval_s: 1\n  discovery:\n    enabled: false\n"
                              << extra_mqtt << "log:\n  level: info\n";
        daemon = std::make_unique<child_process>(
            std::vector<std::string>{binary, "run", "--config", config, "--log-target", "stderr"});
    }

    json last_diagnostics() const {
        const auto d = sub.payloads("evn/diagnostics");
        return d.empty() ? json() : json::parse(d.back());
    }

    void stop_daemon() {
        daemon->signal(SIGTERM);
        EXPECT_EQ(daemon->wait(15s), 0) << daemon->err();
    }
};

TEST(e2e, synthetic_pushes_arrive_exactly_as_the_simulator_encoded_them) {
    chain c;
    const std::size_t n = 200;
    c.start_simulator({"--key", evn_key, "--count", std::to_string(n), "--speed", "max", "--seed",
                       "7", "--expect", c.expect_file()});
    c.start_daemon(evn_key);
    ASSERT_TRUE(c.sub.wait_for_count("evn/state", n, 60s))
        << c.sub.payloads("evn/state").size() << " of " << n << "\n"
        << c.daemon->err();
    const auto expect = read_json_lines(c.expect_file());
    ASSERT_EQ(expect.size(), n);
    const auto got = parse_all(c.sub.payloads("evn/state"));
    for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i], expect[i].at("reading")) << "push " << i;
    }
    // The per-value topics carry the same numbers.
    const auto w_p = c.sub.payloads("evn/w_p");
    ASSERT_EQ(w_p.size(), n);
    EXPECT_EQ(json::parse(w_p.back()), expect.back().at("reading").at("w_p"));
    c.stop_daemon();
}

// The keys come from fixtures/vectors.json (only the Landis+Gyr capture has an auth key).
struct replay_case {
    std::string id;
    std::string detected;  // what the first-reading line says about meter and link
};

// GoogleTest would print the struct as raw memory (heap pointers: a new test name each build).
void PrintTo(const replay_case& c, std::ostream* os) {
    *os << c.id;
}

class e2e_replay : public ::testing::TestWithParam<replay_case> {};

// The capture is written to the line twice: the second time it is the same telegram, frame
// counter and all (a repeat or a replay), which is published once and reported.
TEST_P(e2e_replay, capture_through_the_chain_equals_decode_published_once) {
    const auto& [id, detected] = GetParam();
    const std::string key = key_hex(id);
    const std::string auth_key = auth_key_hex(id);
    const std::string file = fixtures + "/" + id + ".hex";
    const auto ref = run_process(decode_argv(binary, id));
    ASSERT_EQ(ref.status, 0) << ref.err;

    chain c;
    c.start_simulator({"--replay", file, "--count", "2", "--speed", "max"});
    c.start_daemon(key, "", auth_key);
    ASSERT_TRUE(c.sub.wait_for_count("evn/state", 1, 30s)) << c.daemon->err();
    ASSERT_TRUE(c.daemon->wait_for_stderr("again (last ", 30s)) << c.daemon->err();
    EXPECT_NE(c.daemon->err().find("a replayed or repeated telegram; not published"),
              std::string::npos)
        << c.daemon->err();
    EXPECT_NE(c.daemon->err().find(": " + detected + ", layout "), std::string::npos)
        << c.daemon->err();
    // raw is the telegram's bytes: the capture's frames, back to back.
    std::ifstream in(file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::uint8_t> frames;
    ASSERT_FALSE(parse_hex(text, frames));
    const std::string hex = to_hex(frames, true);
    EXPECT_EQ(c.sub.payloads("evn/raw").at(0), hex);
    c.stop_daemon();
    // Stopping delivers everything queued before "offline": a second state would be here now.
    ASSERT_TRUE(c.sub.wait_for(
        [](const std::vector<received_message>& all) {
            return std::any_of(all.begin(), all.end(), [](const received_message& m) {
                return m.topic == "evn/status" && m.payload == "offline";
            });
        },
        10s));
    const auto states = parse_all(c.sub.payloads("evn/state"));
    ASSERT_EQ(states.size(), 1u);
    EXPECT_EQ(states[0], json::parse(ref.out));
}

INSTANTIATE_TEST_SUITE_P(
    captures, e2e_replay,
    ::testing::Values(
        replay_case{"evn_kaifa_ma309_doc", "Kaifa (KFM), M-Bus"},
        replay_case{"tinetz_kaifa_ma309_doc", "Kaifa (KFM), M-Bus"},
        replay_case{"evn_sagemcom_t210d_fkw9", "Sagemcom (SAG), M-Bus"},
        // HDLC: Landis+Gyr E450 (general block transfer, authenticated; Netz Burgenland's in one
        // frame), Siemens
        // IM350 (Wiener Netze, eww Wels), Iskraemeco AM550 (Kärnten Netz).
        replay_case{"lgz_e450_landis_gyr_e450", "Landis+Gyr (LGZ), HDLC, general block transfer"},
        replay_case{"wienernetze_siemens_rddl", "Siemens (SMS), HDLC"},
        replay_case{"shrdzm_siemens_im350_wels_frame2", "Siemens (SMS), HDLC"},
        replay_case{"lgz_e450_netzburgenland_amsreader_gh501_2", "Landis+Gyr (LGZ), HDLC"},
        replay_case{"iskra_am550_kaerntennetz_amsreader_gh787", "Iskraemeco (ISK), HDLC"},
        // The P1 port: a bare APDU with a DSMR text (Energienetze Steiermark's T210-D-R).
        replay_case{"shrdzm_sagemcom_steiermark", "Sagemcom (SAG), bare APDU (P1)"}),
    [](const auto& param_info) { return param_info.param.id; });

// Every push the simulator drops (it loses a continuation frame, so the push cannot be
// decoded) leaves a gap in the frame counter; the diagnostics count exactly those between the
// first and the last push that arrived (before and after them no gap can be seen).
TEST(e2e, pushes_lost_on_the_wire_are_counted_by_the_frame_counter) {
    chain c;
    const std::size_t n = 200;
    c.start_simulator({"--key", evn_key, "--count", std::to_string(n), "--speed", "max", "--seed",
                       "5", "--drop-frame", "0.15", "--expect", c.expect_file()});
    c.start_daemon(evn_key);
    ASSERT_EQ(c.simulator->wait(60s), 0) << c.simulator->err();

    const auto expect = read_json_lines(c.expect_file());
    ASSERT_EQ(expect.size(), n);
    std::vector<std::size_t> arrived;
    for (std::size_t i = 0; i < n; ++i) {
        if (expect[i].at("fault") == "none") arrived.push_back(i);
    }
    ASSERT_GE(arrived.size(), 2u);
    std::size_t lost = 0;
    std::size_t gaps = 0;
    for (std::size_t k = 1; k < arrived.size(); ++k) {
        const std::size_t missing = arrived[k] - arrived[k - 1] - 1;
        lost += missing;
        if (missing > 0) ++gaps;
    }
    ASSERT_GT(lost, 0u);
    ASSERT_TRUE(c.sub.wait_for(
        [&](const std::vector<received_message>& all) {
            for (auto it = all.rbegin(); it != all.rend(); ++it) {
                if (it->topic != "evn/diagnostics") continue;
                return json::parse(it->payload).at("telegrams_ok") == arrived.size();
            }
            return false;
        },
        30s))
        << c.daemon->err();
    const json d = c.last_diagnostics();
    const json& fc = d.at("frame_counter");
    EXPECT_EQ(fc.at("lost_pushes"), lost) << d.dump();
    EXPECT_EQ(fc.at("gaps"), gaps) << d.dump();
    EXPECT_EQ(fc.at("duplicates"), 0) << d.dump();
    EXPECT_EQ(fc.at("backwards"), 0) << d.dump();
    EXPECT_EQ(fc.at("jumps"), 0) << d.dump();
    // The diagnostics do not wait in the readings' queue, so they can overtake state messages
    // still in it (seen with ThreadSanitizer's slowdown): wait for those as well.
    EXPECT_TRUE(c.sub.wait_for_count("evn/state", arrived.size(), 30s));
    EXPECT_EQ(c.sub.payloads("evn/state").size(), arrived.size());
    EXPECT_NE(c.daemon->err().find("lost on the wire"), std::string::npos) << c.daemon->err();
    c.stop_daemon();
    EXPECT_NE(c.daemon->err().find(std::to_string(lost) + " pushes lost"), std::string::npos)
        << c.daemon->err();
}

// The broker is away from the start and the queue holds 3 readings: the 5 dropped of 8 are
// said in the periodic summary, at the first connection and in the stop line (not only in
// evn/diagnostics).
TEST(e2e, readings_dropped_while_the_broker_is_away_are_said_in_summary_connect_and_stop) {
    chain c;
    c.broker.stop();
    c.start_simulator({"--key", evn_key, "--count", "8", "--speed", "max", "--seed", "3"});
    const std::string config = c.dir.file("evn-mbus.yaml");
    std::ofstream(config) << "serial:\n  device: " << c.link() << "\nmeter:\n  key: \"" << evn_key
                          << "\"\nmqtt:\n  uri: " << c.broker.uri()
                          << "\n  queue_size: 3\n  reconnect_max_s: 1\n"
                             "  discovery:\n    enabled: false\n"
                             "log:\n  level: info\n  summary_interval_s: 1\n";
    c.daemon = std::make_unique<child_process>(
        std::vector<std::string>{binary, "run", "--config", config, "--log-target", "stderr"});
    ASSERT_EQ(c.simulator->wait(60s), 0) << c.simulator->err();
    ASSERT_TRUE(c.daemon->wait_for_stderr(
        "summary: 8 telegrams ok, 0 failed, 5 readings dropped from the full MQTT queue", 30s))
        << c.daemon->err();
    c.broker.restart();
    ASSERT_TRUE(c.daemon->wait_for_stderr("connected after 5 reading(s) were dropped", 30s))
        << c.daemon->err();
    c.stop_daemon();
    EXPECT_NE(c.daemon->err().find(
                  "evn-mbus stopped (8 telegrams ok, 0 failed, 5 readings dropped from the full "
                  "MQTT queue"),
              std::string::npos)
        << c.daemon->err();
}

TEST(e2e, damaged_pushes_are_counted_and_every_intact_one_delivered) {
    chain c;
    const std::size_t n = 300;
    c.start_simulator({"--key", evn_key, "--count", std::to_string(n), "--speed", "max", "--seed",
                       "11", "--noise", "--corrupt", "0.1", "--drop-frame", "0.1", "--expect",
                       c.expect_file()});
    c.start_daemon(evn_key);
    ASSERT_EQ(c.simulator->wait(60s), 0) << c.simulator->err();

    const auto expect = read_json_lines(c.expect_file());
    ASSERT_EQ(expect.size(), n);
    std::vector<json> intact;
    std::size_t corrupt = 0;
    std::size_t dropped = 0;
    for (const auto& e : expect) {
        const std::string fault = e.at("fault");
        if (fault == "none") intact.push_back(e.at("reading"));
        if (fault == "corrupt") ++corrupt;
        if (fault == "drop_frame") ++dropped;
    }
    ASSERT_GT(corrupt, 0u);
    ASSERT_GT(dropped, 0u);
    ASSERT_TRUE(c.sub.wait_for_count("evn/state", intact.size(), 60s))
        << c.sub.payloads("evn/state").size() << " of " << intact.size() << "\n"
        << c.daemon->err();
    EXPECT_EQ(parse_all(c.sub.payloads("evn/state")), intact);

    // Diagnostics count the damage by reason. A one-bit flip always breaks the frame checksum
    // (or, in the header, the frame itself); a lost continuation leaves its push unfinished.
    // (The predicate runs under the subscriber's lock: it looks only at its argument.)
    ASSERT_TRUE(c.sub.wait_for(
        [&](const std::vector<received_message>& all) {
            for (auto it = all.rbegin(); it != all.rend(); ++it) {
                if (it->topic != "evn/diagnostics") continue;
                return json::parse(it->payload).at("telegrams_ok") == intact.size();
            }
            return false;
        },
        10s));
    const json d = c.last_diagnostics();
    const json& f = d.at("failures");
    const auto count = [&](const char* name) {
        return f.contains(name) ? f.at(name).get<std::size_t>() : 0u;
    };
    EXPECT_GE(count("missing_segment"), dropped) << d.dump();
    EXPECT_GE(count("bad_checksum") + count("bad_stop_byte") + count("missing_segment") +
                  count("truncated_frame"),
              corrupt + dropped)
        << d.dump();
    // Damage reaches decryption only in one case: a push that lost its continuation frame,
    // followed by a push whose first frame was corrupted. M-Bus segments carry no push
    // number, so the first push's segment 0 and the second's segment 1 form a telegram of the
    // right length; decryption then fails (not_a_valid_apdu) and nothing wrong is published.
    std::size_t mixed = 0;
    for (std::size_t i = 1; i < expect.size(); ++i) {
        if (expect[i - 1].at("fault") == "drop_frame" && expect[i].at("fault") == "corrupt") {
            ++mixed;
        }
    }
    EXPECT_LE(count("not_a_valid_apdu"), mixed) << d.dump();
    EXPECT_EQ(count("axdr_truncated"), 0u) << d.dump();
    c.stop_daemon();
}

// The soak run: many telegrams in two halves through one daemon; all delivered, none lost,
// and memory flat: after the second half the daemon holds no more than after the first. The
// meter pushes 1,000 times a second (5,000 times real time), below what the chain carries
// even on a loaded machine: at full speed the MQTT queue took up a burst whose size depended
// on the machine's load, and RSS (which keeps the peak) measured the burst, not a leak.
TEST(e2e_soak, twenty_thousand_telegrams_all_delivered_memory_flat) {
    const char* env = std::getenv("EVN_MBUS_SOAK_PUSHES");
    const std::size_t n = env ? std::strtoul(env, nullptr, 10) : 20000;
    const std::size_t half = n / 2;
    chain c;
    std::vector<json> expect;
    long rss_after_first = 0;
    double seconds = 0;
    for (int round = 0; round < 2; ++round) {
        const std::string expect_file = c.dir.file("expect" + std::to_string(round) + ".jsonl");
        c.start_simulator({"--key", evn_key, "--count", std::to_string(half), "--speed", "5000",
                           "--seed", std::to_string(3 + round), "--expect", expect_file});
        // Per-value topics off: the state topic carries every value, and 20,000 x 15 messages
        // would measure Mosquitto more than evn-mbus. The queue holds the whole burst.
        if (round == 0) {
            c.start_daemon(evn_key,
                           "  publish_values: false\n  publish_raw: false\n"
                           "  queue_size: " +
                               std::to_string(n + 1000) + "\n");
        }
        const auto started = std::chrono::steady_clock::now();
        ASSERT_TRUE(c.sub.wait_for_count("evn/state", half * (round + 1), 600s))
            << c.sub.payloads("evn/state").size() << " of " << half * (round + 1);
        seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        ASSERT_EQ(c.simulator->wait(30s), 0) << c.simulator->err();
        const auto part = read_json_lines(expect_file);
        expect.insert(expect.end(), part.begin(), part.end());
        if (round == 0) rss_after_first = rss_kib(c.daemon->pid());
    }
    const long rss_end = rss_kib(c.daemon->pid());
    const long rss_peak = peak_rss_kib(c.daemon->pid());
    const auto cpu = cpu_time(c.daemon->pid());

    const auto got = parse_all(c.sub.payloads("evn/state"));
    ASSERT_EQ(got.size(), 2 * half);
    ASSERT_EQ(expect.size(), 2 * half);
    for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], expect[i].at("reading")) << i;

    std::cout << "soak: " << got.size() << " telegrams in " << seconds << " s ("
              << static_cast<double>(got.size()) / seconds << "/s end to end); daemon RSS "
              << rss_after_first << " KiB after the first half, " << rss_end
              << " KiB after the second, peak " << rss_peak << " KiB; daemon CPU " << cpu.count()
              << " ms\n";
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // Built with a sanitizer (scripts/sanitize.sh), the daemon's RSS is mostly the sanitizer's
    // own: AddressSanitizer holds freed memory in quarantine (256 MB) before reusing it. The
    // normal build checks the RSS; here LeakSanitizer checks for leaks when the daemon exits.
    std::cout << "soak: RSS not checked in a sanitizer build\n";
#else
    // 10,000 more telegrams that leaked even 200 bytes each would add 2 MB.
    EXPECT_LT(rss_end - rss_after_first, 2048)
        << "RSS grew from " << rss_after_first << " to " << rss_end;
#endif
    c.stop_daemon();
}

}  // namespace
}  // namespace evn_mbus::test
