// Joins the information fields of segmented HDLC frames (IEC 62056-46, frame format field:
// segmentation bit S) into one LLC service data unit and removes the LLC header.
//
// A frame with S set is followed by more segments of the same information; the frame with S
// clear ends it. The first segment starts with the LLC header E6h E7h 00h (response, as meters
// send) or E6h E6h 00h (IEC 62056-46, LLC sub-layer); later segments do not. Meters that split
// a push into general-block-transfer blocks send one block per HDLC information, and only the
// first block carries the LLC header (Landis+Gyr E450): so the header is removed where it is,
// and not required. The blocks themselves are joined by block_transfer_reassembler.
//
// Losses are detected where the link shows them: a first segment (LLC header) arriving while
// another information is unfinished, or a gap in the send sequence number N(S) of I frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "evn_mbus/hdlc_frame_assembler.hpp"
#include "evn_mbus/reassembly_buffer.hpp"
#include "evn_mbus/reassembly_event.hpp"

namespace evn_mbus {

// The LLC header (IEC 62056-46, LLC sub-layer): destination LSAP E6h, source LSAP E7h from the
// meter (a response) or E6h (a command), quality 00h.
namespace llc {
inline constexpr std::uint8_t destination_lsap = 0xE6;
inline constexpr std::uint8_t source_lsap_response = 0xE7;
inline constexpr std::uint8_t source_lsap_command = 0xE6;
inline constexpr std::uint8_t quality = 0x00;
}  // namespace llc

// True when `info` starts with an LLC header (E6h E6h/E7h 00h).
bool has_llc_header(std::span<const std::uint8_t> info) noexcept;
inline constexpr std::size_t llc_header_size = 3;

class hdlc_reassembler {
  public:
    static constexpr std::size_t max_apdu_size = reassembly_buffer::max_apdu_size;

    // Takes one frame. Returns kind::telegram with the joined information (LLC header
    // removed) when this frame ends one, an error when this frame shows it to be unusable
    // (missing_segment, telegram_too_long), else need_more. `dropped` is set when this frame
    // started afresh and an unfinished information was lost.
    reassembly_event add(const hdlc_frame& frame);

    // Starts over, dropping any partial information. Returns true if one was dropped.
    bool reset();

    bool in_progress() const noexcept { return buf_.in_progress(); }

  private:
    reassembly_buffer buf_;
    int last_send_sequence_ = -1;  // N(S) of the last I frame of the information, -1: none
};

}  // namespace evn_mbus
