// Idle-timer framing on the Asio loop, for every kind of meter line: after bytes arrived, the
// line silent for serial.idle_gap_ms means the meter finished sending, so a partial frame will
// never complete (the framers drop it and resync). Complete frames never wait for it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace evn_mbus {

class idle_gap_timer {
  public:
    idle_gap_timer(boost::asio::io_context& io, std::chrono::milliseconds gap,
                   std::function<void()> on_idle);
    idle_gap_timer(const idle_gap_timer&) = delete;
    idle_gap_timer& operator=(const idle_gap_timer&) = delete;

    // Bytes came from the descriptor `fd` (a serial port or a socket): the gap starts again.
    void bytes_arrived(int fd);
    // The line was lost: if bytes came since the last idle notification, it is given now.
    void line_lost();
    void cancel();

  private:
    void arm();

    boost::asio::steady_timer timer_;
    std::chrono::milliseconds gap_;
    std::function<void()> on_idle_;
    int fd_ = -1;
    bool pending_ = false;  // bytes arrived since the last idle notification
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace evn_mbus
