#include "evn_mbus/obis_code.hpp"

#include <algorithm>
#include <cstdio>

namespace evn_mbus {
namespace {

// Names compatible with the ESP8266 firmware evn-mbus replaces (its MQTT topics), then the
// other registers Austrian operators publish (IEC 62056-6-1 value groups C.D.E).
constexpr named_quantity named_table[] = {
    {"w_p", "Wh", "active energy import (A+)", 1, 8, 0},
    {"w_n", "Wh", "active energy export (A-)", 2, 8, 0},
    {"w_p_t1", "Wh", "active energy import, tariff 1 (A+ T1)", 1, 8, 1},
    {"w_p_t2", "Wh", "active energy import, tariff 2 (A+ T2)", 1, 8, 2},
    {"w_n_t1", "Wh", "active energy export, tariff 1 (A- T1)", 2, 8, 1},
    {"w_n_t2", "Wh", "active energy export, tariff 2 (A- T2)", 2, 8, 2},
    {"r_p", "varh", "reactive energy import (R+)", 3, 8, 0},
    {"r_n", "varh", "reactive energy export (R-)", 4, 8, 0},
    {"r_p_t1", "varh", "reactive energy import, tariff 1 (R+ T1)", 3, 8, 1},
    {"r_p_t2", "varh", "reactive energy import, tariff 2 (R+ T2)", 3, 8, 2},
    {"r_n_t1", "varh", "reactive energy export, tariff 1 (R- T1)", 4, 8, 1},
    {"r_n_t2", "varh", "reactive energy export, tariff 2 (R- T2)", 4, 8, 2},
    {"p_p", "W", "active power import (P+)", 1, 7, 0},
    {"p_n", "W", "active power export (P-)", 2, 7, 0},
    {"q_p", "var", "reactive power import (Q+)", 3, 7, 0},
    {"q_n", "var", "reactive power export (Q-)", 4, 7, 0},
    {"p1_p", "W", "active power import L1", 21, 7, 0},
    {"p2_p", "W", "active power import L2", 41, 7, 0},
    {"p3_p", "W", "active power import L3", 61, 7, 0},
    {"p1_n", "W", "active power export L1", 22, 7, 0},
    {"p2_n", "W", "active power export L2", 42, 7, 0},
    {"p3_n", "W", "active power export L3", 62, 7, 0},
    {"u1", "V", "voltage L1", 32, 7, 0},
    {"u2", "V", "voltage L2", 52, 7, 0},
    {"u3", "V", "voltage L3", 72, 7, 0},
    {"i1", "A", "current L1", 31, 7, 0},
    {"i2", "A", "current L2", 51, 7, 0},
    {"i3", "A", "current L3", 71, 7, 0},
    {"phi", "", "power factor", 13, 7, 0},
    {"phi1", "", "power factor L1", 33, 7, 0},
    {"phi2", "", "power factor L2", 53, 7, 0},
    {"phi3", "", "power factor L3", 73, 7, 0},
    {"f", "Hz", "frequency", 14, 7, 0},
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
    for (const auto& q : named_table) {
        if (q.c == b[2] && q.d == b[3] && q.e == b[4]) return q;
    }
    return std::nullopt;
}

int meter_id_rank(const obis_code& code) noexcept {
    if (code == obis_meter_number) return 1;
    if (code == obis_code{{0, 0, 96, 1, 1, 255}}) return 2;
    const auto& b = code.bytes;
    if (b[0] == 1 && b[2] == 0 && b[3] == 0 && b[4] == 5 && b[5] == 255) return 3;
    if (code == obis_device_name) return 4;
    return 0;
}

std::span<const named_quantity> named_quantities() noexcept {
    return named_table;
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
        case 13:
            return "m³";
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

std::optional<std::uint8_t> unit_from_symbol(std::string_view symbol) noexcept {
    if (symbol.empty()) return std::nullopt;
    if (symbol == "deg") return 8;
    if (symbol == "degC") return 9;
    if (symbol == "m3") return 13;
    for (unsigned u = 0; u < 255; ++u) {
        if (unit_symbol(static_cast<std::uint8_t>(u)) == symbol)
            return static_cast<std::uint8_t>(u);
    }
    return std::nullopt;
}

std::optional<obis_code> obis_code::read(std::string_view text, std::size_t& pos) noexcept {
    static constexpr char separators[] = {'-', ':', '.', '.'};
    obis_code code;
    for (std::size_t group = 0; group < 6; ++group) {
        if (group == 5) {
            if (pos >= text.size() || (text[pos] != '*' && text[pos] != '.')) {
                code.bytes[5] = 255;
                return code;
            }
            ++pos;
        } else if (group > 0) {
            if (pos >= text.size() || text[pos] != separators[group - 1]) return std::nullopt;
            ++pos;
        }
        unsigned v = 0;
        std::size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && digits < 3) {
            v = v * 10 + static_cast<unsigned>(text[pos++] - '0');
            ++digits;
        }
        if (digits == 0 || v > 255) return std::nullopt;
        code.bytes[group] = static_cast<std::uint8_t>(v);
    }
    return code;
}

std::optional<obis_code> obis_code::from_text(std::string_view text) noexcept {
    std::size_t pos = 0;
    auto code = read(text, pos);
    if (!code || pos != text.size()) return std::nullopt;
    return code;
}

}  // namespace evn_mbus
