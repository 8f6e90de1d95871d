// The daemon as a process, measured: `evn-mbus run` reading a synthetic EVN Kaifa meter on a
// pseudo-terminal and publishing to a real Mosquitto on 127.0.0.1, a subscriber stamping what
// arrives. A program that prints figures, not a test: scripts/bench.sh runs it in full,
// ctest (label bench) runs each part with tiny counts so that it cannot rot.
//
//   latency    last byte of a push written to the pty -> message at the subscriber:
//              p50/p99/max over --latency-pushes pushes, one at a time
//   footprint  --footprint-pushes pushes as fast as the chain takes them: RSS (VmHWM, VmRSS,
//              Pss, private dirty), CPU per push; then --idle-s seconds without pushes for
//              the CPU of an idle hour; scaled to an hour of real traffic
//   startup    exec -> READY=1 on a NOTIFY_SOCKET owned here, median of --startup-runs
//
// The daemon runs with the shipped defaults (QoS 1, one topic per value plus state and raw,
// Home Assistant discovery, idle gap 100 ms) apart from device, key, broker and client id.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_figures.hpp"
#include "child_process.hpp"
#include "mosquitto_broker.hpp"
#include "mqtt_probe.hpp"
#include "ser2net_bridge.hpp"
#include "synthetic_meter.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::bench {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using steady = std::chrono::steady_clock;
using test::child_process;
using test::mosquitto_broker;
using test::ser2net_bridge;
using test::synthetic_meter;
using test::temp_dir;

const std::string evn_key = "36C66639E48A8CA4D6BC8B282A793BBB";
const std::string state_topic = "evn/state";

struct options {
    std::string binary = EVN_MBUS_BINARY;
    std::vector<std::string> parts;
    std::size_t latency_pushes = 1000;
    std::size_t warmup = 20;
    unsigned interval_ms = 25;  // between the starts of two pushes
    unsigned frame_gap_ms = 5;  // between the frames of one push
    bool paced = false;         // frames at 2400 baud, 160 ms apart, like the real meter
    std::optional<unsigned> idle_gap_ms;
    bool state_only = false;  // mqtt.publish_values and publish_raw off: one message a push
    // Mosquitto's set_tcp_nodelay (default false). Off, the broker's small writes to a
    // subscriber that sends nothing back wait for its delayed ACK (~40 ms) now and then.
    bool broker_nodelay = true;
    std::size_t footprint_pushes = 20000;
    unsigned idle_s = 20;
    std::size_t startup_runs = 20;
    std::string json_path;
    std::string samples_path;  // latency: one line a push, for plots and outliers
    // latency: the daemon reads the pty directly ("pty") or through Debian's ser2net on a
    // loopback port ("tcp": raw, "rfc2217": Telnet with COM-PORT-OPTION).
    std::string via = "pty";
};

// --- /proc ------------------------------------------------------------------------------

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// "Name:   1234 kB" fields of /proc/<pid>/status or smaps_rollup, in KiB (or plain counts).
long field(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(name + ":", 0) == 0) return std::stol(line.substr(name.size() + 1));
    }
    return -1;
}

