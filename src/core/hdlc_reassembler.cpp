#include "evn_mbus/hdlc_reassembler.hpp"

#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

constexpr std::uint8_t llc_destination_lsap = 0xE6;
constexpr std::uint8_t llc_source_lsap_response = 0xE7;
constexpr std::uint8_t llc_source_lsap_command = 0xE6;
constexpr std::uint8_t llc_quality = 0x00;

// I frames have bit 0 of the control field clear and N(S) in bits 1..3 (ISO/IEC 13239).
bool is_i_frame(std::uint8_t control) noexcept {
    return (control & 0x01) == 0;
}
int send_sequence(std::uint8_t control) noexcept {
    return (control >> 1) & 0x07;
}

}  // namespace

bool has_llc_header(std::span<const std::uint8_t> info) noexcept {
    return info.size() >= llc_header_size && info[0] == llc_destination_lsap &&
           (info[1] == llc_source_lsap_response || info[1] == llc_source_lsap_command) &&
           info[2] == llc_quality;
}

bool hdlc_reassembler::reset() {
    const bool dropped = in_progress_;
    in_progress_ = false;
    done_ = false;
    last_send_sequence_ = -1;
    apdu_.clear();
    raw_.clear();
    return dropped;
}

reassembly_event hdlc_reassembler::add(const hdlc_frame& frame) {
    if (done_) reset();
    const bool llc = has_llc_header(frame.info);
    std::error_code dropped;
    if (in_progress_) {
        if (llc) {
            // A first segment: the unfinished information lost its last segment(s).
            reset();
            dropped = errc::missing_segment;
        } else if (is_i_frame(frame.control) && last_send_sequence_ >= 0 &&
                   send_sequence(frame.control) != ((last_send_sequence_ + 1) & 0x07)) {
            reset();
            return reassembly_event::failed(frame.raw, errc::missing_segment);
        }
    }
    in_progress_ = true;
    const auto piece = llc ? frame.info.subspan(llc_header_size) : frame.info;
    if (apdu_.size() + piece.size() > max_apdu_size) {
        reset();
        return reassembly_event::failed(frame.raw, errc::telegram_too_long);
    }
    apdu_.insert(apdu_.end(), piece.begin(), piece.end());
    raw_.insert(raw_.end(), frame.raw.begin(), frame.raw.end());
    last_send_sequence_ = is_i_frame(frame.control) ? send_sequence(frame.control) : -1;

    reassembly_event ev;
    ev.dropped = dropped;
    if (frame.segmented) return ev;
    in_progress_ = false;
    done_ = true;
    ev.what = reassembly_event::kind::telegram;
    ev.apdu = apdu_;
    ev.raw = raw_;
    return ev;
}

}  // namespace evn_mbus
