// One connection of the HTTP API (http_server.hpp): requests read with a deadline and a size
// limit, answered, kept alive or closed; or, after GET /api/v1/events, an event stream that
// sends what the server broadcasts and is dropped when its client stops reading.
#pragma once

#include <spdlog/logger.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "endpoint_text.hpp"
#include "error_limiter.hpp"
#include "http_routes.hpp"
#include "http_server.hpp"

namespace evn_mbus {

class http_session;

// What a server and its connections share. The connections keep it while they close, also
// after the server has gone; once `stopped`, they do nothing but close.
struct http_server_shared {
    http_server_options options;
    http_credentials credentials;
    http_content content;
    std::shared_ptr<spdlog::logger> log;
    http_server_stats stats;  // open and event_clients: sessions.size() and event_clients
    std::size_t event_clients = 0;
    bool stopped = false;
    std::uint64_t next_id = 0;
    std::map<std::uint64_t, std::weak_ptr<http_session>> sessions;  // counted in open
    std::map<std::uint64_t, std::weak_ptr<http_session>> refusals;  // the 503s over the limit
    error_limiter limiter{std::chrono::seconds(60)};                // warnings once a minute

    // Logs `text` at `level` unless a line of this `kind` was logged in the last minute; the
    // lines held back meanwhile are counted in the next one.
    void log_limited(spdlog::level::level_enum level, const std::string& kind,
                     const std::string& text);
};

class http_session : public std::enable_shared_from_this<http_session> {
  public:
    // The most a request's head may have (request line and header fields): 431 beyond it.
    static constexpr std::uint32_t header_limit = 8 * 1024;
    // The most an event stream may have waiting to be sent before its client is dropped.
    static constexpr std::size_t max_unsent_events = 256 * 1024;

    http_session(std::shared_ptr<http_server_shared> shared, boost::asio::ip::tcp::socket socket,
                 std::uint64_t id);
    ~http_session();
    http_session(const http_session&) = delete;
    http_session& operator=(const http_session&) = delete;

    void start();   // reads and answers requests
    void refuse();  // answers 503 at once without reading, then closes
    // Queues `text` (an event or a comment) on an event stream; nothing on other connections.
    void send_event(const std::shared_ptr<const std::string>& text);
    bool streams_events() const noexcept { return events_; }
    void close();

  private:
    void read_request();
    void on_request_head(const boost::system::error_code& ec);
    void answer(const http_request_head& head);
    void answer_endpoint(const http_route& route);
    void start_events();
    // `extra`: a header field the answer adds (Allow, WWW-Authenticate), with `extra_value`.
    void respond(unsigned status, std::string_view content_type, std::string body, bool head,
                 bool keep_alive,
                 boost::beast::http::field extra = boost::beast::http::field::unknown,
                 std::string_view extra_value = {});
    void write_response();
    void close_gracefully();
    void drain();
    void read_until_closed();
    void write_next_event();
    std::string request_text() const;

    std::shared_ptr<http_server_shared> shared_;
    boost::beast::tcp_stream stream_;
    std::uint64_t id_;
    std::string peer_;
    // The head limit and the next pipelined request's first bytes; more is an overflow (431).
    boost::beast::flat_buffer buffer_{2 * header_limit};
    std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> parser_;
    boost::beast::http::response<boost::beast::http::string_body> response_;
    bool keep_alive_ = false;
    bool closed_ = false;
    bool events_ = false;
    bool writing_ = false;
    std::deque<std::shared_ptr<const std::string>> unsent_;
    std::size_t unsent_bytes_ = 0;
    std::size_t drained_ = 0;  // read and thrown away (closing, or on an event stream)
    std::array<char, 4096> scratch_{};
};

}  // namespace evn_mbus
