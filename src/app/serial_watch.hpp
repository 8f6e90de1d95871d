// The meter's serial line as `evn-mbus run` supervises it: the port (serial_reader, which
// retries by itself), what the log says when it opens, comes back or is gone, and the warning
// when the open port stays silent for serial.no_data_warning_s. Another source of bytes (a
// network socket) would be a sibling of this class with the same handlers.
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

namespace evn_mbus {

class serial_reader;

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
    // Writes to the meter (serial_reader::write); false while the port is closed.
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
    std::unique_ptr<serial_reader> reader_;
    boost::asio::steady_timer silence_timer_;
    std::chrono::steady_clock::time_point last_data_;  // last byte, or when the port opened
    bool silent_ = false;                              // the no-data warning was given
    bool stopped_ = true;
};

}  // namespace evn_mbus
