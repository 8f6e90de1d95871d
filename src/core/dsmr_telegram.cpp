#include "evn_mbus/dsmr_telegram.hpp"

#include <array>
#include <string_view>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hex.hpp"

namespace evn_mbus {
namespace {

using bytes = std::span<const std::uint8_t>;

std::string_view as_text(bytes b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

bool is_digit(std::uint8_t c) noexcept {
    return c >= '0' && c <= '9';
}

// DSMR units and the COSEM unit (Blue Book 4.3.2) with the power of ten they carry.
struct dsmr_unit {
    std::string_view text;
    std::uint8_t cosem;
    std::int8_t exponent;
};
constexpr dsmr_unit unit_table[] = {
    {"Wh", 30, 0},    {"kWh", 30, 3}, {"W", 27, 0},    {"kW", 27, 3},  {"varh", 32, 0},
    {"kvarh", 32, 3}, {"var", 29, 0}, {"kvar", 29, 3}, {"VAh", 31, 0}, {"kVAh", 31, 3},
    {"VA", 28, 0},    {"kVA", 28, 3}, {"V", 35, 0},    {"A", 33, 0},   {"Hz", 44, 0},
    {"s", 7, 0},      {"m3", 13, 0},  {"%", 56, 0},
};

// YYMMDDhhmmss followed by S (summer time) or W (winter time).
bool read_timestamp(bytes v, cosem_datetime& out) noexcept {
    if (v.size() != 13 || (v[12] != 'S' && v[12] != 'W')) return false;
    unsigned f[6];
    for (std::size_t i = 0; i < 6; ++i) {
        if (!is_digit(v[2 * i]) || !is_digit(v[2 * i + 1])) return false;
        f[i] = (v[2 * i] - '0') * 10u + (v[2 * i + 1] - '0');
    }
    out = cosem_datetime{};
    out.year = static_cast<std::uint16_t>(2000 + f[0]);
    out.month = static_cast<std::uint8_t>(f[1]);
    out.day = static_cast<std::uint8_t>(f[2]);
    out.day_of_week = 0xFF;
    out.hour = static_cast<std::uint8_t>(f[3]);
    out.minute = static_cast<std::uint8_t>(f[4]);
    out.second = static_cast<std::uint8_t>(f[5]);
    out.hundredths = 0;
    out.status = v[12] == 'S' ? cosem_datetime::status_daylight_saving : 0x00;
    return true;
}

// [-]digits[.digits][*unit]: true with `out` set when the value is such a number in a unit
// evn-mbus knows (or none); anything else is text.
bool read_number(bytes v, obis_value& out) noexcept {
    std::size_t pos = 0;
    const bool negative = pos < v.size() && v[pos] == '-';
    if (negative) ++pos;
    std::uint64_t raw = 0;
    int digits = 0;
    int decimals = 0;
    bool point = false;
    for (; pos < v.size() && v[pos] != '*'; ++pos) {
        if (v[pos] == '.' && !point) {
            point = true;
        } else if (is_digit(v[pos]) && digits < 18) {
            raw = raw * 10 + (v[pos] - '0');
            ++digits;
            if (point) ++decimals;
        } else {
            return false;
        }
    }
    if (digits == 0) return false;
    std::uint8_t unit = 255;
    int exponent = 0;
    if (pos < v.size()) {
        const std::string_view u = as_text(v.subspan(pos + 1));
        const dsmr_unit* found = nullptr;
        for (const auto& e : unit_table) {
            if (e.text == u) found = &e;
        }
        if (found == nullptr) return false;
        unit = found->cosem;
        exponent = found->exponent;
    }
    if (negative) {
        out.type = axdr_type::long64;
        out.raw_signed = -static_cast<std::int64_t>(raw);
    } else {
        out.type = axdr_type::long64_unsigned;
        out.raw_unsigned = raw;
    }
    out.scaler = static_cast<std::int8_t>(exponent - decimals);
    out.unit = unit;
    out.has_scaler_unit = unit != 255 || decimals != 0;
    return true;
}

// The codes DSMR 5.0.2 sends as hex-coded ASCII (clause 6.12, table 6): the equipment
// identifiers 0-0:96.1.1 and 0-n:96.1.0 of the M-Bus devices (n >= 1), and the text messages
// 0-0:96.13.x. Everything else is text as sent: a meter number of digits only must not be
// read as hex ("32303231" is not "2021").
bool hex_coded(const obis_code& code) noexcept {
    const auto& b = code.bytes;
    if (b[0] != 0 || b[2] != 96) return false;
    return (b[1] == 0 && b[3] == 1 && b[4] == 1) || (b[1] >= 1 && b[3] == 1 && b[4] == 0) ||
           (b[1] == 0 && b[3] == 13);
}

// Text as sent; under a hex-coded code (above), printable ASCII in hex decoded.
void read_text(const obis_code& code, bytes v, std::string& out) {
    out.clear();
    bool hex_ascii = hex_coded(code) && !v.empty() && v.size() % 2 == 0;
    for (std::size_t i = 0; hex_ascii && i < v.size(); i += 2) {
        const int hi = hex_digit_value(static_cast<char>(v[i]));
        const int lo = hex_digit_value(static_cast<char>(v[i + 1]));
        const int c = hi * 16 + lo;
        hex_ascii = hi >= 0 && lo >= 0 && c >= 0x20 && c < 0x7F;
    }
    if (!hex_ascii) {
        out.assign(reinterpret_cast<const char*>(v.data()), v.size());
        return;
    }
    for (std::size_t i = 0; i < v.size(); i += 2) {
        out.push_back(static_cast<char>(hex_digit_value(static_cast<char>(v[i])) * 16 +
                                        hex_digit_value(static_cast<char>(v[i + 1]))));
    }
}

// One data line: OBIS code, then "(value)" groups; `number_rank` is that of the meter number
// taken so far (meter_id_rank). The value taken is the only group, or the
// second of a (time stamp)(value) pair (DSMR's gas and water readings); a longer list (the
// power failure log) is kept as text.
bool read_line(bytes line, reading& out, int& number_rank) {
    std::size_t pos = 0;
    const auto parsed = obis_code::read(as_text(line), pos);
    if (!parsed) return false;
    const obis_code code = *parsed;
    const std::size_t groups_at = pos;
    std::size_t groups = 0;
    bytes first, last;
    while (pos < line.size()) {
        if (line[pos] != '(') return false;
        std::size_t close = pos + 1;
        while (close < line.size() && line[close] != ')' && line[close] != '(')
            ++close;
        if (close >= line.size() || line[close] != ')') return false;
        last = line.subspan(pos + 1, close - pos - 1);
        if (groups++ == 0) first = last;
        pos = close + 1;
    }
    if (groups == 0) return false;
    obis_value& v = out.values.emplace_back();
    v.code = code;
    cosem_datetime stamp;
    bytes value = last;
    if (groups == 2 && read_timestamp(first, stamp)) {
        // (time stamp)(value): the value; the time stamp is when it was read.
    } else if (groups > 1) {
        value = line.subspan(groups_at);
    }
    if (groups <= 2 && read_timestamp(value, stamp)) {
        if (const auto utc = stamp.to_utc()) {
            v.type = axdr_type::date_time;
            v.text = out.take_text();
            format_utc(*utc, v.text);
            if (code == obis_clock) out.clock = utc;
            return true;
        }
    }
    // Identifiers are text, even when they are all digits.
    const int rank = meter_id_rank(code);
    if (groups <= 2 && rank == 0 && read_number(value, v)) {
        // A quantity evn-mbus names (w_p is in Wh, ...) in another unit, or without one, is
        // not that quantity: it stays text rather than a number with the wrong meaning.
        const auto q = name_for(code);
        if (!q || unit_symbol(v.unit) == q->unit) return true;
        v = obis_value{};
        v.code = code;
    }
    v.type = axdr_type::visible_string;
    v.text = out.take_text();
    read_text(code, value, v.text);
    if (rank != 0 && rank < number_rank && !v.text.empty()) {
        out.meter_number = v.text;
        number_rank = rank;
    }
    return true;
}

// The next line of `text` from `pos`, without its line end; `pos` moves past the line end.
bytes next_line(bytes text, std::size_t& pos) noexcept {
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] != '\n')
        ++pos;
    std::size_t end = pos;
    if (pos < text.size()) ++pos;  // the LF
    if (end > start && text[end - 1] == '\r') --end;
    return text.subspan(start, end - start);
}

}  // namespace