// CPU time of the whole process (every thread, living or ended), to the nanosecond.
std::chrono::nanoseconds cpu_ns(pid_t pid) {
    clockid_t id{};
    timespec ts{};
    if (::clock_getcpuclockid(pid, &id) != 0 || ::clock_gettime(id, &ts) != 0) return {};
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// utime and stime of /proc/<pid>/stat, in clock ticks.
std::pair<long, long> cpu_ticks(pid_t pid) {
    const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return {0, 0};
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    long utime = 0;
    long stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {  // state is field 3; utime 14, stime 15
        if (i == 14) utime = std::stol(f);
        if (i == 15) stime = std::stol(f);
    }
    return {utime, stime};
}

// Context switches of all threads: how often the process was woken up (voluntary) or preempted.
long context_switches(pid_t pid) {
    long total = 0;
    std::error_code ec;
    for (const auto& t :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        const std::string s = slurp(t.path().string() + "/status");
        total += std::max(0L, field(s, "voluntary_ctxt_switches")) +
                 std::max(0L, field(s, "nonvoluntary_ctxt_switches"));
    }
    return total;
}

struct mapping_use {
    std::string name;
    long rss_kib = 0;
    long private_dirty_kib = 0;
};

// Resident memory by what is mapped: each shared library (all its segments together), the
// heap, thread stacks and other anonymous memory; largest first.
std::vector<mapping_use> rss_by_mapping(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
    std::map<std::string, mapping_use> by_name;
    std::string current;
    for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':');
        const bool is_header = colon == std::string::npos || line.find('-') < colon;
        if (is_header) {
            std::istringstream f(line);
            std::string range, perms, offset, dev, inode, path;
            f >> range >> perms >> offset >> dev >> inode;
            std::getline(f >> std::ws, path);
            if (path.empty()) path = "[anonymous: malloc arenas, thread stacks]";
            if (path.rfind("[stack", 0) == 0) path = "[stack]";
            current = std::filesystem::path(path).filename().string();
            if (current.empty()) current = path;
            by_name[current].name = current;
            continue;
        }
        const long kib = std::atol(line.c_str() + colon + 1);
        if (line.rfind("Rss:", 0) == 0) by_name[current].rss_kib += kib;
        if (line.rfind("Private_Dirty:", 0) == 0) by_name[current].private_dirty_kib += kib;
    }
    std::vector<mapping_use> out;
    for (auto& [_, m] : by_name)
        out.push_back(m);
    std::sort(out.begin(), out.end(),
              [](const mapping_use& a, const mapping_use& b) { return a.rss_kib > b.rss_kib; });
    return out;
}

// --- the chain --------------------------------------------------------------------------

// Broker, probe, meter and daemon, in that order so nothing is missed.
struct chain {
    explicit chain(const options& o, const std::vector<std::string>& filters,
                   const std::map<std::string, std::string>& env = {}, bool start = true)
        : opts(o),
          broker{mosquitto_broker::options{
              std::nullopt,
              {"max_queued_messages 0",
               o.broker_nodelay ? "set_tcp_nodelay true" : "set_tcp_nodelay false"}}},
          probe(broker.port(), filters),
          meter(dir.file("meter"), evn_key, 7) {
        meter.plug();
        std::string device = meter.link();
        if (o.via != "pty") {
            bridge = std::make_unique<ser2net_bridge>(
                ser2net_bridge::options{meter.link(), o.via == "rfc2217", "2400e81"});
            device = bridge->uri();
        }
        config = dir.file("evn-mbus.yaml");
        std::ofstream(config) << "serial:\n  device: " << device << "\n"
                              << (o.idle_gap_ms
                                      ? "  idle_gap_ms: " + std::to_string(*o.idle_gap_ms) + "\n"
                                      : std::string())
                              << "meter:\n  key: \"" << evn_key
                              << "\"\nmqtt:\n  uri: " << broker.uri()
                              << "\n  client_id: evn-mbus-bench-" << ::getpid() << "\n"
                              << (o.state_only ? "  publish_values: false\n  publish_raw: false\n"
                                               : "")
                              << "log:\n  level: info\n";
        if (start) start_daemon(env);
    }

    void start_daemon(const std::map<std::string, std::string>& env = {}) {
        daemon = std::make_unique<child_process>(
            std::vector<std::string>{opts.binary, "run", "--config", config, "--log-target",
                                     "stderr"},
            env);
    }

    void check_alive() {
        if (!daemon->running()) fail("the daemon exited:\n" + daemon->err());
    }

    // Writes one push (`paced`: at 2400 baud, the frames 160 ms apart; else each frame at
    // once, `frame_gap_ms` apart); false if the pty did not take it.
    bool send(const synthetic_meter::push& p, unsigned frame_gap_ms, bool paced = false) {
        for (std::size_t i = 0; i < p.frames.size(); ++i) {
            if (paced) {
                if (i > 0) std::this_thread::sleep_for(160ms);
                if (!meter.write_paced(p.frames[i])) return false;
            } else {
                if (i > 0 && frame_gap_ms > 0)
                    std::this_thread::sleep_for(std::chrono::milliseconds(frame_gap_ms));
                if (!meter.write(p.frames[i])) return false;
            }
        }
        return true;
    }

