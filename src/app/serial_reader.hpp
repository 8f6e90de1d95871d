// Reads the meter's serial line on the Asio loop and hands the bytes on as they arrive.
//
// Idle-timer framing: every read re-arms a timer; when the line has been silent for the
// configured gap, `on_idle` runs so that a partial frame is dropped and the decoder resyncs.
// Complete frames never wait for it: the decoder hands them out the moment their length says
// they are complete.
//
// The device may not exist yet or vanish (a USB adapter unplugged): the reader reports the
// state change once, retries with capped backoff, and resumes by itself. It never throws out
// of its callbacks and never spins.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "daemon_config.hpp"
#include "idle_gap_timer.hpp"
#include "meter_line.hpp"
#include "retry_state.hpp"

namespace evn_mbus {

class serial_reader final : public meter_line {
  public:
    using handlers = meter_line::handlers;

    serial_reader(boost::asio::io_context& io, serial_config config, handlers h);
    ~serial_reader() override;
    serial_reader(const serial_reader&) = delete;
    serial_reader& operator=(const serial_reader&) = delete;

    void start() override;
    void stop() override;
    bool is_open() const noexcept { return port_.is_open(); }
    const serial_config& config() const noexcept { return config_; }
    bool write(std::span<const std::uint8_t> bytes) override;
    std::uint64_t bytes_written() const noexcept { return bytes_written_; }

    std::uint64_t bytes_read() const noexcept { return bytes_read_; }
    std::uint64_t reopen_count() const noexcept override { return reopens_; }

    // A message for a failure to open `device`, with what the user can do about it.
    static std::string describe_open_error(const std::string& device, const std::error_code& ec);

    // What stat says of a device, for the permission advice.
    struct device_access {
        bool known = false;  // stat succeeded
        unsigned mode = 0;   // permission bits
        unsigned gid = 0;
        std::string owner, group;  // names (numbers when unnamed)
        std::string kernel_name;   // the device's real path (a symlink resolved)
    };
    // The advice for EACCES: join an ordinary group that may read and write the device, else
    // a udev rule; never root or tty, and restart the service rather than "log in again".
    static std::string describe_permission_denied(const std::string& device, const device_access& a,
                                                  const std::string& user);

  private:
    void try_open();
    void schedule_reopen();
    void read_some();
    void write_next();
    void fail(const std::string& what);

    boost::asio::io_context& io_;
    serial_config config_;
    handlers handlers_;
    boost::asio::serial_port port_;
    idle_gap_timer idle_;
    boost::asio::steady_timer reopen_timer_;
    std::array<std::uint8_t, 512> buffer_{};
    retry_state retry_;
    bool running_ = false;
    bool opened_before_ = false;
    std::uint64_t bytes_read_ = 0;
    std::uint64_t reopens_ = 0;
    std::vector<std::uint8_t> to_write_;  // waiting for the write in progress
    std::vector<std::uint8_t> writing_;   // the write in progress
    std::uint64_t bytes_written_ = 0;
    // Guards the completion handlers against running after stop()/destruction.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace evn_mbus
