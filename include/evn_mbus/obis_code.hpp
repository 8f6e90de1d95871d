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
    // "1-0:1.8.0.255"
    std::string to_string() const;
    bool operator==(const obis_code&) const = default;
};

// A value evn-mbus publishes under a name of its own (JSON key and MQTT topic).
struct named_quantity {
    std::string_view name;         // "w_p"
    std::string_view unit;         // unit of the published value: "Wh"
    std::string_view description;  // "active energy import (A+)"
};

// The name for an electricity OBIS code (A = 1, any channel B, F = 255 or unspecified), by
// its C.D.E groups; nullopt for codes without a name (they still pass through by OBIS).
std::optional<named_quantity> name_for(const obis_code& code) noexcept;

// Abstract object codes the decoder treats specially (A = 0).
inline constexpr obis_code obis_clock{{0, 0, 1, 0, 0, 255}};
inline constexpr obis_code obis_meter_number{{0, 0, 96, 1, 0, 255}};
inline constexpr obis_code obis_device_name{{0, 0, 42, 0, 0, 255}};

// Unit symbol for a COSEM unit enum (Blue Book 4.3.2, "unit" of the Register class); empty
// for 255 (count/no unit) and unknown units.
std::string_view unit_symbol(std::uint8_t unit) noexcept;

}  // namespace evn_mbus
