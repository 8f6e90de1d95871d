// `evn-mbus simulate` as scripts use it: start it, read the pty path from its first line, open
// that path like a serial port, decode what arrives and compare it with what the simulator
// says it sent (--expect).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "child_process.hpp"
#include "evn_mbus/hex.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "fixture_loader.hpp"
#include "reading_json.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

using steady = std::chrono::steady_clock;

const std::string binary = EVN_MBUS_BINARY;
const std::string fixtures = EVN_MBUS_FIXTURES_DIR;
const std::string evn_key = "36C66639E48A8CA4D6BC8B282A793BBB";

// A running `evn-mbus simulate`: its first line of stdout (the pty path), its stderr at the end.
class simulator {
  public:
    explicit simulator(std::vector<std::string> args) : child_(options(std::move(args))) {}

    // The first line of stdout: the pty path. Empty if the simulator ended without one.
    std::string first_line() {
        child_.wait_until(
            [](const std::string& out, const std::string&) { return out.find('\n') != out.npos; },
            std::chrono::minutes(2));
        const std::string& out = child_.out();
        return out.substr(0, out.find('\n'));
    }

    void signal(int sig) { child_.signal(sig); }

    // Exit status (128+signal if killed by one); the stderr text is in err().
    int wait() { return child_.wait(); }
    const std::string& err() { return child_.err(); }

  private:
    static spawn_options options(std::vector<std::string> args) {
        args.insert(args.begin(), {binary, "simulate"});
        spawn_options o;
        o.argv = std::move(args);
        return o;
    }

    child_process child_;
};

struct received {
    bytes data;
    steady::time_point first{}, last{};
};

// Reads the slave like a serial port until the simulator closes the pty (end of file or EIO
// on Linux), or `limit` passes.
received read_pty(const std::string& path, std::chrono::seconds limit = std::chrono::seconds(60),
                  std::size_t stop_after = SIZE_MAX) {
    received r;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOCTTY);
    if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
    const auto deadline = steady::now() + limit;
    while (steady::now() < deadline && r.data.size() < stop_after) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        std::uint8_t buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        const auto now = steady::now();
        if (r.data.empty()) r.first = now;
        r.last = now;
        r.data.insert(r.data.end(), buf, buf + n);
    }
    ::close(fd);
    return r;
}

aes_key key_of(const std::string& text) {
    aes_key k{};
    if (parse_key(text, k)) throw std::runtime_error("bad key");
    return k;
}

struct decoded_stream {
    std::vector<nlohmann::json> readings;
    std::vector<reading> raw;
    std::size_t errors = 0;
};

decoded_stream decode_stream(const bytes& data, const std::string& key) {
    decoded_stream d;
    telegram_decoder decoder({key_of(key), std::nullopt});
    decoder.feed(data);
    decoder.on_idle_gap();
    for (;;) {
        const decode_event ev = decoder.next();
        if (ev.what == decode_event::kind::need_more) break;
        if (ev.what == decode_event::kind::error) {
            ++d.errors;
            continue;
        }
        d.readings.push_back(to_json(*ev.value));
        d.raw.push_back(*ev.value);
    }
    return d;
}

std::vector<nlohmann::json> json_lines(std::istream& in) {
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(nlohmann::json::parse(line));
    return lines;
}

std::vector<nlohmann::json> json_file(const std::string& path) {
    std::ifstream in(path);
    return json_lines(in);
}

class simulate_cli : public ::testing::Test {
  protected:
    std::string path(const std::string& name) const { return dir_.file(name); }

    const temp_dir dir_{"evn-mbus-sim"};
};

TEST_F(simulate_cli, synthesized_pushes_decode_to_what_the_expect_file_says) {
    const std::string expect = path("expect.jsonl");
    simulator sim(
        {"--speed", "max", "--count", "50", "--key", evn_key, "--seed", "11", "--expect", expect});
    const std::string pty = sim.first_line();
    ASSERT_EQ(pty.rfind("/dev/pts/", 0), 0u) << pty;
    // The simulator may already be writing: it holds the slave open, so nothing is lost.
    const received r = read_pty(pty);
    ASSERT_EQ(sim.wait(), 0) << sim.err();
    EXPECT_EQ(r.data.size(), 50u * (256 + 26));

    const auto lines = json_file(expect);
    ASSERT_EQ(lines.size(), 50u);
    const auto d = decode_stream(r.data, evn_key);
    EXPECT_EQ(d.errors, 0u);
    ASSERT_EQ(d.readings.size(), 50u);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i].at("seq"), i);
        EXPECT_EQ(lines[i].at("fault"), "none");
        ASSERT_EQ(d.readings[i], lines[i].at("reading")) << i;
        EXPECT_EQ(d.readings[i].dump(), lines[i].at("reading").dump());
        // Like EVN's Kaifa: "KFM" system title, encryption only, counter counting up.
        EXPECT_EQ(d.raw[i].manufacturer(), "KFM");
        EXPECT_EQ(d.raw[i].security_control, 0x20);
        if (i > 0) {
            EXPECT_EQ(d.raw[i].frame_counter, d.raw[i - 1].frame_counter + 1);
        }
    }
    // The meter moves on: 5 s of meter time per push, even at full speed.
    EXPECT_NE(d.readings.front().at("clock"), d.readings.back().at("clock"));
}

