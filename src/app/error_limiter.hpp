// Rate-limits repeated identical errors: the first of a kind is logged at once, repeats within
// the window are counted and reported with the count when the window has passed. A meter
// with a wrong key fails every 5 s; the log should say so once a minute, not 720 times an hour.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace evn_mbus {

class error_limiter {
  public:
    using clock = std::chrono::steady_clock;

    explicit error_limiter(std::chrono::seconds window = std::chrono::seconds(60))
        : window_(window) {}

    // Records one error of `kind` at `now`. Returns true when it should be logged now;
    // `suppressed` is then the number of repeats that were not logged since the last time.
    bool should_log(const std::string& kind, clock::time_point now, std::uint64_t& suppressed);

  private:
    struct entry {
        clock::time_point last_logged{};
        std::uint64_t suppressed = 0;
    };
    std::chrono::seconds window_;
    std::map<std::string, entry> entries_;
};

}  // namespace evn_mbus
