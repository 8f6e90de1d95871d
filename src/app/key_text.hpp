// The meter's AES key as a user writes it (in the configuration, in a key file), and what to
// say when it is not one: what was found (never the key's digits) and what is expected. One
// place for the configuration and for `decode --key-file`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "evn_mbus/hex.hpp"

namespace evn_mbus {

// Said wherever the key is missing or wrong: the key is the one thing a user cannot guess.
inline constexpr std::string_view where_to_get_the_key =
    "Get it from your grid operator's customer web portal (EVN / Netz Niederoesterreich: "
    "\"Smart Meter Webportal\", in the section for the customer interface key, "
    "\"Kundenschnittstelle\").";

// A key file is at most this long (a key with comments fits many times over).
inline constexpr std::size_t max_key_file_bytes = 64 * 1024;

struct key_check {
    std::optional<aes_key> key;  // set when the text is a usable key
    // Otherwise what is wrong, to follow the name of the key: "is still a placeholder; ...",
    // "is not a valid key: ...". It never contains the key's digits.
    std::string problem;
};

// Checks key text: exactly 32 hex digits, spaces, ':' or '-' between them and "0x" allowed.
// An all-zero key is refused when `required` (the example's placeholder for the meter key).
key_check check_key_text(std::string_view text, bool required);

// The text of a key file without its comments ('#' to the end of a line).
std::string key_file_text(std::string_view content);

// Reads a key file. On failure problem is a whole sentence ("the key file \"/x\" does not
// exist", "the key in \"/x\" is not a valid key: ...").
key_check read_key_file(const std::string& path);

}  // namespace evn_mbus
