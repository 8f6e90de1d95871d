#include "meter_port.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>

#include "asio_error.hpp"
#include "serial_line.hpp"

namespace evn_mbus {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::error_code last_error() {
    return {errno, std::generic_category()};
}

}  // namespace

meter_port::meter_port(asio::io_context& io)
    : io_(io), serial_(io), stream_(io), finish_timer_(io) {}

meter_port::~meter_port() {
    *alive_ = false;
    boost::system::error_code ignored;
    if (serial_.is_open()) serial_.close(ignored);
    if (stream_.is_open()) stream_.close(ignored);
}

std::error_code meter_port::open_pty(const std::string& link) {
    if (auto ec = pty_.open(link)) return ec;
    // A descriptor of the stream's own: the pty closes the master when it is done with it.
    if (auto ec = adopt(::fcntl(pty_.master_fd(), F_DUPFD_CLOEXEC, 0))) return ec;
    name_ = pty_.slave_path();
    is_pty_ = true;
    readable_ = true;
    return {};
}

std::error_code meter_port::open_device(const std::string& path, unsigned baud) {
    name_ = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode)) {
        // Opened and set up like the daemon opens its port, so both ends agree on the line.
        boost::system::error_code ec;
        serial_.open(path, ec);
        if (!ec) {
            serial_config line;
            line.device = path;
            line.baud = baud;
            if (auto settings = apply_line_settings(serial_, line)) {
                serial_.close(ec);
                return settings;
            }
            readable_ = true;
            return {};
        }
        // Not a terminal (/dev/null, say): it just receives the bytes, as a file does.
        if (ec.value() != ENOTTY) return to_std(ec);
    }
    int flags = O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK;
    // Never create files under /dev: a mistyped port name must be an error.
    if (path.rfind("/dev/", 0) != 0) flags |= O_CREAT | O_TRUNC;
    // A regular file cannot be watched by epoll, but Asio writes to it directly: it never
    // has to wait.
    return adopt(::open(path.c_str(), flags, 0644));
}

std::error_code meter_port::open_listener(const std::string& host, std::uint16_t port,
                                          tcp_meter_line::without_reader mode,
                                          tcp_meter_line::events events) {
    auto line = std::make_unique<tcp_meter_line>(io_);
    if (auto ec = line->listen(host, port, mode, std::move(events))) return ec;
    tcp_ = std::move(line);
    name_ = tcp_->address();
    readable_ = true;
    return {};
}

void meter_port::async_wait_ready(std::function<void(const std::error_code&)> ready) {
    if (tcp_) return tcp_->async_wait_reader(std::move(ready));
    asio::post(io_, [ready = std::move(ready)] { ready({}); });
}

std::error_code meter_port::adopt(int fd) {
    if (fd < 0) return last_error();
    boost::system::error_code ec;
    stream_.assign(fd, ec);
    if (ec) ::close(fd);
    return to_std(ec);
}

void meter_port::async_write(std::span<const std::uint8_t> data,
                             std::function<void(const std::error_code&)> done) {
    if (tcp_) return tcp_->async_write(data, std::move(done));
    auto handler = [done = std::move(done)](const boost::system::error_code& ec, std::size_t) {
        done(to_std(ec));
    };
    if (serial_.is_open()) {
        asio::async_write(serial_, asio::buffer(data.data(), data.size()), std::move(handler));
    } else {
        asio::async_write(stream_, asio::buffer(data.data(), data.size()), std::move(handler));
    }
}

std::error_code meter_port::start_reading(
    std::function<void(std::span<const std::uint8_t>)> on_bytes,
    std::function<void(const std::error_code&)> on_end) {
    if (!readable_) return std::make_error_code(std::errc::operation_not_supported);
    on_bytes_ = std::move(on_bytes);
    on_end_ = std::move(on_end);
    reading_ = true;
    if (tcp_) {
        tcp_->start_reading(on_bytes_);  // a reader that leaves is not the end: another may come
        return {};
    }
    read_some();
    return {};
}

void meter_port::read_some() {
    auto handler = [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec,
                                                               std::size_t n) {
        if (alive.expired() || !*alive.lock()) return;
        if (n > 0 && on_bytes_) on_bytes_(std::span(read_buffer_.data(), n));
        if (ec || !reading_) {  // !reading_: on_bytes_ called cancel(), no read was pending
            if (on_end_)
                on_end_(ec ? to_std(ec) : std::make_error_code(std::errc::operation_canceled));
            return;
        }
        read_some();
    };
    if (serial_.is_open()) {
        serial_.async_read_some(asio::buffer(read_buffer_), std::move(handler));
    } else {
        stream_.async_read_some(asio::buffer(read_buffer_), std::move(handler));
    }
}

void meter_port::finish(std::function<void(std::size_t)> done) {
    if (tcp_) return tcp_->finish(std::move(done));
    if (serial_.is_open()) ::tcdrain(serial_.native_handle());
    if (!is_pty_) {
        done(0);
        return;
    }
    finish_done_ = std::move(done);
    watch_unread(pty_.unread_bytes(), steady::now(), {});
}

void meter_port::watch_unread(std::size_t last, steady::time_point last_change,
                              steady::time_point empty_since) {
    const auto complete = [this](std::size_t undelivered) {
        auto done = std::move(finish_done_);
        finish_done_ = nullptr;
        if (done) done(undelivered);
    };
    const std::size_t unread = pty_.unread_bytes();
    const auto now = steady::now();
    if (unread != last) last_change = now;
    if (unread == 0) {
        // The kernel moves the rest of its buffer in behind what was read: only a buffer that
        // stays empty is really empty.
        if (empty_since == steady::time_point{}) empty_since = now;
        if (now - empty_since >= 100ms) return complete(0);
    } else {
        empty_since = {};
        if (now - last_change >= 5s) return complete(unread);
    }
    finish_timer_.expires_after(20ms);
    finish_timer_.async_wait(
        [this, complete, unread, last_change, empty_since,
         alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (alive.expired() || !*alive.lock()) return;
            if (ec) return complete(0);
            watch_unread(unread, last_change, empty_since);
        });
}

void meter_port::cancel() {
    if (tcp_) {
        tcp_->cancel();
        if (reading_ && on_end_) {
            // As a pty's read ends: with the cancellation, after this call.
            asio::post(io_, [on_end = on_end_] {
                on_end(std::make_error_code(std::errc::operation_canceled));
            });
        }
    }
    reading_ = false;
    boost::system::error_code ignored;
    if (serial_.is_open()) serial_.cancel(ignored);
    if (stream_.is_open()) stream_.cancel(ignored);
    finish_timer_.cancel();
}

}  // namespace evn_mbus
