// Incremental HDLC link-layer framing as DLMS/COSEM meters send it: IEC 62056-46 (MAC
// sub-layer, frame format), which uses HDLC frame format type 3 of ISO/IEC 13239 Annex H.4:
//
//   7E | format (2) | destination (1..4) | source (1..4) | control | HCS (2) | info | FCS (2) | 7E
//
// - format: 4 bits frame format type 1010b (A0h..AFh in the first byte), the segmentation bit
//   S (08h of the first byte: more segments of this information follow) and an 11-bit frame
//   length counting every byte between the flags;
// - addresses: the lowest bit of each byte is the extension bit, 1 on the last byte;
// - HCS over format..control, present only when an information field follows; FCS over
//   format..information. Both are CRC-16/X.25 (ISO/IEC 13239: polynomial 1021h bit-reversed,
//   preset FFFFh, ones' complement), sent least significant byte first;
// - the closing flag of one frame may be the opening flag of the next.
// IEC 62056-46 frames carry no byte stuffing: the length field delimits them.
//
// Same style as mbus_frame_assembler: bytes go in in any chunking, a frame comes out as soon as
// its length is complete; anything else is skipped byte by byte until a valid start is found,
// so a bad frame costs only itself. Frames without an information field (RR, UA, ...) are
// valid but carry no data: skipped and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "evn_mbus/frame_buffer.hpp"
#include "evn_mbus/link_layer.hpp"

namespace evn_mbus {

// CRC-16/X.25 (= CRC-16/IBM-SDLC) as HDLC's HCS and FCS use it; "123456789" gives 906Eh.
std::uint16_t crc16_x25(std::span<const std::uint8_t> bytes) noexcept;

// One frame of format type 3 with an information field.
struct hdlc_frame {
    bool segmented = false;             // S bit: the information continues in the next frame
    std::uint32_t destination = 0;      // address bytes as sent, first byte most significant
    std::uint32_t source = 0;           // (extension bits included: CFh, 0223h, ...)
    std::uint8_t destination_size = 0;  // 1..4 bytes
    std::uint8_t source_size = 0;       // 1..4 bytes
    std::uint8_t control = 0;  // 13h: UI frame with poll/final; bit 0 clear: I frame with N(S)
    std::span<const std::uint8_t> info;  // the information field, never empty
    std::span<const std::uint8_t> raw;   // the whole frame, opening flag to closing flag
};

struct hdlc_frame_event {
    enum class kind { need_more, frame, error };
    kind what = kind::need_more;
    hdlc_frame frame;       // valid for kind::frame until the next feed()/next()/on_idle_gap()
    std::error_code error;  // for kind::error
};

class hdlc_frame_assembler {
  public:
    using stats = link_stats;

    static constexpr std::uint8_t flag = 0x7E;
    // The 11-bit length plus both flags.
    static constexpr std::size_t max_frame_size = 0x7FF + 2;

    // Appends bytes from the line. Call next() until it says need_more.
    void feed(std::span<const std::uint8_t> bytes) { buf_.feed(bytes); }

    // The next complete frame or error, or need_more when the buffered bytes end before a
    // decision can be made. Errors: hdlc_bad_format, hdlc_bad_hcs, hdlc_bad_fcs,
    // hdlc_missing_flag, hdlc_truncated_frame.
    hdlc_frame_event next();

    // The line has been idle: a partial frame will never complete. Subsequent next() calls
    // report it as hdlc_truncated_frame (only once its header checked out: a partial header
    // is noise) and rescan what follows its flag.
    void on_idle_gap() noexcept { buf_.on_idle_gap(); }

    std::size_t buffered() const noexcept { return buf_.buffered(); }
    const stats& statistics() const noexcept { return stats_; }

  private:
    frame_buffer buf_;
    stats stats_;
};

}  // namespace evn_mbus
