// mqtt.on_change_only: a per-value topic (<prefix>/w_p, /p_p, /u1, ...) is sent only when its
// payload differs from the one last sent on it, or when mqtt.heartbeat_s passed since then, so
// that a value that stays the same still shows up now and then (and a subscriber that joined
// meanwhile gets it). The JSON state and raw topics are not filtered: they stand for the
// reading as a whole. Sans-I/O: the time is the caller's.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "delivery_queue.hpp"

namespace evn_mbus {

class change_filter {
  public:
    using clock = std::chrono::steady_clock;

    explicit change_filter(clock::duration heartbeat) : heartbeat_(heartbeat) {}

    // Removes from `messages` those whose topic `filtered` selects and whose payload is the
    // one last sent on the topic within the heartbeat.
    void apply(std::vector<mqtt_message>& messages, clock::time_point now,
               const std::function<bool(const std::string& topic)>& filtered);

    // Every topic goes again with the next reading (Home Assistant restarted, reconnect).
    void forget() { sent_.clear(); }

    // Messages left out as unchanged.
    std::uint64_t suppressed() const { return suppressed_; }

  private:
    struct last_sent {
        std::string payload;
        clock::time_point at;
    };
    clock::duration heartbeat_;
    // One entry per value topic: a meter sends at most a few dozen named values.
    std::unordered_map<std::string, last_sent> sent_;
    std::uint64_t suppressed_ = 0;
};

}  // namespace evn_mbus
