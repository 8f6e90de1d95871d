#include "prometheus_metrics.hpp"

#include <spdlog/fmt/fmt.h>

#include <cmath>
#include <variant>
#include <vector>

#include "derived_values.hpp"
#include "evn_mbus/hex.hpp"

namespace evn_mbus {
namespace {

using metric_number = std::variant<std::int64_t, std::uint64_t, double>;

struct sample {
    std::string labels;  // `reason="x"`, escaped, without braces; empty: none
    metric_number value;
};

struct family {
    std::string_view name;
    std::string_view type;  // counter | gauge
    std::string_view help;
};

// The meter's families, in output order.
constexpr family reading_families[] = {
    {"evn_mbus_active_energy_import_joules_total", "counter",
     "Active energy imported from the grid, the meter's register A+ (1.8.0), in joules."},
    {"evn_mbus_active_energy_export_joules_total", "counter",
     "Active energy exported to the grid, the meter's register A- (2.8.0), in joules."},
    {"evn_mbus_active_energy_import_tariff_joules_total", "counter",
     "Active energy imported per tariff register (1.8.1, 1.8.2), in joules; part of the total."},
    {"evn_mbus_active_energy_export_tariff_joules_total", "counter",
     "Active energy exported per tariff register (2.8.1, 2.8.2), in joules; part of the total."},
    {"evn_mbus_reactive_energy_import_var_seconds_total", "counter",
     "Reactive energy import R+ (3.8.0), in var-seconds (varh x 3600)."},
    {"evn_mbus_reactive_energy_export_var_seconds_total", "counter",
     "Reactive energy export R- (4.8.0), in var-seconds (varh x 3600)."},
    {"evn_mbus_reactive_energy_import_tariff_var_seconds_total", "counter",
     "Reactive energy import per tariff register (3.8.1, 3.8.2), in var-seconds."},
    {"evn_mbus_reactive_energy_export_tariff_var_seconds_total", "counter",
     "Reactive energy export per tariff register (4.8.1, 4.8.2), in var-seconds."},
    {"evn_mbus_active_power_import_watts", "gauge", "Active power drawn from the grid P+ (1.7.0)."},
    {"evn_mbus_active_power_export_watts", "gauge", "Active power fed into the grid P- (2.7.0)."},
    {"evn_mbus_active_power_net_watts", "gauge",
     "Net active power, import minus export (P+ - P-): positive while drawing from the grid."},
    {"evn_mbus_phase_active_power_import_watts", "gauge",
     "Active power drawn from the grid per phase (21.7.0, 41.7.0, 61.7.0)."},
    {"evn_mbus_phase_active_power_export_watts", "gauge",
     "Active power fed into the grid per phase (22.7.0, 42.7.0, 62.7.0)."},
    {"evn_mbus_phase_active_power_net_watts", "gauge",
     "Net active power per phase, import minus export."},
    {"evn_mbus_reactive_power_import_vars", "gauge", "Reactive power import Q+ (3.7.0), in var."},
    {"evn_mbus_reactive_power_export_vars", "gauge", "Reactive power export Q- (4.7.0), in var."},
    {"evn_mbus_voltage_volts", "gauge", "Voltage per phase (32.7.0, 52.7.0, 72.7.0)."},
    {"evn_mbus_current_amperes", "gauge", "Current per phase (31.7.0, 51.7.0, 71.7.0)."},
    {"evn_mbus_power_factor_ratio", "gauge", "Power factor (13.7.0), 0 to 1."},
    {"evn_mbus_phase_power_factor_ratio", "gauge",
     "Power factor per phase (33.7.0, 53.7.0, 73.7.0)."},
    {"evn_mbus_frequency_hertz", "gauge", "Grid frequency (14.7.0)."},
    {"evn_mbus_meter_clock_timestamp_seconds", "gauge",
     "The meter's clock in the latest reading, as Unix time."},
    {"evn_mbus_last_reading_age_seconds", "gauge",
     "Seconds since the latest reading was published; absent before the first."},
};

// Which value goes to which family: a named quantity (obis_code.hpp) or a derived one
// (derived_values.hpp), with its extra label and the factor to the base unit.
struct value_metric {
    std::string_view value;
    std::string_view family;
    std::string_view label;  // `tariff="1"`, `phase="L1"` or empty
    std::int64_t factor;     // Wh and varh to J and var*s: 3600
};

constexpr std::string_view w_imp = "evn_mbus_active_energy_import_joules_total";
constexpr std::string_view w_exp = "evn_mbus_active_energy_export_joules_total";
constexpr std::string_view w_imp_t = "evn_mbus_active_energy_import_tariff_joules_total";
constexpr std::string_view w_exp_t = "evn_mbus_active_energy_export_tariff_joules_total";
constexpr std::string_view r_imp = "evn_mbus_reactive_energy_import_var_seconds_total";
constexpr std::string_view r_exp = "evn_mbus_reactive_energy_export_var_seconds_total";
constexpr std::string_view r_imp_t = "evn_mbus_reactive_energy_import_tariff_var_seconds_total";
constexpr std::string_view r_exp_t = "evn_mbus_reactive_energy_export_tariff_var_seconds_total";
constexpr std::string_view ph_imp = "evn_mbus_phase_active_power_import_watts";
constexpr std::string_view ph_exp = "evn_mbus_phase_active_power_export_watts";
constexpr std::string_view ph_net = "evn_mbus_phase_active_power_net_watts";
constexpr std::string_view volts = "evn_mbus_voltage_volts";
constexpr std::string_view amperes = "evn_mbus_current_amperes";
constexpr std::string_view ph_pf = "evn_mbus_phase_power_factor_ratio";

constexpr value_metric value_metrics[] = {
    {"w_p", w_imp, "", 3600},
    {"w_n", w_exp, "", 3600},
    {"w_p_t1", w_imp_t, "tariff=\"1\"", 3600},
    {"w_p_t2", w_imp_t, "tariff=\"2\"", 3600},
    {"w_n_t1", w_exp_t, "tariff=\"1\"", 3600},
    {"w_n_t2", w_exp_t, "tariff=\"2\"", 3600},
    {"r_p", r_imp, "", 3600},
    {"r_n", r_exp, "", 3600},
    {"r_p_t1", r_imp_t, "tariff=\"1\"", 3600},
    {"r_p_t2", r_imp_t, "tariff=\"2\"", 3600},
    {"r_n_t1", r_exp_t, "tariff=\"1\"", 3600},
    {"r_n_t2", r_exp_t, "tariff=\"2\"", 3600},
    {"p_p", "evn_mbus_active_power_import_watts", "", 1},
    {"p_n", "evn_mbus_active_power_export_watts", "", 1},
    {"p_net", "evn_mbus_active_power_net_watts", "", 1},
    {"p1_p", ph_imp, "phase=\"L1\"", 1},
    {"p2_p", ph_imp, "phase=\"L2\"", 1},
    {"p3_p", ph_imp, "phase=\"L3\"", 1},
    {"p1_n", ph_exp, "phase=\"L1\"", 1},
    {"p2_n", ph_exp, "phase=\"L2\"", 1},
    {"p3_n", ph_exp, "phase=\"L3\"", 1},
    {"p1_net", ph_net, "phase=\"L1\"", 1},
    {"p2_net", ph_net, "phase=\"L2\"", 1},
    {"p3_net", ph_net, "phase=\"L3\"", 1},
    {"q_p", "evn_mbus_reactive_power_import_vars", "", 1},
    {"q_n", "evn_mbus_reactive_power_export_vars", "", 1},
    {"u1", volts, "phase=\"L1\"", 1},
    {"u2", volts, "phase=\"L2\"", 1},
    {"u3", volts, "phase=\"L3\"", 1},
    {"i1", amperes, "phase=\"L1\"", 1},
    {"i2", amperes, "phase=\"L2\"", 1},
    {"i3", amperes, "phase=\"L3\"", 1},
    {"phi", "evn_mbus_power_factor_ratio", "", 1},
    {"phi1", ph_pf, "phase=\"L1\"", 1},
    {"phi2", ph_pf, "phase=\"L2\"", 1},
    {"phi3", ph_pf, "phase=\"L3\"", 1},
    {"f", "evn_mbus_frequency_hertz", "", 1},
};

// The daemon's health: one family each, its samples from the snapshot.
struct health_metric {
    family f;
    bool mqtt_only;  // left out when MQTT is off (decode, run without a broker)
    void (*collect)(const metrics_snapshot&, std::vector<sample>&);
};

void add(std::vector<sample>& out, std::uint64_t v) {
    out.push_back({{}, v});
}

void add(std::vector<sample>& out, std::string_view label, std::string_view value,
         std::uint64_t v) {
    out.push_back({std::string(label) + "=\"" + prometheus_escape(value) + "\"", v});
}

const health_metric health_metrics[] = {
    {{"evn_mbus_build_info", "gauge", "Always 1; the label version is evn-mbus's version."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, "version", s.version, 1);
     }},
    {{"evn_mbus_start_time_seconds", "gauge", "When the daemon started, as Unix time."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         const auto started = s.now - (s.steady_now - s.stats.started);
         const auto t = std::chrono::round<std::chrono::seconds>(started.time_since_epoch());
         out.push_back({{}, std::int64_t{t.count()}});
     }},
    {{"evn_mbus_telegrams_ok_total", "counter", "Telegrams decoded into a reading."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.stats.telegrams_ok); }},
    {{"evn_mbus_telegram_failures_total", "counter",
      "Telegrams that could not be decoded, by the error's name."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         for (const auto& [reason, n] : s.stats.failures)
             add(out, "reason", reason, n);
     }},
    {{"evn_mbus_lost_pushes_total", "counter",
      "Pushes that never arrived, by gaps in the frame counter."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, s.stats.counters.lost_pushes);
     }},
    {{"evn_mbus_push_gaps_total", "counter", "Places where the frame counter skipped pushes."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.stats.counters.gaps); }},
    {{"evn_mbus_repeated_pushes_total", "counter",
      "Pushes not published: a frame counter seen before (duplicate) or lower (backwards)."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, "reason", "duplicate", s.stats.counters.duplicates);
         add(out, "reason", "backwards", s.stats.counters.backwards);
     }},
    {{"evn_mbus_push_sequence_restarts_total", "counter",
      "Frame counter restarts accepted: a meter reset, or a jump too large for lost pushes."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, "reason", "reset", s.stats.counters.resets);
         add(out, "reason", "jump", s.stats.counters.jumps);
     }},
    {{"evn_mbus_plausibility_rejected_readings_total", "counter",
      "Readings of unauthenticated meters not published as impossible, by reason."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, "reason", "too_fast", s.stats.plausibility.too_fast);
         add(out, "reason", "backwards", s.stats.plausibility.backwards);
         add(out, "reason", "structure_changed", s.stats.plausibility.structure_changed);
     }},
    {{"evn_mbus_plausibility_new_levels_total", "counter",
      "New register levels accepted after repeated readings (meter exchanged or reset)."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, s.stats.plausibility.new_levels);
     }},
    {{"evn_mbus_pushes_without_layout_total", "counter",
      "Pushes whose plain values fit no layout: those values were left out."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, s.stats.pushes_without_layout);
     }},
    {{"evn_mbus_serial_reopens_total", "counter", "Times the meter's line was opened again."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.stats.serial_reopens); }},
    {{"evn_mbus_meter_answers_total", "counter",
      "Acknowledgements written to the meter (AMIS meters)."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.stats.answers); }},
    {{"evn_mbus_mqtt_connected", "gauge", "1 while connected to the MQTT broker, else 0."},
     true,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, s.mqtt.connected ? 1 : 0);
     }},
    {{"evn_mbus_mqtt_queued_readings", "gauge",
      "Readings queued for the broker and not yet confirmed."},
     true,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.mqtt.queued); }},
    {{"evn_mbus_mqtt_queued_bytes", "gauge", "Memory the queued readings take."},
     true,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.mqtt.queued_bytes); }},
    {{"evn_mbus_mqtt_delivered_readings_total", "counter",
      "Readings the broker confirmed (qos 0: sent), since the last start or reload."},
     true,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.mqtt.delivered); }},
    {{"evn_mbus_mqtt_dropped_readings_total", "counter",
      "Oldest readings dropped from the full MQTT queue."},
     true,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.stats.mqtt_dropped); }},
    {{"evn_mbus_mqtt_reconnects_total", "counter",
      "Connections to the broker made again after a lost one."},
     true,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, s.stats.mqtt_reconnects);
     }},
    {{"evn_mbus_mqtt_oversize_messages_total", "counter",
      "Messages dropped as larger than the broker takes, since the last start or reload."},
     true,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.mqtt.too_big); }},
    {{"evn_mbus_http_connections_open", "gauge", "HTTP connections open now."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) {
         add(out, s.http_connections_open);
     }},
    {{"evn_mbus_http_requests_total", "counter", "HTTP requests answered."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.http_requests_total); }},
    {{"evn_mbus_http_refused_connections_total", "counter",
      "HTTP connections refused (http.max_connections reached)."},
     false,
     [](const metrics_snapshot& s, std::vector<sample>& out) { add(out, s.http_refused_total); }},
};

