// The local HTTP API (http.listen): the latest reading and the daemon's status as JSON,
// Prometheus metrics, and the readings as server-sent events. It runs on the daemon's one
// io_context beside the serial reader and the decoder, so nothing here blocks and no client can
// hold the loop: requests have a size limit and a deadline, connections a maximum, and a client
// that does not read what it is sent is dropped once a bound is reached.
//
// Every method runs on the io_context's thread.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace evn_mbus {

struct http_reply {
    unsigned status = 200;
    std::string content_type;  // empty: application/json (text/plain 0.0.4 for /metrics)
    std::string body;
};

// What the endpoints answer; called on the io_context's thread. A function left empty answers
// 503.
struct http_content {
    std::function<http_reply()> reading;  // GET /api/v1/reading (503 + JSON reason before one)
    std::function<http_reply()> status;   // GET /api/v1/status
    std::function<http_reply()> metrics;  // GET /metrics
    // The JSON of the latest reading, sent first to a new /api/v1/events client; nullopt if none.
    std::function<std::optional<std::string>()> latest_event;
};

struct http_server_options {
    boost::asio::ip::tcp::endpoint endpoint;  // port 0: any free port (local_endpoint() tells)
    std::string username, password;           // basic auth when username is non-empty
    std::size_t max_connections = 64;         // open at once, event streams included
    // To receive a whole request (and the idle time before the next one on a kept-alive
    // connection), and to send a response or an event.
    std::chrono::seconds request_timeout{10};
    // A comment line on every event stream this often, so proxies and clients see it alive.
    std::chrono::seconds event_keepalive{15};
};

struct http_server_stats {
    std::uint64_t requests = 0;      // request heads read (each answered)
    std::uint64_t refused = 0;       // connections over max_connections
    std::uint64_t bad_requests = 0;  // 400 (malformed), 413 (a body), 431 (header too large)
    std::uint64_t unauthorized = 0;  // 401
    std::size_t open = 0;            // connections open now, event streams included
    std::size_t event_clients = 0;   // event streams open now
};

struct http_server_shared;

class http_server {
  public:
    http_server(boost::asio::io_context& io, http_server_options options, http_content content,
                std::shared_ptr<spdlog::logger> log);
    ~http_server();  // stop()
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and listens. Throws std::runtime_error with what to do: "http.listen
    // 127.0.0.1:8080: the address is in use by another program; ...". After stop(), listens
    // again.
    void start();
    // Closes the listening socket and every connection; the content functions are not called
    // again (the connections still closing hold only their own state).
    void stop();

    // One "reading" event with `json` to every /api/v1/events client.
    void broadcast_reading(const std::string& json);

    http_server_stats stats() const;
    // Where it listens (the port chosen when options.endpoint's port was 0); the options'
    // endpoint before start().
    boost::asio::ip::tcp::endpoint local_endpoint() const;

  private:
    void accept_next();
    void on_accept(boost::asio::ip::tcp::socket socket);
    void refuse(boost::asio::ip::tcp::socket socket);
    void keepalive_next();

    boost::asio::io_context& io_;
    http_server_options options_;
    http_content content_;
    std::shared_ptr<spdlog::logger> log_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;      // after a failed accept (out of descriptors)
    boost::asio::steady_timer keepalive_timer_;  // the event streams' comment lines
    boost::asio::ip::tcp::endpoint bound_;
    // A new one for each start(): what stop() left behind sees it stopped.
    std::shared_ptr<http_server_shared> shared_;
    http_server_stats totals_;  // the counters of the states before, across stop() and start()
};

}  // namespace evn_mbus
