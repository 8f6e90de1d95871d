#include "evn_mbus/hdlc_frame_assembler.hpp"

#include <algorithm>
#include <array>

#include "evn_mbus/byte_reader.hpp"
#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

constexpr std::uint8_t flag_byte = hdlc_frame_assembler::flag;
constexpr std::uint8_t format_type_mask = 0xF0;
constexpr std::uint8_t format_type_3 = 0xA0;  // 1010b
constexpr std::uint8_t segmentation_bit = 0x08;
constexpr std::size_t max_address_size = 4;
// Format (2), destination (1), source (1), control, FCS (2): the shortest frame.
constexpr std::size_t min_length = 7;

constexpr std::array<std::uint16_t, 256> make_crc_table() {
    std::array<std::uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned c = i;
        for (int bit = 0; bit < 8; ++bit)
            c = (c & 1U) != 0 ? (c >> 1) ^ 0x8408U : c >> 1;  // 1021h bit-reversed
        t[i] = static_cast<std::uint16_t>(c);
    }
    return t;
}

constexpr std::array<std::uint16_t, 256> crc_table = make_crc_table();

// The CRC stored at b[at], b[at + 1], least significant byte first.
bool crc_matches(std::span<const std::uint8_t> covered, std::span<const std::uint8_t> b,
                 std::size_t at) noexcept {
    const std::uint16_t crc = crc16_x25(covered);
    return b[at] == (crc & 0xFF) && b[at + 1] == (crc >> 8);
}

enum class verdict {
    need_more,    // the candidate may still become a frame
    not_a_start,  // a byte other than the flag
    fill_flag,    // a flag not followed by a frame (fill between frames, or a closing flag)
    bad_format,
    bad_hcs,
    bad_fcs,
    missing_flag,
    control,  // a valid frame without an information field
    frame,
};

struct candidate {
    verdict what = verdict::not_a_start;
    std::size_t size = 0;         // bytes of the frame, flag to flag, once the length is known
    bool header_checked = false;  // the HCS verified: this is a frame, not noise
    std::size_t control_pos = 0;  // index of the control byte
    std::uint8_t destination_size = 0;
    std::uint8_t source_size = 0;
};

// Reads one address starting at b[pos]: its size, or 0 while the bytes run out (need more),
// or max_address_size + 1 when the extension bit never ends it.
std::size_t address_size(std::span<const std::uint8_t> b, std::size_t pos) noexcept {
    for (std::size_t n = 1; n <= max_address_size; ++n) {
        if (pos + n - 1 >= b.size()) return 0;
        if ((b[pos + n - 1] & 0x01) != 0) return n;
    }
    return max_address_size + 1;
}

candidate examine(std::span<const std::uint8_t> b) noexcept {
    candidate c;
    if (b.empty()) return {verdict::need_more};
    if (b[0] != flag_byte) return c;
    if (b.size() < 2) return {verdict::need_more};
    if ((b[1] & format_type_mask) != format_type_3) return {verdict::fill_flag};
    if (b.size() < 3) return {verdict::need_more};
    // The length counts format..FCS, every byte between the two flags.
    const std::size_t length = static_cast<std::size_t>(b[1] & 0x07) << 8 | b[2];
    c.size = length + 2;
    if (length < min_length) return {verdict::bad_format, c.size};

    const std::size_t dst = address_size(b, 3);
    if (dst == 0) return {verdict::need_more, c.size};
    if (dst > max_address_size) return {verdict::bad_format, c.size};
    const std::size_t src = address_size(b, 3 + dst);
    if (src == 0) return {verdict::need_more, c.size};
    if (src > max_address_size) return {verdict::bad_format, c.size};
    c.destination_size = static_cast<std::uint8_t>(dst);
    c.source_size = static_cast<std::uint8_t>(src);
    c.control_pos = 3 + dst + src;
    const std::size_t header = c.control_pos;  // format..control, the bytes after the flag

    if (length == header + 2) {
        // No information field, so no HCS: the FCS covers the header.
        if (b.size() < c.size) {
            c.what = verdict::need_more;
            return c;
        }
        c.header_checked = true;
        if (!crc_matches(b.subspan(1, header), b, header + 1))
            c.what = verdict::bad_fcs;
        else if (b[length + 1] != flag_byte)
            c.what = verdict::missing_flag;
        else
            c.what = verdict::control;
        return c;
    }
    // An information field needs the HCS and at least one byte.
    if (length < header + 5) {
        c.what = verdict::bad_format;
        return c;
    }
    if (b.size() < header + 3) {
        c.what = verdict::need_more;
        return c;
    }
    if (!crc_matches(b.subspan(1, header), b, header + 1)) {
        c.what = verdict::bad_hcs;
        return c;
    }
    c.header_checked = true;
    if (b.size() < c.size) {
        c.what = verdict::need_more;
        return c;
    }
    if (!crc_matches(b.subspan(1, length - 2), b, length - 1))
        c.what = verdict::bad_fcs;
    else if (b[length + 1] != flag_byte)
        c.what = verdict::missing_flag;
    else
        c.what = verdict::frame;
    return c;
}

