// The link-layer framing a meter uses for its pushes on the customer interface: M-Bus long
// frames (EN 13757-2; EVN, Salzburg Netz, TINETZ, ...) or HDLC frames (IEC 62056-46; Wiener
// Netze, Kärnten Netz, Netz Burgenland, ...), or none: the bare ciphered APDU (the P1 port of
// Energienetze Steiermark's Sagemcom T210-D-R), or M-Bus with answers: the AMIS meters of Netz
// Oberösterreich are M-Bus masters that wait for E5h from the reader (EN 13757-2 5.7.4). The
// decoder can be told which one, or find out from the bytes.
#pragma once

#include <cstdint>
#include <string_view>

namespace evn_mbus {

// Configuration (serial.link: auto | mbus | hdlc | apdu | amis) and, in a reading, what was
// detected (auto_detect there means "not from the line", e.g. decode_apdu on its own).
// mbus only listens; amis is M-Bus that answers the meter's SND_NKE and SND_UD to F0h with
// E5h, as auto does. A reading never says amis: its frames were M-Bus.
enum class link_layer { auto_detect, mbus, hdlc, apdu, amis };

// Every choice, in the order the configuration and the command line list them.
inline constexpr link_layer all_link_layers[] = {link_layer::auto_detect, link_layer::mbus,
                                                 link_layer::hdlc, link_layer::apdu,
                                                 link_layer::amis};

// M-Bus framing: mbus or amis.
constexpr bool is_mbus(link_layer l) noexcept {
    return l == link_layer::mbus || l == link_layer::amis;
}

// The configuration spelling: "auto", "mbus", "hdlc", "apdu".
constexpr std::string_view to_string(link_layer l) noexcept {
    switch (l) {
        case link_layer::mbus:
            return "mbus";
        case link_layer::hdlc:
            return "hdlc";
        case link_layer::apdu:
            return "apdu";
        case link_layer::amis:
            return "amis";
        case link_layer::auto_detect:
            break;
    }
    return "auto";
}

// For people: "M-Bus", "HDLC, general block transfer", ... ("unknown" for auto_detect).
constexpr std::string_view describe_link(link_layer l, bool block_transfer) noexcept {
    switch (l) {
        case link_layer::mbus:
        case link_layer::amis:
            return block_transfer ? "M-Bus, general block transfer" : "M-Bus";
        case link_layer::hdlc:
            return block_transfer ? "HDLC, general block transfer" : "HDLC";
        case link_layer::apdu:
            return block_transfer ? "bare APDU (P1), general block transfer" : "bare APDU (P1)";
        case link_layer::auto_detect:
            break;
    }
    return block_transfer ? "unknown link, general block transfer" : "unknown link";
}

// Frame counters of one link layer, for diagnostics; they only grow.
struct link_stats {
    std::uint64_t frames = 0;          // frames with data handed out
    std::uint64_t skipped_bytes = 0;   // bytes skipped while looking for a frame start
    std::uint64_t control_frames = 0;  // valid frames without data (acks, HDLC RR/UA...)
    std::uint64_t bad_frames = 0;      // candidates dropped with an error
};

}  // namespace evn_mbus