// Integers exactly; doubles as the shortest text that reads back as the same double.
void append_number(std::string& out, const metric_number& n) {
    if (const auto* d = std::get_if<double>(&n)) {
        if (std::isnan(*d)) {
            out.append("NaN");
        } else if (std::isinf(*d)) {
            out.append(*d > 0 ? "+Inf" : "-Inf");
        } else {
            out.append(fmt::format("{}", *d));
        }
        return;
    }
    std::visit([&](auto v) { out.append(std::to_string(v)); }, n);
}

void append_family(std::string& out, const family& f, const std::vector<sample>& samples) {
    if (samples.empty()) return;
    out.append("# HELP ").append(f.name).append(" ").append(f.help).append("\n");
    out.append("# TYPE ").append(f.name).append(" ").append(f.type).append("\n");
    for (const auto& s : samples) {
        out.append(f.name);
        if (!s.labels.empty()) out.append("{").append(s.labels).append("}");
        out.append(" ");
        append_number(out, s.value);
        out.append("\n");
    }
}

// The value of a named or derived quantity times `factor`: exact where the value is.
std::optional<metric_number> value_of(const reading& r, const std::vector<derived_value>& derived,
                                      std::string_view name, std::int64_t factor) {
    std::optional<std::int64_t> integer;
    std::optional<double> value;
    for (const auto& d : derived) {
        if (d.name == name) {
            integer = d.integer;
            value = d.value;
        }
    }
    if (!value) {
        if (const obis_value* v = r.find_named(name)) {
            integer = v->scaled_integer();
            value = v->scaled();
        }
    }
    if (!value) return std::nullopt;
    std::int64_t product = 0;
    if (integer && !__builtin_mul_overflow(*integer, factor, &product)) return product;
    return *value * static_cast<double>(factor);
}

}  // namespace

