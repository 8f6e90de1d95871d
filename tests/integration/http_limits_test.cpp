// The HTTP API server against clients that would hold the daemon's loop: an oversized head,
// malformed ones, a slow one, a flood of connections while a timer on the same io_context keeps
// ticking, and event clients that do not read or that talk.
#include <gtest/gtest.h>

#include "http_test_server.hpp"

namespace evn_mbus {
namespace {

using namespace http_test;

TEST(http_limits, huge_head_is_431_and_the_server_goes_on) {
    running_server s;
    const http_answer huge =
        curl({"-H", "X-Big: " + std::string(100 * 1024, 'a'), s.url("/api/v1/status")});
    EXPECT_TRUE(huge.status == 431 || huge.status == 0) << huge.status << huge.err;
    std::printf("curl with a 100 KiB header: %s\n",
                huge.status == 431 ? "431" : ("closed: " + huge.err).c_str());
    if (huge.status == 431) {
        EXPECT_TRUE(huge.has_header("connection: close"));
    }
    // Just under the limit is fine.
    EXPECT_EQ(curl({"-H", "X-Big: " + std::string(7 * 1024, 'a'), s.url("/api/v1/status")}).status,
              200);
    // A raw client sees 431 too.
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    send_text(fd,
              "GET /api/v1/status HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'b') + "\r\n\r\n");
    std::string got;
    EXPECT_TRUE(read_until_closed(fd, 5s, &got));
    EXPECT_EQ(got.rfind("HTTP/1.1 431 ", 0), 0u) << got.substr(0, 100);
    ::close(fd);
    EXPECT_EQ(curl({s.url("/api/v1/status")}).status, 200);
    EXPECT_GE(s.stats().bad_requests, 1u);
}

TEST(http_limits, malformed_request_is_400_and_closed) {
    running_server s;
    for (const char* request : {"GARBAGE\r\n\r\n", "GET /api/v1/status HTTP/9.9\r\n\r\n",
                                "GET /api/v1/status HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                                "GET /api/v1/status HTTP/1.1\r\nBad Field: 1\r\n\r\n"}) {
        const int fd = connect_to(s.port());
        ASSERT_GE(fd, 0);
        send_text(fd, request);
        std::string got;
        EXPECT_TRUE(read_until_closed(fd, 5s, &got)) << request;
        EXPECT_EQ(got.rfind("HTTP/1.1 400 ", 0), 0u) << request << got;
        ::close(fd);
    }
    EXPECT_EQ(s.stats().bad_requests, 4u);
    EXPECT_EQ(curl({s.url("/api/v1/status")}).status, 200);
}

TEST(http_limits, client_that_does_not_read_answers_is_dropped) {
    http_server_options o;
    o.request_timeout = 1s;
    running_server s(o);
    s.set_reading(R"({"pad":")" + std::string(64 * 1024, 'x') + R"("})");
    const int fd = connect_to(s.port(), 2048);
    ASSERT_GE(fd, 0);
    std::string requests;
    for (int i = 0; i < 200; ++i)
        requests += "GET /api/v1/reading HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(send_text(fd, requests));
    ASSERT_TRUE(s.eventually([&] { return s.server().stats().open == 1; }));
    // The answers fill the socket's buffers; the write that waits times out and ends it.
    EXPECT_TRUE(s.eventually([&] { return s.server().stats().open == 0; }));
    EXPECT_LT(s.stats().requests, 200u);
    ::close(fd);
    EXPECT_EQ(curl({s.url("/api/v1/status")}).status, 200);
}

TEST(http_limits, slowloris_is_closed_after_request_timeout) {
    http_server_options o;
    o.request_timeout = 1s;
    running_server s(o);
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    const auto start = steady::now();
    const std::string request =
        "GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(100, 's') +
        "\r\n\r\n";
    bool closed = false;
    for (std::size_t i = 0; i < request.size() && !closed; ++i) {
        send_text(fd, request.substr(i, 1));
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) == 1) {
            char c = 0;
            closed = ::recv(fd, &c, 1, 0) <= 0;
        }
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
    std::printf("slow client closed after %ld ms\n", static_cast<long>(took.count()));
    EXPECT_TRUE(closed);
    EXPECT_GE(took, 900ms);
    EXPECT_LT(took, 5000ms);
    ::close(fd);
    EXPECT_EQ(curl({s.url("/api/v1/status")}).status, 200);
}

// A timer on the server's io_context that measures how late it runs.
class lateness_probe {
  public:
    explicit lateness_probe(asio::io_context& io) : timer_(io) {}
    void start() {
        timer_.expires_after(10ms);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            const auto late = steady::now() - timer_.expiry();
            max_us_ = std::max<long>(
                max_us_, std::chrono::duration_cast<std::chrono::microseconds>(late).count());
            ++ticks_;
            start();
        });
    }
    void cancel() { timer_.cancel(); }
    long max_us() const { return max_us_; }
    long ticks() const { return ticks_; }

