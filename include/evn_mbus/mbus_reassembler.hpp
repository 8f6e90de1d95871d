// Reassembles one DLMS APDU from the M-Bus frames of one push.
//
// The meters' M-Bus transport: CI 00h..1Fh marks DLMS/COSEM data; the low nibble of CI numbers
// the segment (0, 1, 2, ...) and bit 10h marks the last one. Each segment's user data starts
// with STSAP and DTSAP (01h/67h) followed by the next piece of the APDU (EN 13757-2 with the
// DLMS/COSEM M-Bus transport of IEC 62056-7-6 as used in the Austrian operators' customer
// interface documents).
//
// A telegram is complete when the APDU's own length is satisfied: for general-glo-ciphering
// (DBh) and general-ded-ciphering (DCh) that is the A-XDR length after the system title
// (IEC 62056-5-3, 9.5 / Green Book 9.2.7.2). Nothing here depends on fixed offsets or on the
// number of frames a meter uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "evn_mbus/mbus_frame_assembler.hpp"
#include "evn_mbus/reassembly_buffer.hpp"
#include "evn_mbus/reassembly_event.hpp"

namespace evn_mbus {

class mbus_reassembler {
  public:
    static constexpr std::size_t max_apdu_size = reassembly_buffer::max_apdu_size;

    // Takes one link frame. Returns a telegram when this frame completes one, an error when
    // this frame shows the push in progress (or this frame) to be unusable, else need_more.
    // An error never prevents the next push from decoding: a segment 0 always starts afresh.
    reassembly_event add(const mbus_frame& frame);

    // Starts over, dropping any partial telegram. Returns true if one was dropped.
    bool reset();

    bool in_progress() const noexcept { return buf_.in_progress(); }
    // For a push in progress: the frames that came (back to back), how many, and how many the
    // push needs, estimated from its length and its fullest frame so far (0: not known, as
    // for a plain APDU, which has no length of its own).
    std::span<const std::uint8_t> frames_so_far() const noexcept { return buf_.raw(); }
    unsigned frames() const noexcept { return frames_; }
    unsigned frames_expected() const noexcept;

  private:
    reassembly_event complete_or_wait(const mbus_frame& frame, bool last);
    // How many APDU bytes the telegram needs, 0 while the header is still incomplete; an
    // error when the header is malformed.
    std::error_code needed_size(std::size_t& needed) const;

    reassembly_buffer buf_;
    unsigned next_segment_ = 0;
    unsigned frames_ = 0;
    std::size_t largest_piece_ = 0;  // APDU bytes of the fullest frame: the meter's frame size
};

}  // namespace evn_mbus
