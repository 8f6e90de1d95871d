#include "error_limiter.hpp"

namespace evn_mbus {

bool error_limiter::should_log(const std::string& kind, clock::time_point now,
                               std::uint64_t& suppressed) {
    auto [it, inserted] = entries_.try_emplace(kind);
    entry& e = it->second;
    if (inserted || now - e.last_logged >= window_) {
        suppressed = e.suppressed;
        e.suppressed = 0;
        e.last_logged = now;
        return true;
    }
    ++e.suppressed;
    suppressed = 0;
    return false;
}

}  // namespace evn_mbus
