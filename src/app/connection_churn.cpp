#include "connection_churn.hpp"

namespace evn_mbus {

bool connection_churn::lost(clock::time_point now, bool explained) {
    const bool short_one = connected_at_ && now - *connected_at_ < short_lived_;
    connected_at_.reset();
    if (explained || !short_one) {
        streak_ = 0;
        warned_ = false;
        return false;
    }
    ++streak_;
    if (streak_ < streak_needed_ || warned_) return false;
    warned_ = true;
    return true;
}

}  // namespace evn_mbus
