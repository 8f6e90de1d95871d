// The receive buffer both link-layer framers scan: M-Bus FT1.2 (EN 13757-2:2018, clause 5) and
// HDLC frame format type 3 (IEC 62056-46, ISO/IEC 13239 Annex H.4). Neither carries a length
// that bounds the stream, so both work the same way: bytes are appended as the UART delivers
// them, a cursor marks the first byte not yet decided on, and the bytes of a frame handed out
// stay in place (its spans point into them) until the next call.
//
// An idle gap on the line means the meter has finished: the bytes received before it can no
// longer be the start of a frame that completes later. The buffer remembers where the gap fell
// so that a framer can report a frame cut short by it instead of waiting for bytes that never
// come.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace evn_mbus {

class frame_buffer {
  public:
    // Appends bytes from the line, first dropping what has been decided on.
    void feed(std::span<const std::uint8_t> bytes) {
        compact();
        buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    }

    // The line has been idle: everything buffered so far predates the gap.
    void on_idle_gap() noexcept {
        release();
        flush_until_ = buf_.size();
    }

    // Drops the frame handed out by the last hand_out(); undecided() and feed() call it.
    void release() noexcept {
        pos_ += handed_out_;
        handed_out_ = 0;
    }

    // The undecided bytes, from the cursor to the end.
    std::span<const std::uint8_t> rest() const noexcept {
        return {buf_.data() + pos_, buf_.size() - pos_};
    }
    // The same once the last frame handed out is dropped: what a framer's next() examines.
    std::span<const std::uint8_t> undecided() noexcept {
        release();
        return rest();
    }
    std::size_t buffered() const noexcept { return buf_.size() - pos_; }

    // Moves the cursor past `n` bytes that are not (or no longer) a frame.
    void skip(std::size_t n) noexcept { pos_ += n; }
    // The next `n` bytes are a frame the caller hands out: kept until the next release().
    void hand_out(std::size_t n) noexcept { handed_out_ = n; }

    // For a candidate at the cursor that needs more bytes. Returns true when the caller is to
    // wait for them (the decided bytes are dropped meanwhile); false when an idle gap came
    // after the candidate: it will never complete, so its first byte is dropped and the
    // rescan looks at what followed.
    bool wait_for_more() {
        if (before_gap()) {
            skip(1);
            return false;
        }
        compact();
        return true;
    }

    // Drops a bad candidate of `size` bytes at the cursor, only its first byte: a frame that
    // began inside it (when the damage hit a length field) is found by rescanning. Returns true
    // when the last idle gap cut the candidate in two: then it was truncated, and its check
    // bytes are just the next push's bytes.
    bool reject(std::size_t size) noexcept {
        const bool cut = cut_by_gap(size);
        skip(1);
        return cut;
    }

  private:
    // Drops the bytes before the cursor: before appending, and while waiting for more.
    void compact();

    // True while the cursor is before the last idle gap: an unfinished frame here never ends.
    bool before_gap() const noexcept { return pos_ < flush_until_; }
    // True when a candidate of `size` bytes at the cursor spans the last idle gap.
    bool cut_by_gap(std::size_t size) const noexcept {
        return pos_ < flush_until_ && pos_ + size > flush_until_;
    }

    std::vector<std::uint8_t> buf_;
    std::size_t pos_ = 0;          // first undecided byte in buf_
    std::size_t handed_out_ = 0;   // bytes of the last frame handed out, dropped at release()
    std::size_t flush_until_ = 0;  // bytes before this index predate an idle gap
};

}  // namespace evn_mbus
