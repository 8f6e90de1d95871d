// `evn-mbus run` as a process, for the findings of issue 13 about trust in what it publishes
// and says: a damaged push of a meter without a GCM tag, a counter gap across a key change,
// the advice for a device it may not open, logging when the journal is not there. The pushes
// are the real EVN capture, re-encrypted by the project's encoder with other frame counters.
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fake_uart.hpp"
#include "fixture_loader.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;

const std::string binary = EVN_MBUS_BINARY;
const std::string evn_key = "36C66639E48A8CA4D6BC8B282A793BBB";
const std::string wrong_key = "00112233445566778899AABBCCDDEEFF";

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

// A summary line every second: it counts the failures that the log tells only once a minute.
// A wide idle gap (1 s): pacing is not under test, and a loaded machine stalls the paced writer
// past 100 ms ("M-Bus frame cut off").
std::string config_text(const std::string& device, const std::string& key) {
    return "serial:\n  device: " + device + "\n  idle_gap_ms: 1000\nmeter:\n  key: \"" + key +
           "\"\nlog:\n  level: info\n  summary_interval_s: 1\n";
}

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != text.npos; pos = text.find(needle, pos + 1))
        ++n;
    return n;
}

// The EVN Kaifa capture (security 0x20: encrypted, no tag) under any frame counter, with A+
// intact or with bit 24 of its ciphertext flipped. Without a tag, AES-GCM is counter mode: the
// flip reaches the plaintext as it is, and the M-Bus checksums are computed afresh.
struct evn_capture {
    const capture& c = capture_by_id("evn_kaifa_ma309_doc");
    reading original = decode_all(c.keys, concat(c.frames)).readings.at(0);
    telegram_encoder encoder;

    std::vector<bytes> push(std::uint32_t counter, bool flip_w_p = false) {
        bytes apdu;
        EXPECT_FALSE(encoder.encrypt(c.plaintext, c.keys.key, std::nullopt, original.title, counter,
                                     0x20, apdu));
        if (flip_w_p) {
            // 1-0:1.8.0.255, then double-long-unsigned (06) and its four bytes, MSB first.
            const bytes obis{1, 0, 1, 8, 0, 255, 0x06};
            const auto at =
                std::search(c.plaintext.begin(), c.plaintext.end(), obis.begin(), obis.end());
            EXPECT_NE(at, c.plaintext.end());
            const auto msb = static_cast<std::size_t>(at - c.plaintext.begin()) + obis.size();
            apdu[apdu.size() - c.plaintext.size() + msb] ^= 0x01;  // bit 24
        }
        return telegram_encoder::segment_mbus(apdu, 245);
    }
};

struct rig {
    temp_dir dir{"evn-mbus-trust"};
    std::string config = dir.file("evn-mbus.yaml");
    fake_uart uart{dir.file("ttyMeter")};

    std::unique_ptr<child_process> start(const std::string& key) {
        write_file(config, config_text(uart.link().string(), key));
        auto p = std::make_unique<child_process>(std::vector<std::string>{
            binary, "run", "--config", config, "--no-mqtt", "--print", "--log-target", "stderr"});
        if (!p->wait_for_stderr("open", 10s)) {
            ADD_FAILURE() << "the daemon did not open the serial port:\n" << p->err();
        }
        return p;
    }
    void reload(child_process& d, const std::string& key) {
        const std::size_t before = count(d.err(), "configuration reloaded");
        write_file(config, config_text(uart.link().string(), key));
        d.signal(SIGHUP);
        ASSERT_TRUE(d.wait_until(
            [&](const std::string&, const std::string& err) {
                return count(err, "configuration reloaded") > before;
            },
            10s))
            << d.err();
    }
};

