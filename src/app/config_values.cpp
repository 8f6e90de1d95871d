// The value readers: one per kind of value (text, whole number in a range, yes/no, one of a
// few spellings, file name, secret, baud rate, MQTT topic, broker URI), each with the message
// a home owner can act on.
#include <algorithm>
#include <charconv>
#include <iterator>

#include "config_reader.hpp"
#include "config_text.hpp"
#include "http_listen_address.hpp"
#include "serial_endpoint.hpp"
#include "serial_line.hpp"
#include "small_file.hpp"
#include "uri_text.hpp"
#include "yaml_indicator.hpp"

namespace evn_mbus {

std::optional<std::string> config_reader::text(const entry& e, bool null_is_empty) {
    if (e.value.IsNull()) {
        if (null_is_empty) return std::string();
        add(e.path, e.key_pos,
            e.path + " has no value; write one, or delete the line to use the default");
        return std::nullopt;
    }
    if (e.value.IsMap() || e.value.IsSequence()) {
        add(e.path, e.value_pos,
            e.path + " must be a single value, not " + (e.value.IsMap() ? "a section" : "a list"));
        return std::nullopt;
    }
    if (!e.value.IsScalar()) return std::nullopt;
    // YAML is UTF-8; a value in another encoding (an editor saving Latin-1) could not be shown
    // back by check-config as it was written.
    if (const auto at = invalid_utf8_at(e.value.Scalar()); at != std::string_view::npos) {
        add(e.path, e.value_pos,
            e.path + " is not UTF-8 text (byte " + std::to_string(at + 1) +
                " of the value); save the file as UTF-8 (your editor's encoding setting)");
        return std::nullopt;
    }
    return e.value.Scalar();
}

void config_reader::read_string(const entry& e, std::string& out, bool may_be_empty,
                                std::string_view hint) {
    auto v = text(e, may_be_empty);
    if (!v) return;
    if (!may_be_empty && trim(*v).empty()) {
        std::string message = e.path + " must not be empty";
        if (!hint.empty()) message += "; " + std::string(hint);
        add(e.path, e.value_pos, std::move(message));
        return;
    }
    out = std::move(*v);
}

void config_reader::read_located(const entry& e, located& out, bool trimmed) {
    if (auto v = text(e, true)) {
        out = {trimmed ? std::string(trim(*v)) : std::move(*v), e.value_pos, true};
    }
}

// serial.device: a path, or a network bridge's address (serial_endpoint.hpp), checked here so
// that a wrong one is an error with the column of what is wrong.
namespace {

// The position of the character `offset` into a value, when the value stands on its key's line
// as written (plain or quoted); else the value's own position.
position position_in_value(std::string_view input, const entry& e, const std::string& value,
                           std::size_t offset) {
    position at = e.value_pos;
    const std::size_t line_start = [&] {
        std::size_t pos = 0;
        for (int line = 1; line < at.line && pos != std::string_view::npos; ++line) {
            pos = input.find('\n', pos);
            if (pos != std::string_view::npos) ++pos;
        }
        return pos;
    }();
    if (line_start != std::string_view::npos && at.column > 0) {
        const std::size_t value_at = line_start + static_cast<std::size_t>(at.column - 1);
        const bool quoted =
            value_at < input.size() && (input[value_at] == '"' || input[value_at] == '\'');
        const std::size_t shift = offset + (quoted ? 1 : 0);
        if (input.compare(value_at + (quoted ? 1 : 0), value.size(), value) == 0) {
            at.column += static_cast<int>(shift);
        }
    }
    return at;
}

}  // namespace

void config_reader::read_serial_device(const entry& e) {
    read_string(e, config_.serial.device, false, "it names the serial port, e.g. /dev/ttyUSB0");
    device_pos_ = e.value_pos;
    const std::string& device = config_.serial.device;
    if (device.empty()) return;
    auto parsed = parse_serial_endpoint(device);
    const auto* problem = std::get_if<endpoint_problem>(&parsed);
    if (problem == nullptr) return;
    add(e.path, position_in_value(input_, e, device, problem->offset),
        "serial.device " + quote(device) + ": " + problem->message);
}

void config_reader::read_listen(const entry& e) {
    http_listen_pos_ = e.value_pos;
    read_string(e, config_.http.listen, true, "");
    std::string& listen = config_.http.listen;
    listen = std::string(trim(listen));
    if (listen.empty()) return;  // off
    auto parsed = parse_listen_address(listen);
    const auto* problem = std::get_if<listen_problem>(&parsed);
    if (problem == nullptr) return;
    add(e.path, position_in_value(input_, e, listen, problem->offset),
        "http.listen " + quote(listen) + ": " + problem->message);
    listen.clear();
}

// A secret is never shown, so a value that YAML emptied or cut (a '#' comment, an '&' anchor,
// a '!' tag) would only show as "authentication failed" later: warn with the rule.
void config_reader::read_secret(const entry& e, located& out, bool trimmed) {
    read_located(e, out, trimmed);
    const yaml_indicator found = value_indicator(input_, e.key_pos.line, e.key_pos.column);
    if (found.indicator == 0 || (found.indicator == '#' && !out.text.empty())) return;
    warn(e.path, {found.line, found.column},
         indicator_warning(found, e.path, !out.present || out.text.empty()));
}

void config_reader::read_file_name(const entry& e, std::string& out, located* where) {
    auto v = text(e, true);
    if (!v) return;
    const std::string_view name = trim(*v);
    if (name.empty()) {
        out.clear();
        return;
    }
    out = resolve(name);
    if (where != nullptr && !where->present) *where = {out, e.value_pos, true};
    if (std::string problem = file_problem(out); !problem.empty()) {
        add(e.path, e.value_pos, e.path + ": the file " + quote(out) + " " + problem);
    }
}

std::optional<long long> config_reader::integer(const entry& e, long long low, long long high,
                                                std::string_view unit) {
    const auto v = text(e, false);
    if (!v) return std::nullopt;
    std::string_view digits = trim(*v);
    if (digits.starts_with('+')) digits.remove_prefix(1);
    long long value = 0;
    const char* end = digits.data() + digits.size();
    const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
    const std::string range = (high == low + 1 ? std::to_string(low) + " or " + std::to_string(high)
                                               : "a whole number from " + std::to_string(low) +
                                                     " to " + std::to_string(high)) +
                              (unit.empty() ? "" : " (" + std::string(unit) + ")");
    if (digits.empty() || ptr != end ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        add(e.path, e.value_pos, e.path + " must be " + range + ", not " + quote(*v));
        return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || value < low || value > high) {
        add(e.path, e.value_pos,
            e.path + " is " + std::string(trim(*v)).substr(0, 30) + ", but must be " + range);
        return std::nullopt;
    }
    return value;
}

void config_reader::read_bool(const entry& e, bool& out) {
    const auto v = text(e, false);
    if (!v) return;
    const std::string s = lower(trim(*v));
    if (s == "true" || s == "yes" || s == "on") {
        out = true;
    } else if (s == "false" || s == "no" || s == "off") {
        out = false;
    } else {
        add(e.path, e.value_pos, e.path + " must be true or false, not " + quote(*v));
    }
}

std::optional<std::size_t> config_reader::choice(const entry& e,
                                                 const std::vector<std::string_view>& names) {
    const auto v = text(e, false);
    if (!v) return std::nullopt;
    const std::string s = lower(trim(*v));
    std::vector<std::string> spelt;
    std::vector<std::string> lowered;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (lower(names[i]) == s) return i;
        spelt.emplace_back(names[i]);
        lowered.push_back(lower(names[i]));
    }
    std::string message = e.path + " must be " + join(spelt, " or ") + ", not " + quote(*v);
    if (const std::string hint = closest(s, lowered); !hint.empty()) {
        const auto i = static_cast<std::size_t>(std::find(lowered.begin(), lowered.end(), hint) -
                                                lowered.begin());
        message += "; did you mean " + quote(spelt[i]) + "?";
    }
    add(e.path, e.value_pos, std::move(message));
    return std::nullopt;
}