// An address as sent, first byte most significant (at most 4 bytes: examine() checked).
std::uint32_t address_value(std::span<const std::uint8_t> bytes) noexcept {
    std::uint64_t v = 0;
    byte_reader(bytes).be(bytes.size(), v);
    return static_cast<std::uint32_t>(v);
}

}  // namespace

std::uint16_t crc16_x25(std::span<const std::uint8_t> bytes) noexcept {
    unsigned crc = 0xFFFF;
    for (const std::uint8_t x : bytes)
        crc = (crc >> 8) ^ crc_table[(crc ^ x) & 0xFFU];
    return static_cast<std::uint16_t>(crc ^ 0xFFFFU);
}

hdlc_frame_event hdlc_frame_assembler::next() {
    using kind = hdlc_frame_event::kind;
    for (;;) {
        const candidate c = examine(buf_.undecided());
        switch (c.what) {
            case verdict::need_more:
                if (buf_.wait_for_more()) return {};
                // The line went idle with this frame unfinished: it never completes. Only a
                // frame whose header checked out counts; a flag and a few bytes are noise.
                if (!c.header_checked) continue;
                ++stats_.bad_frames;
                return {kind::error, {}, errc::hdlc_truncated_frame};
            case verdict::not_a_start: {
                // Skip straight to the next flag.
                const auto rest = buf_.rest();
                const auto next_flag = std::find(rest.begin(), rest.end(), flag_byte);
                const auto n = static_cast<std::size_t>(next_flag - rest.begin());
                buf_.skip(n);
                stats_.skipped_bytes += n;
                continue;
            }
            case verdict::fill_flag:
                buf_.skip(1);
                continue;
            case verdict::bad_format:
            case verdict::bad_hcs:
                buf_.skip(1);
                ++stats_.bad_frames;
                return {kind::error,
                        {},
                        c.what == verdict::bad_format ? errc::hdlc_bad_format : errc::hdlc_bad_hcs};
            case verdict::bad_fcs:
            case verdict::missing_flag:
                // A frame that the idle gap cut in two was truncated; its "FCS" is just the
                // next push's bytes, so name the real cause.
                ++stats_.bad_frames;
                return {kind::error,
                        {},
                        buf_.reject(c.size)          ? errc::hdlc_truncated_frame
                        : c.what == verdict::bad_fcs ? errc::hdlc_bad_fcs
                                                     : errc::hdlc_missing_flag};
            case verdict::control:
                // The closing flag stays: it may open the next frame.
                buf_.skip(c.size - 1);
                ++stats_.control_frames;
                continue;
            case verdict::frame: {
                const std::span<const std::uint8_t> raw = buf_.rest().first(c.size);
                hdlc_frame f;
                f.segmented = (raw[1] & segmentation_bit) != 0;
                f.destination = address_value(raw.subspan(3, c.destination_size));
                f.destination_size = c.destination_size;
                f.source = address_value(raw.subspan(3 + c.destination_size, c.source_size));
                f.source_size = c.source_size;
                f.control = raw[c.control_pos];
                // After control: HCS (2), then the information up to FCS (2) and the flag.
                const std::size_t info_pos = c.control_pos + 3;
                f.info = raw.subspan(info_pos, c.size - info_pos - 3);
                f.raw = raw;
                buf_.hand_out(c.size - 1);  // the closing flag may open the next frame
                ++stats_.frames;
                return {kind::frame, f, {}};
            }
        }
    }
}

}  // namespace evn_mbus
