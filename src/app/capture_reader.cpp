#include "capture_reader.hpp"

#include "evn_mbus/hex.hpp"

namespace evn_mbus {
namespace {

// Beyond this, the start of the input decides even without a complete line; and no xxd line
// is longer (xxd -c 256 makes lines of ~1,300 characters).
constexpr std::size_t decide_within = 512;
constexpr std::size_t max_xxd_line = 4096;
constexpr std::size_t max_undecided = 64 * 1024;

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// A character that hex text may contain outside its comments.
bool hex_text_char(char c) noexcept {
    return hex_digit_value(c) >= 0 || is_space(c) || c == ',' || c == 'x' || c == 'X';
}

// "00000010: " at the start of a line: xxd's offset.
bool xxd_offset_at(std::string_view line) noexcept {
    std::size_t i = 0;
    while (i < line.size() && hex_digit_value(line[i]) >= 0)
        ++i;
    return i >= 4 && i + 1 < line.size() && line[i] == ':' && line[i + 1] == ' ';
}

std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
    static const char digits[] = "0123456789ABCDEF";
    return std::string("the byte ") + digits[u >> 4] + digits[u & 0x0F] + "h";
}

std::string hex_number(std::uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digits[v & 0x0F]);
        v >>= 4;
    } while (v != 0);
    while (s.size() < 8)
        s.insert(s.begin(), '0');
    return s;
}

}  // namespace

std::string_view capture_reader::format_name() const noexcept {
    switch (format_) {
        case format::hex:
            return "hex text";
        case format::xxd:
            return "an xxd dump";
        case format::binary:
            return "raw bytes";
        case format::undecided:
            break;
    }
    return "";
}

std::string capture_reader::where() const {
    return "line " + std::to_string(line_);
}

bool capture_reader::decide(bool at_end) {
    if (!bom_checked_) {
        if (pending_.size() < 3 && !at_end &&
            std::string_view("\xEF\xBB\xBF").starts_with(pending_)) {
            return false;
        }
        if (std::string_view(pending_).starts_with("\xEF\xBB\xBF")) pending_.erase(0, 3);
        bom_checked_ = true;
    }
    // The first line with content (not blank, not a comment) decides.
    std::size_t start = 0;
    for (;;) {
        while (start < pending_.size() && is_space(pending_[start]))
            ++start;
        if (start < pending_.size() && pending_[start] == '#') {
            const std::size_t eol = pending_.find('\n', start);
            if (eol == std::string::npos) break;
            start = eol + 1;
            continue;
        }
        break;
    }
    const std::size_t eol = pending_.find('\n', start);
    const std::string_view line = std::string_view(pending_).substr(
        start, eol == std::string::npos ? std::string::npos : eol - start);
    // Raw bytes show themselves early: a byte that hex text cannot hold before the line's end
    // (or before an xxd offset's colon). 68h, M-Bus's start, is 'h'.
    for (const char c : line) {
        if (c == ':' || c == '#') break;
        if (!hex_text_char(c)) {
            format_ = format::binary;
            return true;
        }
    }
    if (eol == std::string::npos && pending_.size() < decide_within && !at_end) return false;
    if (xxd_offset_at(line)) {
        format_ = format::xxd;
    } else {
        bool text = true;
        bool comment = false;
        bool any_digit = false;
        for (const char c : pending_) {
            if (comment) {
                comment = c != '\n';
                continue;
            }
            if (c == '#') {
                comment = true;
            } else if (!hex_text_char(c)) {
                text = false;
                break;
            } else if (hex_digit_value(c) >= 0) {
                any_digit = true;
            }
        }
        // Only blanks and comments so far: the first digit is still to come.
        if (text && !any_digit && !at_end && pending_.size() < max_undecided) return false;
        format_ = text ? format::hex : format::binary;
    }
    return true;
}

std::string capture_reader::feed(std::string_view chunk, std::vector<std::uint8_t>& out) {
    if (format_ == format::undecided) {
        pending_.append(chunk);
        if (!decide(false)) return {};
        std::string start = std::move(pending_);
        pending_.clear();
        return take(start, out);
    }
    return take(chunk, out);
}