    // Sends a push and waits for its state message.
    void send_and_wait(const synthetic_meter::push& p, std::size_t states_before) {
        if (!send(p, 0)) fail("the pty did not take a push");
        if (!probe.wait_count(state_topic, states_before + 1, 10s)) {
            check_alive();
            fail("a push was not published within 10 s:\n" + daemon->err());
        }
    }

    const options& opts;
    temp_dir dir{"evn-mbus-bench"};
    mosquitto_broker broker;
    mqtt_probe probe;
    synthetic_meter meter;
    std::unique_ptr<ser2net_bridge> bridge;  // --via tcp or rfc2217
    std::string config;
    std::unique_ptr<child_process> daemon;
};

bool is_reading_topic(const std::string& t) {
    return t.rfind("evn/", 0) == 0 && t != "evn/status" && t != "evn/diagnostics";
}

// --- latency ----------------------------------------------------------------------------

json run_latency(const options& o) {
    chain c(o, {"evn/#"});
    const unsigned interval = o.paced ? std::max(o.interval_ms, 1600u) : o.interval_ms;
    std::vector<double> to_state;  // last message of a push (the JSON state)
    std::vector<double> to_first;  // first message of a push (the first value topic)
    std::size_t mismatched = 0;
    std::size_t messages_per_push = 0;
    std::ofstream samples;
    if (!o.samples_path.empty()) {
        samples.open(o.samples_path);
        samples << "push,first_ms,state_ms,arrivals_ms\n";
    }
    std::chrono::nanoseconds cpu_start{};
    long switches_start = 0;
    steady::time_point wall_start{};
    const std::size_t total = o.warmup + o.latency_pushes;
    auto slot = steady::now() + 500ms;
    for (std::size_t i = 0; i < total; ++i) {
        auto p = c.meter.next_push(5s);  // encrypted before the clock starts
        std::this_thread::sleep_until(slot);
        slot += std::chrono::milliseconds(interval);
        if (i == o.warmup) {
            switches_start = context_switches(c.daemon->pid());
            cpu_start = cpu_ns(c.daemon->pid());
            wall_start = steady::now();
        }
        const std::size_t before = c.probe.size();
        if (!c.send(p, o.frame_gap_ms, o.paced))
            fail("the pty did not take push " + std::to_string(i));
        const auto written = steady::now();
        // The first push may wait for the daemon's start and MQTT connection.
        if (!c.probe.wait_count(state_topic, i + 1, i == 0 ? 20s : 5s)) {
            c.check_alive();
            fail("push " + std::to_string(i) + " was not published within 5 s:\n" +
                 c.daemon->err());
        }
        if (i < o.warmup) continue;
        std::optional<steady::time_point> first;
        std::optional<steady::time_point> state;
        std::size_t n = 0;
        std::string arrivals;
        for (const auto& m : c.probe.since(before)) {
            if (!is_reading_topic(m.topic)) continue;
            ++n;
            if (samples.is_open()) {
                if (!arrivals.empty()) arrivals.push_back(' ');
                arrivals.append(m.topic, 4).append("=").append(std::to_string(ms(m.at - written)));
            }
            if (!first) first = m.at;
            if (m.topic == state_topic) {
                state = m.at;
                const json got = json::parse(m.payload, nullptr, false);
                const std::string want = p.expected.value("clock", "");
                if (got.is_discarded() || want.empty() || got.value("clock", "") != want)
                    ++mismatched;
            }
        }
        if (!state || !first) fail("push " + std::to_string(i) + ": no state message");
        messages_per_push = std::max(messages_per_push, n);
        to_state.push_back(ms(*state - written));
        to_first.push_back(ms(*first - written));
        if (samples.is_open()) {
            samples << i - o.warmup << "," << to_first.back() << "," << to_state.back() << ","
                    << arrivals << "\n";
        }
    }
    const auto cpu = cpu_ns(c.daemon->pid()) - cpu_start;
    const long switches = context_switches(c.daemon->pid()) - switches_start;
    const double wall_s = std::chrono::duration<double>(steady::now() - wall_start).count();
    c.check_alive();
    if (mismatched > 0) fail(std::to_string(mismatched) + " pushes arrived altered");

    json r;
    r["pushes"] = to_state.size();
    r["interval_ms"] = interval;
    r["frame_gap_ms"] = o.paced ? 160 : o.frame_gap_ms;
    r["paced"] = o.paced;
    r["via"] = o.via;
    r["messages_per_push"] = messages_per_push;
    r["state_p50_ms"] = percentile(to_state, 0.50);
    r["state_p99_ms"] = percentile(to_state, 0.99);
    r["state_max_ms"] = percentile(to_state, 1.0);
    r["first_p50_ms"] = percentile(to_first, 0.50);
    r["first_p99_ms"] = percentile(to_first, 0.99);
    r["first_max_ms"] = percentile(to_first, 1.0);
    r["cpu_per_push_us"] = std::chrono::duration<double, std::micro>(cpu).count() /
                           static_cast<double>(std::max<std::size_t>(1, to_state.size()));
    r["context_switches_per_push"] = static_cast<double>(switches) /
                                     static_cast<double>(std::max<std::size_t>(1, to_state.size()));
    r["wall_s"] = wall_s;

    std::printf(
        "\nEnd-to-end latency: %zu pushes (after %zu unmeasured), one every %u ms, %s\n",
        to_state.size(), o.warmup, interval,
        o.paced
            ? "frames at 2400 baud, 160 ms apart"
            : ("frames written whole, " + std::to_string(o.frame_gap_ms) + " ms apart").c_str());
    std::printf("  %zu messages a push (QoS 1); from the last byte written to the pty%s to\n",
                messages_per_push,
                o.via == "pty" ? "" : (" (read by ser2net, " + o.via + " to the daemon)").c_str());
    std::printf("  the first message (evn/w_p...)  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
                r["first_p50_ms"].get<double>(), r["first_p99_ms"].get<double>(),
                r["first_max_ms"].get<double>());
    std::printf("  the last message (evn/state)   p50 %.3f ms  p99 %.3f ms  max %.3f ms  %s\n",
                r["state_p50_ms"].get<double>(), r["state_p99_ms"].get<double>(),
                r["state_max_ms"].get<double>(),
                r["state_p99_ms"].get<double>() < 10 ? "(target p99 < 10 ms: met)"
                                                     : "(target p99 < 10 ms: NOT met)");
    std::printf("  daemon CPU per push, one at a time: %.0f us, %.1f context switches\n",
                r["cpu_per_push_us"].get<double>(), r["context_switches_per_push"].get<double>());
    return r;
}

