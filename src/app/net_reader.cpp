#include "net_reader.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include "asio_error.hpp"
#include "bridge_messages.hpp"
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
    // The write in progress was aborted, and its handler will not run (alive_ is new).
    writing_.clear();
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
                fail(describe_resolve_failure(endpoint_, ec ? to_std(ec) : std::error_code()));
                return;
            }
            connect(std::move(results));
        });
}

void net_reader::connect(tcp::resolver::results_type addresses) {
    addresses_.clear();
    for (const auto& entry : addresses)
        addresses_.push_back(entry.endpoint());
    next_address_ = 0;
    last_connect_error_ = {};
    only_timeouts_ = true;
    connect_next();
}

// Each address in turn, each with its own time-out: a host whose first address drops the SYN
// (a stale IPv6 address, say) is still reached on the next.
void net_reader::connect_next() {
    if (next_address_ >= addresses_.size()) {
        fail(describe_connect_failure(endpoint_, last_connect_error_, only_timeouts_,
                                      connect_timeout));
        return;
    }
    const tcp::endpoint address = addresses_[next_address_++];
    boost::system::error_code ignored;
    socket_.close(ignored);
    auto timed_out = std::make_shared<bool>(false);
    retry_timer_.expires_after(connect_timeout);
    retry_timer_.async_wait([this, timed_out, alive = std::weak_ptr<bool>(alive_)](
                                const boost::system::error_code& ec) {
        if (ec || alive.expired() || !*alive.lock() || connected_) return;
        *timed_out = true;
        boost::system::error_code closed;
        socket_.close(closed);
    });
    socket_.async_connect(address, [this, timed_out, alive = std::weak_ptr<bool>(alive_)](
                                       const boost::system::error_code& ec) {
        if (alive.expired() || !*alive.lock()) return;
        // Checked first: a success queued just as the time-out closed the socket is none.
        if (*timed_out) {
            connect_next();
            return;
        }
        retry_timer_.cancel();
        if (ec == asio::error::operation_aborted) return;  // stop()
        if (!ec) {
            on_connected();
            return;
        }
        only_timeouts_ = only_timeouts_ && ec == asio::error::timed_out;
        last_connect_error_ = to_std(ec);
        connect_next();
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
    first_bytes_.clear();
    last_bytes_.clear();
    said_notes_.clear();
    if (endpoint_.transport == serial_transport::rfc2217) {
        telnet_ = std::make_unique<rfc2217_session>(
            rfc2217_line{config_.baud, config_.data_bits, config_.parity, config_.stop_bits});
        telnet_->start();
        send_outgoing();
        watch_negotiation();
    }
    // Open only once it holds: ser2net accepts a connection it cannot serve (its device
    // missing, its port taken), writes a line of text and closes it. That must count as a
    // failure (backoff, said once), not as a bridge that is back every 250 ms; its bytes, which
    // may be the meter's, are handed on meanwhile.
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
            const std::error_code end = ec == asio::error::eof ? std::error_code() : to_std(ec);
            lost(describe_connection_end(endpoint_, end, established_, first_bytes_, last_bytes_));
            return;
        }
        read_some();
    });
}

void net_reader::on_read(std::span<const std::uint8_t> bytes) {
    remember(bytes);
    if (!telnet_) {
        idle_.bytes_arrived(socket_.native_handle());
        if (handlers_.on_bytes) handlers_.on_bytes(bytes);
        return;
    }
    telnet_->receive(bytes);
    for (const auto& e : telnet_->events()) {
        // Said once the connection holds, each once a connection.
        notes_.emplace_back(endpoint_.text() + ": " + e.what,
                            e.kind != rfc2217_event_kind::line_confirmed);
    }
    telnet_->clear_events();
    send_outgoing();  // the negotiation's answers
    if (!telnet_->data().empty()) {
        // A copy: on_bytes may write (an AMIS answer), which goes through the session.
        delivered_.assign(telnet_->data().begin(), telnet_->data().end());
        telnet_->clear_data();
        idle_.bytes_arrived(socket_.native_handle());
        if (handlers_.on_bytes) handlers_.on_bytes(delivered_);
        if (!running_ || !connected_) return;
    }
    if (established_) say_notes();
}

// The first and the last bytes of a connection: ser2net's complaint, if it has one, is there.
void net_reader::remember(std::span<const std::uint8_t> bytes) {
    constexpr std::size_t keep = 128;
    if (first_bytes_.size() < keep) {
        const std::size_t n = std::min(keep - first_bytes_.size(), bytes.size());
        first_bytes_.insert(first_bytes_.end(), bytes.begin(), bytes.begin() + n);
    }
    if (bytes.size() >= keep) {
        last_bytes_.assign(bytes.end() - keep, bytes.end());
    } else {
        last_bytes_.insert(last_bytes_.end(), bytes.begin(), bytes.end());
        if (last_bytes_.size() > keep) {
            last_bytes_.erase(last_bytes_.begin(),
                              last_bytes_.begin() + static_cast<long>(last_bytes_.size() - keep));
        }
    }
}

void net_reader::say_notes() {
    auto notes = std::move(notes_);
    notes_.clear();
    for (const auto& [what, warning] : notes) {
        if (!said_notes_.insert(what).second) continue;  // a broken server repeats itself
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
