// The HTTP API server for the tests: on 127.0.0.1 on its own io_context, run by a thread as
// the daemon's loop, with fake content; curl as a well-behaved client, raw sockets as the others.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <chrono>
#include <future>
#include <thread>

#include "child_process.hpp"
#include "http_server.hpp"
#include "loopback_port.hpp"

namespace evn_mbus::http_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline const std::string curl_path = "/usr/bin/curl";

// The server on its own io_context, run by a thread as the daemon's loop; the test calls it
// through on_io() only.
class running_server {
  public:
    explicit running_server(http_server_options options = {}) {
        options.endpoint = {asio::ip::make_address("127.0.0.1"), test::free_port()};
        log_ = std::make_shared<spdlog::logger>("http", sink_);
        log_->set_level(spdlog::level::debug);
        http_content content;
        content.reading = [this] {
            if (reading_.empty()) {
                return http_reply{503, "application/json",
                                  R"({"error":"no_reading","message":"no reading yet"})"};
            }
            return http_reply{200, "application/json", reading_};
        };
        content.status = [] { return http_reply{200, {}, R"({"state":"running"})"}; };
        content.metrics = [] {
            return http_reply{200, "text/plain; version=0.0.4; charset=utf-8",
                              "# TYPE evn_mbus_up gauge\nevn_mbus_up 1\n"};
        };
        content.latest_event = [this]() -> std::optional<std::string> {
            if (reading_.empty()) return std::nullopt;
            return reading_;
        };
        server_ = std::make_unique<http_server>(io_, options, std::move(content), log_);
        server_->start();
        port_ = server_->local_endpoint().port();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~running_server() {
        on_io([this] { server_->stop(); });
        work_.reset();
        io_.stop();
        thread_.join();
    }

    template <class F>
    auto on_io(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto done = task.get_future();
        asio::post(io_, [&task] { task(); });
        return done.get();
    }
    // Polls `pred` on the io_context until it holds or `limit` passes.
    template <class F>
    bool eventually(F pred, std::chrono::milliseconds limit = 10s) {
        const auto end = steady::now() + limit;
        while (steady::now() < end) {
            if (on_io(pred)) return true;
            std::this_thread::sleep_for(20ms);
        }
        return on_io(pred);
    }

    void set_reading(std::string json) {
        on_io([&] { reading_ = json; });
    }
    http_server_stats stats() {
        return on_io([this] { return server_->stats(); });
    }
    std::size_t log_count(const std::string& needle) {
        const auto lines = sink_->last_formatted();
        return static_cast<std::size_t>(std::count_if(
            lines.begin(), lines.end(),
            [&](const std::string& line) { return line.find(needle) != std::string::npos; }));
    }

    asio::io_context& io() { return io_; }
    http_server& server() { return *server_; }
    std::uint16_t port() const { return port_; }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

  private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_ =
        std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4000);
    std::shared_ptr<spdlog::logger> log_;
    std::string reading_;  // on the io_context's thread
    std::unique_ptr<http_server> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

struct http_answer {
    int exit = -1;
    int status = 0;
    std::string headers;  // lower case
    std::string body;
    std::string err;

    bool has_header(const std::string& line) const {
        return headers.find("\r\n" + line + "\r\n") != std::string::npos;
    }
};

// curl -i with `args`; the status, the head (lower case) and the body.
inline http_answer curl(std::vector<std::string> args) {
    std::vector<std::string> argv{curl_path, "-sS", "-i", "--max-time", "10"};
    argv.insert(argv.end(), args.begin(), args.end());
    const test::process_result r = test::run_process(argv);
    http_answer a;
    a.exit = r.status;
    a.err = r.err;
    const std::size_t end = r.out.find("\r\n\r\n");
    if (end == std::string::npos) return a;
    a.headers = r.out.substr(0, end + 2);
    std::transform(a.headers.begin(), a.headers.end(), a.headers.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    a.body = r.out.substr(end + 4);
    if (a.headers.rfind("http/1.1 ", 0) == 0) a.status = std::stoi(a.headers.substr(9, 3));
    return a;
}

// A client socket on 127.0.0.1:port, blocking; -1 if the connection failed.
inline int connect_to(std::uint16_t port, int receive_buffer = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (receive_buffer > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline bool send_text(int fd, const std::string& text) {
    return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

// Reads until the peer closes (true) or `limit` passes (false); what came is in `got`.
inline bool read_until_closed(int fd, std::chrono::milliseconds limit, std::string* got = nullptr) {
    const auto end = steady::now() + limit;
    char buffer[4096];
    while (steady::now() < end) {
        pollfd p{fd, POLLIN, 0};
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - steady::now());
        if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) continue;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return true;  // the end, or a reset
        if (got) got->append(buffer, static_cast<std::size_t>(n));
    }
    return false;
}

inline const std::string status_request = "GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}  // namespace evn_mbus::http_test
