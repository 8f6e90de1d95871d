// The network reader (serial.device tcp://...) against a bridge the test plays on a loopback
// socket: bytes in and answers out, the socket options that notice a dead bridge, reconnection
// with backoff (said once, never a busy loop), a bridge that accepts and closes at once, a
// connection that ends mid-telegram, IPv6 and a host name. ser2net itself is in the e2e tests.
#include "net_reader.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "evn_mbus/error.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "fixture_loader.hpp"
#include "loopback_port.hpp"

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
using test::bytes;

// The bridge's side: a listening socket on loopback, driven by the test thread.
class test_bridge {
  public:
    explicit test_bridge(bool ipv6 = false, std::uint16_t port = 0) {
        fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ipv6) {
            sockaddr_in6 a{};
            a.sin6_family = AF_INET6;
            a.sin6_addr = in6addr_loopback;
            a.sin6_port = htons(port);
            EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
            socklen_t len = sizeof a;
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
            port_ = ntohs(a.sin6_port);
        } else {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons(port);
            EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
            socklen_t len = sizeof a;
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
            port_ = ntohs(a.sin_port);
        }
        EXPECT_EQ(::listen(fd_, 8), 0);
    }
    ~test_bridge() {
        close_client();
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }

    // Accepts the next connection (the one before is closed); false after `limit`.
    bool accept(std::chrono::milliseconds limit = 5000ms) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return false;
        close_client();
        client_ = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client_ >= 0) ++accepted_;
        return client_ >= 0;
    }
    int accepted() const { return accepted_; }
    void send(std::span<const std::uint8_t> b) {
        ASSERT_EQ(::send(client_, b.data(), b.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(b.size()));
    }
    // What the reader wrote, up to `n` bytes within `limit`.
    bytes receive(std::size_t n, std::chrono::milliseconds limit = 5000ms) {
        bytes out;
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
            pollfd p{client_, POLLIN, 0};
            if (::poll(&p, 1, 50) != 1) continue;
            std::uint8_t buf[256];
            const ssize_t got = ::recv(client_, buf, std::min(sizeof buf, n - out.size()), 0);
            if (got <= 0) break;
            out.insert(out.end(), buf, buf + got);
        }
        return out;
    }
    void close_client() {
        if (client_ >= 0) ::close(client_);
        client_ = -1;
    }

  private:
    int fd_ = -1;
    int client_ = -1;
    std::uint16_t port_ = 0;
    int accepted_ = 0;
};

// The reader and a decoder on an Asio loop in a background thread; events recorded in order.
class net_rig {
  public:
    struct event {
        enum kind { open, failure, retry, reading, error, idle, note } what;
        std::string text;
    };

    net_rig(const std::string& address, const decoder_keys& keys,
            std::chrono::milliseconds idle_gap = 1000ms)
        : decoder_(keys) {
        serial_config cfg;
        cfg.device = address;
        cfg.idle_gap = idle_gap;
        cfg.reopen_max = std::chrono::seconds(1);
        auto parsed = parse_serial_endpoint(address);
        EXPECT_TRUE(std::holds_alternative<serial_endpoint>(parsed)) << address;
        meter_line::handlers h;
        h.on_bytes = [this](std::span<const std::uint8_t> b) {
            decoder_.feed(b);
            drain();
        };
        h.on_idle = [this] {
            record({event::idle, {}});
            decoder_.on_idle_gap();
            drain();
        };
        h.on_open = [this] { record({event::open, {}}); };
        h.on_failure = [this](const std::string& what, bool first) {
            record({first ? event::failure : event::retry, what});
        };
        h.on_note = [this](const std::string& what, bool) { record({event::note, what}); };
        reader_ =
            std::make_unique<net_reader>(io_, cfg, std::get<serial_endpoint>(parsed), std::move(h));
        boost::asio::post(io_, [this] { reader_->start(); });
        work_ = std::thread([this] {
            auto guard = boost::asio::make_work_guard(io_);
            io_.run();
        });
    }
    ~net_rig() {
        boost::asio::post(io_, [this] {
            reader_->stop();
            io_.stop();
        });
        work_.join();
    }

