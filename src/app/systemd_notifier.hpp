// sd_notify for Type=notify: READY=1, STATUS=, WATCHDOG=1 (fed from the Asio loop, so a hung
// loop is noticed and restarted by systemd), STOPPING=1. Does nothing outside systemd.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <string>

namespace evn_mbus {

class systemd_notifier {
  public:
    explicit systemd_notifier(boost::asio::io_context& io);

    void ready();
    void status(const std::string& line);
    void stopping();
    void reloading();
    // Starts feeding the watchdog at half of WATCHDOG_USEC, if systemd asked for it.
    void start_watchdog();
    void stop_watchdog();
    bool watchdog_enabled() const noexcept { return interval_.count() > 0; }

  private:
    void feed();

    boost::asio::steady_timer timer_;
    std::chrono::microseconds interval_{0};
    std::string last_status_;
};

}  // namespace evn_mbus
