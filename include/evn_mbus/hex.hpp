// Hex text and key input, as users paste it: spaces, "0x" prefixes and '#' comments allowed.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace evn_mbus {

using aes_key = std::array<std::uint8_t, 16>;  // AES-128 (IEC 62056-5-3 security suite 0/1)

// Parses hex text: any whitespace or commas (C arrays pasted from firmware), optional "0x"/"0X"
// before any byte group, '#' to end of line is a comment. An odd number of digits or a stray
// character is errc::bad_hex.
std::error_code parse_hex(std::string_view text, std::vector<std::uint8_t>& out);

// The value of one hex digit (0-9, a-f, A-F), or -1 for any other character.
int hex_digit_value(char c) noexcept;

// True when the bytes look like hex text (only hex digits, whitespace, "0x", comments) rather
// than a raw binary capture.
bool looks_like_hex_text(std::span<const std::uint8_t> bytes) noexcept;

// Parses a 128-bit key: exactly 32 hex digits once spaces, ':' or '-' separators and "0x"
// are removed. Anything else is errc::bad_key.
std::error_code parse_key(std::string_view text, aes_key& out);

// Hex without separators; upper case unless `lower` (MQTT's raw topic uses lower case, as the
// ESP8266 firmware did).
std::string to_hex(std::span<const std::uint8_t> bytes, bool lower = false);
// The same, written into `out` (replacing its contents, reusing its capacity).
void to_hex(std::span<const std::uint8_t> bytes, std::string& out, bool lower = false);

}  // namespace evn_mbus
