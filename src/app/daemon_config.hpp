// The daemon's configuration as a plain struct: what /etc/evn-mbus.yaml says, after defaults
// and validation (config_loader fills it). The YAML key names are given beside each field;
// they are fixed, because tools and documentation rely on them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "evn_mbus/hex.hpp"
#include "evn_mbus/link_layer.hpp"
#include "evn_mbus/push_layout.hpp"

namespace evn_mbus {

enum class serial_parity { none, even, odd };
// link_layer (auto | mbus | hdlc) comes from the core: the decoder takes it as it is.
enum class energy_unit { wh, kwh };
enum class log_target { automatic, journal, stderr_stream };

// serial.idle_gap_ms when serial.device is a network bridge and the file does not set it. A
// loopback ser2net delivers a telegram with pauses far below this (docs/BENCHMARKS.md); a
// Wi-Fi bridge's power saving and retransmissions hold bytes back for a few hundred ms. Longer
// costs nothing but a later drop of a broken frame: the framers resync on the next frame's
// start anyway.
inline constexpr std::chrono::milliseconds network_idle_gap{500};

struct serial_config {
    std::string device = "/dev/ttyAMA0";         // serial.device (or tcp://, rfc2217://)
    unsigned baud = 2400;                        // serial.baud
    serial_parity parity = serial_parity::even;  // serial.parity: none | even | odd
    unsigned data_bits = 8;                      // serial.data_bits: 5..8
    unsigned stop_bits = 1;                      // serial.stop_bits: 1 | 2
    // serial.idle_gap_ms: silence that ends a partial frame. A byte takes 4.6 ms at 2400 8E1
    // and the meter sends a frame without pauses; the gap between its frames is ~160 ms.
    std::chrono::milliseconds idle_gap{100};
    link_layer link = link_layer::auto_detect;  // serial.link: auto | mbus | hdlc | apdu
    // serial.reopen_max_s: longest wait between attempts to (re)open a missing device.
    std::chrono::seconds reopen_max{2};
    // serial.no_data_warning_s: an open port with no byte for this long gets one warning (0:
    // never). Meters push every 1 to 10 s, so a minute of silence is never normal.
    std::chrono::seconds no_data_warning{60};

    bool operator==(const serial_config&) const = default;
};

struct meter_config {
    std::optional<aes_key> key;       // meter.key (or meter.key_file): required
    std::optional<aes_key> auth_key;  // meter.auth_key: for meters that send a GCM tag
    std::string key_file;             // meter.key_file: where the key came from, if a file
    // meter.max_power_kw: no energy register of an untagged meter rises faster than this
    // (plausibility_gate.hpp: 3 x 63 A at 253 V and 1.25 x fuse current = 59.8 kW).
    unsigned max_power_kw = 60;
    // meter.layout: auto (every built-in layout), one of them by name, or the user's own.
    layout_choice layout;

    bool operator==(const meter_config&) const = default;
};

struct tls_config {
    std::string ca_file;    // mqtt.tls.ca_file: empty = system CAs
    std::string cert_file;  // mqtt.tls.cert_file: client certificate (optional)
    std::string key_file;   // mqtt.tls.key_file: its private key
    bool verify = true;     // mqtt.tls.verify: check the server certificate and host name

    bool operator==(const tls_config&) const = default;
};

struct discovery_config {
    bool enabled = true;                   // mqtt.discovery.enabled
    std::string prefix = "homeassistant";  // mqtt.discovery.prefix
    energy_unit unit = energy_unit::wh;    // mqtt.discovery.energy_unit: Wh | kWh
    std::chrono::seconds expire_after{0};  // mqtt.discovery.expire_after_s: 0 = never
    // mqtt.discovery.reactive_energy_class: give reactive energy (varh) HA's device class
    // reactive_energy (added to Home Assistant in 2025.6; older versions refuse the sensor).
    bool reactive_energy_class = false;

    bool operator==(const discovery_config&) const = default;
};

// raw: the link frames as received, still encrypted; raw_plain: the decrypted APDU.
struct mqtt_config {
    std::string uri = "tcp://localhost:1883";       // mqtt.uri: tcp://host:port or ssl://host:port
    std::string client_id;                          // mqtt.client_id: empty = client_id.hpp
    std::string username;                           // mqtt.username
    std::string password;                           // mqtt.password (or mqtt.password_file)
    std::string password_file;                      // mqtt.password_file
    std::string topic_prefix = "evn";               // mqtt.topic_prefix
    int qos = 1;                                    // mqtt.qos: 0..2
    bool retain = false;                            // mqtt.retain: retain the value topics
    std::chrono::seconds keepalive{30};             // mqtt.keepalive_s
    bool clean_session = true;                      // mqtt.clean_session
    bool publish_values = true;                     // mqtt.publish_values: <prefix>/w_p, ...
    bool publish_json = true;                       // mqtt.publish_json: <prefix>/state
    bool publish_raw = true;                        // mqtt.publish_raw: <prefix>/raw (encrypted)
    bool publish_raw_plain = false;                 // mqtt.publish_raw_plain: <prefix>/raw_plain
    std::size_t queue_size = 10000;                 // mqtt.queue_size: readings held while offline
    std::size_t queue_max_mb = 32;                  // mqtt.queue_max_mb: and at most this memory
    std::chrono::seconds reconnect_max{60};         // mqtt.reconnect_max_s: backoff cap
    std::chrono::seconds diagnostics_interval{60};  // mqtt.diagnostics_interval_s
    // mqtt.shutdown_timeout_s: on stop, how long to try to deliver what is still queued.
    std::chrono::seconds shutdown_timeout{5};
    // mqtt.min_interval_s: publish a reading at most this often (0: every push). The last
    // reading of each interval is the one sent, so the energy registers stay exact.
    std::chrono::seconds min_interval{0};
    // mqtt.on_change_only: a per-value topic is published only when its value changed, or when
    // mqtt.heartbeat_s passed since it was last sent. <prefix>/state and /raw always go.
    bool on_change_only = false;
    std::chrono::seconds heartbeat{300};  // mqtt.heartbeat_s
    tls_config tls;                       // mqtt.tls
    discovery_config discovery;           // mqtt.discovery

    bool operator==(const mqtt_config&) const = default;
};

// The local HTTP API (http_server.hpp): off unless http.listen is set.
struct http_config {
    std::string listen;                // http.listen: "127.0.0.1:8080", "[::]:8080"; empty = off
    std::string username;              // http.username: basic auth when set (with a password)
    std::string password;              // http.password (or http.password_file)
    std::string password_file;         // http.password_file
    std::size_t max_connections = 64;  // http.max_connections: open at once
    std::chrono::seconds request_timeout{10};  // http.request_timeout_s: to read a request

    bool operator==(const http_config&) const = default;
};

struct log_config {
    std::string level = "info";                   // log.level: trace debug info warn error
    log_target target = log_target::automatic;    // log.target: auto | journal | stderr
    std::chrono::seconds summary_interval{3600};  // log.summary_interval_s: 0 = off

    bool operator==(const log_config&) const = default;
};

struct daemon_config {
    serial_config serial;
    meter_config meter;
    mqtt_config mqtt;
    http_config http;
    log_config log;

    bool operator==(const daemon_config&) const = default;
};

}  // namespace evn_mbus