  private:
    asio::steady_timer timer_;
    std::atomic<long> max_us_{0};
    std::atomic<long> ticks_{0};
};

TEST(http_limits, thousand_connections_at_once_stay_bounded) {
    http_server_options o;
    o.max_connections = 50;
    o.request_timeout = 8s;
    running_server s(o);
    lateness_probe probe(s.io());
    s.on_io([&] { probe.start(); });

    std::vector<int> fds;
    for (int i = 0; i < 1000; ++i) {
        const int fd = connect_to(s.port());
        if (fd >= 0) fds.push_back(fd);
    }
    EXPECT_EQ(fds.size(), 1000u);
    for (const int fd : fds)
        send_text(fd, status_request);
    // Each socket ends with an answer (200 or 503) or closed without one.
    std::size_t served = 0, busy = 0, closed = 0;
    const auto end = steady::now() + 15s;
    for (const int fd : fds) {
        std::string got;
        while (got.find("\r\n\r\n") == std::string::npos && steady::now() < end) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 100) != 1) continue;
            char buffer[1024];
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            got.append(buffer, static_cast<std::size_t>(n));
        }
        if (got.rfind("HTTP/1.1 200 ", 0) == 0) {
            ++served;
        } else if (got.rfind("HTTP/1.1 503 ", 0) == 0) {
            ++busy;
            EXPECT_NE(got.find("Retry-After: 1\r\n"), std::string::npos) << got;
        } else if (got.empty()) {
            ++closed;
        }
    }
    std::printf("served %zu, 503 %zu, closed %zu, timer at most %ld us late (%ld ticks)\n", served,
                busy, closed, probe.max_us(), probe.ticks());
    EXPECT_GE(served, 1u);
    EXPECT_LE(served, 50u);
    EXPECT_EQ(served + busy + closed, 1000u);
    EXPECT_GE(s.stats().refused, 950u);
    EXPECT_LE(s.stats().open, 50u);
    EXPECT_LT(probe.max_us(), 1'000'000);
    EXPECT_EQ(s.log_count("refused a connection"), 1u);
    EXPECT_EQ(s.log_count("raise http.max_connections"), 1u);

    for (const int fd : fds)
        ::close(fd);
    EXPECT_TRUE(s.eventually([&] { return s.server().stats().open == 0; }));
    EXPECT_EQ(curl({s.url("/api/v1/status")}).status, 200);
    s.on_io([&] { probe.cancel(); });
}

TEST(http_limits, event_client_that_does_not_read_is_dropped) {
    http_server_options o;
    o.request_timeout = 30s;  // only the bound on unsent events can drop it in time
    running_server s(o);
    const int fd = connect_to(s.port(), 2048);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_text(fd, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(s.eventually([&] { return s.server().stats().event_clients == 1; }));
    const std::string big = R"({"pad":")" + std::string(32 * 1024, 'x') + R"("})";
    bool dropped = false;
    for (int i = 0; i < 1000 && !dropped; ++i) {
        dropped = s.on_io([&] {
            s.server().broadcast_reading(big);
            return s.server().stats().event_clients == 0;
        });
        if (i % 10 == 0) std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(dropped);
    EXPECT_EQ(s.log_count("did not read what it was sent"), 1u);
    ::close(fd);
    // Nor does one that sends and sends after its request.
    const int talker = connect_to(s.port());
    ASSERT_GE(talker, 0);
    ASSERT_TRUE(send_text(talker, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(s.eventually([&] { return s.server().stats().event_clients == 1; }));
    const std::string chatter(16 * 1024, 'z');
    bool closed = false;
    for (int i = 0; i < 64 && !closed; ++i)
        closed = !send_text(talker, chatter);
    EXPECT_TRUE(s.eventually([&] { return s.server().stats().event_clients == 0; }));
    ::close(talker);
    EXPECT_EQ(curl({s.url("/api/v1/status")}).status, 200);
}

}  // namespace
}  // namespace evn_mbus
