// What a reassembler returns for each piece it takes: the M-Bus transport (EN 13757-2 with the
// DLMS/COSEM transport of IEC 62056-7-6), HDLC segmentation (IEC 62056-46, segmentation bit S)
// and general block transfer (IEC 62056-5-3, GBT) all answer with one of these.
#pragma once

#include <cstdint>
#include <span>
#include <system_error>

namespace evn_mbus {

struct reassembly_event {
    enum class kind { need_more, telegram, error };
    kind what = kind::need_more;
    // For kind::telegram: the APDU (DBh/DCh/0Fh...), valid until the next add().
    std::span<const std::uint8_t> apdu;
    // For kind::telegram: every link frame of the push, back to back (for "raw" publishing).
    std::span<const std::uint8_t> raw;
    std::error_code error;  // for kind::error: this push (or this frame) was dropped
    // Set when this frame, a segment 0, made an unfinished earlier push be dropped
    // (missing_segment). Reported beside `what`, which is about the new push.
    std::error_code dropped;

    // kind::error for the frames in `raw`: what every reassembler returns for a bad frame.
    static reassembly_event failed(std::span<const std::uint8_t> raw, std::error_code ec) {
        reassembly_event ev;
        ev.what = kind::error;
        ev.raw = raw;
        ev.error = ec;
        return ev;
    }

    // kind::telegram for `apdu`, carried by the frames in `raw`.
    static reassembly_event telegram(std::span<const std::uint8_t> apdu,
                                     std::span<const std::uint8_t> raw) {
        reassembly_event ev;
        ev.what = kind::telegram;
        ev.apdu = apdu;
        ev.raw = raw;
        return ev;
    }
};

}  // namespace evn_mbus
