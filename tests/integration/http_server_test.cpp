// The HTTP API server on 127.0.0.1 with curl as its client: endpoints, HEAD, keep-alive, basic
// auth, methods, traversal, event streams, stop(), and why start() cannot listen. Hostile
// clients are in http_limits_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include "http_test_server.hpp"

namespace evn_mbus {
namespace {

using namespace http_test;

TEST(http_server, endpoints_answer_with_type_and_body) {
    running_server s;
    s.set_reading(R"({"w_p":123})");
    const http_answer reading = curl({s.url("/api/v1/reading")});
    EXPECT_EQ(reading.status, 200) << reading.err;
    EXPECT_TRUE(reading.has_header("content-type: application/json"));
    EXPECT_TRUE(reading.has_header("cache-control: no-store"));
    EXPECT_EQ(reading.body, R"({"w_p":123})");

    const http_answer status = curl({s.url("/api/v1/status?verbose=1")});
    EXPECT_EQ(status.status, 200);
    EXPECT_TRUE(status.has_header("content-type: application/json"));
    EXPECT_EQ(status.body, R"({"state":"running"})");

    const http_answer metrics = curl({s.url("/metrics")});
    EXPECT_EQ(metrics.status, 200);
    EXPECT_TRUE(metrics.has_header("content-type: text/plain; version=0.0.4; charset=utf-8"));
    EXPECT_TRUE(metrics.has_header("cache-control: no-store"));
    EXPECT_EQ(metrics.body, "# TYPE evn_mbus_up gauge\nevn_mbus_up 1\n");

    const http_answer missing = curl({s.url("/api/v2/reading")});
    EXPECT_EQ(missing.status, 404);
    EXPECT_TRUE(missing.has_header("content-type: application/json"));
    EXPECT_NE(missing.body.find(R"("error":"not_found")"), std::string::npos);
    EXPECT_EQ(s.stats().requests, 4u);
    EXPECT_EQ(s.log_count("HTTP API on " + s.url("/") + " (basic auth off)"), 1u);
}

TEST(http_server, reading_is_503_before_the_first_reading) {
    running_server s;
    const http_answer a = curl({s.url("/api/v1/reading")});
    EXPECT_EQ(a.status, 503);
    EXPECT_TRUE(a.has_header("content-type: application/json"));
    EXPECT_NE(a.body.find("no reading yet"), std::string::npos);
}

TEST(http_server, head_has_content_length_and_no_body) {
    running_server s;
    s.set_reading(R"({"w_p":123})");
    const http_answer a = curl({"-I", s.url("/api/v1/reading")});
    EXPECT_EQ(a.status, 200) << a.err;
    EXPECT_TRUE(a.has_header("content-length: 11")) << a.headers;
    EXPECT_EQ(a.body, "");
    // A raw HEAD: the head ends the answer, the connection stays for the next request.
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_text(fd, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n" + status_request));
    std::string got;
    while (got.find(R"({"state":"running"})") == std::string::npos) {
        char buffer[1024];
        pollfd p{fd, POLLIN, 0};
        ASSERT_EQ(::poll(&p, 1, 5000), 1) << got;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        ASSERT_GT(n, 0) << got;
        got.append(buffer, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(got.find("evn_mbus_up"), std::string::npos);
    EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
    ::close(fd);
    // HEAD on the event stream: its head, and the end of the connection.
    const http_answer events = curl({"-I", s.url("/api/v1/events")});
    EXPECT_EQ(events.status, 200) << events.err;
    EXPECT_TRUE(events.has_header("content-type: text/event-stream")) << events.headers;
    EXPECT_EQ(s.stats().event_clients, 0u);
}

TEST(http_server, http_1_0_is_answered_and_closed) {
    running_server s;
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_text(fd, "GET /api/v1/status HTTP/1.0\r\n\r\n"));
    std::string got;
    EXPECT_TRUE(read_until_closed(fd, 5s, &got));
    EXPECT_EQ(got.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << got;
    EXPECT_NE(got.find("\r\n\r\n{\"state\":\"running\"}"), std::string::npos) << got;
    ::close(fd);
}

TEST(http_server, keep_alive_then_idle_timeout) {
    http_server_options o;
    o.request_timeout = 1s;
    running_server s(o);
    // curl reuses its connection for the second URL.
    const test::process_result r =
        test::run_process({curl_path, "-sS", "-v", "-o", "/dev/null", "-o", "/dev/null",
                           s.url("/api/v1/status"), s.url("/metrics")});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("Re-using existing connection"), std::string::npos) << r.err;
    // An idle kept-alive connection is closed after request_timeout.
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_text(fd, status_request));
    const auto sent = steady::now();
    std::string got;
    EXPECT_TRUE(read_until_closed(fd, 8s, &got));
    const auto took = steady::now() - sent;
    EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
    EXPECT_GE(took, 900ms);
    ::close(fd);
}

TEST(http_server, basic_auth_right_wrong_and_missing) {
    http_server_options o;
    o.username = "meter";
    o.password = "sëcret:1";
    running_server s(o);
    for (const char* path : {"/api/v1/reading", "/api/v1/status", "/metrics", "/nothing"}) {
        const http_answer missing = curl({s.url(path)});
        EXPECT_EQ(missing.status, 401) << path;
        EXPECT_TRUE(
            missing.has_header(R"(www-authenticate: basic realm="evn-mbus", charset="utf-8")"))
            << missing.headers;
        EXPECT_EQ(curl({"-u", "meter:wrong", s.url(path)}).status, 401) << path;
        EXPECT_EQ(curl({"-u", "Meter:sëcret:1", s.url(path)}).status, 401) << path;
    }
    EXPECT_EQ(curl({"-u", "meter:sëcret:1", s.url("/api/v1/status")}).status, 200);
    EXPECT_EQ(curl({"-u", "meter:sëcret:1", s.url("/metrics")}).status, 200);
    EXPECT_EQ(curl({"-u", "meter:sëcret:1", s.url("/nothing")}).status, 404);
    EXPECT_EQ(s.stats().unauthorized, 12u);
    EXPECT_EQ(s.log_count("HTTP API on " + s.url("/") + " (basic auth on)"), 1u);
    // Wrong credentials are said once a minute, never with the password.
    EXPECT_EQ(s.log_count("wrong user name or password"), 1u);
    EXPECT_EQ(s.log_count("sëcret"), 0u);
    EXPECT_EQ(s.log_count("Basic "), 0u);
}

TEST(http_server, other_methods_are_405_and_bodies_413) {
    running_server s;
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
        const http_answer a = curl({"-X", method, s.url("/api/v1/reading")});
        EXPECT_EQ(a.status, 405) << method;
        EXPECT_TRUE(a.has_header("allow: get, head")) << a.headers;
    }
    // A POST with a body is 405 too, and the body is not read: the connection ends.
    const http_answer post = curl({"-d", "x=1", s.url("/api/v1/reading")});
    EXPECT_EQ(post.status, 405);
    EXPECT_TRUE(post.has_header("connection: close")) << post.headers;
    const http_answer body = curl({"-X", "GET", "-d", "x=1", s.url("/api/v1/reading")});
    EXPECT_EQ(body.status, 413);
    EXPECT_TRUE(body.has_header("connection: close")) << body.headers;
    const http_answer chunked = curl(
        {"-X", "GET", "-H", "Transfer-Encoding: chunked", "-d", "x=1", s.url("/api/v1/status")});
    EXPECT_EQ(chunked.status, 413);
    EXPECT_EQ(curl({s.url("/api/v1/status")}).status, 200);
}

TEST(http_server, path_traversal_variants_are_404) {
    running_server s;
    for (const char* path : {"/../etc/passwd", "/api/v1/../v1/status", "/%2e%2e/%2e%2e/etc/passwd",
                             "/api/v1/%2e%2e/v1/status", "//api/v1/status", "/api/v1//status",
                             "/api/v1/status/", "/api/v1/./status", "/metrics/..",
                             "/%2fetc%2fpasswd", "/api/v1/status%00", "/.env", "/index.html"}) {
        const http_answer a = curl({"--path-as-is", s.url(path)});
        EXPECT_EQ(a.status, 404) << path;
        EXPECT_TRUE(a.has_header("content-type: application/json")) << path;
    }
}

TEST(http_server, events_send_latest_first_then_broadcasts) {
    running_server s;
    s.set_reading(R"({"n":1})");
    test::child_process c({curl_path, "-sS", "-N", "-i", s.url("/api/v1/events")});
    ASSERT_TRUE(c.wait_until(
        [](const std::string& out, const std::string&) {
            return out.find("data: {\"n\":1}\n\n") != std::string::npos;
        },
        10s))
        << c.out() << c.err();
    ASSERT_TRUE(s.eventually([&] { return s.server().stats().event_clients == 1; }));
    s.on_io([&] { s.server().broadcast_reading(R"({"n":2})"); });
    s.on_io([&] { s.server().broadcast_reading("{\n\"n\": 3\n}"); });
    ASSERT_TRUE(c.wait_until(
        [](const std::string& out, const std::string&) {
            return out.find("data: }\n\n") != std::string::npos;
        },
        10s))
        << c.out();
    std::string out = c.out();
    std::transform(out.begin(), out.begin() + static_cast<long>(out.find("\r\n\r\n")), out.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    EXPECT_NE(out.find("content-type: text/event-stream\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("cache-control: no-cache\r\n"), std::string::npos);
    EXPECT_NE(out.find("x-accel-buffering: no\r\n"), std::string::npos);
    const std::string body = out.substr(out.find("\r\n\r\n") + 4);
    EXPECT_EQ(body,
              "retry: 5000\n\n"
              "event: reading\ndata: {\"n\":1}\n\n"
              "event: reading\ndata: {\"n\":2}\n\n"
              "event: reading\ndata: {\ndata: \"n\": 3\ndata: }\n\n");
    s.on_io([&] { s.server().stop(); });
    EXPECT_TRUE(c.wait(5000ms).has_value());
}

TEST(http_server, events_without_reading_and_keepalive_comments) {
    http_server_options o;
    o.event_keepalive = 1s;
    o.request_timeout = 1s;
    running_server s(o);
    test::child_process c({curl_path, "-sS", "-N", s.url("/api/v1/events")});
    // Two comments a second apart: the stream outlived the request deadline.
    ASSERT_TRUE(c.wait_until(
        [](const std::string& out, const std::string&) {
            return out.find(": keepalive\n\n: keepalive\n\n") != std::string::npos;
        },
        10s))
        << c.out() << c.err();
    EXPECT_EQ(c.out(), "retry: 5000\n\n: keepalive\n\n: keepalive\n\n");
    EXPECT_EQ(s.stats().event_clients, 1u);
}

TEST(http_server, stop_closes_event_streams) {
    running_server s;
    std::vector<std::unique_ptr<test::child_process>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<test::child_process>(
            std::vector<std::string>{curl_path, "-sS", "-N", s.url("/api/v1/events")}));
    }
    ASSERT_TRUE(s.eventually([&] { return s.server().stats().event_clients == 3; }));
    s.on_io([&] { s.server().stop(); });
    for (auto& c : clients)
        EXPECT_TRUE(c->wait(5000ms).has_value());
    EXPECT_EQ(s.stats().open, 0u);
    EXPECT_FALSE(test::accepts_connections(s.port()));
}

TEST(http_server, start_says_why_it_cannot_listen) {
    asio::io_context io;
    const std::uint16_t port = test::free_port();
    asio::ip::tcp::acceptor other(io, {asio::ip::make_address("127.0.0.1"), port});
    http_server_options o;
    o.endpoint = {asio::ip::make_address("127.0.0.1"), port};
    http_server in_use(io, o, {}, nullptr);
    try {
        in_use.start();
        ADD_FAILURE() << "listened on a port in use";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("http.listen 127.0.0.1:" + std::to_string(port) +
                                             ": the address is in use by another program"),
                  std::string::npos)
            << e.what();
    }
    o.endpoint = {asio::ip::make_address("192.0.2.1"), port};  // TEST-NET-1: nobody's
    http_server elsewhere(io, o, {}, nullptr);
    try {
        elsewhere.start();
        ADD_FAILURE() << "listened on an address not on this machine";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("not one of this machine's"), std::string::npos)
            << e.what();
    }
    if (::geteuid() != 0) {
        o.endpoint = {asio::ip::make_address("127.0.0.1"), 81};
        http_server low(io, o, {}, nullptr);
        try {
            low.start();
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("permission denied"), std::string::npos)
                << e.what();
        }
    }
}

}  // namespace
}  // namespace evn_mbus