    template <typename Pred>
    bool wait_for(Pred pred, std::chrono::milliseconds limit = 5000ms) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return pred(events_); });
    }
    bool wait_count(event::kind k, std::size_t n, std::chrono::milliseconds limit = 5000ms) {
        return wait_for([&](const auto& ev) { return count(ev, k) >= n; }, limit);
    }
    std::vector<event> events() {
        std::lock_guard lock(mutex_);
        return events_;
    }
    static std::size_t count(const std::vector<event>& ev, event::kind k) {
        return static_cast<std::size_t>(
            std::count_if(ev.begin(), ev.end(), [k](const event& e) { return e.what == k; }));
    }
    // Runs `f` on the loop and returns its result.
    template <typename F>
    auto on_loop(F f) {
        std::packaged_task<decltype(f(*reader_))()> task([&] { return f(*reader_); });
        auto result = task.get_future();
        boost::asio::post(io_, [&task] { task(); });
        return result.get();
    }

  private:
    void drain() {
        for (;;) {
            const auto ev = decoder_.next();
            if (ev.what == decode_event::kind::need_more) return;
            if (ev.what == decode_event::kind::reading) {
                record({event::reading, ev.value->meter_number});
            } else {
                record({event::error, std::string(error_name(ev.error))});
            }
        }
    }
    void record(event e) {
        {
            std::lock_guard lock(mutex_);
            events_.push_back(std::move(e));
        }
        changed_.notify_all();
    }

    boost::asio::io_context io_;
    telegram_decoder decoder_;
    std::unique_ptr<net_reader> reader_;
    std::thread work_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<event> events_;
};

const test::capture& evn() {
    return test::capture_by_id("evn_kaifa_ma309_doc");
}

std::string local(std::uint16_t port) {
    return "tcp://127.0.0.1:" + std::to_string(port);
}

void send_push(test_bridge& b) {
    for (const bytes& frame : evn().frames)
        b.send(frame);
}

TEST(net_reader, a_push_through_raw_tcp_decodes_and_the_answer_goes_back) {
    test_bridge bridge;
    net_rig rig(local(bridge.port()), evn().keys);
    ASSERT_TRUE(bridge.accept());
    send_push(bridge);
    ASSERT_TRUE(rig.wait_count(net_rig::event::reading, 1));
    EXPECT_EQ(rig.events().back().text, "181220000009");
    // Open once it held a second (the reading did not wait for that).
    ASSERT_TRUE(rig.wait_count(net_rig::event::open, 1));
    EXPECT_EQ(net_rig::count(rig.events(), net_rig::event::open), 1u);
    // An AMIS meter's answer, byte for byte (raw TCP: an FFh is not escaped).
    EXPECT_TRUE(rig.on_loop([](net_reader& r) {
        const std::uint8_t answer[] = {0xE5, 0xFF, 0x0D};
        return r.write(answer);
    }));
    EXPECT_EQ(bridge.receive(3), (bytes{0xE5, 0xFF, 0x0D}));
}

TEST(net_reader, keepalive_and_nodelay_are_set_so_that_a_dead_bridge_is_noticed) {
    test_bridge bridge;
    net_rig rig(local(bridge.port()), evn().keys);
    ASSERT_TRUE(bridge.accept());
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!rig.on_loop([](net_reader& r) { return r.is_open(); }) &&
           std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(10ms);
    const auto option = [&](int level, int name) {
        return rig.on_loop([level, name](net_reader& r) {
            int v = -1;
            socklen_t len = sizeof v;
            if (::getsockopt(r.native_handle(), level, name, &v, &len) != 0) return -2;
            return v;
        });
    };
    EXPECT_EQ(option(SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPIDLE), 10);
    EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPINTVL), 5);
    EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPCNT), 3);
    EXPECT_EQ(option(IPPROTO_TCP, TCP_USER_TIMEOUT), 25000);
    EXPECT_EQ(option(IPPROTO_TCP, TCP_NODELAY), 1);
}

