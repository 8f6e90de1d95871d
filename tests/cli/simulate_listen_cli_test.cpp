// `evn-mbus simulate --listen tcp://HOST:PORT`: a meter behind a raw serial-to-network bridge,
// as the daemon's tcp:// transport, the demo and scripts use it. The tests connect with plain
// sockets, read what arrives and decode it with `evn-mbus decode`, comparing each push with
// what the simulator says it sent (--expect).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "json_lines.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using byte_string = std::vector<std::uint8_t>;

const std::string binary = EVN_MBUS_BINARY;
const std::string evn_key = "36C66639E48A8CA4D6BC8B282A793BBB";
constexpr std::size_t push_size = 256 + 26;  // the Kaifa's two M-Bus frames

// A running `evn-mbus simulate`; its first line of stdout is the address it listens on.
class simulator {
  public:
    explicit simulator(std::vector<std::string> args) : child_(options(std::move(args))) {}

    // Empty if the simulator ended without one.
    std::string first_line() {
        child_.wait_until(
            [](const std::string& out, const std::string&) { return out.find('\n') != out.npos; },
            10s);
        const std::string& out = child_.out();
        return out.substr(0, out.find('\n'));
    }
    bool wait_for_stderr(const std::string& needle) { return child_.wait_for_stderr(needle, 10s); }
    int wait() {
        const auto status = child_.wait(20s);
        return status ? *status : -1;
    }
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

// A plain TCP client of "tcp://127.0.0.1:41234" or "tcp://[::1]:41234".
class reader {
  public:
    explicit reader(const std::string& address) {
        static const std::regex form(R"(tcp://(\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]+))");
        std::smatch m;
        if (!std::regex_match(address, m, form)) throw std::runtime_error("address " + address);
        const bool v6 = m[2].matched;
        const auto port = static_cast<std::uint16_t>(std::stoi(m[4]));
        fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error(std::strerror(errno));
        int rc = -1;
        if (v6) {
            sockaddr_in6 a{};
            a.sin6_family = AF_INET6;
            a.sin6_port = htons(port);
            ::inet_pton(AF_INET6, m[2].str().c_str(), &a.sin6_addr);
            rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a);
        } else {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(port);
            ::inet_pton(AF_INET, m[3].str().c_str(), &a.sin_addr);
            rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a);
        }
        if (rc != 0) throw std::runtime_error("connect " + address + ": " + std::strerror(errno));
    }
    ~reader() { close(); }
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;

    // Reads until the simulator closes the connection, `want` bytes have come, or `limit`.
    byte_string read(std::size_t want = SIZE_MAX, std::chrono::milliseconds limit = 15s) {
        byte_string got;
        const auto deadline = steady::now() + limit;
        while (got.size() < want && steady::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            std::uint8_t buf[4096];
            const std::size_t room = std::min(sizeof buf, want - got.size());
            const ssize_t n = ::read(fd_, buf, room);
            if (n <= 0) {
                eof_ = true;
                break;
            }
            got.insert(got.end(), buf, buf + n);
        }
        return got;
    }
    // What has arrived within `limit`: one read's worth, or nothing.
    byte_string read_available(std::chrono::milliseconds limit) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return {};
        std::uint8_t buf[4096];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) {
            eof_ = true;
            return {};
        }
        return byte_string(buf, buf + n);
    }
    void write(std::uint8_t b) { ASSERT_EQ(::write(fd_, &b, 1), 1); }
    bool eof() const noexcept { return eof_; }
    int fd() const noexcept { return fd_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
    bool eof_ = false;
};

// What `evn-mbus decode` makes of the bytes, fed to it raw on stdin.
std::vector<nlohmann::json> decoded(const byte_string& data) {
    if (data.empty()) return {};
    const auto r = run_process({binary, "decode", "--key", evn_key, "-"},
                               std::string(data.begin(), data.end()));
    return parse_json_lines(r.out);
}

// The "reading" of --expect's lines [from, to).
std::vector<nlohmann::json> expected(const std::vector<nlohmann::json>& lines, std::size_t from,
                                     std::size_t to) {
    std::vector<nlohmann::json> out;
    for (std::size_t i = from; i < to && i < lines.size(); ++i)
        out.push_back(lines[i].at("reading"));
    return out;
}

// The lost pushes of the summary line ("... 3 of them lost ..."); -1 if it is missing.
long lost_in_summary(const std::string& err, std::uint64_t sent) {
    static const std::regex form(R"((\d+) push\(es\) sent to tcp://\S+, (\d+) of them lost)");
    std::smatch m;
    if (!std::regex_search(err, m, form) || std::stoull(m[1]) != sent) return -1;
    return std::stol(m[2]);
}

class simulate_listen_cli : public ::testing::Test {
  protected:
    std::string path(const std::string& name) const { return dir_.file(name); }

    const temp_dir dir_{"evn-mbus-listen"};
};

