#include "systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

namespace evn_mbus {

systemd_notifier::systemd_notifier(boost::asio::io_context& io) : timer_(io) {}

void systemd_notifier::ready() {
    ::sd_notify(0, "READY=1");
}

void systemd_notifier::stopping() {
    ::sd_notify(0, "STOPPING=1");
}

void systemd_notifier::reloading() {
    ::sd_notify(0, "RELOADING=1");
}

void systemd_notifier::status(const std::string& line) {
    if (line == last_status_) return;
    last_status_ = line;
    ::sd_notify(0, ("STATUS=" + line).c_str());
}

void systemd_notifier::start_watchdog() {
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    interval_ = std::chrono::microseconds(usec / 2);
    feed();
}

void systemd_notifier::stop_watchdog() {
    interval_ = std::chrono::microseconds(0);
    timer_.cancel();
}

void systemd_notifier::feed() {
    if (interval_.count() == 0) return;
    ::sd_notify(0, "WATCHDOG=1");
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) feed();
    });
}

}  // namespace evn_mbus