TEST_F(simulate_cli, replay_of_the_evn_capture_decodes_like_evn_mbus_decode) {
    const std::string capture = fixtures + "/evn_kaifa_ma309_doc.hex";
    const auto reference = run_process({binary, "decode", "--key", evn_key, capture});
    ASSERT_EQ(reference.status, 0) << reference.err;
    std::istringstream ref_in(reference.out);
    const auto ref = json_lines(ref_in);
    ASSERT_EQ(ref.size(), 1u);

    const std::string expect = path("expect.jsonl");
    simulator sim({"--replay", capture, "--speed", "max", "--count", "3", "--key", evn_key,
                   "--expect", expect});
    const std::string pty = sim.first_line();
    const received r = read_pty(pty);
    ASSERT_EQ(sim.wait(), 0) << sim.err();
    // The capture's own bytes, three times.
    const bytes one = concat(capture_by_id("evn_kaifa_ma309_doc").frames);
    EXPECT_EQ(r.data, concat({one, one, one}));
    const auto d = decode_stream(r.data, evn_key);
    EXPECT_EQ(d.errors, 0u);
    ASSERT_EQ(d.readings.size(), 3u);
    const auto lines = json_file(expect);
    ASSERT_EQ(lines.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(d.readings[i].dump(), ref[0].dump());
        EXPECT_EQ(lines[i].at("reading").dump(), ref[0].dump());
    }
}

TEST_F(simulate_cli, faults_cost_exactly_the_pushes_they_hit) {
    const std::string expect = path("expect.jsonl");
    const int count = 200;
    simulator sim({"--speed", "max", "--count", std::to_string(count), "--key", evn_key, "--seed",
                   "99", "--corrupt", "0.3", "--drop-frame", "0.3", "--noise", "--expect", expect});
    const received r = read_pty(sim.first_line());
    ASSERT_EQ(sim.wait(), 0) << sim.err();
    const auto lines = json_file(expect);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(count));
    std::vector<nlohmann::json> intact;
    std::size_t corrupt = 0, dropped = 0;
    for (const auto& l : lines) {
        if (l.at("fault") == "none") intact.push_back(l.at("reading"));
        if (l.at("fault") == "corrupt") ++corrupt;
        if (l.at("fault") == "drop_frame") ++dropped;
    }
    ASSERT_EQ(intact.size() + corrupt + dropped, lines.size());
    EXPECT_GT(corrupt, 20u);
    EXPECT_GT(dropped, 20u);
    EXPECT_GT(intact.size(), 20u);

    const auto d = decode_stream(r.data, evn_key);
    // Every intact push decodes exactly, in order, despite the noise and the damaged pushes
    // around it; every damaged one is lost and reported.
    ASSERT_EQ(d.readings.size(), intact.size());
    for (std::size_t i = 0; i < intact.size(); ++i) {
        ASSERT_EQ(d.readings[i].dump(), intact[i].dump()) << i;
    }
    EXPECT_EQ(lines.size() - d.readings.size(), corrupt + dropped);
    EXPECT_GE(d.errors, corrupt + dropped);
    std::cout << "[ figures  ] " << count << " pushes: " << intact.size() << " intact, " << corrupt
              << " corrupt, " << dropped << " dropped frame; decoder: " << d.readings.size()
              << " readings, " << d.errors << " errors\n";
}

TEST_F(simulate_cli, default_pacing_is_the_line_speed) {
    // One push at 2400 baud, 11 bits a byte, 160 ms between its two frames.
    simulator sim({"--count", "1", "--interval", "0", "--key", evn_key, "--seed", "5"});
    const received r = read_pty(sim.first_line());
    ASSERT_EQ(sim.wait(), 0) << sim.err();
    ASSERT_EQ(r.data.size(), 282u);
    EXPECT_EQ(decode_stream(r.data, evn_key).readings.size(), 1u);
    const double theory = (282.0 - 1.0) * 11.0 / 2400.0 + 0.160;
    const double measured = std::chrono::duration<double>(r.last - r.first).count();
    std::cout << "[ figures  ] 282 bytes arrived over " << measured << " s (theory " << theory
              << " s)\n";
    RecordProperty("measured_s", std::to_string(measured));
    // Loose: only that the bytes are paced at all, not how precisely.
    EXPECT_GT(measured, 0.5 * theory);
}

