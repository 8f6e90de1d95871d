#include "net_reader.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include "reading_text.hpp"
#include "rfc2217_session.hpp"

namespace evn_mbus {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

void set_int_option(int fd, int level, int name, int value) {
    ::setsockopt(fd, level, name, &value, sizeof value);
}

}  // namespace

net_reader::net_reader(asio::io_context& io, serial_config config, serial_endpoint endpoint,
                       handlers h)
    : io_(io),
      config_(std::move(config)),
      endpoint_(std::move(endpoint)),
      handlers_(std::move(h)),
      resolver_(io),
      socket_(io),
      idle_(io, config_.idle_gap,
            [this] {
                if (handlers_.on_idle) handlers_.on_idle();
            }),
      retry_timer_(io),
      negotiation_timer_(io),
      settle_timer_(io) {}

net_reader::~net_reader() {
    stop();
}

int net_reader::native_handle() noexcept {
    return connected_ ? socket_.native_handle() : -1;
}

void net_reader::start() {
    if (running_) return;
    running_ = true;
    retry_.succeeded();
    resolve();
}

void net_reader::stop() {
    running_ = false;
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
    resolver_.cancel();
    idle_.cancel();
    retry_timer_.cancel();
    negotiation_timer_.cancel();
    settle_timer_.cancel();
    close();
}

void net_reader::close() {
    connected_ = false;
    boost::system::error_code ignored;
    if (socket_.is_open()) socket_.close(ignored);
    // An answer for the old connection is none for the new one. The write in progress, if
    // any, ends with operation_aborted and clears writing_ itself.
    to_write_.clear();
    telnet_.reset();
    notes_.clear();
}

void net_reader::resolve() {
    if (!running_) return;
    // Resolved again on every attempt: a bridge's DHCP address may have changed.
    resolver_.async_resolve(
        endpoint_.host, std::to_string(endpoint_.port),
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec,
                                                    tcp::resolver::results_type results) {
            if (alive.expired() || !*alive.lock() || ec == asio::error::operation_aborted) {
                return;
            }
            if (ec || results.empty()) {
                fail("cannot find the host \"" + endpoint_.host + "\" of the network bridge " +
                     endpoint_.text() + " (" + (ec ? ec.message() : "no address") +
                     "): check the name in serial.device and that this machine's DNS knows "
                     "it; retrying");
                return;
            }
            connect(std::move(results));
        });
}

void net_reader::connect(tcp::resolver::results_type addresses) {
    auto timed_out = std::make_shared<bool>(false);
    // A host that drops the SYN would keep a connect waiting for two minutes.
    retry_timer_.expires_after(connect_timeout);
    retry_timer_.async_wait([this, timed_out, alive = std::weak_ptr<bool>(alive_)](
                                const boost::system::error_code& ec) {
        if (ec || alive.expired() || !*alive.lock() || connected_) return;
        *timed_out = true;
        boost::system::error_code ignored;
        socket_.close(ignored);
    });
    asio::async_connect(
        socket_, addresses,
        [this, timed_out, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec,
                                                               const tcp::endpoint&) {
            if (alive.expired() || !*alive.lock()) return;
            retry_timer_.cancel();
            if (!ec) {
                on_connected();
                return;
            }
            if (ec == asio::error::operation_aborted && !*timed_out) return;
            const std::string where = "the network bridge " + endpoint_.text();
            if (*timed_out || ec == asio::error::timed_out) {
                fail("no answer from " + where + " within " +
                     std::to_string(connect_timeout.count()) +
                     " s: check that the bridge is powered and on the network, and the address "
                     "in serial.device; retrying");
            } else if (ec == asio::error::connection_refused) {
                fail(where + " refused the connection: nothing listens on port " +
                     std::to_string(endpoint_.port) + " of " + endpoint_.host +
                     ". Check that the bridge (ser2net, the ESP's stream server) runs and that "
                     "the port in serial.device is its port; retrying");
            } else {
                fail("cannot connect to " + where + ": " + ec.message() +
                     "; check that the bridge is on the network; retrying");
            }
        });
}

void net_reader::on_connected() {
    const int fd = socket_.native_handle();
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    // A bridge that lost power sends no FIN: without probes the connection would look open
    // (and silent) for two hours.
    set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
    set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, static_cast<int>(keepalive_idle.count()));
    set_int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, static_cast<int>(keepalive_interval.count()));
    set_int_option(fd, IPPROTO_TCP, TCP_KEEPCNT, keepalive_count);
    // An answer the bridge never acknowledges fails the connection as quickly.
    set_int_option(fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
                   static_cast<int>((keepalive_idle + keepalive_interval * keepalive_count) /
                                    std::chrono::milliseconds(1)));
    connected_ = true;
    established_ = false;
    if (endpoint_.transport == serial_transport::rfc2217) {
        telnet_ = std::make_unique<rfc2217_session>(
            rfc2217_line{config_.baud, config_.data_bits, config_.parity, config_.stop_bits});
        telnet_->start();
        send_outgoing();
        watch_negotiation();
    }
    // Open only once it holds: ser2net accepts and at once closes a connection when its serial
    // port cannot be opened, and that must count as a failure (backoff, said once), not as a
    // bridge that is back every 250 ms.
    settle_timer_.expires_after(settle_time);
    settle_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired() || !*alive.lock() || !connected_) return;
            established();
        });
    read_some();
}

void net_reader::established() {
    if (established_) return;
    established_ = true;
    settle_timer_.cancel();
    if (opened_before_) ++reopens_;
    opened_before_ = true;
    retry_.succeeded();
    if (handlers_.on_open) handlers_.on_open();
    if (running_ && connected_) say_notes();
}

