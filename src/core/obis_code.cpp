#include "evn_mbus/obis_code.hpp"

#include <algorithm>
#include <cstdio>

namespace evn_mbus {
namespace {

struct named_entry {
    std::uint8_t c, d, e;
    named_quantity q;
};

// Names compatible with the ESP8266 firmware evn-mbus replaces (its MQTT topics).
constexpr named_entry named_table[] = {
    {1, 8, 0, {"w_p", "Wh", "active energy import (A+)"}},
    {2, 8, 0, {"w_n", "Wh", "active energy export (A-)"}},
    {1, 7, 0, {"p_p", "W", "active power import (P+)"}},
    {2, 7, 0, {"p_n", "W", "active power export (P-)"}},
    {32, 7, 0, {"u1", "V", "voltage L1"}},
    {52, 7, 0, {"u2", "V", "voltage L2"}},
    {72, 7, 0, {"u3", "V", "voltage L3"}},
    {31, 7, 0, {"i1", "A", "current L1"}},
    {51, 7, 0, {"i2", "A", "current L2"}},
    {71, 7, 0, {"i3", "A", "current L3"}},
    {13, 7, 0, {"phi", "", "power factor"}},
};

}  // namespace

std::optional<obis_code> obis_code::from_bytes(std::span<const std::uint8_t> b) noexcept {
    if (b.size() != 6) return std::nullopt;
    obis_code c;
    std::copy(b.begin(), b.end(), c.bytes.begin());
    return c;
}

std::string obis_code::to_string() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%u-%u:%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3],
                  bytes[4], bytes[5]);
    return buf;
}

std::optional<named_quantity> name_for(const obis_code& code) noexcept {
    const auto& b = code.bytes;
    if (b[0] != 1 || (b[5] != 255 && b[5] != 0)) return std::nullopt;
    for (const auto& e : named_table) {
        if (e.c == b[2] && e.d == b[3] && e.e == b[4]) return e.q;
    }
    return std::nullopt;
}

std::string_view unit_symbol(std::uint8_t unit) noexcept {
    switch (unit) {
        case 1:
            return "a";
        case 2:
            return "mo";
        case 3:
            return "wk";
        case 4:
            return "d";
        case 5:
            return "h";
        case 6:
            return "min";
        case 7:
            return "s";
        case 8:
            return "°";
        case 9:
            return "°C";
        case 27:
            return "W";
        case 28:
            return "VA";
        case 29:
            return "var";
        case 30:
            return "Wh";
        case 31:
            return "VAh";
        case 32:
            return "varh";
        case 33:
            return "A";
        case 34:
            return "C";
        case 35:
            return "V";
        case 44:
            return "Hz";
        case 56:
            return "%";
        default:
            return "";
    }
}

}  // namespace evn_mbus
