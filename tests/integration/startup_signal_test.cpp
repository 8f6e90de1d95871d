// SIGTERM at a random moment of `evn-mbus run`'s start-up, many times over: every run must end
// within the bound and cleanly. The daemon blocks SIGTERM, SIGINT and SIGHUP from main()'s
// first line until its handlers are installed (startup_signals.hpp), so a signal of the
// start-up waits instead of being lost or killing a half-started process. As systemd starts
// it: broker up, the serial device missing (the service waits for it).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "mosquitto_broker.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const std::string binary = EVN_MBUS_BINARY;
constexpr auto exit_bound = 10s;  // mqtt.shutdown_timeout_s is 5 s; the rest is a loaded machine
constexpr int parallel = 6;       // daemons starting at the same time

// Runs of a test, `normal` unless EVN_MBUS_STARTUP_RUNS says (a developer hunting a rare race).
// About 60 ms each on two loaded cores.
int runs(int normal) {
    const char* v = std::getenv("EVN_MBUS_STARTUP_RUNS");
    return v != nullptr && *v != '\0' ? std::max(1, std::atoi(v)) : normal;
}

struct outcome {
    std::chrono::microseconds delay{};  // from the spawn to kill()
    std::optional<int> status;          // nullopt: still running at the bound
    double seconds = 0;                 // from kill() to the exit
    std::string err;
};

// A slot of the batch: one daemon at a time, a fresh one when it has ended.
struct slot {
    std::unique_ptr<child_process> child;
    std::string config;
    steady::time_point started;
    steady::duration delay{};
    std::optional<steady::time_point> killed;
};

std::vector<std::string> daemon_argv(const std::string& config) {
    return {binary, "run", "--config", config, "--log-target", "stderr"};
}

// How long `parallel` daemons starting at once take from the spawn until they have tried the
// serial port (the device is named twice: in the "starting" line and in its failure), which
// is after the logger, Paho and the signal handlers; the median. On this 2-core machine under
// load that is far more than the 50 ms a quiet one needs, most of it loading the libraries.
std::chrono::microseconds start_up_time(const std::vector<std::string>& configs,
                                        const std::string& device) {
    std::vector<std::unique_ptr<child_process>> children;
    const auto t0 = steady::now();
    for (const auto& c : configs)
        children.push_back(std::make_unique<child_process>(daemon_argv(c)));
    std::vector<std::chrono::microseconds> took;
    for (auto& c : children) {
        c->wait_until(
            [&](const std::string&, const std::string& err) {
                const auto first = err.find(device);
                return first != err.npos && err.find(device, first + 1) != err.npos;
            },
            10s);
        took.push_back(std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0));
        c->signal(SIGTERM);
    }
    for (auto& c : children)
        c->wait(exit_bound);
    std::sort(took.begin(), took.end());
    return took[took.size() / 2];
}

