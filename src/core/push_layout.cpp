#include "evn_mbus/push_layout.hpp"

#include <charconv>

namespace evn_mbus {
namespace {

// The next word of `text` from `pos` (words are separated by spaces or tabs).
std::string_view next_word(std::string_view text, std::size_t& pos) noexcept {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t'))
        ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t')
        ++pos;
    return text.substr(start, pos - start);
}

}  // namespace

std::optional<layout_position> parse_layout_position(std::string_view text,
                                                     layout_text_problem& problem) noexcept {
    std::size_t pos = 0;
    const std::string_view first = next_word(text, pos);
    if (first.empty()) {
        problem.what = "it is empty: write skip or an OBIS code such as 1-0:1.8.0";
        return std::nullopt;
    }
    layout_position out;
    if (first == "skip") {
        if (!next_word(text, pos).empty()) {
            problem.what = "nothing may follow skip";
            return std::nullopt;
        }
        return out;
    }
    const auto code = obis_code::from_text(first);
    if (!code) {
        problem.what = "it does not start with skip or an OBIS code such as 1-0:1.8.0 (A-B:C.D.E)";
        return std::nullopt;
    }
    out.skip = false;
    out.code = *code;
    std::string_view word = next_word(text, pos);
    if (!word.empty() && word != "scaler") {
        const auto unit = unit_from_symbol(word);
        if (!unit) {
            problem.what =
                "after the OBIS code comes a unit (Wh, W, varh, var, VAh, VA, A, V, Hz, deg, "
                "degC, s, %) or 'scaler N'";
            return std::nullopt;
        }
        out.unit = *unit;
        word = next_word(text, pos);
    }
    if (word == "scaler") {
        const std::string_view n = next_word(text, pos);
        int v = 0;
        const char* end = n.data() + n.size();
        const auto [ptr, ec] = std::from_chars(n.data(), end, v);
        if (n.empty() || ec != std::errc{} || ptr != end || v < -9 || v > 9) {
            problem.what = "scaler takes a power of ten from -9 to 9, e.g. 'scaler -2'";
            return std::nullopt;
        }
        out.scaler = static_cast<std::int8_t>(v);
        word = next_word(text, pos);
    }
    if (!word.empty()) {
        problem.what = "it has more than 'OBIS-code [unit] [scaler N]'";
        return std::nullopt;
    }
    return out;
}

std::string to_string(const layout_position& p) {
    if (p.skip) return "skip";
    std::string out = p.code.to_string();
    if (out.ends_with(".255")) out.resize(out.size() - 4);
    if (p.unit != 255) {
        const std::string_view symbol = unit_symbol(p.unit);
        out += ' ';
        // The ASCII spellings, so that the text is easy to type back.
        out += symbol == "°"    ? std::string_view("deg")
               : symbol == "°C" ? std::string_view("degC")
               : symbol == "m³" ? std::string_view("m3")
                                : symbol;
    }
    if (p.scaler != 0) {
        out += " scaler ";
        out += std::to_string(p.scaler);
    }
    return out;
}

std::vector<value_layout> builtin_layouts() {
    return {value_layout::wiener_netze, value_layout::wiener_netze_im350,
            value_layout::kaernten_netz, value_layout::eww_wels, value_layout::netz_burgenland};
}

}  // namespace evn_mbus
