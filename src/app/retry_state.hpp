// Sans-I/O: when a meter line (a serial port, a network bridge) that failed is tried again, and
// whether a failure is news. Capped exponential backoff: quick for a replugged adapter or a
// restarted bridge, at most one attempt every `cap` for one that stays away; a failure is said
// once, its repeats while retrying are not.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

namespace evn_mbus {

class retry_state {
  public:
    static constexpr std::chrono::milliseconds first_delay{250};

    // The wait before the next attempt: 250 ms, then doubled up to `cap`.
    std::chrono::milliseconds next_delay(std::chrono::milliseconds cap) noexcept {
        delay_ = delay_.count() == 0 ? first_delay : std::min(delay_ * 2, cap);
        return delay_;
    }
    // True the first time `what` is reported in a row (the caller logs it then).
    bool is_news(const std::string& what) {
        const bool news = what != last_;
        last_ = what;
        return news;
    }
    // The line works: the next failure is news, and retried quickly.
    void succeeded() noexcept {
        delay_ = {};
        last_.clear();
    }

  private:
    std::chrono::milliseconds delay_{0};
    std::string last_;
};

}  // namespace evn_mbus