std::string prometheus_meter_label(const reading& r) {
    if (!r.meter_number.empty()) return r.meter_number;
    if (r.title != system_title{}) return to_hex(r.title);
    return {};
}

std::string prometheus_escape(std::string_view label_value) {
    std::string out;
    out.reserve(label_value.size());
    for (const char c : label_value) {
        switch (c) {
            case '\\':
                out.append("\\\\");
                break;
            case '"':
                out.append("\\\"");
                break;
            case '\n':
                out.append("\\n");
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

std::string prometheus_text(const metrics_snapshot& s) {
    std::string out;
    std::vector<sample> samples;
    if (s.latest) {
        const reading& r = *s.latest;
        const std::string meter =
            std::string("meter=\"").append(prometheus_escape(s.meter)).append("\"");
        const auto derived = derived_values(r);
        for (const auto& f : reading_families) {
            samples.clear();
            for (const auto& m : value_metrics) {
                if (m.family != f.name) continue;
                const auto v = value_of(r, derived, m.value, m.factor);
                if (!v) continue;
                std::string labels = meter;
                if (!m.label.empty()) labels.append(",").append(m.label);
                samples.push_back({std::move(labels), *v});
            }
            if (f.name == "evn_mbus_meter_clock_timestamp_seconds" && r.clock) {
                samples.push_back({meter, std::int64_t{r.clock->time_since_epoch().count()}});
            }
            if (f.name == "evn_mbus_last_reading_age_seconds") {
                samples.push_back({meter, s.reading_age_seconds});
            }
            append_family(out, f, samples);
        }
    }
    for (const auto& h : health_metrics) {
        if (h.mqtt_only && !s.mqtt_enabled) continue;
        samples.clear();
        h.collect(s, samples);
        append_family(out, h.f, samples);
    }
    return out;
}

}  // namespace evn_mbus
