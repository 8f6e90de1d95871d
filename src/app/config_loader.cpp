#include "config_loader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "client_id.hpp"
#include "key_text.hpp"
#include "serial_line.hpp"
#include "small_file.hpp"
#include "uri_text.hpp"
#include "yaml_indicator.hpp"

namespace evn_mbus {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t max_config_bytes = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Text helpers

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

// ---------------------------------------------------------------------------------------------
// Files

struct position {
    int line = 0;
    int column = 0;
};

position position_of(const YAML::Mark& m) {
    if (m.is_null() || m.line < 0 || m.column < 0 || m.line == INT_MAX || m.column == INT_MAX) {
        return {};
    }
    return {m.line + 1, m.column + 1};
}

position position_of(const YAML::Node& n) {
    return n.IsDefined() ? position_of(n.Mark()) : position{};
}

// ---------------------------------------------------------------------------------------------
// The loader: walks the YAML tree along a schema of known keys and fills a daemon_config.

struct entry {
    std::string path;  // "serial.baud"
    YAML::Node value;
    position key_pos;
    position value_pos;  // the key's position when the value is empty
};

struct field {
    std::string name;
    std::function<void(const entry&)> read;
};

// A text value whose meaning depends on other keys (checked once the whole file is read).
struct located {
    std::string text;
    position pos;
    bool present = false;
};

template <typename E>
using choices = std::initializer_list<std::pair<std::string_view, E>>;

class loader {
  public:
    explicit loader(std::string origin_dir) : origin_dir_(std::move(origin_dir)) { build_schema(); }
    loader(const loader&) = delete;
    loader& operator=(const loader&) = delete;

    config_result load(std::string_view yaml);
    void add(std::string key, position pos, std::string message) {
        problems_.push_back({std::move(key), pos.line, pos.column, std::move(message)});
    }
    void warn(std::string key, position pos, std::string message) {
        warnings_.push_back({std::move(key), pos.line, pos.column, std::move(message)});
    }
    config_result result();

  private:
    void build_schema();
    void read_section(const YAML::Node& node, const std::string& path, position pos);
    void unknown_key(const std::string& section, const std::string& name, position pos);

    std::optional<std::string> text(const entry& e, bool null_is_empty);
    void read_string(const entry& e, std::string& out, bool may_be_empty, std::string_view hint);
    void read_located(const entry& e, located& out, bool trimmed = true);
    void read_file_name(const entry& e, std::string& out, located* where);
    std::optional<long long> integer(const entry& e, long long low, long long high,
                                     std::string_view unit);
    void read_bool(const entry& e, bool& out);
    template <typename E>
    void read_choice(const entry& e, choices<E> options, E& out);
    void read_baud(const entry& e, unsigned& out);
    void read_topic(const entry& e, std::string& out);
    void read_uri(const entry& e);
    void read_secret(const entry& e, located& out, bool trimmed = true);

    bool check_key(const std::string& key, std::string_view text_value, position pos,
                   const std::string& what, bool required, std::optional<aes_key>& out);
    void finish_serial();
    void finish_meter();
    void finish_mqtt();
    std::string resolve(std::string_view name) const;

