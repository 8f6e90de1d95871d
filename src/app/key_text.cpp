#include "key_text.hpp"

#include <algorithm>
#include <cctype>

#include "small_file.hpp"

namespace evn_mbus {
namespace {

bool is_hex(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
bool is_separator(char c) {
    return c == ' ' || c == '\t' || c == ':' || c == '-';
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// The longest stretch that parse_key would read as key digits: hex digits with separators
// and "0x" between them.
struct hex_span {
    std::size_t begin = 0;
    std::size_t end = 0;  // one past its last hex digit
    std::size_t digits = 0;
};

hex_span longest_hex_span(std::string_view s) {
    hex_span best;
    std::size_t i = 0;
    while (i < s.size()) {
        if (!is_hex(s[i])) {
            ++i;
            continue;
        }
        hex_span span{i, i, 0};
        std::size_t j = i;
        while (j < s.size()) {
            if (s[j] == '0' && j + 2 < s.size() && (s[j + 1] == 'x' || s[j + 1] == 'X') &&
                is_hex(s[j + 2])) {
                j += 2;
            } else if (is_hex(s[j])) {
                ++span.digits;
                span.end = ++j;
            } else if (is_separator(s[j])) {
                ++j;
            } else {
                break;
            }
        }
        if (span.digits > best.digits) best = span;
        i = std::max(j, i + 1);
    }
    return best;
}

// Text around the key, safe to show: control characters replaced, and every run of two or
// more hex digits (a piece of a key, perhaps) replaced by "<hex>". Single letters such as the
// E of "KEY=" stay, so the user recognises the text.
std::string shown(std::string_view s) {
    constexpr std::size_t max_shown = 40;
    std::string out = "\"";
    std::size_t i = 0;
    for (; i < s.size() && out.size() < max_shown; ++i) {
        if (is_hex(s[i]) && i + 1 < s.size() && is_hex(s[i + 1])) {
            while (i + 1 < s.size() && is_hex(s[i + 1]))
                ++i;
            out += "<hex>";
            continue;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        out.push_back(c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c));
    }
    if (i < s.size()) out += "...";
    return out + "\"";
}

std::string quoted_path(const std::string& path) {
    std::string out = "\"";
    for (const char c : path)
        out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
    return out + "\"";
}

constexpr std::string_view expected = "it must be exactly 32 hex digits (0-9, A-F; spaces allowed)";

}  // namespace

key_check check_key_text(std::string_view text, bool required) {
    key_check r;
    aes_key parsed{};
    const bool valid = !parse_key(text, parsed);
    const bool all_zero =
        valid && std::all_of(parsed.begin(), parsed.end(), [](std::uint8_t b) { return b == 0; });
    const std::string_view trimmed = trim(text);
    const hex_span span = longest_hex_span(trimmed);
    std::string upper(trimmed);
    for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    bool placeholder = false;
    for (const char* word : {"REPLACE", "YOUR", "KEY", "XXXX", "CHANGE", "HIER", "DEIN", "<"}) {
        if (upper.find(word) != std::string::npos) placeholder = true;
    }
    // "KEY=<32 hex digits>" holds a key beside the word: not a placeholder, a wrong format.
    if (!valid && placeholder && span.digits < 32) {
        r.problem =
            "is still a placeholder; replace it with your meter's AES key (32 hex digits). " +
            std::string(where_to_get_the_key);
        return r;
    }
    if (all_zero && required) {
        r.problem =
            "is all zeros, a placeholder and not a real key; replace it with your meter's AES "
            "key (32 hex digits). " +
            std::string(where_to_get_the_key);
        return r;
    }
    if (valid) {
        r.key = parsed;
        return r;
    }
    const std::string_view before = trim(trimmed.substr(0, span.begin));
    const std::string_view after = trim(trimmed.substr(span.end));
    std::string why;
    if (span.digits == 32 && (!before.empty() || !after.empty())) {
        // Name what surrounds the digits: "KEY=" before them, a comment after them.
        why = "it holds " + std::to_string(trimmed.size()) + " characters: ";
        if (!before.empty()) why += shown(before) + " followed by ";
        why += std::to_string(span.digits) + " hex digits";
        if (!after.empty()) why += " followed by " + shown(after);
        if (after.find('#') != std::string_view::npos) {
            why +=
                " ('#' starts a comment only outside quotes: put the comment after the "
                "closing quote, or on a line of its own)";
        } else if (!before.empty() && (before.back() == '=' || before.back() == ':')) {
            why += " (write the key alone, without a name before it)";
        }
    } else {
        char stray = 0;
        for (std::size_t i = 0; i < trimmed.size() && stray == 0; ++i) {
            const char c = trimmed[i];
            if (c == '0' && i + 1 < trimmed.size() &&
                (trimmed[i + 1] == 'x' || trimmed[i + 1] == 'X')) {
                ++i;
            } else if (!is_hex(c) && !is_separator(c) && !is_space(c)) {
                stray = c;
            }
        }
        std::size_t digits = 0;
        for (std::size_t i = 0; i < trimmed.size(); ++i) {
            if (trimmed[i] == '0' && i + 1 < trimmed.size() &&
                (trimmed[i + 1] == 'x' || trimmed[i + 1] == 'X')) {
                ++i;
            } else if (is_hex(trimmed[i])) {
                ++digits;
            }
        }
        if (stray != 0 && static_cast<unsigned char>(stray) >= 0x20 &&
            static_cast<unsigned char>(stray) < 0x7F) {
            why = "it contains '" + std::string(1, stray) + "', which is not a hex digit";
        } else if (stray != 0) {
            why = "it contains a character that is not a hex digit";
        } else {
            why = "it has " + std::to_string(digits) + " hex digits";
        }
    }
    r.problem = "is not a valid key: " + std::string(expected) + ", but " + why + ". " +
                std::string(where_to_get_the_key);
    return r;
}

std::string key_file_text(std::string_view content) {
    // '#' starts a comment, so that the file can say where the key came from.
    std::string text;
    bool comment = false;
    for (const char c : content) {
        if (c == '#') comment = true;
        if (c == '\n') comment = false;
        if (!comment) text.push_back(c);
    }
    return text;
}

key_check read_key_file(const std::string& path) {
    key_check r;
    std::string content;
    if (std::string problem = read_small_file(path, max_key_file_bytes, content);
        !problem.empty()) {
        r.problem = "the key file " + quoted_path(path) + " " + problem;
        return r;
    }
    r = check_key_text(key_file_text(content), true);
    if (!r.key) r.problem = "the key in " + quoted_path(path) + " " + r.problem;
    return r;
}

}  // namespace evn_mbus
