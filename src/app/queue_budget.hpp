// The bounds of the MQTT publisher's queue: at most mqtt.queue_size readings and at most
// mqtt.queue_max_mb MiB of memory for them, whichever comes first. A reading's size is measured
// as it is queued (its topics and payloads as malloc holds them), so that a meter with long
// telegrams fills the byte budget sooner than one with short ones. Sans-I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "drop_reporter.hpp"

namespace evn_mbus {

class queue_budget {
  public:
    queue_budget(std::size_t max_readings, std::size_t max_bytes)
        : max_readings_(max_readings == 0 ? 1 : max_readings), max_bytes_(max_bytes) {}

    // The bound that makes room necessary before a reading of `incoming` bytes can join the
    // queue, if any. A queue that is empty always takes it, however large.
    std::optional<queue_bound> full_for(std::size_t incoming) const noexcept;

    void add(std::size_t bytes) noexcept;
    void remove(std::size_t bytes) noexcept;

    std::size_t readings() const noexcept { return readings_; }
    std::size_t bytes() const noexcept { return bytes_; }
    std::size_t max_readings() const noexcept { return max_readings_; }
    std::size_t max_bytes() const noexcept { return max_bytes_; }

  private:
    std::size_t max_readings_;
    std::size_t max_bytes_;
    std::size_t readings_ = 0;
    std::size_t bytes_ = 0;
};

// What malloc takes for a request of `n` bytes (glibc: 8 bytes of header, 16-byte steps, at
// least 32), and for a string's characters (none while they fit in the string itself).
std::size_t allocation_bytes(std::size_t n) noexcept;
std::size_t heap_bytes(const std::string& s) noexcept;

}  // namespace evn_mbus