TEST(net_reader, a_refused_connection_is_said_once_and_retried_with_backoff) {
    const std::uint16_t port = test::free_port();
    net_rig rig(local(port), evn().keys);
    ASSERT_TRUE(rig.wait_count(net_rig::event::failure, 1));
    std::this_thread::sleep_for(3s);
    auto ev = rig.events();
    EXPECT_EQ(net_rig::count(ev, net_rig::event::failure), 1u);
    EXPECT_NE(ev.front().text.find("refused the connection: nothing listens on port " +
                                   std::to_string(port)),
              std::string::npos)
        << ev.front().text;
    // 0.25 + 0.5 + 1 + 1 s ...: four or five attempts in three seconds, not thousands.
    const std::size_t attempts = 1 + net_rig::count(ev, net_rig::event::retry);
    EXPECT_GE(attempts, 3u);
    EXPECT_LE(attempts, 7u);
    // The bridge comes: the reader connects within its backoff (at most 1 s here).
    test_bridge bridge(false, port);
    ASSERT_TRUE(bridge.accept(3000ms));
    send_push(bridge);
    ASSERT_TRUE(rig.wait_count(net_rig::event::reading, 1));
    ASSERT_TRUE(rig.wait_count(net_rig::event::open, 1));
    EXPECT_EQ(net_rig::count(rig.events(), net_rig::event::failure), 1u);
}

TEST(net_reader, a_bridge_that_accepts_and_closes_at_once_is_a_failure_not_a_reconnect_loop) {
    test_bridge bridge;
    net_rig rig(local(bridge.port()), evn().keys);
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < until) {
        if (bridge.accept(100ms)) bridge.close_client();
    }
    const auto ev = rig.events();
    EXPECT_EQ(net_rig::count(ev, net_rig::event::open), 0u);
    ASSERT_EQ(net_rig::count(ev, net_rig::event::failure), 1u);
    EXPECT_NE(ev.front().text.find("accepted the connection and closed it at once"),
              std::string::npos)
        << ev.front().text;
    EXPECT_GE(bridge.accepted(), 3);
    EXPECT_LE(bridge.accepted(), 7);
}

// What Debian's ser2net 4.3 does when its serial device is missing: it accepts, says so in a
// line of text and closes. Said once, with ser2net's words, retried with a growing backoff.
TEST(net_reader, ser2net_saying_its_device_is_missing_is_one_failure_in_its_words) {
    test_bridge bridge;
    net_rig rig(local(bridge.port()), evn().keys);
    const std::string said = "Device open failure: Value or file not found\r\n";
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < until) {
        if (!bridge.accept(100ms)) continue;
        bridge.send(std::span(reinterpret_cast<const std::uint8_t*>(said.data()), said.size()));
        bridge.close_client();
    }
    const auto ev = rig.events();
    EXPECT_EQ(net_rig::count(ev, net_rig::event::open), 0u);
    ASSERT_EQ(net_rig::count(ev, net_rig::event::failure), 1u);
    const auto failure = std::find_if(
        ev.begin(), ev.end(), [](const auto& e) { return e.what == net_rig::event::failure; });
    EXPECT_NE(failure->text.find("cannot open its serial device (it said \"Device open "
                                 "failure: Value or file not found\")"),
              std::string::npos)
        << failure->text;
    EXPECT_GE(bridge.accepted(), 3);
    EXPECT_LE(bridge.accepted(), 7);
}

TEST(net_reader, a_connection_lost_mid_telegram_costs_only_that_telegram) {
    test_bridge bridge;
    net_rig rig(local(bridge.port()), evn().keys);
    ASSERT_TRUE(bridge.accept());
    const bytes& first = evn().frames[0];
    bridge.send(std::span(first).first(100));
    ASSERT_TRUE(rig.wait_count(net_rig::event::open, 1));  // the connection held a second
    bridge.close_client();
    ASSERT_TRUE(rig.wait_count(net_rig::event::failure, 1));
    ASSERT_TRUE(bridge.accept());
    send_push(bridge);
    ASSERT_TRUE(rig.wait_count(net_rig::event::reading, 1));
    ASSERT_TRUE(rig.wait_count(net_rig::event::open, 2));
    const auto ev = rig.events();
    std::vector<std::string> errors;
    for (const auto& e : ev) {
        if (e.what == net_rig::event::error) errors.push_back(e.text);
    }
    EXPECT_EQ(errors, (std::vector<std::string>{"truncated_frame"}));
    const auto lost = std::find_if(ev.begin(), ev.end(),
                                   [](const auto& e) { return e.what == net_rig::event::failure; });
    ASSERT_NE(lost, ev.end());
    EXPECT_NE(lost->text.find("closed the connection (it restarted"), std::string::npos)
        << lost->text;
    EXPECT_EQ(net_rig::count(ev, net_rig::event::open), 2u);
}

