// OBIS codes (IEC 62056-6-1:2017): six value groups A-B:C.D.E*F, sent as a 6-byte
// octet-string, and the names evn-mbus gives to the ones users know.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace evn_mbus {

struct obis_code {
    std::array<std::uint8_t, 6> bytes{};

    static std::optional<obis_code> from_bytes(std::span<const std::uint8_t> b) noexcept;
    // Reads "A-B:C.D.E" with an optional "*F" or ".F" (F = 255 when absent; IEC 62056-6-1
    // 4.2 notation, as DSMR lines and users write it) at `pos` of `text`, and moves `pos`
    // past it; nullopt (pos unspecified) when no code stands there.
    static std::optional<obis_code> read(std::string_view text, std::size_t& pos) noexcept;
    // The whole of `text` is one code.
    static std::optional<obis_code> from_text(std::string_view text) noexcept;
    // "1-0:1.8.0.255"
    std::string to_string() const;
    bool operator==(const obis_code&) const = default;
};

// A value evn-mbus publishes under a name of its own (JSON key and MQTT topic). Names are
// stable: dashboards depend on them.
struct named_quantity {
    std::string_view name;         // "w_p"
    std::string_view unit;         // unit of the published value: "Wh"
    std::string_view description;  // "active energy import (A+)"
    std::uint8_t c, d, e;          // its electricity OBIS code 1-b:C.D.E
};

// The name for an electricity OBIS code (A = 1, any channel B, F = 255 or unspecified), by
// its C.D.E groups; nullopt for codes without a name (they still pass through by OBIS).
//   energy  (Wh):   w_p 1.8.0, w_n 2.8.0, tariffs w_p_t1 1.8.1, w_p_t2 1.8.2, w_n_t1 2.8.1,
//                   w_n_t2 2.8.2
//   reactive (varh): r_p 3.8.0, r_n 4.8.0, r_p_t1 3.8.1, r_p_t2 3.8.2, r_n_t1 4.8.1,
//                   r_n_t2 4.8.2
//   power   (W):    p_p 1.7.0, p_n 2.7.0; per phase p1_p 21.7.0, p2_p 41.7.0, p3_p 61.7.0,
//                   p1_n 22.7.0, p2_n 42.7.0, p3_n 62.7.0
//   reactive (var): q_p 3.7.0, q_n 4.7.0
//   u1 u2 u3 (V) 32/52/72.7.0, i1 i2 i3 (A) 31/51/71.7.0, power factor phi 13.7.0 and
//   phi1 phi2 phi3 33/53/73.7.0, frequency f (Hz) 14.7.0
std::optional<named_quantity> name_for(const obis_code& code) noexcept;

// Every named quantity, in the order evn-mbus lists them (logs, Home Assistant sensors).
std::span<const named_quantity> named_quantities() noexcept;

// Abstract object codes the decoder treats specially (A = 0).
inline constexpr obis_code obis_clock{{0, 0, 1, 0, 0, 255}};
inline constexpr obis_code obis_meter_number{{0, 0, 96, 1, 0, 255}};
inline constexpr obis_code obis_device_name{{0, 0, 42, 0, 0, 255}};

// How well a code names the meter, for reading::meter_number (lower is better): 1 the
// operator's meter number 0-0:96.1.0, 2 the equipment identifier 0-0:96.1.1 (IEC 62056-6-1
// 7.5.2), 3 the meter id 1-b:0.0.5 (Kamstrup's pushes), 4 the logical device name 0-0:42.0.0
// (a fallback: it names the device, often with the serial). 0 for every other code: a string
// sent under another code (a list version "Kamstrup_V0001", a message text) is never taken
// for the meter number. A printable string sent without a code ranks after all of these.
int meter_id_rank(const obis_code& code) noexcept;
inline constexpr int untagged_meter_id_rank = 5;

// Unit symbol for a COSEM unit enum (Blue Book 4.3.2, "unit" of the Register class); empty
// for 255 (count/no unit) and unknown units.
std::string_view unit_symbol(std::uint8_t unit) noexcept;
// The COSEM unit enum for a symbol unit_symbol gives, or the ASCII spellings "deg", "degC"
// and "m3"; nullopt for anything else (case matters: "W" is not "w").
std::optional<std::uint8_t> unit_from_symbol(std::string_view symbol) noexcept;

}  // namespace evn_mbus
