#include "config_loader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>
#include <sstream>
#include <utility>

#include "client_id.hpp"
#include "config_reader.hpp"
#include "config_schema.hpp"
#include "config_text.hpp"
#include "http_listen_address.hpp"
#include "key_text.hpp"
#include "serial_endpoint.hpp"
#include "small_file.hpp"

namespace evn_mbus {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_config_bytes = 1024 * 1024;

}  // namespace

position position_of(const YAML::Mark& m) {
    if (m.is_null() || m.line < 0 || m.column < 0 || m.line == INT_MAX || m.column == INT_MAX) {
        return {};
    }
    return {m.line + 1, m.column + 1};
}

position position_of(const YAML::Node& n) {
    return n.IsDefined() ? position_of(n.Mark()) : position{};
}

void config_reader::read_section(const YAML::Node& node, const std::string& path, position pos) {
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
    const auto& schema = config_schema();
    const auto known = schema.find(path);
    if (known == schema.end()) return;
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
        const auto f =
            std::find_if(known->second.begin(), known->second.end(),
                         [&](const setting& candidate) { return candidate.name == name; });
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
        given_.insert(e.path);
        f->read(*this, e);
    }
}

void config_reader::unknown_key(const std::string& section, const std::string& name, position pos) {
    std::vector<std::string> names;
    for (const auto& f : config_schema().at(section))
        names.emplace_back(f.name);
    std::string message = section.empty() ? "unknown section " + quote(name)
                                          : "unknown key " + quote(name) + " in " + quote(section);
    const std::string given = lower(name);
    std::vector<std::string> elsewhere;  // the same key in another section: wrong indentation
    bool dotted = false;                 // "serial.baud: 9600" written on one line
    for (const auto& [other, fields] : config_schema()) {
        for (const auto& f : fields) {
            const std::string full =
                other.empty() ? std::string(f.name) : other + "." + std::string(f.name);
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

std::string config_reader::resolve(std::string_view name) const {
    const fs::path p(name);
    if (p.is_absolute() || origin_dir_.empty()) return std::string(name);
    return (fs::path(origin_dir_) / p).lexically_normal().string();
}

// Parses a key; key_text says what is wrong (a placeholder, a name before the digits, ...).
bool config_reader::check_key(const std::string& key, std::string_view text_value, position pos,
                              const std::string& what, bool required, std::optional<aes_key>& out) {
    key_check checked = check_key_text(text_value, required);
    if (!checked.key) {
        add(key, pos, what + " " + checked.problem);
        return false;
    }
    out = checked.key;
    return true;
}

void config_reader::finish_serial() {
    if (!problems_.empty()) return;  // said once the file itself is right
    // The P1 port (the one meter evn-mbus knows with serial.link: apdu) sends at 115200 8N1;
    // M-Bus's 2400 8E1 there gives only garbage. Not an error: another meter may differ.
    const serial_config& serial = config_.serial;
    const std::string parity(spelling_of(parity_spellings(), serial.parity));
    if (serial.link == link_layer::apdu &&
        (serial.baud != 115200 || serial.parity != serial_parity::none)) {
        warn("serial.link", {},
             "serial.link is apdu (a P1 port), but the line is set to " +
                 std::to_string(serial.baud) + " baud, parity " + parity +
                 ": the P1 port of Energienetze Steiermark's Sagemcom T210-D-R sends at 115200 "
                 "baud, 8N1; set serial.baud: 115200 and serial.parity: none");
    }
    // An AMIS meter's optical interface runs at 9600 8E1 (Netz OOe's interface specification);
    // another setting gives garbage, and the meter, never answered, keeps searching.
    if (serial.link == link_layer::amis &&
        (serial.baud != 9600 || serial.parity != serial_parity::even || serial.data_bits != 8 ||
         serial.stop_bits != 1)) {
        warn("serial.link", {},
             "serial.link is amis (Netz Oberoesterreich), but the line is set to " +
                 std::to_string(serial.baud) + " baud, " + std::to_string(serial.data_bits) +
                 " data bits, parity " + parity + ", " + std::to_string(serial.stop_bits) +
                 " stop bit(s): the AMIS meter's IR interface sends at 9600 baud, 8E1; set "
                 "serial.baud: 9600, serial.parity: even, serial.data_bits: 8, "
                 "serial.stop_bits: 1");
    }
    const std::string& device = serial.device;
    if (auto parsed = parse_serial_endpoint(device);
        std::holds_alternative<serial_endpoint>(parsed) &&
        std::get<serial_endpoint>(parsed).is_network()) {
        // TCP may hold back or split a telegram's bytes (a bridge's own buffering, Wi-Fi):
        // the local line's gap would cut telegrams that arrive late (daemon_config.hpp).
        if (given_.count("serial.idle_gap_ms") == 0) config_.serial.idle_gap = network_idle_gap;
        return;
    }
    // Not an error: the service waits for a device that is missing (an adapter not plugged in
    // yet), but a typo in the name would keep it waiting forever.
    std::error_code ec;
    if (device.empty() || fs::exists(fs::path(device), ec) || ec) return;
    warn("serial.device", device_pos_,
         "serial.device " + quote(device) +
             " does not exist (yet); evn-mbus waits for it and opens it when it appears. "
             "Check that the meter's adapter is plugged in and the name is right "
             "(ls -l /dev/serial/by-id/ lists USB serial adapters)");
}

void config_reader::finish_meter() {
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

void config_reader::take_password(const std::string& section, const located& given,
                                  const located& given_file, std::string& password,
                                  std::string& file) {
    const bool has_password = given.present && !given.text.empty();
    const bool has_file = given_file.present && !given_file.text.empty();
    const std::string key = section + ".password";
    const std::string file_key = section + ".password_file";
    if (has_password && has_file) {
        add(file_key, given_file.pos, key + " and " + file_key + " are both set; keep only one");
    } else if (has_password) {
        password = given.text;
    } else if (has_file) {
        file = resolve(given_file.text);
        std::string content;
        if (std::string problem = read_small_file(file, max_key_file_bytes, content);
            !problem.empty()) {
            add(file_key, given_file.pos,
                file_key + ": the password file " + quote(file) + " " + problem);
        } else {
            trim_secret_file_text(content);
            if (content.empty()) {
                add(file_key, given_file.pos,
                    file_key + ": the password file " + quote(file) + " is empty");
            }
            password = std::move(content);
        }
    }
}

void config_reader::finish_mqtt() {
    mqtt_config& m = config_.mqtt;
    const bool has_password = password_.present && !password_.text.empty();
    const bool has_file = password_file_.present && !password_file_.text.empty();
    take_password("mqtt", password_, password_file_, m.password, m.password_file);
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
    // Home Assistant marks a sensor unavailable when nothing came for expire_after_s.
    const auto expire = m.discovery.expire_after.count();
    if (m.discovery.enabled && expire > 0) {
        if (m.on_change_only && m.heartbeat.count() >= expire) {
            warn("mqtt.heartbeat_s", {},
                 "mqtt.heartbeat_s (" + std::to_string(m.heartbeat.count()) +
                     ") is not shorter than mqtt.discovery.expire_after_s (" +
                     std::to_string(expire) +
                     "): with on_change_only, Home Assistant would show a value that does not "
                     "change as unavailable between heartbeats; set heartbeat_s below "
                     "expire_after_s");
        }
        if (m.min_interval.count() >= expire) {
            warn("mqtt.min_interval_s", {},
                 "mqtt.min_interval_s (" + std::to_string(m.min_interval.count()) +
                     ") is not shorter than mqtt.discovery.expire_after_s (" +
                     std::to_string(expire) +
                     "): Home Assistant would show the values as unavailable between readings; "
                     "set min_interval_s below expire_after_s");
        }
    }
    if (m.on_change_only && !m.publish_values) {
        warn("mqtt.on_change_only", {},
             "mqtt.on_change_only filters the per-value topics, but mqtt.publish_values is "
             "false, so it changes nothing");
    }
}

void config_reader::finish_http() {
    http_config& h = config_.http;
    take_password("http", http_password_, http_password_file_, h.password, h.password_file);
    const bool has_password =
        !h.password.empty() || (http_password_file_.present && !http_password_file_.text.empty());
    const position password_pos =
        http_password_.present ? http_password_.pos : http_password_file_.pos;
    if (has_password && h.username.empty()) {
        add(http_password_.present ? "http.password" : "http.password_file", password_pos,
            "a password is set but http.username is empty; basic authentication needs both, so "
            "set http.username too");
    } else if (!has_password && !h.username.empty()) {
        add("http.username", http_username_pos_,
            "http.username is set without http.password (or http.password_file); set both for "
            "basic authentication, or neither");
    }
    if (h.username.find(':') != std::string::npos) {
        // RFC 7617: the user-id ends at the first colon, so such a name can never log in.
        add("http.username", http_username_pos_,
            "http.username must not contain ':' (basic authentication cannot carry it)");
    }
    if (h.listen.empty()) return;
    const auto parsed = parse_listen_address(h.listen);
    const auto* endpoint = std::get_if<boost::asio::ip::tcp::endpoint>(&parsed);
    if (endpoint != nullptr && reachable_from_network(*endpoint) && !has_password) {
        warn("http.listen", http_listen_pos_,
             "http.listen " + quote(h.listen) +
                 " can be reached from other machines and no password is set: anyone on your "
                 "network can read the meter's values (they show when you are at home); set "
                 "http.username and http.password, or listen on 127.0.0.1");
    }
}

namespace {

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

}  // namespace

config_result config_reader::load(std::string_view yaml) {
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
            "the configuration must consist of sections (serial:, meter:, mqtt:, http:, log:), "
            "each "
            "followed by indented \"key: value\" lines; this file holds a single " +
                std::string(root.IsSequence() ? "list" : "value") + " instead");
        return result();
    }
    input_ = input;
    if (root.IsMap()) read_section(root, "", {});
    finish_meter();
    finish_mqtt();
    finish_http();
    finish_serial();
    return result();
}

config_result config_reader::result() {
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

namespace {

config_result failure(std::string message) {
    config_result r;
    r.problems.push_back({"", 0, 0, std::move(message)});
    return r;
}

}  // namespace

config_result load_config_text(std::string_view yaml, const std::string& origin_dir) {
    try {
        config_reader l(origin_dir);
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

}  // namespace evn_mbus