    std::string origin_dir_;
    daemon_config config_;
    std::vector<config_problem> problems_;
    std::vector<config_problem> warnings_;
    std::string_view input_;  // the file's text, for what yaml-cpp's nodes do not keep
    position device_pos_;
    std::map<std::string, std::vector<field>> schema_;  // section path ("" = top) -> its keys
    located key_, key_file_, auth_key_, password_, password_file_, tls_files_, tls_key_file_;
    position meter_pos_;
    bool uri_ok_ = true;
};

std::string loader::resolve(std::string_view name) const {
    const fs::path p(name);
    if (p.is_absolute() || origin_dir_.empty()) return std::string(name);
    return (fs::path(origin_dir_) / p).lexically_normal().string();
}

void loader::build_schema() {
    const auto section = [this](std::string name) {
        return field{std::move(name),
                     [this](const entry& e) { read_section(e.value, e.path, e.key_pos); }};
    };
    schema_[""] = {section("serial"), section("meter"), section("mqtt"), section("log")};

    serial_config& s = config_.serial;
    schema_["serial"] = {
        {"device",
         [this, &s](const entry& e) {
             read_string(e, s.device, false, "it names the serial port, e.g. /dev/ttyUSB0");
             device_pos_ = e.value_pos;
         }},
        {"baud", [this, &s](const entry& e) { read_baud(e, s.baud); }},
        {"parity",
         [this, &s](const entry& e) {
             read_choice<serial_parity>(e,
                                        {{"none", serial_parity::none},
                                         {"even", serial_parity::even},
                                         {"odd", serial_parity::odd}},
                                        s.parity);
         }},
        {"data_bits",
         [this, &s](const entry& e) {
             if (auto v = integer(e, 5, 8, "")) s.data_bits = static_cast<unsigned>(*v);
         }},
        {"stop_bits",
         [this, &s](const entry& e) {
             if (auto v = integer(e, 1, 2, "")) s.stop_bits = static_cast<unsigned>(*v);
         }},
        {"idle_gap_ms",
         [this, &s](const entry& e) {
             if (auto v = integer(e, 5, 5000, "milliseconds")) {
                 s.idle_gap = std::chrono::milliseconds{*v};
             }
         }},
        {"link",
         [this, &s](const entry& e) {
             read_choice<link_layer>(e,
                                     {{"auto", link_layer::auto_detect},
                                      {"mbus", link_layer::mbus},
                                      {"hdlc", link_layer::hdlc}},
                                     s.link);
         }},
        {"reopen_max_s",
         [this, &s](const entry& e) {
             if (auto v = integer(e, 1, 3600, "seconds")) s.reopen_max = std::chrono::seconds{*v};
         }},
        {"no_data_warning_s",
         [this, &s](const entry& e) {
             if (auto v = integer(e, 0, 86400, "seconds")) {
                 s.no_data_warning = std::chrono::seconds{*v};
             }
         }},
    };

    schema_["meter"] = {
        {"key", [this](const entry& e) { read_secret(e, key_); }},
        {"key_file", [this](const entry& e) { read_secret(e, key_file_); }},
        {"auth_key", [this](const entry& e) { read_secret(e, auth_key_); }},
        // The plausibility gate's bound for meters without a GCM tag (plausibility_gate.hpp).
        {"max_power_kw",
         [this](const entry& e) {
             if (auto v = integer(e, 1, 100000, "kilowatts")) {
                 config_.meter.max_power_kw = static_cast<unsigned>(*v);
             }
         }},
    };

    mqtt_config& m = config_.mqtt;
    const auto seconds = [this](std::chrono::seconds& out, long long low, long long high) {
        return [this, &out, low, high](const entry& e) {
            if (auto v = integer(e, low, high, "seconds")) out = std::chrono::seconds{*v};
        };
    };
    const auto boolean = [this](bool& out) {
        return [this, &out](const entry& e) { read_bool(e, out); };
    };
    schema_["mqtt"] = {
        {"uri", [this](const entry& e) { read_uri(e); }},
        {"client_id", [this, &m](const entry& e) { read_string(e, m.client_id, true, ""); }},
        {"username", [this, &m](const entry& e) { read_string(e, m.username, true, ""); }},
        {"password", [this](const entry& e) { read_secret(e, password_, false); }},
        {"password_file", [this](const entry& e) { read_secret(e, password_file_); }},
        {"topic_prefix", [this, &m](const entry& e) { read_topic(e, m.topic_prefix); }},
        {"qos",
         [this, &m](const entry& e) {
             if (auto v = integer(e, 0, 2, "")) m.qos = static_cast<int>(*v);
         }},
        {"retain", boolean(m.retain)},
        {"keepalive_s", seconds(m.keepalive, 5, 3600)},
        {"clean_session", boolean(m.clean_session)},
        {"publish_values", boolean(m.publish_values)},
        {"publish_json", boolean(m.publish_json)},
        {"publish_raw", boolean(m.publish_raw)},
        {"publish_raw_plain", boolean(m.publish_raw_plain)},
        {"queue_size",
         [this, &m](const entry& e) {
             if (auto v = integer(e, 1, 1000000, "readings")) {
                 m.queue_size = static_cast<std::size_t>(*v);
             }
         }},
        {"queue_max_mb",
         [this, &m](const entry& e) {
             if (auto v = integer(e, 1, 1024, "MiB")) m.queue_max_mb = static_cast<std::size_t>(*v);
         }},
        {"reconnect_max_s", seconds(m.reconnect_max, 1, 3600)},
        {"diagnostics_interval_s", seconds(m.diagnostics_interval, 0, 86400)},
        {"shutdown_timeout_s", seconds(m.shutdown_timeout, 0, 60)},
        section("tls"),
        section("discovery"),
    };
    schema_["mqtt.tls"] = {
        {"ca_file", [this, &m](const entry& e) { read_file_name(e, m.tls.ca_file, &tls_files_); }},
        {"cert_file",
         [this, &m](const entry& e) { read_file_name(e, m.tls.cert_file, &tls_files_); }},
        {"key_file",
         [this, &m](const entry& e) {
             read_file_name(e, m.tls.key_file, &tls_files_);
             if (!m.tls.key_file.empty()) tls_key_file_ = {m.tls.key_file, e.value_pos, true};
         }},
        {"verify", boolean(m.tls.verify)},
    };
    discovery_config& d = m.discovery;
    schema_["mqtt.discovery"] = {
        {"enabled", boolean(d.enabled)},
        {"prefix", [this, &d](const entry& e) { read_topic(e, d.prefix); }},
        {"energy_unit",
         [this, &d](const entry& e) {
             read_choice<energy_unit>(e, {{"Wh", energy_unit::wh}, {"kWh", energy_unit::kwh}},
                                      d.unit);
         }},
        {"expire_after_s", seconds(d.expire_after, 0, 86400)},
    };

    log_config& l = config_.log;
    schema_["log"] = {
        {"level",
         [this, &l](const entry& e) {
             std::string_view level = l.level;
             read_choice<std::string_view>(e,
                                           {{"trace", "trace"},
                                            {"debug", "debug"},
                                            {"info", "info"},
                                            {"warn", "warn"},
                                            {"error", "error"}},
                                           level);
             l.level = std::string(level);
         }},
        {"target",
         [this, &l](const entry& e) {
             read_choice<log_target>(e,
                                     {{"auto", log_target::automatic},
                                      {"journal", log_target::journal},
                                      {"stderr", log_target::stderr_stream}},
                                     l.target);
         }},
        {"summary_interval_s", seconds(l.summary_interval, 0, 7 * 86400)},
    };
}

void loader::read_section(const YAML::Node& node, const std::string& path, position pos) {
    const std::string shown_path = path.empty() ? "the file" : quote(path);
    if (!path.empty()) {
        if (path == "meter") meter_pos_ = pos;
        if (node.IsNull()) return;  // a section with every key commented out: all defaults
        if (!node.IsMap()) {
            add(path, position_of(node).line > 0 ? position_of(node) : pos,
                shown_path + " must be a section: \"" + path.substr(path.rfind('.') + 1) +
                    ":\" on a line of its own, its keys indented below it");
            return;
        }
    }
    const auto known = schema_.find(path);
    if (known == schema_.end()) return;
    std::map<std::string, int> seen;  // key -> line of its first occurrence
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;
        entry e;
        e.key_pos = position_of(key);
        if (!key.IsScalar()) {
            add(path, e.key_pos,
                "a key in " + shown_path + " is not a plain name; write \"name: value\"");
            continue;
        }
        const std::string name = key.Scalar();
        e.path = path.empty() ? name : path + "." + name;
        e.value = it->second;
        e.value_pos = e.value.IsNull() ? e.key_pos : position_of(e.value);
        if (e.value_pos.line == 0) e.value_pos = e.key_pos;
        const auto f = std::find_if(known->second.begin(), known->second.end(),
                                    [&](const field& candidate) { return candidate.name == name; });
        if (f == known->second.end()) {
            unknown_key(path, name, e.key_pos);
            continue;
        }
        if (const auto [first, inserted] = seen.emplace(name, e.key_pos.line); !inserted) {
            add(e.path, e.key_pos,
                quote(name) + " appears twice in " + shown_path + " (first on line " +
                    std::to_string(first->second) + "); keep only one");
            continue;
        }
        f->read(e);
    }
}

