#include "http_session.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <utility>
#include <vector>

namespace evn_mbus {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// How long a closing connection's remaining input is read and thrown away, and how much of it
// at most, so that its client reads the answer before the connection ends (closing a socket
// with unread input resets it, and the client may lose the answer).
constexpr auto drain_time = 1s;
constexpr std::size_t drain_limit = 1024 * 1024;
// What an event stream's client may send after its request (it has no reason to send any).
constexpr std::size_t max_event_input = 64 * 1024;

// Beast 1.74 has Boost's string_view, the rest of the code the standard's.
std::string_view to_std(beast::string_view s) noexcept {
    return {s.data(), s.size()};
}
beast::string_view to_beast(std::string_view s) noexcept {
    return {s.data(), s.size()};
}

const std::string& refusal_text() {
    static const std::string text = [] {
        const std::string body =
            http_error_body("busy", "too many connections are open; try again in a second");
        std::string t = "HTTP/1.1 503 Service Unavailable\r\n";
        t.append("Content-Type: application/json\r\n");
        t.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
        t.append("Retry-After: 1\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
        t.append(body);
        return t;
    }();
    return text;
}

// The first bytes of an event stream: its head, and how soon a client should reconnect.
const std::string& events_head() {
    static const std::string text =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Connection: close\r\n"
        "\r\n"
        "retry: 5000\n\n";
    return text;
}

const char* endpoint_name(http_endpoint e) {
    switch (e) {
        case http_endpoint::reading:
            return "/api/v1/reading";
        case http_endpoint::status:
            return "/api/v1/status";
        case http_endpoint::metrics:
            return "/metrics";
        case http_endpoint::events:
            return "/api/v1/events";
    }
    return "?";
}

}  // namespace

void http_server_shared::log_limited(spdlog::level::level_enum level, const std::string& kind,
                                     const std::string& text) {
    std::uint64_t suppressed = 0;
    if (!limiter.should_log(kind, error_limiter::clock::now(), suppressed)) return;
    if (suppressed == 0) {
        log->log(level, "{}", text);
    } else {
        log->log(level, "{} ({} more since the last such line)", text, suppressed);
    }
}

http_session::http_session(std::shared_ptr<http_server_shared> shared, tcp::socket socket,
                           std::uint64_t id)
    : shared_(std::move(shared)), stream_(std::move(socket)), id_(id) {
    boost::system::error_code ec;
    const tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
    peer_ = ec ? std::string("a client") : endpoint_text(remote);
    // Each answer and event on the wire at once, not held back for more.
    stream_.socket().set_option(tcp::no_delay(true), ec);
}

http_session::~http_session() {
    // Its last handler has run: normally close() came first, but the io_context may also have
    // been destroyed with handlers still queued.
    shared_->sessions.erase(id_);
    shared_->refusals.erase(id_);
}

void http_session::start() {
    read_request();
}

void http_session::refuse() {
    stream_.expires_after(drain_time);
    asio::async_write(
        stream_, asio::buffer(refusal_text()),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            if (self->closed_) return;
            if (ec) return self->close();
            self->close_gracefully();
        });
}

void http_session::close() {
    if (closed_) return;
    closed_ = true;
    stream_.close();
    shared_->sessions.erase(id_);
    shared_->refusals.erase(id_);
    if (events_) {
        --shared_->event_clients;
        shared_->log->debug("HTTP {}: event stream closed", peer_);
    }
    unsent_.clear();
    unsent_bytes_ = 0;
}

void http_session::read_request() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    // The whole head within the deadline, whatever the pace of its bytes (a slow client cannot
    // keep a connection by sending one byte at a time); on a kept-alive connection the time
    // before the next request counts too.
    stream_.expires_after(shared_->options.request_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            self->on_request_head(ec);
        });
}

