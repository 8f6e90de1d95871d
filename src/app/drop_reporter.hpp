// Counts the readings the MQTT publisher drops from its full queue and words the warning: why
// the queue is full (the broker is away, or connected but slower than the meter), which bound
// was reached, how many were dropped so far. Sans-I/O: driven by calls and `now`, it only
// returns the text, at once for the first drop and for a new cause, then at most once per
// interval.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace evn_mbus {

enum class drop_cause {
    broker_away,  // not connected: the broker is down, unreachable or refusing us
    broker_slow,  // connected, but it confirms messages more slowly than readings arrive
    catching_up,  // connected again, still sending what was queued while it was away
};

enum class queue_bound {
    readings,  // mqtt.queue_size
    bytes,     // mqtt.queue_max_mb
};

struct drop_context {
    drop_cause cause = drop_cause::broker_away;
    queue_bound bound = queue_bound::readings;
    std::size_t max_readings = 0;  // mqtt.queue_size
    std::size_t max_mb = 0;        // mqtt.queue_max_mb
    std::size_t queued = 0;        // readings in the queue after the drop
    std::size_t window = 0;        // broker_slow: messages waiting for the broker's confirmation
    // broker_away: how long the broker has been unreachable, and whether it ever was reachable.
    std::chrono::steady_clock::duration away_for{};
    bool never_connected = false;
};

class drop_reporter {
  public:
    using clock = std::chrono::steady_clock;

    explicit drop_reporter(clock::duration interval = std::chrono::minutes(1))
        : interval_(interval) {}

    // Counts one reading dropped to make room. Returns the warning to log when one is due.
    std::optional<std::string> dropped(clock::time_point now, const drop_context& c);

    std::uint64_t total() const noexcept { return total_; }

  private:
    clock::duration interval_;
    std::uint64_t total_ = 0;
    std::optional<clock::time_point> last_logged_;
    drop_cause last_cause_ = drop_cause::broker_away;
};

// "45 s", "2 min 5 s", "3 h 20 min": a duration as a home owner reads it.
std::string spoken_duration(std::chrono::steady_clock::duration d);

}  // namespace evn_mbus