TEST_F(simulate_cli, link_and_sigterm) {
    const std::string link = path("meter");
    simulator sim({"--link", link, "--speed", "10", "--key", evn_key});
    const std::string pty = sim.first_line();
    char target[256] = {};
    ASSERT_GT(::readlink(link.c_str(), target, sizeof target - 1), 0);
    EXPECT_EQ(pty, target);
    // Through the link, like a daemon configured with a stable path.
    const received r = read_pty(link, std::chrono::seconds(30), 282);
    ASSERT_GE(r.data.size(), 282u);
    EXPECT_GE(decode_stream(bytes(r.data.begin(), r.data.begin() + 282), evn_key).readings.size(),
              1u);
    sim.signal(SIGTERM);
    EXPECT_EQ(sim.wait(), 0) << sim.err();
    struct stat st {};
    EXPECT_NE(::lstat(link.c_str(), &st), 0) << "the link is still there";
    EXPECT_NE(sim.err().find("stopped"), std::string::npos) << sim.err();
}

TEST_F(simulate_cli, device_file_is_a_capture_that_decode_reads) {
    const std::string file = path("capture.bin");
    const std::string expect = path("expect.jsonl");
    const auto sim = run_process({binary, "simulate", "--device", file, "--speed", "max", "--count",
                                  "5", "--key", evn_key, "--expect", expect});
    ASSERT_EQ(sim.status, 0) << sim.err;
    EXPECT_EQ(sim.out, "");  // no pty path: nothing to open
    const auto dec = run_process({binary, "decode", "--key", evn_key, file});
    ASSERT_EQ(dec.status, 0) << dec.err;
    std::istringstream in(dec.out);
    const auto got = json_lines(in);
    const auto want = json_file(expect);
    ASSERT_EQ(got.size(), 5u);
    ASSERT_EQ(want.size(), 5u);
    for (std::size_t i = 0; i < 5; ++i)
        EXPECT_EQ(got[i].dump(), want[i].at("reading").dump());
}

TEST_F(simulate_cli, unusable_options_and_missing_port_are_explained) {
    const auto no_port =
        run_process({binary, "simulate", "--device", "/dev/ttyEVNMBUS-none", "--count", "1"});
    EXPECT_EQ(no_port.status, 1);
    EXPECT_NE(no_port.err.find("cannot open /dev/ttyEVNMBUS-none"), std::string::npos)
        << no_port.err;
    const auto bad_key = run_process({binary, "simulate", "--key", "1234", "--count", "1"});
    EXPECT_EQ(bad_key.status, 2);
    EXPECT_NE(bad_key.err.find("--key"), std::string::npos) << bad_key.err;
    const auto bad_speed = run_process({binary, "simulate", "--speed", "0", "--count", "1"});
    EXPECT_EQ(bad_speed.status, 2);
    const auto bad_rate = run_process({binary, "simulate", "--corrupt", "1.5", "--count", "1"});
    EXPECT_EQ(bad_rate.status, 2);
    EXPECT_NE(bad_rate.err.find("between 0 and 1"), std::string::npos) << bad_rate.err;
}

TEST_F(simulate_cli, a_baud_the_daemon_rejects_is_rejected_before_anything_is_sent) {
    // serial.baud stops at 115200; a simulated line at 230400 is one the daemon cannot read,
    // so the simulator says so, on a pty as on a file, and sends nothing.
    const std::string file = path("out.bin");
    for (const std::vector<std::string>& where :
         {std::vector<std::string>{"--device", file}, std::vector<std::string>{"--pty"}}) {
        for (const char* baud : {"230400", "0", "2401"}) {
            std::vector<std::string> args{binary, "simulate", "--baud", baud, "--count", "1"};
            args.insert(args.end(), where.begin(), where.end());
            const auto sim = run_process(args);
            EXPECT_EQ(sim.status, 2) << baud << ": " << sim.err;
            EXPECT_EQ(sim.out, "") << baud;
            EXPECT_NE(sim.err.find(std::string("--baud ") + baud + ": serial ports take 300, "),
                      std::string::npos)
                << sim.err;
            EXPECT_NE(sim.err.find("57600 or 115200"), std::string::npos) << sim.err;
        }
    }
    struct stat st {};
    EXPECT_NE(::stat(file.c_str(), &st), 0) << "the output file was created";
    // The speeds the configuration takes are all accepted, 1800 too.
    const auto ok = run_process(
        {binary, "simulate", "--baud", "1800", "--device", file, "--speed", "max", "--count", "1"});
    EXPECT_EQ(ok.status, 0) << ok.err;
}

}  // namespace
}  // namespace evn_mbus::test
