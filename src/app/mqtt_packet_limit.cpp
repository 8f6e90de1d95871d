#include "mqtt_packet_limit.hpp"

#include <algorithm>

namespace evn_mbus {

std::size_t mqtt_packet_limit::packet_size(std::size_t topic_bytes, std::size_t payload_bytes,
                                           int qos) {
    const std::size_t remaining = 2 + topic_bytes + (qos > 0 ? 2 : 0) + payload_bytes;
    std::size_t length_bytes = 1;  // the remaining length, 7 bits a byte
    for (std::size_t r = remaining; r >= 128; r /= 128)
        ++length_bytes;
    return 1 + length_bytes + remaining;
}

void mqtt_packet_limit::connected() {
    flight_.clear();
}

std::uint64_t mqtt_packet_limit::sent(const std::string& topic, std::size_t size,
                                      clock::time_point now) {
    // Older ones can no longer be blamed; a broker that is slow to confirm keeps them long.
    while (!flight_.empty() && now - flight_.front().at > blame_window)
        flight_.pop_front();
    const auto token = next_token_++;
    flight_.push_back({token, topic, size, now});
    return token;
}

void mqtt_packet_limit::confirmed(std::uint64_t token) {
    const auto it = std::find_if(flight_.begin(), flight_.end(),
                                 [token](const in_flight& f) { return f.token == token; });
    if (it == flight_.end()) return;
    largest_confirmed_ = std::max(largest_confirmed_, it->size);
    flight_.erase(it);
}

mqtt_packet_limit::verdict mqtt_packet_limit::lost(clock::time_point now) {
    std::optional<verdict> blamed;
    for (const auto& f : flight_) {
        if (f.size >= smallest_blamed && f.size > largest_confirmed_ && fits(f.size) &&
            now - f.at <= blame_window) {
            blamed = verdict{verdict::kind::suspect, f.topic, f.size};
            break;
        }
    }
    flight_.clear();
    if (!blamed) {
        first_strike_.reset();
        return {};
    }
    if (limit_) {  // the broker is known to have a limit: it is lower still
        first_strike_.reset();
        limit_ = blamed->size;
        blamed->what = verdict::kind::too_big;
        return *blamed;
    }
    if (!first_strike_) {
        first_strike_ = blamed;
        return *blamed;
    }
    verdict v = first_strike_->size <= blamed->size ? *first_strike_ : *blamed;
    v.what = verdict::kind::too_big;
    first_strike_.reset();
    limit_ = v.size;
    return v;
}

}  // namespace evn_mbus
