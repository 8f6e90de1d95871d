// Bare ciphered APDUs on the line, with no link layer around them: the P1 port of Energienetze
// Steiermark's Sagemcom T210-D-R (115200 8N1) sends the general-glo-ciphering APDU alone
// (IEC 62056-5-3:2017, 9.2.7.2.4; Green Book DLMS UA 1000-2 Ed. 10, 9.2.7.2):
//
//   DBh | 08h | system-title(8) | A-XDR length | SC | FC(4) | ciphertext | [tag(12)]
//
// Nothing but the APDU's own length tells where it ends, and no checksum tells a real start
// from the same bytes inside other data. So a candidate must look like a push header (08h
// title length, a length any meter sends, a security control byte of AES-128-GCM with
// encryption or authentication) and is handed out when its length is complete; whether it
// was real is known only once it decrypts. An idle gap guards the length: a candidate that the
// line's pause cut off is dropped (apdu_truncated) and what followed its start is rescanned,
// so a false start inside garbage costs at most the bytes up to the next pause.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "evn_mbus/frame_buffer.hpp"
#include "evn_mbus/link_layer.hpp"

namespace evn_mbus {

struct apdu_frame_event {
    enum class kind { need_more, apdu, error };
    kind what = kind::need_more;
    // kind::apdu: the whole APDU, DBh to its last byte; valid until the next
    // feed()/next()/on_idle_gap().
    std::span<const std::uint8_t> apdu;
    std::error_code error;  // kind::error: apdu_truncated
};

class apdu_frame_assembler {
  public:
    using stats = link_stats;  // frames = APDUs handed out; they only grow

    // Longest APDU accepted, as for the reassembled ones (reassembly_buffer::max_apdu_size);
    // the T210-D-R sends 511 bytes.
    static constexpr std::size_t max_apdu_size = 4096;

    void feed(std::span<const std::uint8_t> bytes) { buf_.feed(bytes); }

    // The next complete candidate APDU, a candidate cut off by an idle gap, or need_more.
    apdu_frame_event next();

    // The line has been idle: a candidate still short of its length never completes.
    void on_idle_gap() noexcept { buf_.on_idle_gap(); }

    std::size_t buffered() const noexcept { return buf_.buffered(); }
    const stats& statistics() const noexcept { return stats_; }

  private:
    frame_buffer buf_;
    stats stats_;
};

}  // namespace evn_mbus