// --- footprint --------------------------------------------------------------------------

json run_footprint(const options& o) {
    chain c(o, {state_topic});
    const pid_t pid = c.daemon->pid();
    // Warm up: the connection, discovery, the first reading's log line.
    std::size_t states = 0;
    for (; states < 20; ++states)
        c.send_and_wait(c.meter.next_push(5s), states);
    const long rss_start = field(slurp("/proc/" + std::to_string(pid) + "/status"), "VmRSS");
    const auto cpu_start = cpu_ns(pid);
    const auto ticks_start = cpu_ticks(pid);
    const auto switches_start = context_switches(pid);
    const auto wall_start = steady::now();

    // As fast as the chain takes them, at most `window` pushes unpublished at a time (so the
    // pty's buffer never overflows and the daemon's queue stays short).
    const std::size_t window = 16;
    const std::size_t target = states + o.footprint_pushes;
    std::size_t sent = states;
    while (sent < target) {
        while (sent < target && sent - c.probe.count(state_topic) < window) {
            if (!c.send(c.meter.next_push(5s), 0)) fail("the pty did not take a push");
            ++sent;
        }
        if (!c.probe.wait_count(state_topic, sent - window / 2, 10s)) {
            c.check_alive();
            fail("publishing stalled at " + std::to_string(c.probe.count(state_topic)) + " of " +
                 std::to_string(sent) + " pushes:\n" + c.daemon->err());
        }
        c.probe.drop_payloads();
        (void)c.daemon->err();  // keep its stderr pipe drained
    }
    if (!c.probe.wait_count(state_topic, target, 30s)) fail("the last pushes did not arrive");
    const double burst_s = std::chrono::duration<double>(steady::now() - wall_start).count();
    const auto cpu_burst = cpu_ns(pid) - cpu_start;
    const auto ticks_end = cpu_ticks(pid);
    const auto switches_burst = context_switches(pid) - switches_start;

    const std::string proc = "/proc/" + std::to_string(pid);
    const std::string status = slurp(proc + "/status");
    const std::string rollup = slurp(proc + "/smaps_rollup");
    const auto mappings = rss_by_mapping(pid);

    // Idle: no pushes; Paho's threads, the timers.
    const auto idle_cpu_start = cpu_ns(pid);
    const auto idle_switches_start = context_switches(pid);
    std::this_thread::sleep_for(std::chrono::seconds(o.idle_s));
    const auto idle_cpu = cpu_ns(pid) - idle_cpu_start;
    const auto idle_switches = context_switches(pid) - idle_switches_start;
    c.check_alive();
    const std::string final_status = slurp(proc + "/status");

    const long tick = ::sysconf(_SC_CLK_TCK);
    const double per_push_us = std::chrono::duration<double, std::micro>(cpu_burst).count() /
                               static_cast<double>(o.footprint_pushes);
    const double idle_ms_per_hour = std::chrono::duration<double, std::milli>(idle_cpu).count() /
                                    static_cast<double>(o.idle_s) * 3600.0;
    const auto per_hour_ms = [&](double period_s) {
        return idle_ms_per_hour + per_push_us / 1000.0 * 3600.0 / period_s;
    };

    json r;
    r["pushes"] = o.footprint_pushes;
    r["burst_s"] = burst_s;
    r["pushes_per_s"] = static_cast<double>(o.footprint_pushes) / burst_s;
    r["cpu_burst_ms"] = std::chrono::duration<double, std::milli>(cpu_burst).count();
    r["cpu_burst_utime_ticks"] = ticks_end.first - ticks_start.first;
    r["cpu_burst_stime_ticks"] = ticks_end.second - ticks_start.second;
    r["clock_ticks_per_s"] = tick;
    r["cpu_per_push_us"] = per_push_us;
    r["context_switches_per_push"] =
        static_cast<double>(switches_burst) / static_cast<double>(o.footprint_pushes);
    r["idle_s"] = o.idle_s;
    r["idle_cpu_ms_per_hour"] = idle_ms_per_hour;
    r["idle_wakeups_per_s"] = static_cast<double>(idle_switches) / o.idle_s;
    r["cpu_ms_per_hour_5s"] = per_hour_ms(5);
    r["cpu_ms_per_hour_1s"] = per_hour_ms(1);
    r["vm_hwm_kib"] = field(status, "VmHWM");
    r["vm_rss_start_kib"] = rss_start;
    r["vm_rss_kib"] = field(final_status, "VmRSS");
    r["rss_anon_kib"] = field(status, "RssAnon");
    r["rss_file_kib"] = field(status, "RssFile");
    r["threads"] = field(status, "Threads");
    r["pss_kib"] = field(rollup, "Pss");
    r["pss_anon_kib"] = field(rollup, "Pss_Anon");
    r["pss_file_kib"] = field(rollup, "Pss_File");
    r["shared_clean_kib"] = field(rollup, "Shared_Clean");
    r["private_clean_kib"] = field(rollup, "Private_Clean");
    r["private_dirty_kib"] = field(rollup, "Private_Dirty");
    json top = json::array();
    for (const auto& m : mappings) {
        if (m.rss_kib == 0) continue;
        top.push_back(
            {{"name", m.name}, {"rss_kib", m.rss_kib}, {"private_dirty_kib", m.private_dirty_kib}});
    }
    r["rss_by_mapping"] = top;

    std::printf("\nFootprint: %zu pushes through the daemon in %.1f s (%.0f pushes/s)\n",
                o.footprint_pushes, burst_s, r["pushes_per_s"].get<double>());
    std::printf(
        "  CPU %.0f ms (utime %ld + stime %ld ticks of 1/%ld s): %.0f us a push, "
        "%.1f context switches a push\n",
        r["cpu_burst_ms"].get<double>(), ticks_end.first - ticks_start.first,
        ticks_end.second - ticks_start.second, tick, per_push_us,
        r["context_switches_per_push"].get<double>());
    std::printf("  idle for %u s: %.1f ms CPU an hour, %.1f wake-ups a second\n", o.idle_s,
                idle_ms_per_hour, r["idle_wakeups_per_s"].get<double>());
    std::printf(
        "  CPU an hour of real traffic: %.0f ms (a push every 5 s, EVN), %.0f ms (every "
        "1 s)\n",
        r["cpu_ms_per_hour_5s"].get<double>(), r["cpu_ms_per_hour_1s"].get<double>());
    std::printf(
        "  memory: VmRSS %ld KiB after 20 pushes, VmHWM %ld KiB, VmRSS %ld KiB at the end "
        "(%s), %ld threads\n",
        rss_start, r["vm_hwm_kib"].get<long>(), r["vm_rss_kib"].get<long>(),
        r["vm_hwm_kib"].get<long>() < 10 * 1024 ? "target < 10 MiB: met"
                                                : "target < 10 MiB: NOT met",
        r["threads"].get<long>());
    std::printf(
        "    RssAnon %ld KiB, RssFile %ld KiB; Pss %ld KiB (anon %ld, file %ld); "
        "Private_Dirty %ld KiB, Shared_Clean %ld KiB\n",
        r["rss_anon_kib"].get<long>(), r["rss_file_kib"].get<long>(), r["pss_kib"].get<long>(),
        r["pss_anon_kib"].get<long>(), r["pss_file_kib"].get<long>(),
        r["private_dirty_kib"].get<long>(), r["shared_clean_kib"].get<long>());
    std::printf("    resident by mapping (KiB, private dirty in brackets):\n");
    long rest_kib = 0;
    std::size_t rest = 0;
    for (const auto& m : top) {
        if (m["rss_kib"].get<long>() < 100) {
            rest_kib += m["rss_kib"].get<long>();
            ++rest;
            continue;
        }
        std::printf("      %7ld (%5ld)  %s\n", m["rss_kib"].get<long>(),
                    m["private_dirty_kib"].get<long>(), m["name"].get<std::string>().c_str());
    }
    std::printf("      %7ld          %zu more, under 100 KiB each\n", rest_kib, rest);
    return r;
}