std::uint16_t dsmr_crc16(std::span<const std::uint8_t> b) noexcept {
    // A byte at a time from a table of the 256 bit-by-bit results (reflected 8005h = A001h).
    static constexpr auto table = [] {
        std::array<std::uint16_t, 256> t{};
        for (unsigned n = 0; n < 256; ++n) {
            unsigned crc = n;
            for (int i = 0; i < 8; ++i)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1;
            t[n] = static_cast<std::uint16_t>(crc);
        }
        return t;
    }();
    std::uint16_t crc = 0;
    for (const std::uint8_t byte : b)
        crc = static_cast<std::uint16_t>((crc >> 8) ^ table[(crc ^ byte) & 0xFF]);
    return crc;
}

std::error_code parse_dsmr(std::span<const std::uint8_t> text, reading& out, bool& crc_checked) {
    crc_checked = false;
    if (!is_dsmr_text(text)) return errc::dsmr_malformed;
    // The "!" that starts a line ends the telegram. The CRC is checked before any line is
    // read, so that data altered on the way is named as such.
    std::size_t bang = 1;
    while (bang < text.size() && !(text[bang] == '!' && text[bang - 1] == '\n'))
        ++bang;
    if (bang >= text.size()) return errc::dsmr_malformed;
    std::size_t pos = bang + 1;
    const bytes crc = next_line(text, pos);
    if (!crc.empty()) {  // DSMR before 4.0 sent none
        std::uint32_t sent = 0;
        if (crc.size() != 4) return errc::dsmr_malformed;
        for (const std::uint8_t c : crc) {
            const int d = hex_digit_value(static_cast<char>(c));
            if (d < 0) return errc::dsmr_malformed;
            sent = sent * 16 + static_cast<std::uint32_t>(d);
        }
        if (sent != dsmr_crc16(text.first(bang + 1))) return errc::dsmr_bad_crc;
        crc_checked = true;
    }
    for (; pos < text.size(); ++pos) {
        if (text[pos] != '\r' && text[pos] != '\n') return errc::trailing_bytes;
    }

    const bytes body = text.first(bang);
    pos = 0;
    const bytes header = next_line(body, pos);
    if (header.size() < 2) return errc::dsmr_malformed;
    out.device_name.assign(reinterpret_cast<const char*>(header.data()) + 1, header.size() - 1);
    int number_rank = untagged_meter_id_rank;  // of out.meter_number (meter_id_rank)
    while (pos < body.size()) {
        const bytes line = next_line(body, pos);
        if (!line.empty() && !read_line(line, out, number_rank)) return errc::dsmr_malformed;
    }
    out.layout = out.values.empty() ? value_layout::empty : value_layout::dsmr;
    return {};
}

}  // namespace evn_mbus