// Issue 13, item 6: one flipped ciphertext bit published A+ 23,793,337 Wh between two readings
// of 7,016,121, and Home Assistant counted the jump as consumption forever.
TEST(trust_service, a_flipped_ciphertext_bit_is_not_published_and_the_next_reading_is) {
    evn_capture evn;
    const std::uint32_t fc = evn.original.frame_counter;
    // The encoder makes the capture's own bytes from its plaintext: the pushes below are the
    // real meter's, only under other counters.
    ASSERT_EQ(evn.push(fc), evn.c.frames);
    const double w_p = *evn.original.named("w_p");

    rig r;
    auto d = r.start(evn_key);
    r.uart.send_push(evn.push(fc + 1));
    ASSERT_TRUE(d->wait_for_stdout_lines(1, 10s)) << d->err();
    r.uart.send_push(evn.push(fc + 2, true));
    ASSERT_TRUE(d->wait_for_stderr("impossible reading", 10s)) << d->err();
    r.uart.send_push(evn.push(fc + 3));
    ASSERT_TRUE(d->wait_for_stdout_lines(2, 10s)) << d->err();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10s), 0) << d->err();

    const auto lines = d->out_lines();
    ASSERT_EQ(lines.size(), 2u) << d->out();
    for (const auto& line : lines) {
        const auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j["w_p"].get<double>(), w_p) << line;
    }
    const std::string& err = d->err();
    EXPECT_NE(err.find("w_p (active energy import (A+)) rose from " +
                       std::to_string(static_cast<long long>(w_p)) + " to " +
                       std::to_string(static_cast<long long>(w_p) + (1LL << 24)) + " Wh"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("NOT published"), std::string::npos) << err;
    EXPECT_NE(err.find("meter.max_power_kw"), std::string::npos) << err;
    EXPECT_NE(err.find("1 impossible reading not published"), std::string::npos) << err;
}

// Issue 13, item 9: pushes that came but could not be decrypted with the old key are no
// wiring fault.
TEST(trust_service, a_counter_gap_of_pushes_dropped_with_the_wrong_key_is_not_blamed_on_the_wire) {
    evn_capture evn;
    const std::uint32_t fc = evn.original.frame_counter;
    rig r;
    auto d = r.start(evn_key);
    // Five pushes in order: the frame counter monitor learns the step (1) from four increases.
    for (std::uint32_t i = 0; i < 5; ++i) {
        r.uart.send_push(evn.push(fc + i));
        ASSERT_TRUE(d->wait_for_stdout_lines(i + 1, 10s)) << d->err();
    }

    r.reload(*d, wrong_key);
    for (std::uint32_t i = 1; i <= 3; ++i) {
        r.uart.send_push(evn.push(fc + 4 + i));
        ASSERT_TRUE(d->wait_until(
            [&](const std::string&, const std::string& err) {
                return err.find("not_a_valid_apdu " + std::to_string(i)) != err.npos;
            },
            10s))
            << d->err();
    }
    r.reload(*d, evn_key);
    r.uart.send_push(evn.push(fc + 8));
    ASSERT_TRUE(d->wait_for_stdout_lines(6, 10s)) << d->err();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10s), 0) << d->err();

    const std::string& err = d->err();
    EXPECT_EQ(err.find("lost on the wire"), std::string::npos) << err;
    EXPECT_EQ(err.find("check the wiring"), std::string::npos) << err;
    EXPECT_NE(err.find("3 pushes from meter 181220000009 (counter"), std::string::npos) << err;
    EXPECT_NE(err.find("could not be decrypted with the key in force before the reload"),
              std::string::npos)
        << err;
}

// Issue 13, item 8: a device only root (or root and tty) may open. The daemon runs as an
// unprivileged user here (the tests run as root, who opens anything).
class trust_service_permissions : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown the pty and drop to nobody";
    }

    std::string advice(const std::string& group_name, mode_t mode) {
        rig r;
        ::chmod(r.dir.path().c_str(), 0755);
        write_file(r.config, config_text(r.uart.link().string(), evn_key));
        ::chmod(r.config.c_str(), 0644);
        const auto pts = std::filesystem::read_symlink(r.uart.link()).string();
        const struct group* g = ::getgrnam(group_name.c_str());
        EXPECT_NE(g, nullptr) << group_name;
        EXPECT_EQ(::chown(pts.c_str(), 0, g ? g->gr_gid : 0), 0);
        EXPECT_EQ(::chmod(pts.c_str(), mode), 0);
        child_process d({"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", binary,
                         "run", "--config", r.config, "--no-mqtt", "--log-target", "stderr"});
        EXPECT_TRUE(d.wait_for_stderr("retrying", 10s)) << d.err();
        // SIGTERM once the loop runs (its first summary), as in the journal test below: under
        // ThreadSanitizer one sent this early was lost in 2 of CI's runs.
        EXPECT_TRUE(d.wait_for_stderr("summary:", 10s)) << d.err();
        d.signal(SIGTERM);
        EXPECT_EQ(d.wait(10s), 0) << d.err();
        return d.err();
    }
};

