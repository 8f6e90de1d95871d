// The line faults `evn-mbus simulate` can inject, for testing the daemon's recovery: a bit
// flipped, a continuation frame lost, a frame cut short, a first frame longer than an M-Bus
// frame may be, random bytes between pushes. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "push_source.hpp"

namespace evn_mbus {

struct fault_options {
    double corrupt = 0.0;     // probability that a frame gets one bit flipped
    double drop_frame = 0.0;  // probability that a push loses a continuation frame
    double truncate = 0.0;    // probability that a push has a frame cut short
    double oversize = 0.0;    // probability that a push's first frame outgrows the M-Bus limit
    bool noise = false;       // random bytes between pushes

    // Every probability within [0, 1].
    bool valid() const noexcept;
};

class fault_injector {
  public:
    fault_injector(const fault_options& options, std::uint64_t seed);

    // Applies at most one fault to a push (bit flips may hit several of its frames); returns
    // its name for the expect file: none, drop_frame, truncate, oversize or corrupt.
    const char* apply(push_bytes& p);
    // The bytes to send after a push: 1 to 48 random ones with `noise`, else none.
    std::vector<std::uint8_t> noise();
    // The next number of the same sequence, for anything else a seed must repeat (the made-up
    // meter's first frame counter).
    std::uint64_t draw() { return rng_(); }

  private:
    double unit_random();

    fault_options options_;
    std::mt19937_64 rng_;
};

}  // namespace evn_mbus
