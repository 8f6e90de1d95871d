#include "evn_mbus/hdlc_reassembler.hpp"

#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

// I frames have bit 0 of the control field clear and N(S) in bits 1..3 (ISO/IEC 13239).
bool is_i_frame(std::uint8_t control) noexcept {
    return (control & 0x01) == 0;
}
int send_sequence(std::uint8_t control) noexcept {
    return (control >> 1) & 0x07;
}

}  // namespace

bool has_llc_header(std::span<const std::uint8_t> info) noexcept {
    return info.size() >= llc_header_size && info[0] == llc::destination_lsap &&
           (info[1] == llc::source_lsap_response || info[1] == llc::source_lsap_command) &&
           info[2] == llc::quality;
}

bool hdlc_reassembler::reset() {
    last_send_sequence_ = -1;
    return buf_.reset();
}

reassembly_event hdlc_reassembler::add(const hdlc_frame& frame) {
    if (buf_.done()) reset();
    const bool llc = has_llc_header(frame.info);
    std::error_code dropped;
    if (buf_.in_progress()) {
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
    buf_.start();
    const auto piece = llc ? frame.info.subspan(llc_header_size) : frame.info;
    if (!buf_.append(piece, frame.raw)) {
        reset();
        return reassembly_event::failed(frame.raw, errc::telegram_too_long);
    }
    last_send_sequence_ = is_i_frame(frame.control) ? send_sequence(frame.control) : -1;

    reassembly_event ev = frame.segmented ? reassembly_event{} : buf_.complete();
    ev.dropped = dropped;
    return ev;
}

}  // namespace evn_mbus
