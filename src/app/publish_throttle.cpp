#include "publish_throttle.hpp"

namespace evn_mbus {

publish_throttle::verdict publish_throttle::offer(clock::time_point now) {
    if (interval_ <= clock::duration::zero()) return verdict::now;
    if (!holding_ && (!last_sent_ || now - *last_sent_ >= interval_)) {
        last_sent_ = now;
        return verdict::now;
    }
    if (holding_) ++superseded_;
    holding_ = true;
    return verdict::held;
}

std::optional<publish_throttle::clock::time_point> publish_throttle::due() const {
    if (!holding_) return std::nullopt;
    return *last_sent_ + interval_;
}

bool publish_throttle::take_due(clock::time_point now) {
    const auto at = due();
    if (!at || now < *at) return false;
    holding_ = false;
    // The next interval starts when this one ended, not when the timer ran late: the rate
    // stays one per interval on a loaded machine.
    last_sent_ = *at;
    return true;
}

bool publish_throttle::take_held() {
    if (!holding_) return false;
    holding_ = false;
    return true;
}

}  // namespace evn_mbus
