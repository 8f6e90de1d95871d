#include "meter_availability.hpp"

namespace evn_mbus {

bool meter_availability::on_reading(clock::time_point now) {
    last_reading_ = now;
    if (online_) return false;
    online_ = true;
    return true;
}

bool meter_availability::on_port_lost() {
    if (!online_) return false;
    online_ = false;
    return true;
}

bool meter_availability::check(clock::time_point now) {
    if (!online_ || limit_.count() <= 0 || now - last_reading_ < limit_) return false;
    online_ = false;
    return true;
}

std::optional<meter_availability::clock::time_point> meter_availability::deadline() const {
    if (!online_ || limit_.count() <= 0) return std::nullopt;
    return last_reading_ + limit_;
}

}  // namespace evn_mbus