void http_session::on_request_head(const boost::system::error_code& ec) {
    if (closed_) return;
    if (shared_->stopped) return close();
    if (ec) {
        keep_alive_ = false;
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            ++shared_->stats.bad_requests;
            shared_->log->debug("HTTP {}: request head over {} bytes: 431", peer_, header_limit);
            return respond(
                431, http_json_type,
                http_error_body("header_too_large", "the request's head is larger than 8 KiB"),
                false, false);
        }
        if (ec == http::error::body_limit) {
            ++shared_->stats.bad_requests;
            return respond(413, http_json_type,
                           http_error_body("body_not_allowed", "no endpoint takes a body"), false,
                           false);
        }
        if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message) {
            ++shared_->stats.bad_requests;
            shared_->log->debug("HTTP {}: malformed request ({}): 400", peer_, ec.message());
            return respond(400, http_json_type,
                           http_error_body("bad_request", "the request is not valid HTTP/1.1"),
                           false, false);
        }
        // The client closed the connection, or let the deadline pass (idle or too slow).
        if (ec == beast::error::timeout) {
            shared_->log->debug("HTTP {}: no complete request within {} s: closed", peer_,
                                shared_->options.request_timeout.count());
        }
        return close();
    }
    const auto& request = parser_->get();
    keep_alive_ = request.keep_alive();
    http_request_head head;
    head.method = to_std(request.method_string());
    head.target = to_std(request.target());
    head.authorization = to_std(request[http::field::authorization]);
    head.has_body = parser_->chunked() || parser_->content_length().value_or(0) > 0;
    // The body is never read: whatever the answer, the connection ends after it.
    if (head.has_body) keep_alive_ = false;
    answer(head);
}

void http_session::answer(const http_request_head& head) {
    ++shared_->stats.requests;
    const http_route route = route_request(head, shared_->credentials);
    switch (route.what) {
        case http_route::outcome::serve:
            return answer_endpoint(route);
        case http_route::outcome::not_found:
            return respond(404, http_json_type,
                           http_error_body("not_found",
                                           "no such endpoint; there are /api/v1/reading, "
                                           "/api/v1/status, /api/v1/events and /metrics"),
                           route.head, keep_alive_);
        case http_route::outcome::method_not_allowed:
            return respond(405, http_json_type,
                           http_error_body("method_not_allowed", "only GET and HEAD are allowed"),
                           route.head, keep_alive_, http::field::allow, http_allow);
        case http_route::outcome::unauthorized:
            ++shared_->stats.unauthorized;
            if (route.wrong_credentials) {
                shared_->log_limited(spdlog::level::warn, "http-auth",
                                     "HTTP API: " + request_text() +
                                         " had a wrong user name or password; check the "
                                         "client's settings against http.username and "
                                         "http.password");
            }
            return respond(
                401, http_json_type,
                http_error_body("unauthorized", "this API needs a user name and password"),
                route.head, keep_alive_, http::field::www_authenticate, http_www_authenticate);
        case http_route::outcome::body_not_allowed:
            ++shared_->stats.bad_requests;
            return respond(413, http_json_type,
                           http_error_body("body_not_allowed", "no endpoint takes a body"),
                           route.head, false);
    }
}

void http_session::answer_endpoint(const http_route& route) {
    if (route.endpoint == http_endpoint::events) {
        if (route.head) {
            // The stream's head alone: its length is unknown, so the connection ends with it.
            keep_alive_ = false;
            shared_->log->debug("HTTP {} -> event stream head", request_text());
            const std::string& text = events_head();
            const auto head_only =
                std::make_shared<const std::string>(text.substr(0, text.find("\r\n\r\n") + 4));
            stream_.expires_after(shared_->options.request_timeout);
            asio::async_write(stream_, asio::buffer(*head_only),
                              [self = shared_from_this(), head_only](
                                  const boost::system::error_code& ec, std::size_t) {
                                  if (self->closed_) return;
                                  if (ec) return self->close();
                                  self->close_gracefully();
                              });
            return;
        }
        return start_events();
    }
    const auto& content = shared_->content;
    const std::function<http_reply()>* source = nullptr;
    std::string_view default_type = http_json_type;
    switch (route.endpoint) {
        case http_endpoint::reading:
            source = &content.reading;
            break;
        case http_endpoint::status:
            source = &content.status;
            break;
        case http_endpoint::metrics:
            source = &content.metrics;
            default_type = http_metrics_type;
            break;
        case http_endpoint::events:
            break;
    }
    http_reply reply;
    if (source == nullptr || !*source) {
        reply = {503, std::string(http_json_type),
                 http_error_body("unavailable", "this endpoint has nothing to show")};
    } else {
        try {
            reply = (*source)();
        } catch (const std::exception& e) {
            shared_->log_limited(spdlog::level::err, "http-content",
                                 std::string("HTTP API: answering ") +
                                     endpoint_name(route.endpoint) + " failed: " + e.what() +
                                     "; please report this as a bug");
            reply = {500, std::string(http_json_type),
                     http_error_body("internal_error", "the answer could not be made")};
        }
    }
    const std::string type =
        reply.content_type.empty() ? std::string(default_type) : std::move(reply.content_type);
    respond(reply.status, type, std::move(reply.body), route.head, keep_alive_);
}