void net_reader::watch_negotiation() {
    negotiation_timer_.expires_after(negotiation_timeout);
    negotiation_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](
                                      const boost::system::error_code& ec) {
        if (ec || alive.expired() || !*alive.lock() || !connected_ || !telnet_) return;
        if (telnet_->line_confirmed() || telnet_->was_refused() || !handlers_.on_note) return;
        const std::string where = "the network bridge " + endpoint_.text();
        const std::string seconds = std::to_string(negotiation_timeout.count());
        if (!telnet_->any_answer()) {
            // A raw TCP bridge (an ESP stream server) addressed as rfc2217:// never answers:
            // the settings are not set, and a meter byte FFh would be taken for Telnet.
            handlers_.on_note(where + " did not answer the RFC 2217 negotiation within " + seconds +
                                  " s, so its serial settings are not set: if it passes raw "
                                  "bytes (ser2net \"accepter: tcp,...\", an ESP stream "
                                  "server), write serial.device: tcp://" +
                                  endpoint_.text().substr(endpoint_.text().find("://") + 3),
                              true);
            return;
        }
        // ser2net stays silent on a setting it cannot make.
        handlers_.on_note(where + " did not confirm its serial port's " +
                              telnet_->unanswered_settings() + " within " + seconds +
                              " s: it may not be able to set " + line_format(config_) +
                              "; set its serial port to that in the bridge's own configuration",
                          true);
    });
}

void net_reader::fail(const std::string& what) {
    const bool first = retry_.is_news(what);
    if (handlers_.on_failure) handlers_.on_failure(what, first);
    schedule_reconnect();
}

void net_reader::schedule_reconnect() {
    if (!running_) return;
    retry_timer_.expires_after(retry_.next_delay(config_.reopen_max));
    retry_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired() || !*alive.lock()) return;
            resolve();
        });
}

void net_reader::read_some() {
    socket_.async_read_some(asio::buffer(buffer_), [this, alive = std::weak_ptr<bool>(alive_)](
                                                       const boost::system::error_code& ec,
                                                       std::size_t n) {
        if (alive.expired() || !*alive.lock()) return;
        if (ec == asio::error::operation_aborted) return;
        if (n > 0) {
            on_read(std::span(buffer_.data(), n));
            if (!running_ || !connected_) return;
        }
        if (ec) {
            const std::string where = "the network bridge " + endpoint_.text();
            if (!established_) {
                lost(where +
                     " accepted the connection and closed it at once: its serial "
                     "port may be missing or taken by another client (see the "
                     "bridge's own log); retrying");
            } else if (ec == asio::error::eof) {
                lost(where +
                     " closed the connection (a restart, or another client took "
                     "it); reconnecting");
            } else {
                lost("the connection to " + where + " failed (" + ec.message() + "); reconnecting");
            }
            return;
        }
        read_some();
    });
}

void net_reader::on_read(std::span<const std::uint8_t> bytes) {
    if (!telnet_) {
        established();
        if (!running_ || !connected_) return;
        idle_.bytes_arrived(socket_.native_handle());
        if (handlers_.on_bytes) handlers_.on_bytes(bytes);
        return;
    }
    telnet_->receive(bytes);
    for (const auto& e : telnet_->events()) {
        // Said after the connection is, once it holds.
        notes_.emplace_back(endpoint_.text() + ": " + e.what,
                            e.kind != rfc2217_event_kind::line_confirmed);
    }
    telnet_->clear_events();
    send_outgoing();  // the negotiation's answers
    if (telnet_->data().empty()) {
        if (established_) say_notes();
        return;
    }
    // Only the meter's bytes make the connection hold: ser2net negotiates even on a connection
    // it is about to close because its serial port cannot be opened.
    established();
    if (!running_ || !connected_ || !telnet_) return;
    idle_.bytes_arrived(socket_.native_handle());
    if (handlers_.on_bytes) handlers_.on_bytes(telnet_->data());
    if (telnet_) telnet_->clear_data();
}

void net_reader::say_notes() {
    auto notes = std::move(notes_);
    notes_.clear();
    for (const auto& [what, warning] : notes) {
        if (handlers_.on_note) handlers_.on_note(what, warning);
    }
}

void net_reader::lost(const std::string& what) {
    close();
    settle_timer_.cancel();
    idle_.line_lost();
    fail(what);
}

bool net_reader::write(std::span<const std::uint8_t> bytes) {
    if (!connected_) return false;
    if (telnet_) {
        telnet_->send(bytes);
        send_outgoing();
        return true;
    }
    to_write_.insert(to_write_.end(), bytes.begin(), bytes.end());
    if (writing_.empty()) write_next();
    return true;
}

void net_reader::send_outgoing() {
    if (!telnet_ || telnet_->outgoing().empty()) return;
    const auto out = telnet_->outgoing();
    to_write_.insert(to_write_.end(), out.begin(), out.end());
    telnet_->clear_outgoing();
    if (writing_.empty()) write_next();
}

void net_reader::write_next() {
    if (to_write_.empty() || !connected_) return;
    writing_.swap(to_write_);
    to_write_.clear();
    asio::async_write(socket_, asio::buffer(writing_),
                      [this, alive = std::weak_ptr<bool>(alive_)](
                          const boost::system::error_code& ec, std::size_t) {
                          if (alive.expired() || !*alive.lock()) return;
                          writing_.clear();
                          // A failed write: the read fails too and reconnects. An aborted one
                          // (the connection closed) leaves what a new connection queued.
                          if (!ec || ec == asio::error::operation_aborted) write_next();
                      });
}

}  // namespace evn_mbus