void loader::unknown_key(const std::string& section, const std::string& name, position pos) {
    std::vector<std::string> names;
    for (const auto& f : schema_.at(section))
        names.push_back(f.name);
    std::string message = section.empty() ? "unknown section " + quote(name)
                                          : "unknown key " + quote(name) + " in " + quote(section);
    const std::string given = lower(name);
    std::vector<std::string> elsewhere;  // the same key in another section: wrong indentation
    bool dotted = false;                 // "serial.baud: 9600" written on one line
    for (const auto& [other, fields] : schema_) {
        for (const auto& f : fields) {
            const std::string full = other.empty() ? f.name : other + "." + f.name;
            if (full == given && other != section && given.find('.') != std::string::npos) {
                dotted = true;
            }
            if (f.name == given && other != section) elsewhere.push_back(quote(full));
        }
    }
    if (dotted) {
        const auto dot = given.rfind('.');
        message += "; write the section on a line of its own and the key indented below it: \"" +
                   given.substr(0, dot) + ":\" then \"  " + given.substr(dot + 1) + ": ...\"";
    } else if (const std::string hint = closest(name, names); !hint.empty()) {
        message += "; did you mean " + quote(hint) + "?";
    } else if (!elsewhere.empty() && elsewhere.size() <= 3) {
        message += "; did you mean " + join(elsewhere, " or ") + "? (check the indentation)";
    } else if (section.empty()) {
        message += "; the sections are serial, meter, mqtt and log";
    } else {
        message += "; the keys of " + quote(section) + " are " + join(names, " and ");
    }
    add(section.empty() ? name : section + "." + name, pos, std::move(message));
}

