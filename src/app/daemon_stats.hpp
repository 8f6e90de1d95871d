// What the daemon has seen since it started: the figures behind the periodic log line, the
// systemd STATUS= line and the MQTT diagnostics topic.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "evn_mbus/frame_counter_monitor.hpp"
#include "evn_mbus/plausibility_gate.hpp"

namespace evn_mbus {

// "2025-01-02T03:04:05Z": a wall-clock time in UTC, to the second.
std::string iso_utc(std::chrono::system_clock::time_point t);

struct daemon_stats {
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::uint64_t telegrams_ok = 0;
    std::map<std::string, std::uint64_t> failures;  // by error name ("bad_checksum", ...)
    std::string last_error;                         // the name of the last failure, if any
    std::optional<std::chrono::system_clock::time_point> last_error_at;
    std::optional<std::chrono::system_clock::time_point> last_reading;  // wall clock
    std::uint64_t serial_reopens = 0;
    std::uint64_t mqtt_reconnects = 0;
    std::uint64_t mqtt_dropped = 0;   // readings dropped from a full queue (or held on reload)
    frame_counter_stats counters;     // lost, repeated and replayed pushes, by frame counter
    plausibility_stats plausibility;  // impossible readings of untagged meters, by reason
    // Pushes whose plain values fit no layout (built-in or meter.layout): values left out.
    std::uint64_t pushes_without_layout = 0;
    std::uint64_t answers = 0;  // acknowledgements written to an AMIS meter

    std::uint64_t failures_total() const noexcept;
    // "1234 telegrams ok, 3 failed (bad_checksum 2, truncated_frame 1), 4 pushes lost (2 gaps),
    // 66 readings dropped from the full MQTT queue, last reading 12:00:05"; the frame counter
    // and drop figures only when not zero.
    std::string summary() const;
    // The diagnostics JSON (without the MQTT part, which the publisher adds).
    nlohmann::json to_json(const std::string& version) const;
};

}  // namespace evn_mbus