TEST_F(simulate_listen_cli, the_first_reader_gets_every_push_even_one_that_connects_late) {
    const std::string expect = path("expect.jsonl");
    simulator sim({"--listen", "tcp://127.0.0.1:0", "--count", "5", "--speed", "max", "--key",
                   evn_key, "--seed", "3", "--expect", expect});
    const std::string address = sim.first_line();
    ASSERT_TRUE(std::regex_match(address, std::regex(R"(tcp://127\.0\.0\.1:[1-9][0-9]*)")))
        << address << sim.err();
    ASSERT_TRUE(sim.wait_for_stderr("waiting for a reader on " + address)) << sim.err();
    // Late: the meter waits for its first reader, so nothing is lost before it connects.
    std::this_thread::sleep_for(300ms);
    reader r(address);
    const byte_string data = r.read();
    EXPECT_TRUE(r.eof());
    ASSERT_EQ(sim.wait(), 0) << sim.err();
    EXPECT_EQ(data.size(), 5 * push_size);
    const auto lines = read_json_lines(expect);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(decoded(data), expected(lines, 0, 5));
    EXPECT_EQ(lost_in_summary(sim.err(), 5), 0) << sim.err();
}

TEST_F(simulate_listen_cli,
       a_reader_that_reconnects_gets_the_later_pushes_and_the_lost_are_counted) {
    // Paced: a push every 0.25 s, 37 ms long at 115200 baud; the gap between two readers
    // lasts about two pushes, which the meter sends to nobody, as behind a real bridge.
    const std::string expect = path("expect.jsonl");
    const std::size_t count = 10;
    simulator sim({"--listen", "tcp://127.0.0.1:0", "--count", std::to_string(count), "--interval",
                   "0.25", "--baud", "115200", "--frame-gap-ms", "10", "--key", evn_key, "--seed",
                   "4", "--expect", expect});
    const std::string address = sim.first_line();
    ASSERT_FALSE(address.empty()) << sim.err();
    byte_string first;
    {
        reader r(address);
        first = r.read(3 * push_size);
    }
    ASSERT_TRUE(sim.wait_for_stderr("went (it closed the connection)")) << sim.err();
    std::this_thread::sleep_for(450ms);
    reader again(address);
    const byte_string later = again.read();
    ASSERT_EQ(sim.wait(), 0) << sim.err();

    const auto lines = read_json_lines(expect);
    ASSERT_EQ(lines.size(), count);
    const auto got_first = decoded(first);
    const auto got_later = decoded(later);
    EXPECT_EQ(got_first, expected(lines, 0, 3));
    // The later pushes are the last ones, in order; those in between were lost and counted.
    ASSERT_GE(got_later.size(), 3u);
    EXPECT_EQ(got_later, expected(lines, count - got_later.size(), count));
    const long lost = lost_in_summary(sim.err(), count);
    EXPECT_GE(lost, 1) << sim.err();
    // A loaded machine may let the first reader close only after push 4 went into its socket:
    // then that one is neither read nor counted lost (a real bridge cannot count it either).
    const std::size_t accounted = 3 + got_later.size() + static_cast<std::size_t>(lost);
    EXPECT_GE(accounted, count - 1) << sim.err();
    EXPECT_LE(accounted, count) << sim.err();
    EXPECT_NE(sim.err().find("2 reader connection(s)"), std::string::npos) << sim.err();
}

TEST_F(simulate_listen_cli, a_new_reader_replaces_the_connected_one) {
    // A daemon reconnecting after a half-dead connection must get in: the old one is closed.
    const std::string expect = path("expect.jsonl");
    simulator sim({"--listen", "tcp://127.0.0.1:0", "--count", "5", "--interval", "0.3", "--baud",
                   "115200", "--frame-gap-ms", "10", "--key", evn_key, "--seed", "5", "--expect",
                   expect});
    const std::string address = sim.first_line();
    ASSERT_FALSE(address.empty()) << sim.err();
    reader old_one(address);
    const byte_string first = old_one.read(2 * push_size);
    reader new_one(address);
    ASSERT_TRUE(sim.wait_for_stderr("replaces the one from")) << sim.err();
    EXPECT_TRUE(old_one.read(SIZE_MAX, 5s).empty());
    EXPECT_TRUE(old_one.eof());
    const byte_string later = new_one.read();
    ASSERT_EQ(sim.wait(), 0) << sim.err();
    const auto lines = read_json_lines(expect);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(decoded(first), expected(lines, 0, 2));
    EXPECT_EQ(decoded(later), expected(lines, 2, 5));
    EXPECT_EQ(lost_in_summary(sim.err(), 5), 0) << sim.err();
}

TEST_F(simulate_listen_cli, ipv6_loopback_works_like_ipv4) {
    simulator sim(
        {"--listen", "tcp://[::1]:0", "--count", "2", "--speed", "max", "--key", evn_key});
    const std::string address = sim.first_line();
    if (address.empty() && sim.err().find("cannot listen") != std::string::npos) {
        GTEST_SKIP() << "no IPv6 loopback here: " << sim.err();
    }
    ASSERT_TRUE(std::regex_match(address, std::regex(R"(tcp://\[::1\]:[1-9][0-9]*)"))) << address;
    reader r(address);
    const byte_string data = r.read();
    ASSERT_EQ(sim.wait(), 0) << sim.err();
    EXPECT_EQ(data.size(), 2 * push_size);
    EXPECT_EQ(decoded(data).size(), 2u);
}

