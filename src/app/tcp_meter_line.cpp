#include "tcp_meter_line.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "asio_error.hpp"
#include "endpoint_text.hpp"

namespace evn_mbus {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

}  // namespace

tcp_meter_line::tcp_meter_line(asio::io_context& io)
    : io_(io), acceptor_(io), socket_(io), timer_(io), retry_timer_(io) {}

tcp_meter_line::~tcp_meter_line() {
    boost::system::error_code ignored;
    // The reader sees the end of the stream, after what the kernel still holds for it.
    if (socket_.is_open()) socket_.close(ignored);
    if (acceptor_.is_open()) acceptor_.close(ignored);
}

std::error_code tcp_meter_line::listen(const std::string& host, std::uint16_t port,
                                       without_reader mode, events ev) {
    mode_ = mode;
    events_ = std::move(ev);
    boost::system::error_code ec;
    tcp::endpoint where;
    if (const auto literal = asio::ip::make_address(host, ec); !ec) {
        where = {literal, port};
    } else {
        tcp::resolver resolver(io_);
        const auto found =
            resolver.resolve(host, std::to_string(port),
                             tcp::resolver::passive | tcp::resolver::numeric_service, ec);
        if (ec) return to_std(ec);
        if (found.empty()) return to_std(asio::error::host_not_found);
        where = found.begin()->endpoint();
    }
    acceptor_.open(where.protocol(), ec);
    if (ec) return to_std(ec);
    // A demo or a test run again at once finds its fixed port free, not in TIME_WAIT.
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(where, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        return to_std(ec);
    }
    address_ = "tcp://" + endpoint_text(acceptor_.local_endpoint(ec));
    accept_next();
    return {};
}

void tcp_meter_line::accept_next() {
    acceptor_.async_accept([this, alive = std::weak_ptr<bool>(alive_)](
                               const boost::system::error_code& ec, tcp::socket incoming) {
        if (alive.expired() || cancelled_) return;
        if (ec) {
            // Out of descriptors, say: try again in a while rather than spin on the error.
            retry_timer_.expires_after(100ms);
            retry_timer_.async_wait([this, alive](const boost::system::error_code& wait_ec) {
                if (alive.expired() || cancelled_ || wait_ec) return;
                accept_next();
            });
            return;
        }
        adopt_reader(std::move(incoming));
        accept_next();
    });
}

void tcp_meter_line::adopt_reader(tcp::socket incoming) {
    const std::string replaced = socket_.is_open() ? peer_ : std::string();
    boost::system::error_code ignored;
    // Its write and read in progress end as operation_aborted of an older generation.
    if (socket_.is_open()) socket_.close(ignored);
    ++generation_;
    socket_ = std::move(incoming);
    // Each write on the wire at once, at the meter's pace, as a bridge forwards its UART.
    socket_.set_option(tcp::no_delay(true), ignored);
    boost::system::error_code ec;
    const tcp::endpoint remote = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("a reader") : endpoint_text(remote);
    ++connections_;
    if (events_.on_connect) events_.on_connect(peer_, replaced);
    read_some();
    for (auto& ready : std::exchange(waiting_, {}))
        ready({});
    if (held_) {
        held_ = false;
        write_now();
    }
}

void tcp_meter_line::drop_reader(const std::string& how) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    ++generation_;
    if (events_.on_disconnect) events_.on_disconnect(peer_, how);
    if (finish_done_) complete_finish(0);  // nobody left to send the rest to
}

void tcp_meter_line::read_some() {
    socket_.async_read_some(asio::buffer(read_buffer_),
                            [this, alive = std::weak_ptr<bool>(alive_), generation = generation_](
                                const boost::system::error_code& ec, std::size_t n) {
                                if (!alive.expired()) on_read(generation, ec, n);
                            });
}

void tcp_meter_line::on_read(std::uint64_t generation, const boost::system::error_code& ec,
                             std::size_t n) {
    // A connection replaced meanwhile says nothing: its successor is read now.
    if (cancelled_ || generation != generation_) return;
    if (n > 0 && on_bytes_) on_bytes_(std::span(read_buffer_.data(), n));
    if (cancelled_ || generation != generation_) return;  // on_bytes_ cancelled
    if (ec == asio::error::eof) return drop_reader("it closed the connection");
    if (ec) return drop_reader(ec.message());
    read_some();
}

