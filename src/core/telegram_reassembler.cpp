#include "evn_mbus/telegram_reassembler.hpp"

#include "evn_mbus/dlms_security.hpp"
#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

constexpr std::uint8_t ci_dlms_mask = 0xE0;  // CI 00h..1Fh: DLMS segments
constexpr std::uint8_t ci_last_segment = 0x10;
constexpr std::uint8_t ci_segment_mask = 0x0F;
constexpr std::size_t tsap_size = 2;  // STSAP, DTSAP

}  // namespace

bool telegram_reassembler::reset() {
    const bool dropped = in_progress_;
    in_progress_ = false;
    done_ = false;
    next_segment_ = 0;
    frames_ = 0;
    largest_piece_ = 0;
    apdu_.clear();
    raw_.clear();
    return dropped;
}

std::error_code telegram_reassembler::needed_size(std::size_t& needed) const {
    needed = 0;
    if (apdu_.empty()) return {};
    const std::uint8_t tag = apdu_[0];
    if (tag != apdu_tag::general_glo_ciphering && tag != apdu_tag::general_ded_ciphering) {
        return {};  // plain APDUs carry no overall length: the last-segment flag ends them
    }
    // DB | title length | title | A-XDR length | ...
    if (apdu_.size() < 2) return {};
    const std::size_t title_len = apdu_[1];
    std::size_t pos = 2 + title_len;
    if (apdu_.size() <= pos) return {};
    std::size_t length = 0;
    if (!read_axdr_length(apdu_, pos, length)) {
        // Either the length's own bytes are not all here yet, or it is absurd.
        if (apdu_.size() >= pos + 5) return errc::bad_security_header;
        return {};
    }
    needed = pos + length;
    if (needed > max_apdu_size) return errc::telegram_too_long;
    return {};
}

unsigned telegram_reassembler::frames_expected() const noexcept {
    std::size_t needed = 0;
    if (!in_progress_ || needed_size(needed) || needed <= apdu_.size() || largest_piece_ == 0) {
        return 0;
    }
    const std::size_t more = (needed - apdu_.size() + largest_piece_ - 1) / largest_piece_;
    return frames_ + static_cast<unsigned>(more);
}

reassembly_event telegram_reassembler::add(const mbus_frame& frame) {
    if (done_) reset();
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
        in_progress_ = true;
    } else if (!in_progress_ || segment != next_segment_) {
        reset();
        return reassembly_event::failed(frame.raw, errc::missing_segment);
    }

    const auto piece = frame.payload.subspan(tsap_size);
    if (apdu_.size() + piece.size() > max_apdu_size) {
        reset();
        return reassembly_event::failed(frame.raw, errc::telegram_too_long);
    }
    apdu_.insert(apdu_.end(), piece.begin(), piece.end());
    raw_.insert(raw_.end(), frame.raw.begin(), frame.raw.end());
    next_segment_ = (segment + 1) & ci_segment_mask;
    ++frames_;
    if (piece.size() > largest_piece_) largest_piece_ = piece.size();

    reassembly_event ev = complete_or_wait(frame, last);
    ev.dropped = dropped;
    return ev;
}

reassembly_event telegram_reassembler::complete_or_wait(const mbus_frame& frame, bool last) {
    using kind = reassembly_event::kind;
    std::size_t needed = 0;
    if (auto ec = needed_size(needed)) {
        reset();
        return reassembly_event::failed(frame.raw, ec);
    }
    if (needed != 0 && apdu_.size() > needed) {
        reset();
        return reassembly_event::failed(frame.raw, errc::length_mismatch);
    }
    // A ciphered APDU must reach its own length; the last flag on an unfinished header
    // means the meter (or the line) cut it short.
    const bool ciphered = !apdu_.empty() && (apdu_[0] == apdu_tag::general_glo_ciphering ||
                                             apdu_[0] == apdu_tag::general_ded_ciphering);
    const bool complete =
        needed != 0 ? apdu_.size() == needed : (last && !apdu_.empty() && !ciphered);
    if (!complete) {
        if (last) {
            reset();
            return reassembly_event::failed(frame.raw, errc::truncated_telegram);
        }
        return {};
    }
    in_progress_ = false;
    done_ = true;
    reassembly_event ev;
    ev.what = kind::telegram;
    ev.apdu = apdu_;
    ev.raw = raw_;
    return ev;
}

}  // namespace evn_mbus