std::string capture_reader::finish(std::vector<std::uint8_t>& out) {
    if (format_ == format::undecided) {
        decide(true);
        std::string start = std::move(pending_);
        pending_.clear();
        if (std::string problem = take(start, out); !problem.empty()) return problem;
    }
    if (format_ == format::hex) {
        if (zero_pending_) {
            zero_pending_ = false;
            group_start_ = false;
            if (high_ < 0) {
                high_ = 0;
            } else {
                out.push_back(static_cast<std::uint8_t>(high_ << 4));
                high_ = -1;
            }
        }
        if (high_ >= 0) {
            return "hex text with an odd number of digits: the last byte has only one digit";
        }
    }
    if (format_ == format::xxd && !pending_.empty()) {
        std::string line = std::move(pending_);
        pending_.clear();
        return take_xxd_line(line, out);
    }
    return {};
}

std::string capture_reader::take(std::string_view text, std::vector<std::uint8_t>& out) {
    switch (format_) {
        case format::binary:
            out.insert(out.end(), text.begin(), text.end());
            return {};
        case format::hex:
            return take_hex(text, out);
        case format::xxd:
            for (const char c : text) {
                if (c != '\n') {
                    pending_.push_back(c);
                    if (pending_.size() > max_xxd_line) {
                        return where() + " is longer than any line of an xxd dump";
                    }
                    continue;
                }
                std::string line = std::move(pending_);
                pending_.clear();
                if (std::string problem = take_xxd_line(line, out); !problem.empty()) {
                    return problem;
                }
                ++line_;
            }
            return {};
        case format::undecided:
            break;
    }
    return {};
}

std::string capture_reader::take_hex(std::string_view text, std::vector<std::uint8_t>& out) {
    const auto digit = [&](int v) {
        if (high_ < 0) {
            high_ = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high_ << 4 | v));
            high_ = -1;
        }
    };
    for (const char c : text) {
        if (in_comment_) {
            if (c == '\n') {
                in_comment_ = false;
                ++line_;
            }
            continue;
        }
        if (zero_pending_) {
            zero_pending_ = false;
            group_start_ = false;
            if (c == 'x' || c == 'X') continue;  // "0x": a prefix, not a digit
            digit(0);
        }
        if (c == '#') {
            in_comment_ = true;
            group_start_ = true;
            continue;
        }
        if (is_space(c) || c == ',') {
            if (c == '\n') ++line_;
            group_start_ = true;
            continue;
        }
        if (c == '0' && group_start_ && high_ < 0) {
            zero_pending_ = true;
            continue;
        }
        group_start_ = false;
        const int v = hex_digit_value(c);
        if (v < 0) {
            return where() + ": " + printable(c) +
                   " is not a hex digit (hex text may hold only 0-9, A-F, spaces, \"0x\" and "
                   "'#' comments)";
        }
        digit(v);
    }
    return {};
}

std::string capture_reader::take_xxd_line(std::string_view line, std::vector<std::uint8_t>& out) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t i = 0;
    while (i < line.size() && is_space(line[i]))
        ++i;
    if (i == line.size()) return {};
    if (line.substr(i) == "*") {
        return where() +
               ": '*' stands for lines that xxd -a left out; dump the capture again without -a";
    }
    if (!xxd_offset_at(line.substr(i))) {
        return where() +
               " is not a line of an xxd dump (it must start with an offset such as "
               "\"00000010: \")";
    }
    std::uint64_t offset = 0;
    for (; line[i] != ':'; ++i)
        offset = offset << 4 | static_cast<unsigned>(hex_digit_value(line[i]));
    i += 2;
    if (have_offset_ && offset != next_offset_) {
        return where() + " starts at offset " + hex_number(offset) + ", but the dump before it " +
               "ends at " + hex_number(next_offset_) + ": lines are missing or out of order";
    }
    have_offset_ = true;
    // The hex columns end at two spaces; what follows is xxd's text column.
    std::size_t count = 0;
    int high = -1;
    for (; i < line.size(); ++i) {
        const char c = line[i];
        if (c == ' ') {
            if (high >= 0) return where() + ": a byte with only one hex digit";
            if (i + 1 < line.size() && line[i + 1] == ' ') break;
            continue;
        }
        const int v = hex_digit_value(c);
        if (v < 0)
            return where() + ": " + printable(c) + " in xxd's hex columns is not a hex digit";
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | v));
            high = -1;
            ++count;
        }
    }
    if (high >= 0) return where() + ": a byte with only one hex digit";
    next_offset_ = offset + count;
    return {};
}

}  // namespace evn_mbus
