#include "evn_mbus/hex.hpp"

#include "evn_mbus/error.hpp"

namespace evn_mbus {

int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

namespace {

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// True at a "0x"/"0X" prefix that starts a byte group (not the 0 of a byte like "0A").
bool at_prefix(std::string_view text, std::size_t i, bool group_start) noexcept {
    return group_start && i + 1 < text.size() && text[i] == '0' &&
           (text[i + 1] == 'x' || text[i + 1] == 'X');
}

}  // namespace

std::error_code parse_hex(std::string_view text, std::vector<std::uint8_t>& out) {
    out.clear();
    int high = -1;
    bool group_start = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '#') {
            while (i < text.size() && text[i] != '\n')
                ++i;
            group_start = true;
            continue;
        }
        if (is_space(c) || c == ',') {
            group_start = true;
            continue;
        }
        if (high < 0 && at_prefix(text, i, group_start)) {
            ++i;
            group_start = false;
            continue;
        }
        group_start = false;
        const int v = hex_digit_value(c);
        if (v < 0) return errc::bad_hex;
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | v));
            high = -1;
        }
    }
    if (high >= 0) return errc::bad_hex;
    return {};
}

bool looks_like_hex_text(std::span<const std::uint8_t> bytes) noexcept {
    bool in_comment = false;
    bool any_digit = false;
    for (const std::uint8_t b : bytes) {
        const char c = static_cast<char>(b);
        if (in_comment) {
            if (c == '\n') in_comment = false;
            continue;
        }
        if (c == '#') {
            in_comment = true;
        } else if (hex_digit_value(c) >= 0) {
            any_digit = true;
        } else if (!(is_space(c) || c == ',' || c == 'x' || c == 'X')) {
            return false;
        }
    }
    return any_digit;
}

std::error_code parse_key(std::string_view text, aes_key& out) {
    std::size_t digits = 0;
    int high = -1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (is_space(c) || c == ':' || c == '-') continue;
        if (high < 0 && c == '0' && i + 1 < text.size() &&
            (text[i + 1] == 'x' || text[i + 1] == 'X')) {
            ++i;
            continue;
        }
        const int v = hex_digit_value(c);
        if (v < 0 || digits >= 2 * out.size()) return errc::bad_key;
        if (high < 0) {
            high = v;
        } else {
            out[digits / 2] = static_cast<std::uint8_t>(high << 4 | v);
            high = -1;
        }
        ++digits;
    }
    if (digits != 2 * out.size()) return errc::bad_key;
    return {};
}

std::string to_hex(std::span<const std::uint8_t> bytes, bool lower) {
    std::string s;
    to_hex(bytes, s, lower);
    return s;
}

void to_hex(std::span<const std::uint8_t> bytes, std::string& out, bool lower) {
    const char* digits = lower ? "0123456789abcdef" : "0123456789ABCDEF";
    out.clear();
    out.reserve(bytes.size() * 2);
    for (const std::uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0F]);
    }
}

}  // namespace evn_mbus