std::optional<std::string> loader::text(const entry& e, bool null_is_empty) {
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
    return e.value.Scalar();
}

void loader::read_string(const entry& e, std::string& out, bool may_be_empty,
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

void loader::read_located(const entry& e, located& out, bool trimmed) {
    if (auto v = text(e, true)) {
        out = {trimmed ? std::string(trim(*v)) : std::move(*v), e.value_pos, true};
    }
}

// A secret is never shown, so a value that YAML emptied or cut (a '#' comment, an '&' anchor,
// a '!' tag) would only show as "authentication failed" later: warn with the rule.
void loader::read_secret(const entry& e, located& out, bool trimmed) {
    read_located(e, out, trimmed);
    const yaml_indicator found = value_indicator(input_, e.key_pos.line, e.key_pos.column);
    if (found.indicator == 0 || (found.indicator == '#' && !out.text.empty())) return;
    warn(e.path, {found.line, found.column},
         indicator_warning(found, e.path, !out.present || out.text.empty()));
}

void loader::read_file_name(const entry& e, std::string& out, located* where) {
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

std::optional<long long> loader::integer(const entry& e, long long low, long long high,
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

void loader::read_bool(const entry& e, bool& out) {
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

template <typename E>
void loader::read_choice(const entry& e, choices<E> options, E& out) {
    const auto v = text(e, false);
    if (!v) return;
    const std::string s = lower(trim(*v));
    std::vector<std::string> names;
    std::vector<std::string> lowered;
    for (const auto& [name, value] : options) {
        if (lower(name) == s) {
            out = value;
            return;
        }
        names.push_back(std::string(name));
        lowered.push_back(lower(name));
    }
    std::string message = e.path + " must be " + join(names, " or ") + ", not " + quote(*v);
    if (const std::string hint = closest(s, lowered); !hint.empty()) {
        const auto i = static_cast<std::size_t>(std::find(lowered.begin(), lowered.end(), hint) -
                                                lowered.begin());
        message += "; did you mean " + quote(names[i]) + "?";
    }
    add(e.path, e.value_pos, std::move(message));
}

void loader::read_baud(const entry& e, unsigned& out) {
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

void loader::read_topic(const entry& e, std::string& out) {
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

void loader::read_uri(const entry& e) {
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

// Parses a key; key_text says what is wrong (a placeholder, a name before the digits, ...).
bool loader::check_key(const std::string& key, std::string_view text_value, position pos,
                       const std::string& what, bool required, std::optional<aes_key>& out) {
    key_check checked = check_key_text(text_value, required);
    if (!checked.key) {
        add(key, pos, what + " " + checked.problem);
        return false;
    }
    out = checked.key;
    return true;
}

void loader::finish_serial() {
    // Not an error: the service waits for a device that is missing (an adapter not plugged in
    // yet), but a typo in the name would keep it waiting forever.
    // Said once the file itself is right: until then it would only add to the list.
    const std::string& device = config_.serial.device;
    std::error_code ec;
    if (!problems_.empty() || device.empty() || fs::exists(fs::path(device), ec) || ec) return;
    warn("serial.device", device_pos_,
         "serial.device " + quote(device) +
             " does not exist (yet); evn-mbus waits for it and opens it when it appears. "
             "Check that the meter's adapter is plugged in and the name is right "
             "(ls -l /dev/serial/by-id/ lists USB serial adapters)");
}

void loader::finish_meter() {
    meter_config& meter = config_.meter;
    const bool has_key = key_.present && !key_.text.empty();
    const bool has_file = key_file_.present && !key_file_.text.empty();
    if (has_key && has_file) {
        add("meter.key_file", key_file_.pos,
            "meter.key and meter.key_file are both set; keep only one (delete meter.key_file to "
            "use meter.key, or delete meter.key to read the key from the file)");
    } else if (has_key) {
        check_key("meter.key", key_.text, key_.pos, "meter.key", true, meter.key);
    } else if (has_file) {
        meter.key_file = resolve(key_file_.text);
        std::string content;
        if (std::string problem = read_small_file(meter.key_file, max_key_file_bytes, content);
            !problem.empty()) {
            add("meter.key_file", key_file_.pos,
                "meter.key_file: the key file " + quote(meter.key_file) + " " + problem);
        } else {
            check_key("meter.key_file", key_file_text(content), key_file_.pos,
                      "the key in " + quote(meter.key_file) + " (meter.key_file)", true, meter.key);
        }
    } else {
        add("meter.key", key_.present ? key_.pos : meter_pos_,
            "meter.key is not set: evn-mbus needs your meter's AES key (32 hex digits) to "
            "decrypt its data. " +
                std::string(where_to_get_the_key) +
                " Write it as meter.key in the \"meter\" section, or put it in a file named "
                "by meter.key_file.");
    }
    if (auth_key_.present && !auth_key_.text.empty()) {
        check_key("meter.auth_key", auth_key_.text, auth_key_.pos, "meter.auth_key", false,
                  meter.auth_key);
    }
}

void loader::finish_mqtt() {
    mqtt_config& m = config_.mqtt;
    const bool has_password = password_.present && !password_.text.empty();
    const bool has_file = password_file_.present && !password_file_.text.empty();
    if (has_password && has_file) {
        add("mqtt.password_file", password_file_.pos,
            "mqtt.password and mqtt.password_file are both set; keep only one");
    } else if (has_password) {
        m.password = password_.text;
    } else if (has_file) {
        m.password_file = resolve(password_file_.text);
        std::string content;
        if (std::string problem = read_small_file(m.password_file, max_key_file_bytes, content);
            !problem.empty()) {
            add("mqtt.password_file", password_file_.pos,
                "mqtt.password_file: the password file " + quote(m.password_file) + " " + problem);
        } else {
            // Trailing white space is the editor's, not the password's (as mqtt_publisher).
            while (!content.empty() && (content.back() == '\n' || content.back() == '\r' ||
                                        content.back() == ' ' || content.back() == '\t')) {
                content.pop_back();
            }
            if (content.empty()) {
                add("mqtt.password_file", password_file_.pos,
                    "mqtt.password_file: the password file " + quote(m.password_file) +
                        " is empty");
            }
            m.password = std::move(content);
        }
    }
    if ((has_password || has_file) && m.username.empty()) {
        add(has_password ? "mqtt.password" : "mqtt.password_file",
            has_password ? password_.pos : password_file_.pos,
            "a password is set but mqtt.username is empty; MQTT sends a password only with a "
            "user name, so set mqtt.username too");
    }
    const bool tls_uri =
        m.uri.starts_with("ssl://") || m.uri.starts_with("mqtts://") || m.uri.starts_with("wss://");
    if (uri_ok_ && tls_files_.present && !tls_uri) {
        add("mqtt.tls", tls_files_.pos,
            "mqtt.tls names certificate files, but mqtt.uri " + quote(m.uri) +
                " does not use TLS, so the connection would not be encrypted; use ssl://host:8883 "
                "(or mqtts://, wss://), or remove the mqtt.tls files");
    }
    if (tls_key_file_.present && m.tls.cert_file.empty()) {
        add("mqtt.tls.key_file", tls_key_file_.pos,
            "mqtt.tls.key_file is set without mqtt.tls.cert_file; a client key needs its "
            "certificate");
    }
}

// Where each document of a YAML stream starts, without building the documents.
class document_starts : public YAML::EventHandler {
  public:
    std::vector<YAML::Mark> marks;
    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

std::string not_yaml_message(const std::string& why, std::string_view yaml) {
    std::string message = "this is not valid YAML (" + why +
                          "); check the indentation and quoting on this line and the one before";
    // Tabs are the most common cause and yaml-cpp's message does not mention them.
    std::size_t line = 1;
    bool at_line_start = true;
    for (const char c : yaml) {
        if (c == '\n') {
            ++line;
            at_line_start = true;
        } else if (at_line_start && c == '\t') {
            message += "; line " + std::to_string(line) +
                       " is indented with a tab, but YAML allows only spaces";
            break;
        } else if (c != ' ') {
            at_line_start = false;
        }
    }
    return message;
}

config_result loader::load(std::string_view yaml) {
    const std::string input(yaml);
    YAML::Node root;
    try {
        // First count the documents. Not with YAML::LoadAll: in yaml-cpp 0.7 it never returns
        // when a document starts with a stray ',' (the parser then reports the same empty
        // document again and again without reading on), so stop at the first repetition.
        std::istringstream stream(input);
        YAML::Parser parser(stream);
        document_starts starts;
        for (int i = 0; i < 3 && parser.HandleNextDocument(starts); ++i) {
            const auto& m = starts.marks;
            if (m.size() >= 2 && m[m.size() - 1].pos <= m[m.size() - 2].pos) {
                const auto at = static_cast<std::size_t>(std::max(0, m.back().pos));
                add("", position_of(m.back()),
                    not_yaml_message(
                        at < input.size() ? "unexpected " + quote(input.substr(at, 1)) : "", yaml));
                return result();
            }
        }
        if (starts.marks.size() > 1) {
            add("", position_of(starts.marks[1]),
                "the file holds more than one YAML document (separated by \"---\"); it must "
                "hold only one");
            return result();
        }
        root = YAML::Load(input);
    } catch (const YAML::Exception& e) {
        add("", position_of(e.mark), not_yaml_message(e.msg, yaml));
        return result();
    }
    if (!root.IsNull() && !root.IsMap()) {
        add("", position_of(root),
            "the configuration must consist of sections (serial:, meter:, mqtt:, log:), each "
            "followed by indented \"key: value\" lines; this file holds a single " +
                std::string(root.IsSequence() ? "list" : "value") + " instead");
        return result();
    }
    input_ = input;
    if (root.IsMap()) read_section(root, "", {});
    finish_meter();
    finish_mqtt();
    finish_serial();
    return result();
}

config_result loader::result() {
    config_result r;
    const auto in_file_order = [](const config_problem& a, const config_problem& b) {
        const auto order = [](const config_problem& p) {
            return std::pair(p.line == 0 ? INT_MAX : p.line, p.column);
        };
        return order(a) < order(b);
    };
    std::stable_sort(problems_.begin(), problems_.end(), in_file_order);
    std::stable_sort(warnings_.begin(), warnings_.end(), in_file_order);
    r.problems = std::move(problems_);
    r.warnings = std::move(warnings_);
    if (r.problems.empty()) r.config = config_;
    return r;
}

config_result failure(std::string message) {
    config_result r;
    r.problems.push_back({"", 0, 0, std::move(message)});
    return r;
}

}  // namespace

config_result load_config_text(std::string_view yaml, const std::string& origin_dir) {
    try {
        loader l(origin_dir);
        return l.load(yaml);
    } catch (const std::exception& e) {
        try {
            return failure(std::string("the configuration could not be read: ") + e.what());
        } catch (...) {
            return {};
        }
    } catch (...) {
        return {};
    }
}

config_result load_config_file(const std::string& path) {
    try {
        std::string content;
        if (std::string problem = read_small_file(path, max_config_bytes, content);
            !problem.empty()) {
            std::string message = "the configuration file " + quote(path) + " " + problem;
            if (problem == "does not exist") {
                message +=
                    "; copy the example evn-mbus.yaml there and set your meter's key, or "
                    "name another file with --config";
            }
            return failure(std::move(message));
        }
        std::error_code ec;
        fs::path absolute = fs::absolute(fs::path(path), ec);
        if (ec) absolute = fs::path(path);
        config_result r = load_config_text(content, absolute.parent_path().string());
        // One id per host and file: two instances sharing one would cut each other off.
        if (r.config && r.config->mqtt.client_id.empty()) {
            r.config->mqtt.client_id = default_client_id(absolute.string());
        }
        return r;
    } catch (const std::exception& e) {
        try {
            return failure(std::string("the configuration could not be read: ") + e.what());
        } catch (...) {
            return {};
        }
    }
}

std::string describe(const config_problem& problem, const std::string& path) {
    std::string s = path.empty() ? std::string("configuration") : path;
    if (problem.line > 0) {
        s += ":" + std::to_string(problem.line);
        if (problem.column > 0) s += ":" + std::to_string(problem.column);
    }
    return s + ": " + problem.message;
}

std::string effective_config_yaml(const daemon_config& c) {
    try {
        const auto masked = [](bool set) { return set ? "********" : "(not set)"; };
        const auto parity = [](serial_parity p) {
            return p == serial_parity::none ? "none" : p == serial_parity::even ? "even" : "odd";
        };
        const auto link = [](link_layer l) {
            return l == link_layer::mbus ? "mbus" : l == link_layer::hdlc ? "hdlc" : "auto";
        };
        const auto target = [](log_target t) {
            return t == log_target::journal         ? "journal"
                   : t == log_target::stderr_stream ? "stderr"
                                                    : "auto";
        };
        YAML::Emitter out;
        out << YAML::Comment(
            "effective evn-mbus configuration (defaults included, secrets hidden)");
        out << YAML::BeginMap;
        out << YAML::Key << "serial" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "device" << YAML::Value << c.serial.device;
        out << YAML::Key << "baud" << YAML::Value << c.serial.baud;
        out << YAML::Key << "parity" << YAML::Value << parity(c.serial.parity);
        out << YAML::Key << "data_bits" << YAML::Value << c.serial.data_bits;
        out << YAML::Key << "stop_bits" << YAML::Value << c.serial.stop_bits;
        out << YAML::Key << "idle_gap_ms" << YAML::Value << c.serial.idle_gap.count();
        out << YAML::Key << "link" << YAML::Value << link(c.serial.link);
        out << YAML::Key << "reopen_max_s" << YAML::Value << c.serial.reopen_max.count();
        out << YAML::Key << "no_data_warning_s" << YAML::Value << c.serial.no_data_warning.count();
        out << YAML::EndMap;

        out << YAML::Key << "meter" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "key" << YAML::Value << YAML::DoubleQuoted
            << masked(c.meter.key.has_value());
        out << YAML::Key << "key_file" << YAML::Value << c.meter.key_file;
        out << YAML::Key << "auth_key" << YAML::Value << YAML::DoubleQuoted
            << masked(c.meter.auth_key.has_value());
        out << YAML::Key << "max_power_kw" << YAML::Value << c.meter.max_power_kw;
        out << YAML::EndMap;

        const mqtt_config& m = c.mqtt;
        out << YAML::Key << "mqtt" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "uri" << YAML::Value << uri_without_userinfo(m.uri);
        out << YAML::Key << "client_id" << YAML::Value << m.client_id;
        out << YAML::Key << "username" << YAML::Value << m.username;
        out << YAML::Key << "password" << YAML::Value << YAML::DoubleQuoted
            << masked(!m.password.empty());
        out << YAML::Key << "password_file" << YAML::Value << m.password_file;
        out << YAML::Key << "topic_prefix" << YAML::Value << m.topic_prefix;
        out << YAML::Key << "qos" << YAML::Value << m.qos;
        out << YAML::Key << "retain" << YAML::Value << m.retain;
        out << YAML::Key << "keepalive_s" << YAML::Value << m.keepalive.count();
        out << YAML::Key << "clean_session" << YAML::Value << m.clean_session;
        out << YAML::Key << "publish_values" << YAML::Value << m.publish_values;
        out << YAML::Key << "publish_json" << YAML::Value << m.publish_json;
        out << YAML::Key << "publish_raw" << YAML::Value << m.publish_raw;
        out << YAML::Key << "publish_raw_plain" << YAML::Value << m.publish_raw_plain;
        out << YAML::Key << "queue_size" << YAML::Value << m.queue_size;
        out << YAML::Key << "queue_max_mb" << YAML::Value << m.queue_max_mb;
        out << YAML::Key << "reconnect_max_s" << YAML::Value << m.reconnect_max.count();
        out << YAML::Key << "diagnostics_interval_s" << YAML::Value
            << m.diagnostics_interval.count();
        out << YAML::Key << "shutdown_timeout_s" << YAML::Value << m.shutdown_timeout.count();
        out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "ca_file" << YAML::Value << m.tls.ca_file;
        out << YAML::Key << "cert_file" << YAML::Value << m.tls.cert_file;
        out << YAML::Key << "key_file" << YAML::Value << m.tls.key_file;
        out << YAML::Key << "verify" << YAML::Value << m.tls.verify;
        out << YAML::EndMap;
        out << YAML::Key << "discovery" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "enabled" << YAML::Value << m.discovery.enabled;
        out << YAML::Key << "prefix" << YAML::Value << m.discovery.prefix;
        out << YAML::Key << "energy_unit" << YAML::Value
            << (m.discovery.unit == energy_unit::kwh ? "kWh" : "Wh");
        out << YAML::Key << "expire_after_s" << YAML::Value << m.discovery.expire_after.count();
        out << YAML::EndMap;
        out << YAML::EndMap;

        out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "level" << YAML::Value << c.log.level;
        out << YAML::Key << "target" << YAML::Value << target(c.log.target);
        out << YAML::Key << "summary_interval_s" << YAML::Value << c.log.summary_interval.count();
        out << YAML::EndMap;
        out << YAML::EndMap;
        return std::string(out.c_str()) + "\n";
    } catch (...) {
        return {};
    }
}

}  // namespace evn_mbus
