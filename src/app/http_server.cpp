#include "http_server.hpp"

#include <spdlog/sinks/null_sink.h>

#include <boost/asio/error.hpp>
#include <stdexcept>
#include <utility>
#include <vector>

#include "http_session.hpp"

namespace evn_mbus {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Refusals still sending their 503 beyond which a connection over the limit is closed at once:
// a flood must not turn into as many open sockets as it sends.
constexpr std::size_t max_refusals = 256;

// Why listening failed, with what to do about it.
std::string listen_failure(const tcp::endpoint& where, const boost::system::error_code& ec) {
    const std::string port = std::to_string(where.port());
    std::string text = "http.listen " + endpoint_text(where) + ": ";
    if (ec == asio::error::address_in_use) {
        text.append(
                "the address is in use by another program; choose another port in "
                "http.listen, or stop the other program (`sudo ss -ltnp 'sport = :")
            .append(port)
            .append("'` names it)");
    } else if (ec == asio::error::access_denied) {
        text.append(
            "permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, so "
            "choose a port of 1024 or more (8080, say)");
    } else if (ec == boost::system::errc::address_not_available) {
        text.append(
            "the address is not one of this machine's; use 127.0.0.1 (this machine "
            "only), 0.0.0.0 (every IPv4 address), [::] (every address) or one that "
            "`ip -brief address` lists");
    } else if (ec == asio::error::address_family_not_supported) {
        text.append(
            "this machine has no IPv6; use an IPv4 address such as 127.0.0.1 or "
            "0.0.0.0");
    } else {
        text.append("cannot listen: ").append(ec.message());
    }
    return text;
}

// What every connection shares, for one start(); the counters carry on from `totals`.
std::shared_ptr<http_server_shared> make_shared_state(const http_server_options& options,
                                                      const http_content& content,
                                                      const std::shared_ptr<spdlog::logger>& log,
                                                      const http_server_stats& totals) {
    auto shared = std::make_shared<http_server_shared>();
    shared->options = options;
    shared->credentials = {options.username, options.password};
    shared->content = content;
    shared->log = log;
    shared->stats = totals;
    return shared;
}

// The connections of `map` that are still there; closing one changes the map.
std::vector<std::shared_ptr<http_session>> live(
    const std::map<std::uint64_t, std::weak_ptr<http_session>>& map) {
    std::vector<std::shared_ptr<http_session>> out;
    out.reserve(map.size());
    for (const auto& [id, weak] : map) {
        if (auto session = weak.lock()) out.push_back(std::move(session));
    }
    return out;
}

}  // namespace

http_server::http_server(asio::io_context& io, http_server_options options, http_content content,
                         std::shared_ptr<spdlog::logger> log)
    : io_(io),
      options_(std::move(options)),
      content_(std::move(content)),
      log_(log ? std::move(log)
               : std::make_shared<spdlog::logger>("http",
                                                  std::make_shared<spdlog::sinks::null_sink_st>())),
      acceptor_(io),
      retry_timer_(io),
      keepalive_timer_(io),
      bound_(options_.endpoint) {
    if (options_.max_connections == 0) options_.max_connections = 1;
    if (options_.request_timeout <= 0s) options_.request_timeout = 1s;
    if (options_.event_keepalive <= 0s) options_.event_keepalive = 15s;
}

http_server::~http_server() {
    stop();
}

void http_server::start() {
    if (shared_ && !shared_->stopped) return;
    const tcp::endpoint where = options_.endpoint;
    boost::system::error_code ec;
    acceptor_.open(where.protocol(), ec);
    // A daemon restarted at once finds its port free, not held by the last run's TIME_WAITs.
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(where, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) bound_ = acceptor_.local_endpoint(ec);
    if (ec) {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        throw std::runtime_error(listen_failure(where, ec));
    }
    shared_ = make_shared_state(options_, content_, log_, totals_);
    log_->info("HTTP API on http://{}/ (basic auth {})", endpoint_text(bound_),
               shared_->credentials.required() ? "on" : "off");
    accept_next();
    keepalive_next();
}

