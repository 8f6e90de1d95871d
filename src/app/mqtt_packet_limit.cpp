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

void mqtt_packet_limit::connected(clock::time_point now) {
    std::erase_if(flight_, [](const in_flight& f) { return f.ended; });
    for (auto& f : flight_)
        f.at = now;  // carried over: written first on this connection
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

std::deque<mqtt_packet_limit::in_flight>::iterator mqtt_packet_limit::find(std::uint64_t token) {
    return std::find_if(flight_.begin(), flight_.end(),
                        [token](const in_flight& f) { return f.token == token; });
}

void mqtt_packet_limit::settled(std::uint64_t token, bool confirmed) {
    const auto it = find(token);
    if (it == flight_.end()) return;
    if (!confirmed) {
        it->ended = true;
        return;
    }
    largest_confirmed_ = std::max(largest_confirmed_, it->size);
    flight_.erase(it);
}

void mqtt_packet_limit::not_taken(std::uint64_t token) {
    if (const auto it = find(token); it != flight_.end()) flight_.erase(it);
}

mqtt_packet_limit::verdict mqtt_packet_limit::lost(clock::time_point now) {
    // The first message, in the order written, that the broker may have refused: one of those
    // the client failed, if it failed any (a clean session); else any (nothing fails when the
    // session is kept). What was not written is kept for connected().
    const bool written_known =
        std::any_of(flight_.begin(), flight_.end(), [](const in_flight& f) { return f.ended; });
    const in_flight* culprit = nullptr;
    for (const auto& f : flight_) {
        if ((written_known && !f.ended) || f.size < smallest_blamed ||
            f.size <= largest_confirmed_ || now - f.at > blame_window)
            continue;
        culprit = &f;
        break;
    }
    if (culprit && !fits(culprit->size)) {
        const auto what =
            culprit->token == last_known_ ? verdict::kind::resent : verdict::kind::known;
        last_known_ = culprit->token;
        return {what, culprit->topic, culprit->size};
    }
    std::optional<verdict> blamed;
    if (culprit) blamed = verdict{verdict::kind::suspect, culprit->topic, culprit->size};
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
