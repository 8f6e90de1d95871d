#include "evn_mbus/mbus_frame_assembler.hpp"

#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

using namespace mbus_link;

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
            if (b[3] != mbus_checksum(b.subspan(1, 2)) || b[4] != stop_byte) return {};
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
            if (b[4 + user] != mbus_checksum(b.subspan(4, user)))
                return {verdict::bad_checksum, size};
            if (b[4 + user + 1] != stop_byte) return {verdict::bad_stop, size};
            return {verdict::long_frame, size};
        }
        default:
            return {};
    }
}

}  // namespace

mbus_frame_event mbus_frame_assembler::next() {
    for (;;) {
        const candidate c = examine(buf_.undecided());
        switch (c.what) {
            case verdict::need_more:
                if (buf_.wait_for_more()) return {};
                // The line went idle with a frame unfinished: it will never complete (its
                // start byte is dropped, the rescan looks at what followed). Only a complete
                // long header counts as a frame; a lone start byte at the end is noise.
                if (c.size == 0) {
                    ++stats_.skipped_bytes;
                    continue;
                }
                ++stats_.bad_frames;
                return {mbus_frame_event::kind::error, {}, errc::truncated_frame};
            case verdict::not_a_start:
                buf_.skip(1);
                ++stats_.skipped_bytes;
                continue;
            case verdict::control: {
                const auto b = buf_.undecided();
                const bool short_frame = c.size == short_frame_size;
                mbus_frame_event ev{mbus_frame_event::kind::control, {}, {}};
                if (short_frame) {
                    ev.frame.c = b[1];
                    ev.frame.a = b[2];
                }
                buf_.skip(c.size);
                ++stats_.control_frames;
                if (short_frame && report_short_) return ev;
                continue;
            }
            case verdict::bad_checksum:
            case verdict::bad_stop:
                // A frame that the line's idle gap cut in two was truncated; its "checksum" is
                // just the next push's bytes, so name the real cause.
                ++stats_.bad_frames;
                return {mbus_frame_event::kind::error,
                        {},
                        buf_.reject(c.size)               ? errc::truncated_frame
                        : c.what == verdict::bad_checksum ? errc::bad_checksum
                                                          : errc::bad_stop_byte};
            case verdict::long_frame: {
                const std::span<const std::uint8_t> raw = buf_.rest().first(c.size);
                mbus_frame f;
                f.c = raw[4];
                f.a = raw[5];
                f.ci = raw[6];
                f.payload = raw.subspan(7, c.size - 7 - 2);
                f.raw = raw;
                buf_.hand_out(c.size);
                ++stats_.frames;
                return {mbus_frame_event::kind::frame, f, {}};
            }
        }
    }
}

}  // namespace evn_mbus
