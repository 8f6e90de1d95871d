#include "idle_gap_timer.hpp"

#include <sys/ioctl.h>

namespace evn_mbus {

idle_gap_timer::idle_gap_timer(boost::asio::io_context& io, std::chrono::milliseconds gap,
                               std::function<void()> on_idle)
    : timer_(io), gap_(gap), on_idle_(std::move(on_idle)) {}

void idle_gap_timer::bytes_arrived(int fd) {
    fd_ = fd;
    pending_ = true;
    arm();
}

void idle_gap_timer::line_lost() {
    timer_.cancel();
    fd_ = -1;
    if (!pending_) return;
    pending_ = false;
    if (on_idle_) on_idle_();
}

void idle_gap_timer::cancel() {
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
    timer_.cancel();
    pending_ = false;
    fd_ = -1;
}

void idle_gap_timer::arm() {
    timer_.expires_after(gap_);
    timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired() || !*alive.lock() || !pending_) return;
            // The timer measures loop time, not line time: if the loop was busy (publishing a
            // burst, say), bytes may be waiting in the kernel although the line never paused.
            // Then it was not idle; look again after the read has taken them.
            int waiting = 0;
            if (fd_ >= 0 && ::ioctl(fd_, FIONREAD, &waiting) == 0 && waiting > 0) {
                arm();
                return;
            }
            pending_ = false;
            if (on_idle_) on_idle_();
        });
}

}  // namespace evn_mbus