void config_reader::read_baud(const entry& e, unsigned& out) {
    const auto v = integer(e, serial_bauds().front(), serial_bauds().back(), "bit/s");
    if (!v) return;
    if (!is_serial_baud(static_cast<unsigned>(*v))) {
        add(e.path, e.value_pos,
            e.path + " is " + std::to_string(*v) + ", which a serial port cannot use; use one of " +
                serial_baud_choices() + " (the M-Bus customer interface uses 2400)");
        return;
    }
    out = static_cast<unsigned>(*v);
}

void config_reader::read_topic(const entry& e, std::string& out) {
    auto v = text(e, false);
    if (!v) return;
    const std::string& s = *v;
    if (trim(s).empty()) {
        add(e.path, e.value_pos, e.path + " must not be empty");
    } else if (s.find_first_of("+#") != std::string::npos) {
        add(e.path, e.value_pos,
            e.path + " must not contain the MQTT wildcards + or #: " + quote(s));
    } else if (s.back() == '/') {
        add(e.path, e.value_pos,
            e.path + " must not end with \"/\" (it is added before each topic name): " + quote(s));
    } else if (s.find('\0') != std::string::npos || s.size() > 1000) {
        add(e.path, e.value_pos, e.path + " is not a usable MQTT topic: " + quote(s));
    } else {
        out = s;
    }
}

