// Incremental M-Bus link-layer framing (EN 13757-2:2018, clause 5: frame formats FT1.2).
//
// Bytes go in as they arrive from the UART, in chunks of any size; complete long frames come out
// the moment their L field says they are complete, without waiting for an idle gap. Single
// characters (E5h) and short frames (10h C A CS 16h) are valid but carry no data: skipped and
// counted. Anything else is skipped byte by byte until a valid start is found, so a bad frame
// costs only itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "evn_mbus/frame_buffer.hpp"
#include "evn_mbus/link_layer.hpp"

namespace evn_mbus {

// The FT1.2 frame bytes (EN 13757-2:2018, clause 5): a single character, the short frame
// 10h C A CS 16h and the long frame 68h L L 68h C A CI data CS 16h.
namespace mbus_link {
inline constexpr std::uint8_t start_long = 0x68;
inline constexpr std::uint8_t start_short = 0x10;
inline constexpr std::uint8_t single_ack = 0xE5;
inline constexpr std::uint8_t stop_byte = 0x16;
inline constexpr std::size_t short_frame_size = 5;  // 10 C A CS 16
}  // namespace mbus_link

// The FT1.2 checksum: the arithmetic sum, modulo 256, of the bytes from C to the last data
// byte (EN 13757-2:2018, clause 5). Used to check frames and to build them.
constexpr std::uint8_t mbus_checksum(std::span<const std::uint8_t> bytes) noexcept {
    unsigned sum = 0;
    for (const std::uint8_t b : bytes)
        sum += b;
    return static_cast<std::uint8_t>(sum);
}

// One long frame: 68h L L 68h | C A CI user-data... | CS 16h.
struct mbus_frame {
    std::uint8_t c = 0;                     // control field (53h/73h: SND_UD from the meter)
    std::uint8_t a = 0;                     // primary address (FFh: broadcast)
    std::uint8_t ci = 0;                    // control information (DLMS: segment number/flag)
    std::span<const std::uint8_t> payload;  // user data after CI, excluding CS and stop byte
    std::span<const std::uint8_t> raw;      // the whole frame, start byte to stop byte
};

// Result of one next() call, in the style of an incremental parser: a frame, an error about
// one dropped candidate frame, or "feed me more".
struct mbus_frame_event {
    // control: a short frame (10h C A CS 16h), reported only when asked for
    // (report_short_frames); `frame` has its C and A, no spans.
    enum class kind { need_more, frame, error, control };
    kind what = kind::need_more;
    mbus_frame frame;       // valid for kind::frame until the next feed()/next()/on_idle_gap()
    std::error_code error;  // for kind::error
};

class mbus_frame_assembler {
  public:
    using stats = link_stats;  // counters for diagnostics; they only grow

    // Largest long frame accepted: L is one byte, but EVN's Sagemcom T210-D overflows it (see
    // next()), so a frame may carry up to 258 user-data bytes.
    static constexpr std::size_t max_frame_size = 258 + 6;

    // Appends bytes from the line. Call next() until it says need_more.
    void feed(std::span<const std::uint8_t> bytes) { buf_.feed(bytes); }

    // Returns the next complete frame or error, or need_more when the buffered bytes end
    // before a decision can be made.
    mbus_frame_event next();

    // The line has been idle: the meter has finished sending, so a partial frame will never
    // complete. Subsequent next() calls report it as truncated_frame and rescan what follows
    // its start byte; the buffer is empty once next() returns need_more.
    void on_idle_gap() noexcept { buf_.on_idle_gap(); }
    // Short frames become kind::control events instead of being skipped: a reader that must
    // answer the meter (an AMIS meter's SND_NKE) needs to see them.
    void report_short_frames(bool on) noexcept { report_short_ = on; }

    // Bytes buffered but not yet decided on.
    std::size_t buffered() const noexcept { return buf_.buffered(); }
    const stats& statistics() const noexcept { return stats_; }

  private:
    bool report_short_ = false;
    frame_buffer buf_;
    stats stats_;
};

}  // namespace evn_mbus
