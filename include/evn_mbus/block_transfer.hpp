// DLMS general block transfer (GBT), IEC 62056-5-3:2017 (xDLMS general-block-transfer APDU and
// the GBT mechanism): a long APDU is sent as numbered blocks, each its own APDU
//
//   E0h | block-control | block-number (2) | block-number-ack (2) | block-data (A-XDR octet-string)
//
// block-control: bit 7 last-block, bit 6 streaming, bits 0..5 window. Block numbers start at 1
// and increase by one. The joined block-data is the original APDU (for pushes: the
// general-glo-ciphering DBh). The Landis+Gyr E450 sends its pushes this way over HDLC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "evn_mbus/reassembly_buffer.hpp"
#include "evn_mbus/reassembly_event.hpp"

namespace evn_mbus {

struct gbt_block {
    bool last = false;       // last-block
    bool streaming = false;  // more blocks follow without waiting for an acknowledgement
    std::uint8_t window = 0;
    std::uint16_t number = 0;
    std::uint16_t number_ack = 0;
    std::span<const std::uint8_t> data;  // block-data
};

// Parses one general-block-transfer APDU. The block-data length must cover exactly the rest
// of the input; anything else is bad_block_transfer, never an over-read. A non-E0h APDU is
// unsupported_apdu.
std::error_code parse_gbt_block(std::span<const std::uint8_t> apdu, gbt_block& out);

// Joins general-block-transfer blocks into their APDU; other APDUs pass through unchanged.
class block_transfer_reassembler {
  public:
    static constexpr std::size_t max_apdu_size = reassembly_buffer::max_apdu_size;

    // Takes one APDU with the link frames it came in. Returns kind::telegram with the joined
    // APDU (or `apdu` itself when it is not a block) and all the frames; need_more while
    // blocks are missing; an error when a block is malformed (bad_block_transfer), out of
    // order (missing_segment) or the whole too long (telegram_too_long). `dropped` is set when
    // this APDU made an unfinished transfer be lost. Spans are valid until the next add().
    reassembly_event add(std::span<const std::uint8_t> apdu, std::span<const std::uint8_t> raw);

    // Starts over, dropping any partial transfer. Returns true if one was dropped.
    bool reset();

    bool in_progress() const noexcept { return buf_.in_progress(); }

  private:
    reassembly_buffer buf_;
    std::uint16_t next_number_ = 1;
};

}  // namespace evn_mbus