void http_server::stop() {
    if (!shared_ || shared_->stopped) return;
    const auto shared = shared_;
    shared->stopped = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    keepalive_timer_.cancel();
    for (const auto& session : live(shared->sessions))
        session->close();
    for (const auto& session : live(shared->refusals))
        session->close();
    totals_ = stats();
    totals_.open = 0;
    totals_.event_clients = 0;
    // What the content functions hold (the service's state) is not kept by closing connections.
    shared->content = {};
}

void http_server::accept_next() {
    acceptor_.async_accept(
        [this, shared = shared_](const boost::system::error_code& ec, tcp::socket socket) {
            // The server may be gone: a stopped state says so before `this` is touched.
            if (shared->stopped) return;
            if (ec) {
                // Out of descriptors, say: try again in a while rather than spin on the error.
                shared->log_limited(spdlog::level::warn, "http-accept",
                                    "HTTP API: cannot accept a connection: " + ec.message() +
                                        "; trying again (too many open files means too many "
                                        "clients or a descriptor limit set too low)");
                retry_timer_.expires_after(100ms);
                retry_timer_.async_wait([this, shared](const boost::system::error_code& wait_ec) {
                    if (shared->stopped || wait_ec) return;
                    accept_next();
                });
                return;
            }
            on_accept(std::move(socket));
            accept_next();
        });
}

void http_server::on_accept(tcp::socket socket) {
    if (shared_->sessions.size() >= options_.max_connections) return refuse(std::move(socket));
    const std::uint64_t id = ++shared_->next_id;
    auto session = std::make_shared<http_session>(shared_, std::move(socket), id);
    shared_->sessions.emplace(id, session);
    session->start();
}

void http_server::refuse(tcp::socket socket) {
    ++shared_->stats.refused;
    boost::system::error_code ec;
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    shared_->log_limited(
        spdlog::level::warn, "http-refused",
        "HTTP API: refused a connection from " +
            (ec ? std::string("a client") : endpoint_text(peer)) + ": " +
            std::to_string(options_.max_connections) +
            " are open, as many as http.max_connections allows; raise http.max_connections, or "
            "find the client that keeps so many open (`ss -tn 'sport = :" +
            std::to_string(bound_.port()) + "'` lists them)");
    if (shared_->refusals.size() >= max_refusals) {
        socket.close(ec);
        return;
    }
    const std::uint64_t id = ++shared_->next_id;
    auto session = std::make_shared<http_session>(shared_, std::move(socket), id);
    shared_->refusals.emplace(id, session);
    session->refuse();
}

void http_server::keepalive_next() {
    keepalive_timer_.expires_after(options_.event_keepalive);
    keepalive_timer_.async_wait([this, shared = shared_](const boost::system::error_code& ec) {
        if (shared->stopped || ec) return;
        if (shared->event_clients > 0) {
            // A comment line: clients ignore it, proxies and NAT see traffic.
            static const auto comment = std::make_shared<const std::string>(": keepalive\n\n");
            for (const auto& session : live(shared->sessions))
                session->send_event(comment);
        }
        keepalive_next();
    });
}

void http_server::broadcast_reading(const std::string& json) {
    if (!shared_ || shared_->stopped || shared_->event_clients == 0) return;
    const auto event = std::make_shared<const std::string>(sse_event("reading", json));
    for (const auto& session : live(shared_->sessions))
        session->send_event(event);
}

http_server_stats http_server::stats() const {
    if (!shared_) return totals_;
    http_server_stats s = shared_->stats;
    s.open = shared_->stopped ? 0 : shared_->sessions.size();
    s.event_clients = shared_->stopped ? 0 : shared_->event_clients;
    return s;
}

asio::ip::tcp::endpoint http_server::local_endpoint() const {
    return bound_;
}

}  // namespace evn_mbus
