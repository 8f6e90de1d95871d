#include "drop_reporter.hpp"

#include <spdlog/fmt/fmt.h>

namespace evn_mbus {

std::string spoken_duration(std::chrono::steady_clock::duration d) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s < 60) return fmt::format("{} s", s < 0 ? 0 : s);
    if (s < 3600)
        return s % 60 ? fmt::format("{} min {} s", s / 60, s % 60) : fmt::format("{} min", s / 60);
    const auto min = s / 60;
    return min % 60 ? fmt::format("{} h {} min", min / 60, min % 60)
                    : fmt::format("{} h", min / 60);
}

std::optional<std::string> drop_reporter::dropped(clock::time_point now, const drop_context& c) {
    ++total_;
    const bool due = !last_logged_ || c.cause != last_cause_ || now - *last_logged_ >= interval_;
    if (!due) return std::nullopt;
    last_logged_ = now;
    last_cause_ = c.cause;

    const std::string full =
        c.bound == queue_bound::readings
            ? fmt::format("{} readings, mqtt.queue_size", c.max_readings)
            : fmt::format("{} MiB, mqtt.queue_max_mb; {} readings", c.max_mb, c.queued);
    std::string why;
    if (c.cause == drop_cause::broker_slow) {
        why = fmt::format(
            "The broker is connected, but it confirms messages more slowly than the meter's "
            "readings arrive ({} messages sent are waiting for its confirmation): it is "
            "overloaded, or the network to it is slow. Check the broker's load and the network; "
            "a larger {} only bridges a longer burst",
            c.window, c.bound == queue_bound::readings ? "mqtt.queue_size" : "mqtt.queue_max_mb");
    } else if (c.cause == drop_cause::catching_up) {
        why = fmt::format(
            "The broker is back, and the queue is still full of readings from while it was "
            "away: until they are sent, each new reading pushes out the oldest. Raise {} to "
            "bridge longer outages",
            c.bound == queue_bound::readings ? "mqtt.queue_size" : "mqtt.queue_max_mb");
    } else {
        why = c.never_connected
                  ? fmt::format(
                        "The broker has not been reachable since evn-mbus started ({} "
                        "ago)",
                        spoken_duration(c.away_for))
                  : fmt::format("The broker has been unreachable for {}",
                                spoken_duration(c.away_for));
        why += fmt::format(
            ", too long to keep everything: bring it back, or raise {} to bridge longer outages",
            c.bound == queue_bound::readings ? "mqtt.queue_size" : "mqtt.queue_max_mb");
    }
    return fmt::format(
        "MQTT queue full ({}): dropping the oldest readings to make room, {} so far. {} (this "
        "is repeated at most once a minute; the periodic summary and the stop line give the "
        "total).",
        full, total_, why);
}

}  // namespace evn_mbus