TEST_F(trust_service_permissions, root_only_device_gets_a_udev_rule_not_group_root) {
    const std::string err = advice("root", 0600);
    EXPECT_NE(err.find("permission denied opening"), std::string::npos) << err;
    EXPECT_NE(err.find("group root, mode 0600"), std::string::npos) << err;
    EXPECT_EQ(err.find("usermod -aG root"), std::string::npos) << err;
    EXPECT_EQ(err.find("log in again"), std::string::npos) << err;
    EXPECT_NE(err.find("GROUP=\"dialout\", MODE=\"0660\""), std::string::npos) << err;
    EXPECT_NE(err.find("sudo systemctl restart evn-mbus"), std::string::npos) << err;
}

TEST_F(trust_service_permissions, tty_group_device_gets_a_udev_rule_not_group_tty) {
    const std::string err = advice("tty", 0620);
    EXPECT_NE(err.find("group tty, mode 0620"), std::string::npos) << err;
    EXPECT_EQ(err.find("usermod -aG tty"), std::string::npos) << err;
    EXPECT_EQ(err.find("log in again"), std::string::npos) << err;
    EXPECT_NE(err.find("udev rule"), std::string::npos) << err;
}

TEST_F(trust_service_permissions, dialout_device_names_the_group_and_a_restart) {
    const std::string err = advice("dialout", 0660);
    EXPECT_NE(err.find("is not in group 'dialout'"), std::string::npos) << err;
    EXPECT_NE(err.find("sudo usermod -aG dialout nobody"), std::string::npos) << err;
    EXPECT_NE(err.find("sudo systemctl restart evn-mbus"), std::string::npos) << err;
    EXPECT_EQ(err.find("log in again"), std::string::npos) << err;
}

bool journal_listening() {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, "/run/systemd/journal/socket", sizeof addr.sun_path - 1);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// Issue 13, item 15: with the journal away, nothing at all was printed, the fatal error
// included.
TEST(trust_service, journal_target_without_a_journal_falls_back_to_stderr) {
    if (journal_listening()) GTEST_SKIP() << "journald listens on this machine";
    temp_dir dir;
    const std::string config = dir.file("bad.yaml");
    write_file(config, "serial:\n  devize: /dev/ttyAMA0\nmeter:\n  key: \"" + evn_key + "\"\n");
    child_process d({binary, "run", "--config", config, "--log-target", "journal"});
    EXPECT_EQ(d.wait(10s), 78);
    EXPECT_NE(d.err().find("the systemd journal is not reachable"), std::string::npos) << d.err();
    EXPECT_NE(d.err().find("logging to stderr instead"), std::string::npos) << d.err();
    EXPECT_NE(d.err().find("cannot start"), std::string::npos) << d.err();

    // And a daemon that runs: its lines come on stderr too.
    rig r;
    write_file(r.config, config_text(r.uart.link().string(), evn_key));
    child_process ok({binary, "run", "--config", r.config, "--no-mqtt", "--log-target", "journal"});
    // The first summary comes from the running loop: SIGTERM is then not one of the start-up
    // (that case is startup_signal_test's). Under ThreadSanitizer, a SIGTERM sent at "open",
    // still blocked, was lost in 1 run of 3 when it was unblocked (ThreadSanitizer's own
    // deferral of signals; the plain and ASan builds pass the start-up tests' 1,300 runs).
    EXPECT_TRUE(ok.wait_for_stderr("summary:", 10s)) << ok.err();
    ok.signal(SIGTERM);
    EXPECT_EQ(ok.wait(10s), 0) << ok.err();
    EXPECT_NE(ok.err().find("stopped"), std::string::npos) << ok.err();
}

}  // namespace
}  // namespace evn_mbus::test