// --- gaps -------------------------------------------------------------------------------

// The longest silence inside a frame as the daemon's side sees it: pushes written to the pty at
// the meter's pace (11 bits a byte, 8 bytes a write, 160 ms between frames) and read from the
// pty itself or from ser2net's raw TCP port. serial.idle_gap_ms must exceed it, or a frame that
// arrives late is cut.
json measure_gaps(unsigned baud, std::size_t pushes, bool via_bridge) {
    temp_dir dir("evn-mbus-gaps");
    synthetic_meter meter(dir.file("meter"), evn_key, 3);
    meter.plug();
    std::unique_ptr<ser2net_bridge> bridge;
    int fd = -1;
    if (via_bridge) {
        bridge = std::make_unique<ser2net_bridge>(
            ser2net_bridge::options{meter.link(), false, std::to_string(baud) + "e81"});
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(bridge->port());
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            fail("connect to ser2net");
    } else {
        fd = ::open(meter.link().c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) fail("open the pty");
    }
    std::this_thread::sleep_for(200ms);   // ser2net opens the pty once the client is there
    std::vector<std::size_t> frame_ends;  // cumulative byte counts where frames end
    std::size_t total = 0;
    std::vector<synthetic_meter::push> all;
    for (std::size_t i = 0; i < pushes; ++i) {
        all.push_back(meter.next_push(1s));
        for (const auto& f : all.back().frames) {
            total += f.size();
            frame_ends.push_back(total);
        }
    }
    std::thread writer([&] {
        for (const auto& p : all) {
            for (std::size_t k = 0; k < p.frames.size(); ++k) {
                if (k > 0) std::this_thread::sleep_for(160ms);
                meter.write_paced(p.frames[k], baud);
            }
            std::this_thread::sleep_for(200ms);
        }
    });
    std::vector<double> inside;  // silences while a frame was incomplete
    std::size_t got = 0;
    auto last = steady::now();
    std::uint8_t buf[4096];
    while (got < total) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) break;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        const auto now = steady::now();
        const bool at_boundary =
            got == 0 || std::binary_search(frame_ends.begin(), frame_ends.end(), got);
        if (!at_boundary) inside.push_back(ms(now - last));
        got += static_cast<std::size_t>(n);
        last = now;
    }
    writer.join();
    ::close(fd);
    if (got < total) fail("the gap measurement lost bytes");
    json r;
    r["reads"] = inside.size();
    r["max_ms"] = percentile(inside, 1.0);
    r["p99_ms"] = percentile(inside, 0.99);
    r["p50_ms"] = percentile(inside, 0.5);
    return r;
}

