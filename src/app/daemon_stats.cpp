#include "daemon_stats.hpp"

#include <spdlog/fmt/chrono.h>

#include <ctime>

#include "evn_mbus/cosem_datetime.hpp"

namespace evn_mbus {
std::string iso_utc(std::chrono::system_clock::time_point t) {
    return format_utc(std::chrono::time_point_cast<std::chrono::seconds>(t));
}

namespace {

std::string local_hms(std::chrono::system_clock::time_point t) {
    return fmt::format("{:%H:%M:%S}", fmt::localtime(std::chrono::system_clock::to_time_t(t)));
}

// "1 push", "2 pushes".
std::string count_of(std::uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::uint64_t daemon_stats::failures_total() const noexcept {
    std::uint64_t n = 0;
    for (const auto& [name, count] : failures)
        n += count;
    return n;
}

std::string daemon_stats::summary() const {
    std::string s = std::to_string(telegrams_ok) + " telegrams ok, " +
                    std::to_string(failures_total()) + " failed";
    if (!failures.empty()) {
        s += " (";
        bool first = true;
        for (const auto& [name, count] : failures) {
            if (!first) s += ", ";
            first = false;
            s += name + " " + std::to_string(count);
        }
        s += ")";
    }
    if (counters.lost_pushes > 0) {
        s += ", " + count_of(counters.lost_pushes, "push", "pushes") + " lost (" +
             count_of(counters.gaps, "gap", "gaps") + ")";
    }
    if (const auto n = counters.duplicates + counters.backwards; n > 0) {
        s +=
            ", " + count_of(n, "repeated or old push", "repeated or old pushes") + " not published";
    }
    if (const auto n = counters.resets + counters.jumps; n > 0) {
        s += ", frame counter restarted " + count_of(n, "time", "times");
    }
    if (const auto n = plausibility.rejected(); n > 0) {
        s += ", " + count_of(n, "impossible reading", "impossible readings") + " not published";
    }
    if (pushes_without_layout > 0) {
        s += ", " + count_of(pushes_without_layout, "push", "pushes") +
             " with values left out (no layout fits)";
    }
    if (mqtt_dropped > 0) {
        s += ", " + count_of(mqtt_dropped, "reading", "readings") +
             " dropped from the full MQTT queue";
    }
    s += last_reading ? ", last reading " + local_hms(*last_reading) : ", no reading yet";
    return s;
}

nlohmann::json daemon_stats::to_json(const std::string& version) const {
    nlohmann::json j;
    j["version"] = version;
    j["uptime_s"] =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    j["telegrams_ok"] = telegrams_ok;
    j["telegrams_failed"] = failures_total();
    j["failures"] = nlohmann::json::object();
    for (const auto& [name, count] : failures)
        j["failures"][name] = count;
    // Home Assistant's "last error" diagnostic entity shows these (ha_discovery.cpp).
    j["last_error"] = last_error.empty() ? nlohmann::json() : nlohmann::json(last_error);
    j["last_error_at"] = last_error_at ? nlohmann::json(iso_utc(*last_error_at)) : nlohmann::json();
    j["last_reading"] = last_reading ? nlohmann::json(iso_utc(*last_reading)) : nlohmann::json();
    j["serial_reopens"] = serial_reopens;
    j["mqtt_reconnects"] = mqtt_reconnects;
    j["mqtt_dropped"] = mqtt_dropped;
    j["pushes_without_layout"] = pushes_without_layout;
    j["answers"] = answers;
    // By the frame counter: pushes that never arrived, and pushes not published because their
    // counter was seen before (duplicates) or is lower than the last one (backwards).
    j["frame_counter"] = {{"lost_pushes", counters.lost_pushes}, {"gaps", counters.gaps},
                          {"duplicates", counters.duplicates},   {"backwards", counters.backwards},
                          {"resets", counters.resets},           {"jumps", counters.jumps}};
    // Readings not published because they cannot be right (plausibility_gate.hpp), by reason.
    j["plausibility"] = {{"too_fast", plausibility.too_fast},
                         {"backwards", plausibility.backwards},
                         {"structure_changed", plausibility.structure_changed},
                         {"new_levels", plausibility.new_levels}};
    return j;
}

}  // namespace evn_mbus