// Starts `total` daemons, `parallel` at a time, each sent SIGTERM `delay` after the spawn
// began (child_process::started_at(); posix_spawn returns once the child has exec'd, so a
// delay shorter than the spawn itself means "at once"): a quarter within the first 2 ms (exec,
// the loader), the rest anywhere within one and a half times the measured start-up
// (configuration, logger, Paho, the serial port's first try, the loop). With
// `blocked_from_exec` the daemon is spawned with SIGTERM blocked already (posix_spawn keeps the
// caller's mask, as a parent may leave it): the daemon must still unblock it once its handler
// is there. Stops starting new runs after a failure.
std::vector<outcome> sigterm_during_start_up(bool blocked_from_exec, int total) {
    temp_dir dir{"evn-mbus-startup"};
    mosquitto_broker broker;
    std::vector<slot> slots(parallel);
    for (int i = 0; i < parallel; ++i) {
        slots[static_cast<std::size_t>(i)].config =
            dir.file("evn-mbus-" + std::to_string(i) + ".yaml");
        std::ofstream(slots[static_cast<std::size_t>(i)].config)
            << "serial:\n  device: " << dir.file("no-such-tty") << "\nmeter:\n  key: \""
            << "36C66639E48A8CA4D6BC8B282A793BBB"
            << "\"\nmqtt:\n  uri: " << broker.uri() << "\n  client_id: evn-mbus-startup-"
            << ::getpid() << "-" << i << "\nlog:\n  level: info\n";
    }
    std::vector<std::string> configs;
    for (const auto& sl : slots)
        configs.push_back(sl.config);
    const auto start_up = start_up_time(configs, dir.file("no-such-tty"));
    const int span_us = static_cast<int>(std::max<long long>(50000, start_up.count() * 3 / 2));
    std::cout << "[ figures  ] start-up to the serial port's first try: " << start_up.count()
              << " us (median of " << parallel << " at once); SIGTERM within 0.." << span_us
              << " us\n";
    std::mt19937 rng(20261202u + (blocked_from_exec ? 1u : 0u));
    std::uniform_int_distribution<int> early(0, 2000);
    std::uniform_int_distribution<int> later(0, span_us);
    int started = 0;
    bool failed = false;
    std::vector<outcome> results;
    auto start = [&](slot& s) {
        sigset_t term, old;
        ::sigemptyset(&term);
        ::sigaddset(&term, SIGTERM);
        if (blocked_from_exec) ::pthread_sigmask(SIG_BLOCK, &term, &old);
        s.child = std::make_unique<child_process>(daemon_argv(s.config));
        if (blocked_from_exec) ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
        s.started = s.child->started_at();
        const int us = started % 4 == 0 ? early(rng) : later(rng);
        s.delay = std::chrono::microseconds(us);
        s.killed.reset();
        ++started;
    };
    for (auto& s : slots) {
        if (started < total) start(s);
    }
    for (;;) {
        bool active = false;
        for (auto& s : slots) {
            if (!s.child) continue;
            active = true;
            const auto now = steady::now();
            if (!s.killed) {
                if (now - s.started < s.delay) continue;
                s.child->signal(SIGTERM);
                s.killed = steady::now();
                continue;
            }
            s.child->err();  // keeps the pipe drained
            const bool ended = !s.child->running();
            if (!ended && now - *s.killed < exit_bound) continue;
            outcome o;
            o.delay = std::chrono::duration_cast<std::chrono::microseconds>(*s.killed - s.started);
            o.status = s.child->wait(0ms);
            o.seconds = std::chrono::duration<double>(steady::now() - *s.killed).count();
            o.err = s.child->err();
            const bool ok = o.status && (*o.status == 0 || (*o.status == 128 + SIGTERM &&
                                                            !blocked_from_exec && o.err.empty()));
            if (!ok) failed = true;
            results.push_back(std::move(o));
            s.child.reset();  // SIGKILL if it still runs
            if (!failed && started < total) start(s);
        }
        if (!active) break;
        std::this_thread::sleep_for(200us);
    }
    return results;
}

// The exit times' distribution and every run that went wrong; true if all went right.
bool report(const std::vector<outcome>& results, bool blocked_from_exec) {
    std::vector<double> times;
    std::map<std::string, int> by_status;
    std::size_t bad = 0;
    for (const auto& o : results) {
        const std::string st = o.status ? std::to_string(*o.status) : "still running";
        ++by_status[st];
        if (o.status) times.push_back(o.seconds);
        const bool ok =
            o.status &&
            (*o.status == 0 || (*o.status == 128 + SIGTERM && !blocked_from_exec && o.err.empty()));
        if (!ok && ++bad <= 5) {
            ADD_FAILURE() << "SIGTERM " << o.delay.count() << " us after the spawn: " << st
                          << " after " << o.seconds << " s; its log:\n"
                          << o.err;
        }
    }
    std::sort(times.begin(), times.end());
    auto at = [&](double q) {
        return times.empty()
                   ? 0.0
                   : times[std::min(times.size() - 1, static_cast<std::size_t>(
                                                          q * static_cast<double>(times.size())))];
    };
    std::cout << "[ figures  ] " << results.size() << " runs; exit status:";
    for (const auto& [st, n] : by_status)
        std::cout << " " << st << " x" << n;
    std::cout << "\n[ figures  ] exit after SIGTERM (s): min " << at(0) << ", p50 " << at(0.5)
              << ", p90 " << at(0.9) << ", p99 " << at(0.99) << ", max " << at(1.0) << "\n";
    return bad == 0;
}

// 143 (killed by the default action) is right only before main() has run: then the daemon
// has printed nothing. Once main() runs, the signal waits for the handler: exit status 0.
TEST(startup_signals, sigterm_at_a_random_moment_of_start_up_stops_the_daemon_in_time) {
    const int total = runs(1000);
    const auto results = sigterm_during_start_up(false, total);
    ASSERT_FALSE(results.empty());
    EXPECT_TRUE(report(results, false));
    if (!HasFailure()) {
        EXPECT_EQ(results.size(), static_cast<std::size_t>(total));
    }
}

// A parent that leaves SIGTERM blocked (a supervisor that spawns from a thread blocking it): the
// signal is pending from the first instruction; the daemon must take it once it can.
TEST(startup_signals, sigterm_pending_from_before_exec_is_handled_once_the_daemon_can) {
    const int total = runs(300);  // each one a whole stop: the mechanism, not the luck of timing
    const auto results = sigterm_during_start_up(true, total);
    ASSERT_FALSE(results.empty());
    EXPECT_TRUE(report(results, true));
    if (!HasFailure()) {
        EXPECT_EQ(results.size(), static_cast<std::size_t>(total));
    }
}

}  // namespace
}  // namespace evn_mbus::test