json run_gaps(const options&) {
    json r;
    std::printf("\nSilence inside a frame (the idle gap must exceed it), paced writes to a pty:\n");
    for (const auto& [baud, pushes] :
         {std::pair{2400u, std::size_t{6}}, std::pair{9600u, std::size_t{20}}}) {
        for (const bool via_bridge : {false, true}) {
            const json g = measure_gaps(baud, pushes, via_bridge);
            const char* where = via_bridge ? "ser2net" : "pty";
            r[std::to_string(baud)][where] = g;
            std::printf("  %5u baud, %-8s p50 %.2f ms  p99 %.2f ms  max %.2f ms (%zu reads)\n",
                        baud, where, g["p50_ms"].get<double>(), g["p99_ms"].get<double>(),
                        g["max_ms"].get<double>(), g["reads"].get<std::size_t>());
        }
    }
    return r;
}

// --- start-up ---------------------------------------------------------------------------

class notify_socket {
  public:
    explicit notify_socket(std::string path) : path_(std::move(path)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (fd_ < 0 || path_.size() >= sizeof addr.sun_path) fail("notify socket: bad path");
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
            fail("notify socket: bind failed");
    }
    ~notify_socket() {
        if (fd_ >= 0) ::close(fd_);
        ::unlink(path_.c_str());
    }
    notify_socket(const notify_socket&) = delete;
    notify_socket& operator=(const notify_socket&) = delete;