void config_reader::read_uri(const entry& e) {
    auto v = text(e, false);
    if (!v) return;
    const std::string uri(trim(*v));
    static constexpr std::string_view schemes[] = {"tcp://",   "ssl://", "mqtt://",
                                                   "mqtts://", "ws://",  "wss://"};
    const std::string example = "e.g. tcp://localhost:1883 or ssl://broker.example.org:8883";
    const auto scheme = std::find_if(std::begin(schemes), std::end(schemes),
                                     [&](std::string_view s) { return uri.starts_with(s); });
    uri_ok_ = false;
    // The password must never reach a message or a log line; Paho cannot use it there anyway.
    const std::string shown = quote(uri_without_userinfo(uri));
    if (uri_has_userinfo(uri)) {
        add(e.path, e.value_pos,
            e.path +
                " holds a user name or password (\"user:password@\" before the host), which "
                "MQTT cannot use there and which would show in the log; write " +
                shown + " and set mqtt.username and mqtt.password (or mqtt.password_file) instead");
        return;
    }
    if (scheme == std::end(schemes)) {
        add(e.path, e.value_pos,
            e.path + " must start with tcp://, ssl://, mqtt://, mqtts://, ws:// or wss:// (" +
                example + "), not " + shown);
        return;
    }
    const std::string rest = uri.substr(scheme->size());
    const std::string authority = rest.substr(0, rest.find('/'));
    std::string host = authority;
    std::string port;
    if (authority.starts_with('[')) {  // [IPv6]:port
        const auto close = authority.find(']');
        host = authority.substr(0, close == std::string::npos ? authority.size() : close + 1);
        if (close != std::string::npos && close + 1 < authority.size()) {
            port = authority.substr(close + 1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon);
    }
    const bool bad_char = std::any_of(uri.begin(), uri.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
    });
    if (host.empty() || bad_char) {
        add(e.path, e.value_pos,
            e.path + " must name the broker's host without spaces (" + example + "), not " + shown);
        return;
    }
    if (!port.empty()) {
        unsigned number = 0;
        const char* first = port.data() + 1;
        const char* last = port.data() + port.size();
        const auto [ptr, ec] = std::from_chars(first, last, number);
        if (port[0] != ':' || first == last || ptr != last || ec != std::errc() || number == 0 ||
            number > 65535) {
            add(e.path, e.value_pos,
                e.path + " has an invalid port: " + shown +
                    "; the port is a number from 1 to 65535 (" + example + ")");
            return;
        }
    }
    config_.mqtt.uri = uri;
    uri_ok_ = true;
}

// auto, the name of a built-in layout, or the user's own: a list with one position per element
// (push_layout.hpp), each problem at its element.
void config_reader::read_layout(const entry& e, layout_choice& out) {
    if (e.value.IsSequence()) {
        layout_choice own;
        bool ok = true;
        std::size_t index = 0;
        for (const auto& item : e.value) {
            ++index;
            position at = position_of(item);
            if (at.line == 0) at = e.value_pos;  // yaml-cpp gives some nodes no mark
            entry element{e.path + " element " + std::to_string(index), item, at, at};
            if (item.IsNull()) {
                // Deleting the line would move every later element: skip keeps its place.
                // (yaml-cpp marks an empty element at the next one: the list's place instead.)
                add(e.path, e.value_pos,
                    element.path + " is empty; write skip for an element that is not wanted");
                ok = false;
                continue;
            }
            const auto v = text(element, false);
            if (!v) {
                ok = false;
                continue;
            }
            layout_text_problem problem;
            const auto p = parse_layout_position(trim(*v), problem);
            if (!p) {
                add(e.path, element.value_pos,
                    element.path + " (" + quote(*v) + "): " + std::string(problem.what));
                ok = false;
                continue;
            }
            if (!p->skip) {
                for (std::size_t i = 0; i < own.positions.size(); ++i) {
                    if (!own.positions[i].skip && own.positions[i].code == p->code) {
                        add(e.path, at,
                            element.path + " (" + quote(*v) +
                                ") names the same OBIS code as element " + std::to_string(i + 1) +
                                "; one of them is another value");
                        ok = false;
                    }
                }
            }
            own.positions.push_back(*p);
        }
        if (!ok) return;
        if (own.positions.empty()) {
            add(e.path, e.value_pos,
                e.path +
                    " is an empty list; write auto, or one line per element of the push "
                    "(the log of a push no layout fits offers them)");
            return;
        }
        if (std::all_of(own.positions.begin(), own.positions.end(),
                        [](const layout_position& p) { return p.skip; })) {
            add(e.path, e.value_pos,
                e.path +
                    " skips every element, so no value would be published; give the OBIS "
                    "code of at least one");
            return;
        }
        out = std::move(own);
        return;
    }
    std::vector<std::string_view> names{"auto"};
    const auto builtin = builtin_layouts();
    for (const value_layout l : builtin)
        names.push_back(layout_name(l));
    const auto i = choice(e, names);
    if (!i) return;
    out = layout_choice{};
    if (*i > 0) out.builtin = builtin[*i - 1];
}

std::optional<layout_choice> parse_layout_text(std::string_view text, std::string& problem) {
    config_reader r("");
    entry e;
    e.path = "the layout";
    try {
        e.value = YAML::Load(std::string(text));
    } catch (const YAML::Exception& ex) {
        problem = "the layout is not a name or a YAML list such as [skip, 1-0:1.8.0 Wh]: " + ex.msg;
        return std::nullopt;
    }
    layout_choice out;
    r.read_layout(e, out);
    const config_result result = r.result();
    if (!result.problems.empty()) {
        problem = result.problems.front().message;
        return std::nullopt;
    }
    return out;
}

}  // namespace evn_mbus