void http_session::respond(unsigned status, std::string_view content_type, std::string body,
                           bool head, bool keep_alive, http::field extra,
                           std::string_view extra_value) {
    keep_alive_ = keep_alive;
    response_ = {};
    const bool have_request = parser_ && parser_->is_header_done();
    response_.version(have_request ? parser_->get().version() : 11);
    response_.result(status);
    response_.set(http::field::content_type, to_beast(content_type));
    response_.set(http::field::cache_control, "no-store");
    response_.set("X-Content-Type-Options", "nosniff");
    if (extra != http::field::unknown) response_.set(extra, to_beast(extra_value));
    response_.body() = std::move(body);
    response_.prepare_payload();
    // HEAD: the Content-Length of the body GET would have, and no body.
    if (head) response_.body().clear();
    response_.keep_alive(keep_alive);
    if (have_request) shared_->log->debug("HTTP {} -> {}", request_text(), status);
    write_response();
}

void http_session::write_response() {
    stream_.expires_after(shared_->options.request_timeout);
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            if (self->closed_) return;
            self->response_ = {};
            if (ec || self->shared_->stopped) return self->close();
            if (!self->keep_alive_) return self->close_gracefully();
            self->read_request();
        });
}

void http_session::close_gracefully() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(drain_time);
    drain();
}

void http_session::drain() {
    stream_.async_read_some(
        asio::buffer(scratch_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
            if (self->closed_) return;
            self->drained_ += n;
            if (ec || self->drained_ > drain_limit || self->shared_->stopped) return self->close();
            self->drain();
        });
}

void http_session::start_events() {
    events_ = true;
    ++shared_->event_clients;
    shared_->log->debug("HTTP {} -> event stream", request_text());
    parser_.reset();
    // An event stream is never read again, only watched for its end; a deadline is set for each
    // write instead (a pending read keeps the one it started with: none).
    stream_.expires_never();
    read_until_closed();
    send_event(std::make_shared<const std::string>(events_head()));
    if (shared_->content.latest_event) {
        std::optional<std::string> latest;
        try {
            latest = shared_->content.latest_event();
        } catch (const std::exception& e) {
            shared_->log_limited(spdlog::level::err, "http-content",
                                 std::string("HTTP API: the latest reading for a new event "
                                             "stream failed: ") +
                                     e.what() + "; please report this as a bug");
        }
        if (latest) send_event(std::make_shared<const std::string>(sse_event("reading", *latest)));
    }
}

void http_session::read_until_closed() {
    stream_.async_read_some(
        asio::buffer(scratch_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
            if (self->closed_) return;
            // Anything a client sends on an event stream is ignored, up to a bound: a client
            // that floods it is not one worth the loop's time.
            self->drained_ += n;
            if (ec || self->drained_ > max_event_input || self->shared_->stopped) {
                return self->close();
            }
            self->read_until_closed();
        });
}

void http_session::send_event(const std::shared_ptr<const std::string>& text) {
    if (!events_ || closed_) return;
    unsent_bytes_ += text->size();
    if (unsent_bytes_ > max_unsent_events) {
        shared_->log_limited(spdlog::level::info, "http-slow-events",
                             "HTTP API: closed the event stream of " + peer_ +
                                 ": it did not read what it was sent (" +
                                 std::to_string(unsent_bytes_ / 1024) +
                                 " KiB waiting); the client reconnects when it can");
        return close();
    }
    unsent_.push_back(text);
    if (!writing_) write_next_event();
}

void http_session::write_next_event() {
    writing_ = true;
    stream_.expires_after(shared_->options.request_timeout);
    // The handler holds the text: close() may clear unsent_ while the write is pending, and
    // Asio needs the buffer until the handler runs.
    auto text = unsent_.front();
    asio::async_write(
        stream_, asio::buffer(*text),
        [self = shared_from_this(), text](const boost::system::error_code& ec, std::size_t) {
            self->writing_ = false;
            if (self->closed_) return;
            if (ec || self->shared_->stopped) return self->close();
            self->unsent_bytes_ -= self->unsent_.front()->size();
            self->unsent_.pop_front();
            if (!self->unsent_.empty()) self->write_next_event();
        });
}

std::string http_session::request_text() const {
    if (!parser_ || !parser_->is_header_done()) return "a request from " + peer_;
    const auto& request = parser_->get();
    // A log line, not a dump: no query (the client's business), and long paths cut.
    std::string_view target = target_path(to_std(request.target()));
    if (target.size() > 200) target = target.substr(0, 200);
    std::string text(to_std(request.method_string()));
    text.append(" ").append(target).append(" from ").append(peer_);
    return text;
}

}  // namespace evn_mbus