    // Waits for a datagram containing `what` (a line of it); the time it was received.
    std::optional<steady::time_point> wait_for(const std::string& what,
                                               std::chrono::milliseconds limit) {
        const auto deadline = steady::now() + limit;
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            const auto at = steady::now();
            if (n <= 0) continue;
            const std::string text = "\n" + std::string(buf, static_cast<std::size_t>(n)) + "\n";
            if (text.find("\n" + what + "\n") != std::string::npos) return at;
        }
    }
    void drain() {
        char buf[4096];
        while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        }
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    int fd_ = -1;
};

json run_startup(const options& o) {
    chain c(o, {"evn/status"}, {}, false);
    notify_socket notify(c.dir.file("notify"));
    std::vector<double> ready;
    std::vector<double> online;
    for (std::size_t i = 0; i < o.startup_runs; ++i) {
        notify.drain();
        const std::size_t before = c.probe.size();
        const auto start = steady::now();
        c.start_daemon({{"NOTIFY_SOCKET", notify.path()}});
        const auto at = notify.wait_for("READY=1", 10s);
        if (!at) {
            c.check_alive();
            fail("no READY=1 within 10 s:\n" + c.daemon->err());
        }
        ready.push_back(ms(*at - start));
        // And until the broker has its "online" (retained; the previous run left "offline").
        for (auto deadline = steady::now() + 10s; steady::now() < deadline;) {
            bool seen = false;
            for (const auto& m : c.probe.since(before)) {
                if (m.payload == "online") {
                    online.push_back(ms(m.at - start));
                    seen = true;
                    break;
                }
            }
            if (seen) break;
            std::this_thread::sleep_for(1ms);
        }
        c.daemon->signal(SIGTERM);
        if (c.daemon->wait(10s) != 0) fail("the daemon did not stop cleanly:\n" + c.daemon->err());
    }
    if (online.size() != ready.size()) fail("the daemon did not always say online");
    json r;
    r["runs"] = ready.size();
    r["ready_median_ms"] = percentile(ready, 0.5);
    r["ready_min_ms"] = percentile(ready, 0.0);
    r["ready_max_ms"] = percentile(ready, 1.0);
    r["online_median_ms"] = percentile(online, 0.5);
    r["online_min_ms"] = percentile(online, 0.0);
    r["online_max_ms"] = percentile(online, 1.0);
    std::printf(
        "\nStart-up: fork+exec to READY=1 on NOTIFY_SOCKET, %zu runs: median %.1f ms "
        "(min %.1f, max %.1f); to \"online\" at the subscriber: median %.1f ms (min %.1f, "
        "max %.1f)\n",
        ready.size(), r["ready_median_ms"].get<double>(), r["ready_min_ms"].get<double>(),
        r["ready_max_ms"].get<double>(), r["online_median_ms"].get<double>(),
        r["online_min_ms"].get<double>(), r["online_max_ms"].get<double>());
    return r;
}

