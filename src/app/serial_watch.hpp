// The meter's line as `evn-mbus run` supervises it: a serial port (serial_reader) or a network
// bridge (net_reader), both retrying by themselves; what the log says when it opens, comes
// back or is gone, and the warning when the open line stays silent for
// serial.no_data_warning_s.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "daemon_config.hpp"
#include "serial_endpoint.hpp"

namespace evn_mbus {

class meter_line;

class serial_watch {
  public:
    struct handlers {
        std::function<void(std::span<const std::uint8_t>)> on_bytes;
        std::function<void()> on_idle;
        std::function<void()> on_open;  // the port was opened (first time or again)
        std::function<void()> on_lost;  // opening failed, or the open port failed
    };

    serial_watch(boost::asio::io_context& io, handlers h);
    ~serial_watch();
    serial_watch(const serial_watch&) = delete;
    serial_watch& operator=(const serial_watch&) = delete;

    void set_logger(std::shared_ptr<spdlog::logger> log) { log_ = std::move(log); }
    // Opens the port with `config`, closing the one open before (a reload).
    void start(const serial_config& config);
    void stop();
    // Writes to the meter (meter_line::write); false while the line is closed.
    bool write(std::span<const std::uint8_t> bytes);
    // How often the port came back after it had been open, since the last start().
    std::uint64_t reopen_count() const noexcept;

  private:
    void on_bytes(std::span<const std::uint8_t> bytes);
    void watch_silence();

    boost::asio::io_context& io_;
    handlers handlers_;
    serial_config config_;
    std::shared_ptr<spdlog::logger> log_;
    serial_endpoint endpoint_;  // what config_.device names
    std::unique_ptr<meter_line> reader_;
    boost::asio::steady_timer silence_timer_;
    std::chrono::steady_clock::time_point last_data_;  // last byte, or when the port opened
    bool silent_ = false;                              // the no-data warning was given
    bool stopped_ = true;
};

}  // namespace evn_mbus
