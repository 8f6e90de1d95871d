// mqtt.min_interval_s: which readings go to MQTT when the meter pushes more often than the
// owner wants messages (a Kaifa pushes every 5 s, Landis+Gyr E450s and AMIS every second).
//
// At most one reading per interval, and always the newest: the first reading after a quiet
// interval goes at once; readings within the interval wait, each replacing the one before, and
// the last of them goes when the interval ends. Energy registers only rise, so the reading sent
// carries all energy of the readings it replaced: nothing is lost, only thinned. Sans-I/O:
// driven by offer() and the caller's timer at due(), tested without a clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace evn_mbus {

class publish_throttle {
  public:
    using clock = std::chrono::steady_clock;

    // 0: every reading goes at once (no throttling).
    explicit publish_throttle(clock::duration min_interval) : interval_(min_interval) {}

    enum class verdict {
        now,   // publish this reading now
        held,  // keep it (replacing a held one); the timer at due() sends it
    };
    verdict offer(clock::time_point now);

    // When the held reading is to go, if one is held.
    std::optional<clock::time_point> due() const;

    // The timer fired at `now`: true when the held reading goes now (it is then no longer
    // held); false when there is none or it is early.
    bool take_due(clock::time_point now);

    // The held reading goes now (the daemon stops or the settings change).
    bool take_held();

    // Readings replaced by a newer one before they went.
    std::uint64_t superseded() const { return superseded_; }

  private:
    clock::duration interval_;
    std::optional<clock::time_point> last_sent_;
    bool holding_ = false;
    std::uint64_t superseded_ = 0;
};

}  // namespace evn_mbus
