#include "yaml_indicator.hpp"

namespace evn_mbus {

yaml_indicator value_indicator(std::string_view yaml, int line, int column) {
    yaml_indicator r;
    if (line <= 0 || column <= 0) return r;
    std::size_t start = 0;
    for (int l = 1; l < line; ++l) {
        start = yaml.find('\n', start);
        if (start == std::string_view::npos) return r;
        ++start;
    }
    std::string_view text = yaml.substr(start);
    text = text.substr(0, text.find('\n'));
    std::size_t i = static_cast<std::size_t>(column - 1);
    if (i >= text.size()) return r;
    // The ':' that ends the key: the first one followed by a blank or the end of the line.
    while (i < text.size() && !(text[i] == ':' && (i + 1 == text.size() || text[i + 1] == ' ' ||
                                                   text[i + 1] == '\t' || text[i + 1] == '\r'))) {
        ++i;
    }
    if (i >= text.size()) return r;
    ++i;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
        ++i;
    // "!!str" and the like are YAML's own tags, written on purpose.
    const bool standard_tag = text.substr(i).starts_with("!!");
    if (i < text.size() && !standard_tag && (text[i] == '#' || text[i] == '&' || text[i] == '!')) {
        r.indicator = text[i];
        r.line = line;
        r.column = static_cast<int>(i) + 1;
    }
    return r;
}

std::string indicator_warning(const yaml_indicator& found, std::string_view name, bool empty) {
    const std::string key(name.substr(name.rfind('.') + 1));
    const std::string n(name);
    switch (found.indicator) {
        case '#':
            return n +
                   " is empty: its text starts with '#', and in YAML '#' after a space starts a "
                   "comment. If the value starts with '#', put it in quotes (" +
                   key + ": \"#...\"); if it is meant to be empty, write " + key + ": \"\"";
        case '&':
        case '!': {
            const std::string what = found.indicator == '&' ? "an anchor (a name for the value)"
                                                            : "a tag (the name of a type)";
            return n + (empty ? " is empty" : " lost its first word") + ": its text starts with '" +
                   std::string(1, found.indicator) + "', which YAML reads as " + what +
                   ", not as part of the value. Put the whole value in quotes (" + key + ": \"" +
                   std::string(1, found.indicator) + "...\")";
        }
        default:
            return {};
    }
}

}  // namespace evn_mbus
