#include "evn_mbus/mbus_reassembler.hpp"

#include "evn_mbus/apdu_tag.hpp"
#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

constexpr std::uint8_t ci_dlms_mask = 0xE0;  // CI 00h..1Fh: DLMS segments
constexpr std::uint8_t ci_last_segment = 0x10;
constexpr std::uint8_t ci_segment_mask = 0x0F;
constexpr std::size_t tsap_size = 2;  // STSAP, DTSAP

}  // namespace

bool mbus_reassembler::reset() {
    next_segment_ = 0;
    frames_ = 0;
    largest_piece_ = 0;
    return buf_.reset();
}

std::error_code mbus_reassembler::needed_size(std::size_t& needed) const {
    needed = 0;
    const auto apdu = buf_.apdu();
    if (apdu.empty()) return {};
    if (!apdu_tag::is_ciphered(apdu[0])) {
        return {};  // plain APDUs carry no overall length: the last-segment flag ends them
    }
    // DB | title length | title | A-XDR length | ...
    if (apdu.size() < 2) return {};
    const std::size_t title_len = apdu[1];
    std::size_t pos = 2 + title_len;
    if (apdu.size() <= pos) return {};
    std::size_t length = 0;
    if (!read_axdr_length(apdu, pos, length)) {
        // Either the length's own bytes are not all here yet, or it is absurd.
        if (apdu.size() >= pos + 5) return errc::bad_security_header;
        return {};
    }
    needed = pos + length;
    if (needed > max_apdu_size) return errc::telegram_too_long;
    return {};
}

unsigned mbus_reassembler::frames_expected() const noexcept {
    std::size_t needed = 0;
    const std::size_t have = buf_.apdu().size();
    if (!buf_.in_progress() || needed_size(needed) || needed <= have || largest_piece_ == 0) {
        return 0;
    }
    const std::size_t more = (needed - have + largest_piece_ - 1) / largest_piece_;
    return frames_ + static_cast<unsigned>(more);
}

reassembly_event mbus_reassembler::add(const mbus_frame& frame) {
    if (buf_.done()) reset();
    if ((frame.ci & ci_dlms_mask) != 0)
        return reassembly_event::failed(frame.raw, errc::unsupported_ci);
    if (frame.payload.size() < tsap_size) {
        return reassembly_event::failed(frame.raw, errc::frame_too_short);
    }
    const unsigned segment = frame.ci & ci_segment_mask;
    const bool last = (frame.ci & ci_last_segment) != 0;

    std::error_code dropped;
    if (segment == 0) {
        // A push always starts with segment 0: whatever was in progress is lost.
        if (reset()) dropped = errc::missing_segment;
        buf_.start();
    } else if (!buf_.in_progress() || segment != next_segment_) {
        reset();
        return reassembly_event::failed(frame.raw, errc::missing_segment);
    }

    const auto piece = frame.payload.subspan(tsap_size);
    if (!buf_.append(piece, frame.raw)) {
        reset();
        return reassembly_event::failed(frame.raw, errc::telegram_too_long);
    }
    next_segment_ = (segment + 1) & ci_segment_mask;
    ++frames_;
    if (piece.size() > largest_piece_) largest_piece_ = piece.size();

    reassembly_event ev = complete_or_wait(frame, last);
    ev.dropped = dropped;
    return ev;
}

reassembly_event mbus_reassembler::complete_or_wait(const mbus_frame& frame, bool last) {
    std::size_t needed = 0;
    if (auto ec = needed_size(needed)) {
        reset();
        return reassembly_event::failed(frame.raw, ec);
    }
    const auto apdu = buf_.apdu();
    if (needed != 0 && apdu.size() > needed) {
        reset();
        return reassembly_event::failed(frame.raw, errc::length_mismatch);
    }
    // A ciphered APDU must reach its own length; the last flag on an unfinished header
    // means the meter (or the line) cut it short.
    const bool ciphered = !apdu.empty() && apdu_tag::is_ciphered(apdu[0]);
    const bool complete =
        needed != 0 ? apdu.size() == needed : (last && !apdu.empty() && !ciphered);
    if (!complete) {
        if (last) {
            reset();
            return reassembly_event::failed(frame.raw, errc::truncated_telegram);
        }
        return {};
    }
    return buf_.complete();
}

}  // namespace evn_mbus
