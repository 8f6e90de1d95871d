// Messages too big for the broker, and connections the broker keeps closing: what the
// publisher does and says about them. Wraps mqtt_packet_limit (the limit learnt from lost
// connections) and connection_churn (another client with our id). Sans-I/O: driven by calls
// and `now`; it returns the warnings to log, worded with the setting that helps.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>

#include "connection_churn.hpp"
#include "daemon_config.hpp"
#include "mqtt_packet_limit.hpp"

namespace evn_mbus {

class oversize_guard {
  public:
    using clock = std::chrono::steady_clock;

    explicit oversize_guard(const mqtt_config& config) : config_(config) {}

    struct check {
        bool drop = false;                   // larger than the broker takes: do not send
        std::optional<std::string> warning;  // once per topic (the discovery configs once)
    };
    check too_big(const std::string& topic, std::size_t payload_bytes, int qos);

    // A message handed to the client; the token is for settled() (0 for qos 0).
    std::uint64_t sent(const std::string& topic, std::size_t payload_bytes, int qos,
                       clock::time_point now);
    // What the client reported of it (see mqtt_packet_limit).
    void settled(std::uint64_t token, bool confirmed) { limit_.settled(token, confirmed); }
    void not_taken(std::uint64_t token) { limit_.not_taken(token); }

    void connected(clock::time_point now) {
        limit_.connected(now);
        churn_.connected(now);
    }

    struct loss {
        std::optional<std::string> too_big;  // the limit was just set, or cannot help
        std::optional<std::string> churn;    // another client with our id, likely
    };
    // Why a connection ended, when the broker gave no reason.
    loss lost(clock::time_point now, const std::string& client_id);

    // Inside a streak of connections closed within seconds: reconnect lines are noise.
    bool churning() const { return churn_.churning(); }
    std::uint64_t dropped() const noexcept { return dropped_; }

  private:
    mqtt_config config_;
    mqtt_packet_limit limit_;
    connection_churn churn_;
    std::uint64_t dropped_ = 0;  // messages dropped as too big
    bool resent_said_ = false;
    std::unordered_set<std::string> logged_;
};

}  // namespace evn_mbus
