// The simulator's end of the meter's line, on Asio: a pseudo-terminal it creates, a serial
// port (with the daemon's line settings, serial_line.hpp), a file or FIFO it writes to, or a
// TCP listener standing in for a serial-to-network bridge (tcp_meter_line.hpp).
//
// Writes wait while the kernel's buffer is full (a reader that does not read); reads hand
// on what the other end writes back (a daemon answering the meter), for meters that wait for
// an acknowledgement. A file or FIFO is written only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "pty_device.hpp"
#include "tcp_meter_line.hpp"

namespace evn_mbus {

class meter_port {
  public:
    explicit meter_port(boost::asio::io_context& io);
    ~meter_port();
    meter_port(const meter_port&) = delete;
    meter_port& operator=(const meter_port&) = delete;

    // A pty in raw mode, optionally with a symlink to it (pty_device::open's errors).
    std::error_code open_pty(const std::string& link);
    // A serial port gets the meter's line at `baud` (8E1, raw, no flow control); anything else
    // (a file, a FIFO, /dev/null) just receives the bytes. A file is created, never one under
    // /dev: a mistyped port name must be an error.
    std::error_code open_device(const std::string& path, unsigned baud);
    // A TCP listener on host:port (0: a free one) for one reader at a time; name() is the
    // address actually listened on ("tcp://127.0.0.1:41234").
    std::error_code open_listener(const std::string& host, std::uint16_t port,
                                  tcp_meter_line::without_reader mode,
                                  tcp_meter_line::events events);

    // Runs `ready` when the line has a reader to send to: at once (posted) for a pty, a
    // serial port or a file; for a listener once the first reader connected.
    // operation_canceled if cancel() comes first.
    void async_wait_ready(std::function<void(const std::error_code&)> ready);

    // Writes all of `data` (which must stay valid until `done` runs).
    void async_write(std::span<const std::uint8_t> data,
                     std::function<void(const std::error_code&)> done);

    // From now on, hands what arrives on the line to `on_bytes`, until cancel() or a read error
    // (then `on_end`, if given, with it). operation_not_supported for a file or FIFO.
    std::error_code start_reading(std::function<void(std::span<const std::uint8_t>)> on_bytes,
                                  std::function<void(const std::error_code&)> on_end = {});

    // At the end: lets a serial port send its last byte, the reader of a pty take what is
    // still buffered (closing a pty discards it), and a listener's kernel send what it holds
    // for the reader. `done` gets the bytes nobody took within 5 s (0 when all were taken, or
    // when cancel() came first).
    void finish(std::function<void(std::size_t undelivered)> done);

    // Aborts the write, the read and the finish in progress (their handlers see
    // operation_aborted, finish's 0).
    void cancel();

    const std::string& name() const noexcept { return name_; }
    const std::string& link_path() const noexcept { return pty_.link_path(); }
    bool is_pty() const noexcept { return is_pty_; }
    bool is_listener() const noexcept { return tcp_ != nullptr; }
    // A listener's: bytes written while no reader was connected (lost, as on a real bridge),
    // and the readers that connected.
    std::uint64_t dropped_bytes() const noexcept { return tcp_ ? tcp_->dropped_bytes() : 0; }
    std::uint64_t connections() const noexcept { return tcp_ ? tcp_->connections() : 0; }

  private:
    // Makes `fd` (from open(), -1 for its errno) the stream's descriptor.
    std::error_code adopt(int fd);
    void read_some();
    void watch_unread(std::size_t last, std::chrono::steady_clock::time_point last_change,
                      std::chrono::steady_clock::time_point empty_since);

    boost::asio::io_context& io_;
    pty_device pty_;  // before the streams: they hold a copy of its master descriptor
    boost::asio::serial_port serial_;
    boost::asio::posix::stream_descriptor stream_;  // a pty's master, a file or a FIFO
    boost::asio::steady_timer finish_timer_;
    std::unique_ptr<tcp_meter_line> tcp_;  // a listener's line; then the streams stay closed
    std::string name_;
    bool is_pty_ = false;
    bool readable_ = false;
    bool reading_ = false;  // between start_reading() and cancel()
    std::array<std::uint8_t, 512> read_buffer_{};
    std::function<void(std::span<const std::uint8_t>)> on_bytes_;
    std::function<void(const std::error_code&)> on_end_;
    std::function<void(std::size_t)> finish_done_;
    // Guards the completion handlers against running after destruction.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace evn_mbus