TEST(net_reader, the_idle_gap_ends_a_partial_frame_on_an_open_connection) {
    test_bridge bridge;
    net_rig rig(local(bridge.port()), evn().keys, 200ms);
    ASSERT_TRUE(bridge.accept());
    const bytes& first = evn().frames[0];
    bridge.send(std::span(first).first(120));
    ASSERT_TRUE(rig.wait_count(net_rig::event::idle, 1));
    send_push(bridge);
    ASSERT_TRUE(rig.wait_count(net_rig::event::reading, 1));
    const auto ev = rig.events();
    EXPECT_EQ(net_rig::count(ev, net_rig::event::error), 1u);
    EXPECT_EQ(net_rig::count(ev, net_rig::event::failure), 0u);
}

TEST(net_reader, an_ipv6_literal_and_a_host_name_connect) {
    for (const bool ipv6 : {true, false}) {
        test_bridge bridge(ipv6);
        const std::string address = ipv6 ? "tcp://[::1]:" + std::to_string(bridge.port())
                                         : "tcp://localhost:" + std::to_string(bridge.port());
        net_rig rig(address, evn().keys);
        // "localhost" may resolve to ::1 first: the reader tries each address in turn.
        ASSERT_TRUE(bridge.accept()) << address;
        send_push(bridge);
        ASSERT_TRUE(rig.wait_count(net_rig::event::reading, 1)) << address;
    }
}

// rfc2217:// to a bridge that passes raw bytes: the negotiation goes out, an answer to the
// meter is Telnet-escaped (FFh doubled), and after 5 s without an answer the log says to use
// tcp:// instead.
TEST(net_reader, rfc2217_to_a_raw_bridge_escapes_answers_and_says_to_write_tcp) {
    test_bridge bridge;
    net_rig rig("rfc2217://127.0.0.1:" + std::to_string(bridge.port()), evn().keys);
    ASSERT_TRUE(bridge.accept());
    // WILL COM-PORT-OPTION, WILL BINARY, DO BINARY, WILL SGA, DO SGA (RFC 2217, RFC 856, 858).
    EXPECT_EQ(bridge.receive(15), (bytes{0xFF, 0xFB, 0x2C, 0xFF, 0xFB, 0x00, 0xFF, 0xFD, 0x00, 0xFF,
                                         0xFB, 0x03, 0xFF, 0xFD, 0x03}));
    // The push as a Telnet bridge sends it: each FFh doubled (RFC 854).
    for (const bytes& frame : evn().frames) {
        bytes escaped;
        for (const std::uint8_t b : frame) {
            escaped.push_back(b);
            if (b == 0xFF) escaped.push_back(b);
        }
        bridge.send(escaped);
    }
    ASSERT_TRUE(rig.wait_count(net_rig::event::reading, 1));
    EXPECT_TRUE(rig.on_loop([](net_reader& r) {
        const std::uint8_t answer[] = {0xE5, 0xFF};
        return r.write(answer);
    }));
    EXPECT_EQ(bridge.receive(3), (bytes{0xE5, 0xFF, 0xFF}));
    ASSERT_TRUE(rig.wait_count(net_rig::event::note, 1, 8000ms));
    const auto ev = rig.events();
    const auto note = std::find_if(ev.begin(), ev.end(),
                                   [](const auto& e) { return e.what == net_rig::event::note; });
    EXPECT_NE(note->text.find("did not answer the RFC 2217 negotiation within 5 s"),
              std::string::npos)
        << note->text;
    EXPECT_NE(note->text.find("write serial.device: tcp://127.0.0.1:"), std::string::npos)
        << note->text;
}

TEST(net_reader, an_unknown_host_name_is_said_once) {
    net_rig rig("tcp://no-such-bridge.invalid:2001", evn().keys);
    ASSERT_TRUE(rig.wait_count(net_rig::event::failure, 1, 30000ms));
    const auto ev = rig.events();
    EXPECT_NE(ev.front().text.find("cannot find the host \"no-such-bridge.invalid\""),
              std::string::npos)
        << ev.front().text;
}

}  // namespace
}  // namespace evn_mbus
