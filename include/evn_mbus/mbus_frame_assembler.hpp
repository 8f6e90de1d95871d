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
#include <vector>

namespace evn_mbus {

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
    enum class kind { need_more, frame, error };
    kind what = kind::need_more;
    mbus_frame frame;       // valid for kind::frame until the next feed()/next()/on_idle_gap()
    std::error_code error;  // for kind::error
};

class mbus_frame_assembler {
  public:
    // Counters for diagnostics; they only grow.
    struct stats {
        std::uint64_t frames = 0;          // long frames handed out
        std::uint64_t skipped_bytes = 0;   // bytes skipped while looking for a frame start
        std::uint64_t control_frames = 0;  // E5h acknowledgements and short frames skipped
        std::uint64_t bad_frames = 0;      // candidates dropped with an error
    };

    // Largest long frame accepted: L is one byte, but EVN's Sagemcom T210-D overflows it (see
    // next()), so a frame may carry up to 258 user-data bytes.
    static constexpr std::size_t max_frame_size = 258 + 6;

    // Appends bytes from the line. Call next() until it says need_more.
    void feed(std::span<const std::uint8_t> bytes);

    // Returns the next complete frame or error, or need_more when the buffered bytes end
    // before a decision can be made.
    mbus_frame_event next();

    // The line has been idle: the meter has finished sending, so a partial frame will never
    // complete. Subsequent next() calls report it as truncated_frame and rescan what follows
    // its start byte; the buffer is empty once next() returns need_more.
    void on_idle_gap();

    // Bytes buffered but not yet decided on.
    std::size_t buffered() const noexcept { return buf_.size() - pos_; }
    const stats& statistics() const noexcept { return stats_; }

  private:
    void compact();

    std::vector<std::uint8_t> buf_;
    std::size_t pos_ = 0;          // first undecided byte in buf_
    std::size_t consumed_ = 0;     // bytes of the last frame handed out, dropped at the next call
    std::size_t flush_until_ = 0;  // bytes before this index predate an idle gap: a partial
                                   // frame among them is dropped, not waited for
    stats stats_;
};

}  // namespace evn_mbus
