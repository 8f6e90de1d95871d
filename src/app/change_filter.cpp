#include "change_filter.hpp"

#include <algorithm>

namespace evn_mbus {

void change_filter::apply(std::vector<mqtt_message>& messages, clock::time_point now,
                          const std::function<bool(const std::string& topic)>& filtered) {
    const auto unchanged = [&](const mqtt_message& m) {
        if (!filtered(m.topic)) return false;
        auto [it, fresh] = sent_.try_emplace(m.topic, last_sent{m.payload, now});
        if (fresh) return false;
        if (it->second.payload == m.payload && now - it->second.at < heartbeat_) {
            ++suppressed_;
            return true;
        }
        it->second = {m.payload, now};
        return false;
    };
    messages.erase(std::remove_if(messages.begin(), messages.end(), unchanged), messages.end());
}

}  // namespace evn_mbus
