#include "config_text.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstddef>

namespace evn_mbus {

std::size_t invalid_utf8_at(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;                      // continuation bytes
        unsigned char low = 0x80, high = 0xBF;  // the second byte's range
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0) low = 0xA0;   // no overlong three-byte forms
            if (c == 0xED) high = 0x9F;  // no UTF-16 surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0) low = 0x90;   // no overlong four-byte forms
            if (c == 0xF4) high = 0x8F;  // nothing above U+10FFFF
        } else {
            return i;
        }
        if (i + n >= s.size()) return i;  // cut off at the end
        for (std::size_t k = 1; k <= n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if (k == 1 ? (b < low || b > high) : (b < 0x80 || b > 0xBF)) return i;
        }
        i += n + 1;
    }
    return std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    const auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// A value from the file, quoted for a message: control characters replaced (they would garble
// the terminal) and long values shortened.
std::string quote(std::string_view s) {
    constexpr std::size_t max_shown = 60;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        out.push_back(c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c));
    }
    if (s.size() > max_shown) out += "...";
    out += "\"";
    return out;
}

std::string join(const std::vector<std::string>& items, std::string_view last_separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += (i + 1 == items.size()) ? std::string(last_separator) : ", ";
        out += items[i];
    }
    return out;
}

namespace {

// Optimal string alignment distance: typos are mostly one wrong, missing, extra or swapped
// character.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace

// The known name the user most likely meant, or "" if none is close enough to be a useful hint.
// Besides typos, a missing unit suffix ("idle_gap" for "idle_gap_ms"), an extra word
// ("baudrate" for "baud") or a missing first word ("prefix" for "topic_prefix") count as close.
std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
    if (name.empty() || name.size() > 64) return {};
    const std::string given = lower(name);
    const std::size_t threshold = given.size() <= 4 ? 1 : given.size() <= 8 ? 2 : 3;
    std::string best;
    std::size_t best_distance = SIZE_MAX;
    for (const auto& candidate : candidates) {
        const std::size_t distance = edit_distance(given, candidate);
        const bool extended = candidate.size() > given.size() && candidate.starts_with(given) &&
                              (given.size() >= 4 || candidate[given.size()] == '_');
        const bool shortened = given.size() > candidate.size() && given.starts_with(candidate) &&
                               candidate.size() >= 4;
        const bool suffix = candidate.ends_with("_" + given);
        if ((distance <= threshold || extended || shortened || suffix) &&
            distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

}  // namespace evn_mbus
