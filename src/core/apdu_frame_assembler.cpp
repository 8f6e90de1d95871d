#include "evn_mbus/apdu_frame_assembler.hpp"

#include "evn_mbus/apdu_tag.hpp"
#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/dlms_security.hpp"
#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

constexpr std::uint8_t title_length = 8;  // a system title is 8 bytes (Green Book 4.3.4)
constexpr std::size_t title_end = 2 + title_length;

enum class verdict { need_more, not_a_start, complete };

struct candidate {
    verdict what = verdict::not_a_start;
    std::size_t size = 0;  // the whole APDU, once its length is known; 0 before
};

// A security control byte a push can carry: suite 0 or 1 (AES-128-GCM), encryption or
// authentication or both, no compression (IEC 62056-5-3:2017, 9.2.7.2.4; dlms_security.hpp).
bool plausible_control(std::uint8_t sc) noexcept {
    using namespace security_control;
    return (sc & suite_mask) <= 1 && (sc & (authentication | encryption)) != 0 &&
           (sc & compression) == 0;
}

candidate examine(std::span<const std::uint8_t> b) noexcept {
    if (b.empty()) return {verdict::need_more, 0};
    if (b[0] != apdu_tag::general_glo_ciphering) return {};
    if (b.size() < 2) return {verdict::need_more, 0};
    if (b[1] != title_length) return {};
    if (b.size() < title_end + 1) return {verdict::need_more, 0};
    // The length's first byte says how many follow: decide on it before they come.
    const std::uint8_t first = b[title_end];
    if (first == 0x80 || first > 0x82) return {};  // 0 or > 65535 bytes: no push
    std::size_t pos = title_end;
    std::size_t length = 0;
    if (!read_axdr_length(b, pos, length)) return {verdict::need_more, 0};
    const std::size_t size = pos + length;
    if (length < 1 + 4 || size > apdu_frame_assembler::max_apdu_size) return {};
    if (b.size() <= pos) return {verdict::need_more, 0};
    if (!plausible_control(b[pos])) return {};
    if (b.size() < size) return {verdict::need_more, size};
    return {verdict::complete, size};
}

}  // namespace

apdu_frame_event apdu_frame_assembler::next() {
    for (;;) {
        const candidate c = examine(buf_.undecided());
        switch (c.what) {
            case verdict::need_more:
                if (buf_.wait_for_more()) return {};
                // The pause came first: a header that named its length was cut off; a lone
                // start byte before the pause is noise.
                if (c.size == 0) {
                    ++stats_.skipped_bytes;
                    continue;
                }
                ++stats_.bad_frames;
                return {apdu_frame_event::kind::error, {}, errc::apdu_truncated};
            case verdict::not_a_start:
                buf_.skip(1);
                ++stats_.skipped_bytes;
                continue;
            case verdict::complete:
                buf_.hand_out(c.size);
                ++stats_.frames;
                return {apdu_frame_event::kind::apdu, buf_.rest().first(c.size), {}};
        }
    }
}

}  // namespace evn_mbus
