#include "config_schema.hpp"

#include <chrono>
#include <type_traits>

#include "config_reader.hpp"
#include "config_text.hpp"
#include "evn_mbus/link_layer.hpp"
#include "uri_text.hpp"

namespace evn_mbus {
namespace {

template <typename T>
struct is_duration : std::false_type {};
template <typename R, typename P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

// Each builder takes the field as a generic lambda, `[](auto& c) -> auto& { return c.x; }`, so
// one accessor serves reading (daemon_config&) and showing (const daemon_config&).

template <typename Get>
setting number(std::string_view name, std::string_view help, Get get, long long low, long long high,
               std::string_view unit = "") {
    return {name,
            help,
            false,
            false,
            [=](config_reader& r, const entry& e) {
                if (auto v = r.integer(e, low, high, unit)) {
                    auto& out = get(r.config_);
                    using T = std::remove_reference_t<decltype(out)>;
                    if constexpr (is_duration<T>::value) {
                        out = T{*v};
                    } else {
                        out = static_cast<T>(*v);
                    }
                }
            },
            [=](YAML::Emitter& out, const daemon_config& c) {
                const auto& v = get(c);
                if constexpr (is_duration<std::remove_cvref_t<decltype(v)>>::value) {
                    out << v.count();
                } else {
                    out << v;
                }
            }};
}

template <typename Get>
setting seconds(std::string_view name, std::string_view help, Get get, long long low,
                long long high) {
    return number(name, help, get, low, high, "seconds");
}

template <typename Get>
setting boolean(std::string_view name, std::string_view help, Get get) {
    return {name,
            help,
            false,
            false,
            [=](config_reader& r, const entry& e) { r.read_bool(e, get(r.config_)); },
            [=](YAML::Emitter& out, const daemon_config& c) { out << get(c); }};
}

template <typename Get>
setting plain_text(std::string_view name, std::string_view help, Get get) {
    return {name,
            help,
            false,
            false,
            [=](config_reader& r, const entry& e) { r.read_string(e, get(r.config_), true, ""); },
            [=](YAML::Emitter& out, const daemon_config& c) { out << get(c); }};
}

template <typename Get>
setting topic(std::string_view name, std::string_view help, Get get) {
    return {name,
            help,
            false,
            false,
            [=](config_reader& r, const entry& e) { r.read_topic(e, get(r.config_)); },
            [=](YAML::Emitter& out, const daemon_config& c) { out << get(c); }};
}

template <typename Get>
setting tls_file(std::string_view name, std::string_view help, Get get) {
    return {name,
            help,
            false,
            false,
            [=](config_reader& r, const entry& e) {
                r.read_file_name(e, get(r.config_), &r.tls_files_);
            },
            [=](YAML::Emitter& out, const daemon_config& c) { out << get(c); }};
}

template <typename Get, typename E>
setting choice(std::string_view name, std::string_view help, Get get, const spellings<E>& options) {
    return {name,
            help,
            false,
            false,
            [=, &options](config_reader& r, const entry& e) {
                std::vector<std::string_view> names;
                for (const auto& o : options)
                    names.push_back(o.first);
                if (auto i = r.choice(e, names)) get(r.config_) = options[*i].second;
            },
            [=, &options](YAML::Emitter& out, const daemon_config& c) {
                const std::string_view spelling = spelling_of(options, get(c));
                out << std::string(spelling.empty() ? options.front().first : spelling);
            }};
}

// A key, a password or the name of a file holding one: read as text and checked once the
// whole file is read (config_reader::finish_meter, finish_mqtt).
template <typename Shown>
setting secret(std::string_view name, std::string_view help, located config_reader::*into,
               bool trimmed, Shown shown) {
    return {name,
            help,
            false,
            true,
            [=](config_reader& r, const entry& e) { r.read_secret(e, r.*into, trimmed); },
            [=](YAML::Emitter& out, const daemon_config& c) {
                out << YAML::DoubleQuoted << (shown(c) ? "********" : "(not set)");
            }};
}

// Names a secret's file: read like a secret (its YAML pitfalls are the same), shown as it is.
template <typename Get>
setting secret_file(std::string_view name, std::string_view help, located config_reader::*into,
                    Get get) {
    return {name,
            help,
            false,
            false,
            [=](config_reader& r, const entry& e) { r.read_secret(e, r.*into); },
            [=](YAML::Emitter& out, const daemon_config& c) { out << get(c); }};
}

setting section(std::string_view name, std::string_view help) {
    return {name,
            help,
            true,
            false,
            [](config_reader& r, const entry& e) { r.read_section(e.value, e.path, e.key_pos); },
            {}};
}

std::map<std::string, std::vector<setting>> build() {
    std::map<std::string, std::vector<setting>> schema;
    schema[""] = {section("serial", "the serial line to the meter"),
                  section("meter", "the meter's keys and the plausibility bound"),
                  section("mqtt", "the MQTT broker and what is published"),
                  section("http", "the local HTTP API and Prometheus metrics (off by default)"),
                  section("log", "the daemon's log")};

    // link_layer's spellings are evn_mbus/link_layer.hpp's to_string.
    static const spellings<link_layer> links = [] {
        spellings<link_layer> out;
        for (const link_layer l : all_link_layers)
            out.emplace_back(to_string(l), l);
        return out;
    }();
    schema["serial"] = {
        {"device",
         "serial port of the M-Bus adapter, e.g. /dev/ttyUSB0, or a network bridge: "
         "tcp://HOST:PORT (raw) or rfc2217://HOST:PORT",
         false, false, [](config_reader& r, const entry& e) { r.read_serial_device(e); },
         [](YAML::Emitter& out, const daemon_config& c) { out << c.serial.device; }},
        {"baud", "speed in bit/s; the M-Bus customer interface uses 2400", false, false,
         [](config_reader& r, const entry& e) { r.read_baud(e, r.config_.serial.baud); },
         [](YAML::Emitter& out, const daemon_config& c) { out << c.serial.baud; }},
        choice(
            "parity", "none, even or odd (M-Bus: even)",
            [](auto& c) -> auto& { return c.serial.parity; }, parity_spellings()),
        number(
            "data_bits", "5 to 8", [](auto& c) -> auto& { return c.serial.data_bits; }, 5, 8),
        number(
            "stop_bits", "1 or 2", [](auto& c) -> auto& { return c.serial.stop_bits; }, 1, 2),
        {"idle_gap_ms",
         "silence (ms, 5 to 5000) that ends an incomplete frame, or auto (100; 500 for a "
         "network bridge)",
         false, false,
         [](config_reader& r, const entry& e) {
             // auto: as if the key were not there, so that the device decides (finish_serial).
             if (e.value.IsScalar() && lower(e.value.Scalar()) == "auto") {
                 r.given_.erase(e.path);
                 return;
             }
             if (auto v = r.integer(e, 5, 5000, "milliseconds")) {
                 r.config_.serial.idle_gap = std::chrono::milliseconds(*v);
             }
         },
         [](YAML::Emitter& out, const daemon_config& c) { out << c.serial.idle_gap.count(); }},
        choice(
            "link",
            "framing: auto (detect, and answer an AMIS meter), mbus (listen only), hdlc, apdu (a "
            "P1 port's bare APDU) or amis (Netz OOe: M-Bus, answered with E5)",
            [](auto& c) -> auto& { return c.serial.link; }, links),
        seconds(
            "reopen_max_s", "longest wait (s) between attempts to open a missing device",
            [](auto& c) -> auto& { return c.serial.reopen_max; }, 1, 3600),
        seconds(
            "no_data_warning_s",
            "warn when the open port gets no byte for this long, and set "
            "<topic_prefix>/meter_status offline",
            [](auto& c) -> auto& { return c.serial.no_data_warning; }, 0, 86400),
    };

    schema["meter"] = {
        secret("key", "the meter's AES key (32 hex digits; spaces allowed)", &config_reader::key_,
               true, [](const daemon_config& c) { return c.meter.key.has_value(); }),
        secret_file(
            "key_file", "a file holding the key, instead of key", &config_reader::key_file_,
            [](auto& c) -> auto& { return c.meter.key_file; }),
        secret("auth_key", "authentication key, only for meters that send a GCM tag",
               &config_reader::auth_key_, true,
               [](const daemon_config& c) { return c.meter.auth_key.has_value(); }),
        // The plausibility gate's bound for meters without a GCM tag (plausibility_gate.hpp).
        number(
            "max_power_kw",
            "highest power (kW) the supply can draw; a meter without a GCM tag whose readings "
            "rise faster is not published",
            [](auto& c) -> auto& { return c.meter.max_power_kw; }, 1, 100000, "kilowatts"),
        {"layout",
         "what plain values without an OBIS code mean: auto (the built-in layouts), one of "
         "them by name, or a list with an OBIS code or skip per element",
         false, false,
         [](config_reader& r, const entry& e) { r.read_layout(e, r.config_.meter.layout); },
         [](YAML::Emitter& out, const daemon_config& c) {
             const layout_choice& l = c.meter.layout;
             if (!l.positions.empty()) {
                 out << YAML::Flow << YAML::BeginSeq;
                 for (const layout_position& p : l.positions)
                     out << to_string(p);
                 out << YAML::EndSeq;
             } else {
                 out << std::string(l.builtin ? layout_name(*l.builtin) : "auto");
             }
         }},
    };

    schema["mqtt"] = {
        {"uri", "broker: tcp://host:port, or ssl://host:8883 for TLS", false, false,
         [](config_reader& r, const entry& e) { r.read_uri(e); },
         [](YAML::Emitter& out, const daemon_config& c) {
             out << uri_without_userinfo(c.mqtt.uri);
         }},
        plain_text(
            "client_id", "empty: evn-mbus-<host>[-<name> for /etc/evn-mbus/<name>.yaml]",
            [](auto& c) -> auto& { return c.mqtt.client_id; }),
        plain_text(
            "username", "user name at the broker, if it asks for one (not in the uri)",
            [](auto& c) -> auto& { return c.mqtt.username; }),
        secret("password", "the password at the broker (or password_file)",
               &config_reader::password_, false,
               [](const daemon_config& c) { return !c.mqtt.password.empty(); }),
        secret_file(
            "password_file", "a file holding the password", &config_reader::password_file_,
            [](auto& c) -> auto& { return c.mqtt.password_file; }),
        topic(
            "topic_prefix", "topics are <topic_prefix>/w_p, <topic_prefix>/state, ...",
            [](auto& c) -> auto& { return c.mqtt.topic_prefix; }),
        number(
            "qos", "MQTT quality of service: 0, 1 or 2",
            [](auto& c) -> auto& { return c.mqtt.qos; }, 0, 2),
        boolean(
            "retain", "let the broker keep the last value of each value topic",
            [](auto& c) -> auto& { return c.mqtt.retain; }),
        seconds(
            "keepalive_s", "seconds between keep-alive messages (5 to 3600)",
            [](auto& c) -> auto& { return c.mqtt.keepalive; }, 5, 3600),
        boolean(
            "clean_session", "start each connection with a fresh broker session",
            [](auto& c) -> auto& { return c.mqtt.clean_session; }),
        boolean(
            "publish_values", "one topic per value: <topic_prefix>/w_p, ...",
            [](auto& c) -> auto& { return c.mqtt.publish_values; }),
        boolean(
            "publish_json", "all values as one JSON object: <topic_prefix>/state",
            [](auto& c) -> auto& { return c.mqtt.publish_json; }),
        boolean(
            "publish_raw", "the frames as received (still encrypted), hex: <topic_prefix>/raw",
            [](auto& c) -> auto& { return c.mqtt.publish_raw; }),
        boolean(
            "publish_raw_plain", "the decrypted APDU as hex: <topic_prefix>/raw_plain",
            [](auto& c) -> auto& { return c.mqtt.publish_raw_plain; }),
        number(
            "queue_size", "readings kept while the broker is unreachable (1 to 1000000)",
            [](auto& c) -> auto& { return c.mqtt.queue_size; }, 1, 1000000, "readings"),
        number(
            "queue_max_mb", "at most this much memory for the queue, in MiB (1 to 1024)",
            [](auto& c) -> auto& { return c.mqtt.queue_max_mb; }, 1, 1024, "MiB"),
        seconds(
            "reconnect_max_s", "longest wait (s) between attempts to reconnect",
            [](auto& c) -> auto& { return c.mqtt.reconnect_max; }, 1, 3600),
        seconds(
            "diagnostics_interval_s", "seconds between diagnostics messages; 0: none",
            [](auto& c) -> auto& { return c.mqtt.diagnostics_interval; }, 0, 86400),
        seconds(
            "shutdown_timeout_s", "on stop, seconds to try to deliver queued readings (0 to 60)",
            [](auto& c) -> auto& { return c.mqtt.shutdown_timeout; }, 0, 60),
        seconds(
            "min_interval_s",
            "publish at most every this many seconds, the latest reading (0: every push)",
            [](auto& c) -> auto& { return c.mqtt.min_interval; }, 0, 86400),
        boolean(
            "on_change_only", "send a value's topic only when it changed (or after heartbeat_s)",
            [](auto& c) -> auto& { return c.mqtt.on_change_only; }),
        seconds(
            "heartbeat_s", "with on_change_only: send an unchanged value again after this long",
            [](auto& c) -> auto& { return c.mqtt.heartbeat; }, 1, 86400),
        section("tls", "used with ssl://, mqtts:// or wss:// only"),
        section("discovery", "Home Assistant MQTT discovery"),
    };
    schema["mqtt.tls"] = {
        tls_file(
            "ca_file", "CA certificate of the broker; empty: the system's CAs",
            [](auto& c) -> auto& { return c.mqtt.tls.ca_file; }),
        tls_file(
            "cert_file", "client certificate, if the broker asks for one",
            [](auto& c) -> auto& { return c.mqtt.tls.cert_file; }),
        {"key_file", "the client certificate's private key", false, false,
         [](config_reader& r, const entry& e) {
             std::string& key_file = r.config_.mqtt.tls.key_file;
             r.read_file_name(e, key_file, &r.tls_files_);
             if (!key_file.empty()) r.tls_key_file_ = {key_file, e.value_pos, true};
         },
         [](YAML::Emitter& out, const daemon_config& c) { out << c.mqtt.tls.key_file; }},
        boolean(
            "verify", "check the broker's certificate and host name",
            [](auto& c) -> auto& { return c.mqtt.tls.verify; }),
    };
    schema["mqtt.discovery"] = {
        boolean(
            "enabled", "announce the meter's sensors to Home Assistant",
            [](auto& c) -> auto& { return c.mqtt.discovery.enabled; }),
        topic(
            "prefix", "Home Assistant's discovery prefix",
            [](auto& c) -> auto& { return c.mqtt.discovery.prefix; }),
        choice(
            "energy_unit", "unit of the energy sensors: Wh or kWh",
            [](auto& c) -> auto& { return c.mqtt.discovery.unit; }, energy_unit_spellings()),
        seconds(
            "expire_after_s", "mark values unavailable after this many seconds; 0: never",
            [](auto& c) -> auto& { return c.mqtt.discovery.expire_after; }, 0, 86400),
        boolean(
            "reactive_energy_class",
            "give reactive energy Home Assistant's reactive_energy class (HA 2025.6 or newer)",
            [](auto& c) -> auto& { return c.mqtt.discovery.reactive_energy_class; }),
    };

    schema["http"] = {
        {"listen", "address:port of the HTTP API, e.g. 127.0.0.1:8080 ([::]:8080: all); empty: off",
         false, false, [](config_reader& r, const entry& e) { r.read_listen(e); },
         [](YAML::Emitter& out, const daemon_config& c) { out << c.http.listen; }},
        {"username", "basic authentication: the user name (with password)", false, false,
         [](config_reader& r, const entry& e) {
             r.http_username_pos_ = e.value_pos;
             r.read_string(e, r.config_.http.username, true, "");
         },
         [](YAML::Emitter& out, const daemon_config& c) { out << c.http.username; }},
        secret("password", "basic authentication: the password (or password_file)",
               &config_reader::http_password_, false,
               [](const daemon_config& c) { return !c.http.password.empty(); }),
        secret_file(
            "password_file", "a file holding the password", &config_reader::http_password_file_,
            [](auto& c) -> auto& { return c.http.password_file; }),
        // At most 512: with the 256 being refused, the service's 1024 descriptors keep room for
        // the meter's line, MQTT and the journal.
        number(
            "max_connections", "connections served at once (1 to 512); more are refused",
            [](auto& c) -> auto& { return c.http.max_connections; }, 1, 512, "connections"),
        seconds(
            "request_timeout_s", "seconds a client may take to send its request (1 to 300)",
            [](auto& c) -> auto& { return c.http.request_timeout; }, 1, 300),
    };

    schema["log"] = {
        choice(
            "level", "trace, debug, info, warn or error",
            [](auto& c) -> auto& { return c.log.level; }, log_level_spellings()),
        choice(
            "target", "auto (journal under systemd, else stderr), journal or stderr",
            [](auto& c) -> auto& { return c.log.target; }, log_target_spellings()),
        seconds(
            "summary_interval_s", "seconds between summary lines in the log; 0: none",
            [](auto& c) -> auto& { return c.log.summary_interval; }, 0, 7 * 86400),
    };
    return schema;
}

}  // namespace

const std::map<std::string, std::vector<setting>>& config_schema() {
    static const std::map<std::string, std::vector<setting>> schema = build();
    return schema;
}

const spellings<serial_parity>& parity_spellings() {
    static const spellings<serial_parity> s = {
        {"none", serial_parity::none}, {"even", serial_parity::even}, {"odd", serial_parity::odd}};
    return s;
}

const spellings<energy_unit>& energy_unit_spellings() {
    static const spellings<energy_unit> s = {{"Wh", energy_unit::wh}, {"kWh", energy_unit::kwh}};
    return s;
}

const spellings<log_target>& log_target_spellings() {
    static const spellings<log_target> s = {{"auto", log_target::automatic},
                                            {"journal", log_target::journal},
                                            {"stderr", log_target::stderr_stream}};
    return s;
}

// spdlog's names for the levels the daemon offers (spdlog::level::from_str reads them).
const spellings<std::string_view>& log_level_spellings() {
    static const spellings<std::string_view> s = {{"trace", "trace"},
                                                  {"debug", "debug"},
                                                  {"info", "info"},
                                                  {"warn", "warn"},
                                                  {"error", "error"}};
    return s;
}

}  // namespace evn_mbus
