// The buffer the three reassemblers share (M-Bus transport segments, IEC 62056-7-6; HDLC
// segments, IEC 62056-46; general block transfer, IEC 62056-5-3): the APDU joined so far, the
// link frames that carried it (for "raw" publishing), and whether a message is in progress.
// Each reassembler keeps only its own sequence rules (segment numbers, N(S), block numbers).
//
// A completed message stays in the buffer, so that the spans of the event stay valid, until
// the next piece arrives: the reassembler then calls reset() first (done() tells it to).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "evn_mbus/reassembly_event.hpp"

namespace evn_mbus {

class reassembly_buffer {
  public:
    // Upper bound on one APDU. The largest Austrian push is ~300 bytes; this leaves headroom
    // for long profiles while keeping a lying length from growing memory.
    static constexpr std::size_t max_apdu_size = 4096;

    // Drops everything. Returns true if an unfinished message was dropped.
    bool reset() noexcept {
        const bool dropped = in_progress_;
        in_progress_ = false;
        done_ = false;
        apdu_.clear();
        raw_.clear();
        return dropped;
    }

    // A message has begun.
    void start() noexcept { in_progress_ = true; }

    // Appends one piece of the APDU and the frame it came in. Returns false, appending
    // nothing, when the APDU would grow beyond max_apdu_size.
    bool append(std::span<const std::uint8_t> piece, std::span<const std::uint8_t> raw) {
        if (apdu_.size() + piece.size() > max_apdu_size) return false;
        apdu_.insert(apdu_.end(), piece.begin(), piece.end());
        raw_.insert(raw_.end(), raw.begin(), raw.end());
        return true;
    }

    // The message is whole: a telegram event over the buffer, valid until the next reset().
    reassembly_event complete() noexcept {
        in_progress_ = false;
        done_ = true;
        return reassembly_event::telegram(apdu_, raw_);
    }

    bool in_progress() const noexcept { return in_progress_; }
    // The last call completed a message: reset before taking the next piece.
    bool done() const noexcept { return done_; }
    std::span<const std::uint8_t> apdu() const noexcept { return apdu_; }
    std::span<const std::uint8_t> raw() const noexcept { return raw_; }

  private:
    std::vector<std::uint8_t> apdu_;
    std::vector<std::uint8_t> raw_;
    bool in_progress_ = false;
    bool done_ = false;
};

}  // namespace evn_mbus
