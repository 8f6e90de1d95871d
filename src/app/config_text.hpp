// Text helpers for the configuration's messages: case folding, trimming, quoting a value
// safely for a terminal, and the "did you mean" guess for a misspelt name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace evn_mbus {

std::string lower(std::string_view s);
std::string_view trim(std::string_view s);

// A value from the file, quoted for a message: control characters replaced (they would garble
// the terminal) and long values shortened.
std::string quote(std::string_view s);

// The offset of the first byte that is not well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or npos when all of `s` is.
std::size_t invalid_utf8_at(std::string_view s) noexcept;

// "a, b and c" (last_separator " and ") or "a, b or c".
std::string join(const std::vector<std::string>& items, std::string_view last_separator);

// The known name the user most likely meant, or "" if none is close enough to be a useful hint.
std::string closest(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace evn_mbus