TEST_F(simulate_listen_cli, rfc2217_bad_addresses_and_a_busy_port_are_explained) {
    const auto rfc2217 =
        run_process({binary, "simulate", "--listen", "rfc2217://127.0.0.1:4000", "--count", "1"});
    EXPECT_EQ(rfc2217.status, 2);
    EXPECT_EQ(rfc2217.out, "");
    EXPECT_NE(rfc2217.err.find("raw TCP only"), std::string::npos) << rfc2217.err;
    EXPECT_NE(rfc2217.err.find("ser2net"), std::string::npos) << rfc2217.err;
    for (const char* bad : {"tcp://127.0.0.1", "127.0.0.1:0", "tcp://[::1:0", "udp://127.0.0.1:0",
                            "tcp://127.0.0.1:70000"}) {
        const auto r = run_process({binary, "simulate", "--listen", bad, "--count", "1"});
        EXPECT_EQ(r.status, 2) << bad << ": " << r.err;
        EXPECT_EQ(r.out, "") << bad;
        EXPECT_NE(r.err.find(std::string("--listen ") + bad + ": "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("tcp://HOST:PORT"), std::string::npos) << r.err;
    }
    const auto with_device = run_process({binary, "simulate", "--listen", "tcp://127.0.0.1:0",
                                          "--device", path("out.bin"), "--count", "1"});
    EXPECT_EQ(with_device.status, 2) << with_device.err;
    EXPECT_NE(with_device.err.find("cannot be used with --device"), std::string::npos)
        << with_device.err;

    simulator first({"--listen", "tcp://127.0.0.1:0", "--count", "1", "--key", evn_key});
    const std::string address = first.first_line();
    ASSERT_FALSE(address.empty()) << first.err();
    const auto busy = run_process({binary, "simulate", "--listen", address, "--count", "1"});
    EXPECT_EQ(busy.status, 1) << busy.err;
    EXPECT_NE(busy.err.find("cannot listen on " + address), std::string::npos) << busy.err;
}

// Splits what an AMIS meter sends into its frames: SND_NKE (10 40 F0 30 16) and SND_UD long
// frames (68 L L 68 ... 16); anything else is skipped a byte at a time.
class mbus_frame_splitter {
  public:
    // The frames completed by `more`, as their first byte (10h or 68h).
    std::vector<std::uint8_t> feed(const byte_string& more) {
        buffer_.insert(buffer_.end(), more.begin(), more.end());
        std::vector<std::uint8_t> frames;
        for (;;) {
            if (buffer_.empty()) break;
            std::size_t size = 0;
            if (buffer_[0] == 0x10) {
                size = 5;
            } else if (buffer_[0] == 0x68) {
                if (buffer_.size() < 2) break;
                size = std::size_t{buffer_[1]} + 6;
            } else {
                buffer_.erase(buffer_.begin());
                continue;
            }
            if (buffer_.size() < size) break;
            frames.push_back(buffer_[0]);
            buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(size));
        }
        return frames;
    }

  private:
    byte_string buffer_;
};

TEST_F(simulate_listen_cli, an_amis_meter_over_tcp_gets_every_push_acknowledged) {
    const std::string report = path("report.json");
    simulator sim({"--link-layer", "amis", "--listen", "tcp://127.0.0.1:0", "--count", "5",
                   "--speed", "5", "--key", evn_key, "--report", report});
    const std::string address = sim.first_line();
    ASSERT_FALSE(address.empty()) << sim.err();
    reader r(address);
    mbus_frame_splitter splitter;
    std::size_t searches = 0, pushes = 0;
    const auto deadline = steady::now() + 15s;
    // The reader's part: E5h for the search and for every push, as evn-mbus run answers.
    while (!r.eof() && steady::now() < deadline) {
        for (const std::uint8_t start : splitter.feed(r.read_available(200ms))) {
            ++(start == 0x10 ? searches : pushes);
            r.write(0xE5);
        }
    }
    ASSERT_EQ(sim.wait(), 0) << sim.err();
    EXPECT_TRUE(r.eof());
    EXPECT_EQ(searches, 1u);
    EXPECT_EQ(pushes, 5u);
    std::ifstream in(report);
    nlohmann::json figures;
    in >> figures;
    EXPECT_EQ(figures.at("searches_answered"), 1) << figures.dump();
    EXPECT_EQ(figures.at("pushes"), 5) << figures.dump();
    EXPECT_EQ(figures.at("acknowledged"), 5) << figures.dump();
    EXPECT_EQ(figures.at("repeats"), 0) << figures.dump();
    EXPECT_EQ(figures.at("missing"), 0) << figures.dump();
    EXPECT_EQ(figures.at("late"), 0) << figures.dump();
    EXPECT_EQ(lost_in_summary(sim.err(), 5), 0) << sim.err();
}

}  // namespace
}  // namespace evn_mbus::test
