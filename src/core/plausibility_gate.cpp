#include "evn_mbus/plausibility_gate.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace evn_mbus {
namespace {

// One step of a register's resolution: 10^scaler Wh for scaler > 0 (a kWh register), else 1.
double resolution(std::int8_t scaler) noexcept {
    return scaler > 0 ? std::pow(10.0, scaler) : 1.0;
}

}  // namespace

const char* to_string(plausibility_verdict v) noexcept {
    switch (v) {
        case plausibility_verdict::authenticated:
            return "authenticated";
        case plausibility_verdict::first:
            return "first";
        case plausibility_verdict::plausible:
            return "plausible";
        case plausibility_verdict::structure_changed:
            return "structure_changed";
        case plausibility_verdict::backwards:
            return "backwards";
        case plausibility_verdict::too_fast:
            return "too_fast";
        case plausibility_verdict::new_level_accepted:
            return "new_level_accepted";
    }
    return "?";
}

bool plausibility_check::publish() const noexcept {
    return verdict != plausibility_verdict::structure_changed &&
           verdict != plausibility_verdict::backwards && verdict != plausibility_verdict::too_fast;
}

bool is_energy_register(const obis_value& v) noexcept {
    const auto& b = v.code.bytes;
    if (b[0] != 1 || b[3] != 8 || !v.is_number()) return false;
    // IEC 62056-6-1 (OBIS) quantities C that only count up: total 1..10 (+A -A +R -R, the
    // four quadrants, +S -S) and 15 (|+A|+|-A|), and the same per phase (21..30 35, 41..50 55,
    // 61..70 75). Not the net 16/36/56/76 ((QI+QIV)-(QII+QIII)), which falls while the house
    // exports, nor manufacturer-specific C of 128 and above.
    const unsigned c = b[2];
    const unsigned phase_c = c >= 21 && c <= 80 ? (c - 1) % 20 + 1 : c;
    return (phase_c >= 1 && phase_c <= 10) || phase_c == 15;
}

plausibility_gate::plausibility_gate(plausibility_options options) : options_(options) {
    // Fewer would defeat the rule: every damaged reading would be taken as a new level.
    options_.accept_after = std::max<std::uint32_t>(options_.accept_after, 2);
    options_.max_meters = std::max<std::size_t>(options_.max_meters, 1);
    set_max_power_w(options_.max_power_w);
}

void plausibility_gate::set_max_power_w(double watts) noexcept {
    options_.max_power_w = watts > 0.0 ? watts : plausibility_options{}.max_power_w;
}

void plausibility_gate::take(snapshot& s, const reading& r, clock::time_point now) {
    s.entries.clear();
    for (const auto& v : r.values) {
        entry e;
        e.code = v.code;
        e.scaler = v.scaler;
        e.unit = v.unit;
        e.has_scaler_unit = v.has_scaler_unit;
        e.energy = is_energy_register(v);
        if (e.energy) e.value = v.scaled();
        s.entries.push_back(e);
    }
    s.layout = r.layout;
    s.meter_number.assign(r.meter_number);
    s.meter_clock = r.clock;
    s.received = now;
}

plausibility_check plausibility_gate::check(const reading& r, clock::time_point now) {
    plausibility_check out;
    if (r.tag_verified) return out;  // authenticated

    auto it = meters_.find(r.title);
    if (it == meters_.end()) {
        if (meters_.size() >= options_.max_meters) forget_one();
        meter& m = meters_[r.title];
        take(m.good, r, now);
        m.heard = ++heard_;
        out.verdict = plausibility_verdict::first;
        out.values = m.good.entries.size();
        return out;
    }
    meter& m = it->second;
    m.heard = ++heard_;
    take(scratch_, r, now);

    out = compare(m.good, scratch_);
    if (out.verdict == plausibility_verdict::plausible) {
        std::swap(m.good, scratch_);
        m.run = 0;
        return out;
    }

    // Failed against the baseline. Does it continue a run at a new level?
    if (m.run > 0 && compare(m.candidate, scratch_).verdict == plausibility_verdict::plausible) {
        ++m.run;
    } else {
        m.run = 1;
    }
    out.run = m.run;
    std::swap(m.candidate, scratch_);
    if (m.run >= options_.accept_after) {
        out.structure = out.verdict == plausibility_verdict::structure_changed;
        out.verdict = plausibility_verdict::new_level_accepted;
        m.good = m.candidate;
        m.run = 0;
        ++stats_.new_levels;
        return out;
    }
    switch (out.verdict) {
        case plausibility_verdict::structure_changed:
            ++stats_.structure_changed;
            break;
        case plausibility_verdict::backwards:
            ++stats_.backwards;
            break;
        default:
            ++stats_.too_fast;
            break;
    }
    return out;
}

plausibility_check plausibility_gate::compare(const snapshot& from, const snapshot& s) const {
    plausibility_check out;
    out.previous_values = from.entries.size();
    out.values = s.entries.size();
    if (from.meter_clock && s.meter_clock && *s.meter_clock >= *from.meter_clock) {
        out.seconds = static_cast<double>((*s.meter_clock - *from.meter_clock).count());
        out.by_meter_clock = true;
    } else {
        out.seconds =
            std::max(0.0, std::chrono::duration<double>(s.received - from.received).count());
    }

    const std::size_t common = std::min(from.entries.size(), s.entries.size());
    bool same = from.layout == s.layout && from.meter_number == s.meter_number &&
                from.entries.size() == s.entries.size();
    out.position = common;
    for (std::size_t i = 0; i < common; ++i) {
        const entry& a = from.entries[i];
        const entry& b = s.entries[i];
        if (a.code != b.code || a.scaler != b.scaler || a.unit != b.unit ||
            a.has_scaler_unit != b.has_scaler_unit || a.energy != b.energy) {
            same = false;
            out.position = i;
            out.code = b.code;
            break;
        }
    }
    if (!same) {
        out.verdict = plausibility_verdict::structure_changed;
        return out;
    }

    const double hours = (out.seconds + static_cast<double>(options_.clock_slack.count())) / 3600.0;
    for (std::size_t i = 0; i < common; ++i) {
        const entry& a = from.entries[i];
        const entry& b = s.entries[i];
        if (!a.energy) continue;
        if (b.value < a.value) {
            out.verdict = plausibility_verdict::backwards;
        } else {
            const double allowed = options_.max_power_w * hours + resolution(b.scaler);
            if (b.value - a.value <= allowed) continue;
            out.verdict = plausibility_verdict::too_fast;
            out.allowed = allowed;
        }
        out.code = b.code;
        out.previous = a.value;
        out.value = b.value;
        return out;
    }
    out.verdict = plausibility_verdict::plausible;
    return out;
}

void plausibility_gate::forget_one() {
    auto oldest = meters_.begin();
    for (auto it = meters_.begin(); it != meters_.end(); ++it) {
        if (it->second.heard < oldest->second.heard) oldest = it;
    }
    if (oldest != meters_.end()) meters_.erase(oldest);
}

}  // namespace evn_mbus
