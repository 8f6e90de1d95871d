#include "evn_mbus/mbus_frame_assembler.hpp"

#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

constexpr std::uint8_t start_long = 0x68;
constexpr std::uint8_t start_short = 0x10;
constexpr std::uint8_t single_ack = 0xE5;
constexpr std::uint8_t stop_byte = 0x16;
constexpr std::size_t short_frame_size = 5;  // 10 C A CS 16

std::uint8_t checksum(std::span<const std::uint8_t> bytes) noexcept {
    unsigned sum = 0;
    for (const std::uint8_t b : bytes)
        sum += b;
    return static_cast<std::uint8_t>(sum);
}

// What one look at the buffer start tells.
enum class verdict { need_more, not_a_start, bad_checksum, bad_stop, long_frame, control };

struct candidate {
    verdict what = verdict::not_a_start;
    std::size_t size = 0;  // bytes of the frame, start to stop byte
};

candidate examine(std::span<const std::uint8_t> b) noexcept {
    if (b.empty()) return {verdict::need_more, 0};
    switch (b[0]) {
        case single_ack:
            return {verdict::control, 1};
        case start_short: {
            if (b.size() < short_frame_size) return {verdict::need_more, 0};
            if (b[3] != checksum(b.subspan(1, 2)) || b[4] != stop_byte) return {};
            return {verdict::control, short_frame_size};
        }
        case start_long: {
            if (b.size() < 4) {
                // Decide early what cannot be a header, so garbage is not held back.
                if (b.size() >= 3 && b[1] != b[2]) return {};
                return {verdict::need_more, 0};
            }
            if (b[1] != b[2] || b[3] != start_long) return {};
            // L counts C, A, CI and the data. A long frame needs at least C, A and CI, so an
            // L below 3 can only be the one-byte field overflowed past 255: EVN's Sagemcom
            // T210-D sends "68 01 01 68" with 257 user-data bytes.
            std::size_t user = b[1];
            if (user < 3) user += 256;
            const std::size_t size = 4 + user + 2;
            if (b.size() < size) return {verdict::need_more, size};
            if (b[4 + user] != checksum(b.subspan(4, user))) return {verdict::bad_checksum, size};
            if (b[4 + user + 1] != stop_byte) return {verdict::bad_stop, size};
            return {verdict::long_frame, size};
        }
        default:
            return {};
    }
}

}  // namespace

void mbus_frame_assembler::feed(std::span<const std::uint8_t> bytes) {
    compact();
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

void mbus_frame_assembler::compact() {
    pos_ += consumed_;
    consumed_ = 0;
    if (pos_ == 0) return;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    flush_until_ = flush_until_ > pos_ ? flush_until_ - pos_ : 0;
    pos_ = 0;
}

void mbus_frame_assembler::on_idle_gap() {
    pos_ += consumed_;
    consumed_ = 0;
    flush_until_ = buf_.size();
}

mbus_frame_event mbus_frame_assembler::next() {
    pos_ += consumed_;
    consumed_ = 0;
    for (;;) {
        const std::span<const std::uint8_t> rest(buf_.data() + pos_, buf_.size() - pos_);
        const candidate c = examine(rest);
        switch (c.what) {
            case verdict::need_more:
                if (pos_ >= flush_until_) {
                    compact();
                    return {};
                }
                // The line went idle with a frame unfinished: it will never complete. Drop
                // its start byte and look for a frame in what followed. Only a complete long
                // header counts as a frame; a lone start byte at the end is noise.
                ++pos_;
                if (c.size == 0) {
                    ++stats_.skipped_bytes;
                    continue;
                }
                ++stats_.bad_frames;
                return {mbus_frame_event::kind::error, {}, errc::truncated_frame};
            case verdict::not_a_start:
                ++pos_;
                ++stats_.skipped_bytes;
                continue;
            case verdict::control:
                pos_ += c.size;
                ++stats_.control_frames;
                continue;
            case verdict::bad_checksum:
            case verdict::bad_stop: {
                // Only the start byte is dropped: if L itself was damaged, the next frame
                // may begin inside the claimed length, and rescanning finds it. A frame that
                // the line's idle gap cut in two was truncated; its "checksum" is just the
                // next push's bytes, so name the real cause.
                const bool cut_by_gap = pos_ < flush_until_ && pos_ + c.size > flush_until_;
                ++pos_;
                ++stats_.bad_frames;
                const errc why = cut_by_gap                        ? errc::truncated_frame
                                 : c.what == verdict::bad_checksum ? errc::bad_checksum
                                                                   : errc::bad_stop_byte;
                return {mbus_frame_event::kind::error, {}, why};
            }
            case verdict::long_frame: {
                const std::span<const std::uint8_t> raw = rest.first(c.size);
                mbus_frame f;
                f.c = raw[4];
                f.a = raw[5];
                f.ci = raw[6];
                f.payload = raw.subspan(7, c.size - 7 - 2);
                f.raw = raw;
                consumed_ = c.size;
                ++stats_.frames;
                return {mbus_frame_event::kind::frame, f, {}};
            }
        }
    }
}

}  // namespace evn_mbus