// --- main -------------------------------------------------------------------------------

void usage() {
    std::puts(
        "usage: evn_mbus_daemon_bench [latency] [footprint] [startup] [gaps] [options]  (the "
        "first three without a part)\n"
        "  --latency-pushes N   measured pushes (1000)       --warmup N        unmeasured (20)\n"
        "  --interval-ms N      push to push (25)            --frame-gap-ms N  between frames (5)\n"
        "  --paced              frames at 2400 baud 160 ms apart, like the meter (slow)\n"
        "  --idle-gap-ms N      the daemon's serial.idle_gap_ms (default: its own, 100)\n"
        "  --state-only         publish only <prefix>/state (default: every topic, as shipped)\n"
        "  --broker-nagle       Mosquitto without set_tcp_nodelay (its default; see the docs)\n"
        "  --footprint-pushes N accelerated pushes (20000)   --idle-s N        idle time (20)\n"
        "  --startup-runs N     start-ups (20)\n"
        "  --json FILE          the figures as JSON          --binary PATH     evn-mbus to run\n"
        "  --samples FILE       latency: each push's times (CSV)\n"
        "  --via pty|tcp|rfc2217 latency: the pty itself, or through ser2net on loopback");
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) fail(a + " needs a value");
            return argv[++i];
        };
        const auto number = [&] { return static_cast<std::size_t>(std::stoull(value())); };
        if (a == "latency" || a == "footprint" || a == "startup" || a == "gaps") {
            o.parts.push_back(a);
        } else if (a == "--latency-pushes") {
            o.latency_pushes = number();
        } else if (a == "--warmup") {
            o.warmup = number();
        } else if (a == "--interval-ms") {
            o.interval_ms = static_cast<unsigned>(number());
        } else if (a == "--frame-gap-ms") {
            o.frame_gap_ms = static_cast<unsigned>(number());
        } else if (a == "--paced") {
            o.paced = true;
        } else if (a == "--idle-gap-ms") {
            o.idle_gap_ms = static_cast<unsigned>(number());
        } else if (a == "--state-only") {
            o.state_only = true;
        } else if (a == "--broker-nagle") {
            o.broker_nodelay = false;
        } else if (a == "--footprint-pushes") {
            o.footprint_pushes = std::max<std::size_t>(1, number());
        } else if (a == "--idle-s") {
            o.idle_s = std::max(1u, static_cast<unsigned>(number()));
        } else if (a == "--startup-runs") {
            o.startup_runs = std::max<std::size_t>(1, number());
        } else if (a == "--json") {
            o.json_path = value();
        } else if (a == "--samples") {
            o.samples_path = value();
        } else if (a == "--via") {
            o.via = value();
            if (o.via != "pty" && o.via != "tcp" && o.via != "rfc2217")
                fail("--via: pty, tcp or rfc2217");
        } else if (a == "--binary") {
            o.binary = value();
        } else if (a == "-h" || a == "--help") {
            usage();
            std::exit(0);
        } else {
            usage();
            fail("unknown argument " + a);
        }
    }
    if (o.parts.empty()) o.parts = {"latency", "footprint", "startup"};
    return o;
}

}  // namespace
}  // namespace evn_mbus::bench

int main(int argc, char** argv) {
    using namespace evn_mbus::bench;
    ::signal(SIGPIPE, SIG_IGN);
    try {
        const options o = parse(argc, argv);
        json all;
        for (const auto& part : o.parts) {
            if (part == "latency") all["latency"] = run_latency(o);
            if (part == "footprint") all["footprint"] = run_footprint(o);
            if (part == "startup") all["startup"] = run_startup(o);
            if (part == "gaps") all["gaps"] = run_gaps(o);
            std::fflush(stdout);
        }
        if (!o.json_path.empty()) std::ofstream(o.json_path) << all.dump(2) << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "evn_mbus_daemon_bench: %s\n", e.what());
        return 1;
    }
}
