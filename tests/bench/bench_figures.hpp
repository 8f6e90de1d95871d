// What the daemon benchmarks share: milliseconds of a duration, nearest-rank percentiles, and
// failing with a message (the programs print it and exit 1).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace evn_mbus::bench {

[[noreturn]] inline void fail(const std::string& what) {
    throw std::runtime_error(what);
}

inline double ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// Nearest rank: the smallest value with at least p (0..1) of all values at or below it.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

}  // namespace evn_mbus::bench