void tcp_meter_line::async_wait_reader(std::function<void(const std::error_code&)> ready) {
    if (cancelled_ || socket_.is_open()) {
        const std::error_code ec =
            cancelled_ ? std::make_error_code(std::errc::operation_canceled) : std::error_code{};
        asio::post(io_, [ready = std::move(ready), ec] { ready(ec); });
        return;
    }
    waiting_.push_back(std::move(ready));
}

void tcp_meter_line::async_write(std::span<const std::uint8_t> data,
                                 std::function<void(const std::error_code&)> done) {
    write_data_ = data;
    write_done_ = std::move(done);
    if (cancelled_) return post_write_done(std::make_error_code(std::errc::operation_canceled));
    if (socket_.is_open()) return write_now();
    if (mode_ == without_reader::hold) {
        held_ = true;  // adopt_reader() sends it
        return;
    }
    dropped_ += data.size();
    // Posted, not called: a sender that writes again from `done` must not recurse.
    post_write_done({});
}

void tcp_meter_line::write_now() {
    asio::async_write(
        socket_, asio::buffer(write_data_.data(), write_data_.size()),
        [this, alive = std::weak_ptr<bool>(alive_), generation = generation_](
            const boost::system::error_code& ec, std::size_t n) {
            if (alive.expired()) return;
            if (cancelled_)
                return complete_write(std::make_error_code(std::errc::operation_canceled));
            if (ec) {
                // The reader went, or a new one took its place: the rest is lost on the way.
                dropped_ += write_data_.size() - n;
                if (generation == generation_) drop_reader(ec.message());
            }
            complete_write({});
        });
}

void tcp_meter_line::post_write_done(const std::error_code& ec) {
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), ec] {
        if (!alive.expired()) complete_write(ec);
    });
}

void tcp_meter_line::complete_write(const std::error_code& ec) {
    auto done = std::exchange(write_done_, nullptr);
    write_data_ = {};
    if (done) done(ec);
}

void tcp_meter_line::start_reading(std::function<void(std::span<const std::uint8_t>)> on_bytes) {
    on_bytes_ = std::move(on_bytes);
}

std::size_t tcp_meter_line::unsent_bytes() {
    int queued = 0;
    // Written but not yet acknowledged by the reader's kernel.
    if (::ioctl(socket_.native_handle(), SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
    return static_cast<std::size_t>(queued);
}

void tcp_meter_line::finish(std::function<void(std::size_t)> done) {
    if (cancelled_ || !socket_.is_open()) return done(0);
    finish_done_ = std::move(done);
    watch_queue(unsent_bytes(), steady::now());
}

void tcp_meter_line::watch_queue(std::size_t last, steady::time_point last_change) {
    const std::size_t unsent = unsent_bytes();
    const auto now = steady::now();
    if (unsent != last) last_change = now;
    if (unsent == 0) return complete_finish(0);
    if (now - last_change >= 5s) return complete_finish(unsent);
    timer_.expires_after(20ms);
    timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_), unsent,
                       last_change](const boost::system::error_code& ec) {
        if (alive.expired() || !finish_done_) return;
        if (ec || cancelled_) return complete_finish(0);
        watch_queue(unsent, last_change);
    });
}

void tcp_meter_line::complete_finish(std::size_t unsent) {
    auto done = std::exchange(finish_done_, nullptr);
    if (done) done(unsent);
}

void tcp_meter_line::cancel() {
    cancelled_ = true;
    boost::system::error_code ignored;
    if (acceptor_.is_open()) acceptor_.close(ignored);
    if (socket_.is_open()) socket_.cancel(ignored);
    timer_.cancel();  // a finish in progress ends with 0
    retry_timer_.cancel();
    if (held_) {
        held_ = false;
        post_write_done(std::make_error_code(std::errc::operation_canceled));
    }
    for (auto& ready : std::exchange(waiting_, {})) {
        asio::post(io_, [ready = std::move(ready)] {
            ready(std::make_error_code(std::errc::operation_canceled));
        });
    }
}

}  // namespace evn_mbus
