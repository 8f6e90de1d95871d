// The Prometheus text exposition (format 0.0.4) of the latest reading and the daemon's health:
// a pure function of a snapshot, so that the text is unit-tested and checked by promtool.
//
// Conventions (prometheus.io/docs/practices/naming): every name starts with evn_mbus_, carries
// its base unit (joules, var_seconds, watts, vars, volts, amperes, ratio, hertz, seconds),
// counters end in _total, every family has HELP and TYPE. The meter's values carry the label
// meter (its number, else its system title in hex); tariff registers and phases are families
// of their own with a label tariff="1" / phase="L1", so that sum() over a family never adds a
// tariff to the total or a phase to the sum of the phases. Energy registers are counters in
// joules (Wh x 3600), reactive energy in var-seconds (varh x 3600: "var" is the unit of
// reactive power, as watt is of active power, and Prometheus wants seconds, not hours).
// Families without a sample (values the meter does not send, the reading before the first
// one) are left out entirely.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon_stats.hpp"
#include "evn_mbus/reading.hpp"
#include "mqtt_publisher.hpp"

namespace evn_mbus {

struct metrics_snapshot {
    const reading* latest = nullptr;   // the last reading published; nullptr before the first
    double reading_age_seconds = 0.0;  // how old `latest` is
    std::string meter;                 // the meter label: prometheus_meter_label(*latest)
    // Take both clocks together: the start time is now minus the uptime (stats.started).
    std::chrono::system_clock::time_point now{};
    std::chrono::steady_clock::time_point steady_now{};
    daemon_stats stats;  // after the service refreshed its MQTT figures (cumulative ones)
    bool mqtt_enabled = true;
    mqtt_stats mqtt;  // connected, queued, delivered and oversize: the current publisher's
    std::string version;
    std::uint64_t http_connections_open = 0;
    std::uint64_t http_requests_total = 0;
    std::uint64_t http_refused_total = 0;  // connections refused (http.max_connections)
};

// The meter number, else the system title in hex, else "" (a plaintext push without number).
std::string prometheus_meter_label(const reading& r);

// The label value as the exposition format writes it: \ " and newline escaped.
std::string prometheus_escape(std::string_view label_value);

// The whole text, families in a fixed order, each line ending in '\n'.
std::string prometheus_text(const metrics_snapshot& s);

}  // namespace evn_mbus
