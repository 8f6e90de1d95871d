// When the simulator's bytes are due on the line, like a real meter's: 11 bits a byte (start,
// 8 data, parity, stop) at the baud rate, a gap between the frames of one push, a push every
// interval from the start; every time divided by a speed factor. Or no pacing at all: then
// everything is due at once.
//
// Sans-I/O: the caller says what the time is and waits itself (push_sender on an Asio timer).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace evn_mbus {

struct line_timing {
    unsigned baud = 2400;
    double frame_gap_ms = 160.0;
    double interval_s = 5.0;
    double speed = 1.0;  // above 0; 2 = twice as fast
};

class line_pacer {
  public:
    using clock = std::chrono::steady_clock;

    // `timing` nullopt: no pacing.
    line_pacer(std::optional<line_timing> timing, clock::time_point start);

    bool paced() const noexcept { return paced_; }

    // When push `seq` (0, 1, ...) may start: `seq` intervals after the start, but never
    // before the line has sent everything before it.
    clock::time_point push_due(std::uint64_t seq);
    // When the next block of bytes (a frame, noise) may start: a frame gap after the line
    // became free, or for the first block of a push when the push is due.
    clock::time_point block_due(bool after_gap);
    // A block of `size` bytes starts at `now`, or at its due time if that is later. When it
    // starts late (a slow reader held the line up), it keeps the byte spacing from `now` on.
    void start_block(clock::time_point now, std::size_t size);
    // How many bytes of the block should be on the line at `now`: the first one at once.
    std::size_t bytes_due(clock::time_point now) const;
    // When the block's byte number `n` (from 0) is due.
    clock::time_point byte_due(std::size_t n) const;
    // The block is written: the line is busy until its last byte has gone out.
    void end_block();

  private:
    bool paced_;
    clock::duration byte_{};
    clock::duration gap_{};
    clock::duration interval_{};
    clock::time_point start_;
    clock::time_point free_;   // when the line has sent everything so far
    clock::time_point next_;   // when the next block is due
    clock::time_point begin_;  // when the current block's first byte is due
    std::size_t size_ = 0;     // the current block's length
};

}  // namespace evn_mbus
