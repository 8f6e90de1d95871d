#include "load_profile.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace evn_mbus {
namespace {

using namespace std::chrono;

// The registers of EVN's Kaifa MA309M push, in wire order (fixtures/evn_kaifa_ma309_doc.hex,
// decrypted): energy and power uint32 with scaler 0, voltages uint16 in 0.1 V, currents
// uint16 in 0.01 A, power factor uint16 in 0.001 without unit.
struct register_spec {
    obis_code code;
    std::int8_t scaler;
    std::uint8_t unit;  // COSEM unit enum
    bool wide;
    const char* name;         // JSON key, as reading_json names it
    const char* unit_symbol;  // empty: no "unit" in the JSON
};

constexpr register_spec kaifa_registers[] = {
    {{{1, 0, 1, 8, 0, 255}}, 0, 30, true, "w_p", "Wh"},
    {{{1, 0, 2, 8, 0, 255}}, 0, 30, true, "w_n", "Wh"},
    {{{1, 0, 1, 7, 0, 255}}, 0, 27, true, "p_p", "W"},
    {{{1, 0, 2, 7, 0, 255}}, 0, 27, true, "p_n", "W"},
    {{{1, 0, 32, 7, 0, 255}}, -1, 35, false, "u1", "V"},
    {{{1, 0, 52, 7, 0, 255}}, -1, 35, false, "u2", "V"},
    {{{1, 0, 72, 7, 0, 255}}, -1, 35, false, "u3", "V"},
    {{{1, 0, 31, 7, 0, 255}}, -2, 33, false, "i1", "A"},
    {{{1, 0, 51, 7, 0, 255}}, -2, 33, false, "i2", "A"},
    {{{1, 0, 71, 7, 0, 255}}, -2, 33, false, "i3", "A"},
    {{{1, 0, 13, 7, 0, 255}}, -3, 255, false, "phi", ""},
};

// Appliances a household switches on: power split over the phases, duration, power factor
// and how often it is chosen relative to the others.
struct appliance_kind {
    std::array<double, 3> share;  // all zero: one phase at random
    double watts_lo, watts_hi;
    double minutes_lo, minutes_hi;
    double power_factor;
    double weight;
};

constexpr appliance_kind appliance_kinds[] = {
    {{1, 0, 0}, 1800, 2200, 2, 4, 1.0, 3.0},                     // kettle
    {{0, 1, 0}, 900, 1300, 1, 6, 0.95, 2.0},                     // microwave
    {{1.0 / 3, 1.0 / 3, 1.0 / 3}, 2000, 5500, 8, 40, 1.0, 1.0},  // cooktop
    {{0.5, 0.5, 0}, 2000, 3000, 25, 60, 1.0, 0.5},               // oven
    {{0, 0, 1}, 400, 900, 60, 120, 0.8, 0.6},                    // washing machine (average)
    {{0, 1, 0}, 700, 1200, 60, 120, 0.9, 0.5},                   // dishwasher (average)
    {{0, 0, 1}, 80, 250, 30, 180, 0.93, 2.0},                    // TV, computer
    {{0, 0, 0}, 30, 150, 30, 240, 0.92, 3.0},                    // lights
    {{1, 0, 0}, 800, 1500, 5, 20, 0.85, 0.4},                    // vacuum cleaner
    {{0, 0, 1}, 1200, 2000, 3, 8, 1.0, 0.6},                     // hair dryer
};

constexpr double fridge_watts = 90.0;
constexpr double fridge_on_s = 900.0;
constexpr double fridge_cycle_s = 2400.0;
constexpr double base_power_factor = 0.9;
constexpr double line_resistance_ohm = 0.35;  // supply impedance: load lowers the voltage
constexpr std::size_t max_appliances = 10;

// How busy the household is at a local hour (appliance starts per hour), for about 18
// starts and 12 kWh a day.
double activity(double hour_local) {
    const int h = static_cast<int>(hour_local);
    if (h < 6) return 0.15;
    if (h < 9) return 1.2;
    if (h < 12) return 0.6;
    if (h < 14) return 1.0;
    if (h < 17) return 0.5;
    if (h < 22) return 1.5;
    return 0.6;
}

bool is_summer_time(sys_seconds utc) {
    const year y = year_month_day(floor<days>(utc)).year();
    const sys_seconds begin = sys_days(y / March / Sunday[last]) + 1h;
    const sys_seconds end = sys_days(y / October / Sunday[last]) + 1h;
    return utc >= begin && utc < end;
}

std::uint16_t clamp_u16(double v) {
    return static_cast<std::uint16_t>(std::clamp(std::lround(v), 0L, 65535L));
}

// Register value as reading_json shows it: exact integers stay integers, scaled values are
// the raw value divided by a power of ten (the double nearest the decimal).
nlohmann::json scaled_json(std::int64_t raw, std::int8_t scaler) {
    if (scaler >= 0) {
        std::int64_t factor = 1;
        for (int i = 0; i < scaler; ++i)
            factor *= 10;
        return raw * factor;
    }
    // Exact powers of ten from a table: GCC -O2 turned the former multiply-in-a-loop into
    // something that gave 2302 / 10 = 230.20000000000002.
    static constexpr double powers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    const int n = -scaler;
    return static_cast<double>(raw) / (n < 10 ? powers[n] : std::pow(10.0, n));
}

}  // namespace

load_profile::load_profile(const load_profile_options& options)
    : rng_state_(options.seed ^ 0x45564E2D4D425553ULL),  // "EVN-MBUS"
      meter_number_(options.meter_number),
      now_(options.start) {
    if (meter_number_.empty()) {
        meter_number_ = std::to_string(100000000000ULL +
                                       static_cast<std::uint64_t>(uniform() * 899999999999.0));
    }
    invoke_id_ = static_cast<std::uint32_t>(uniform() * 0x1000000);
    pv_peak_w_ = uniform(4000, 8000);
    cloud_ = uniform(0.4, 1.0);
    for (std::size_t i = 0; i < 3; ++i) {
        base_w_[i] = uniform(30, 80);
        grid_v_[i] = 230.0 + uniform(-3, 3);
    }
    fridge_phase_s_ = uniform(0, fridge_cycle_s);
    import_wh_ = std::floor(uniform(2e6, 2e7));
    export_wh_ = std::floor(uniform(2e5, 8e6));
}

double load_profile::uniform() {
    // splitmix64: the same numbers on every platform and standard library.
    std::uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
}

cosem_datetime load_profile::vienna_clock(sys_seconds utc) {
    const bool summer = is_summer_time(utc);
    const sys_seconds local = utc + (summer ? 2h : 1h);
    const sys_days day = floor<days>(local);
    const year_month_day ymd(day);
    const hh_mm_ss<seconds> tod(local - day);
    cosem_datetime c;
    c.year = static_cast<std::uint16_t>(static_cast<int>(ymd.year()));
    c.month = static_cast<std::uint8_t>(static_cast<unsigned>(ymd.month()));
    c.day = static_cast<std::uint8_t>(static_cast<unsigned>(ymd.day()));
    c.day_of_week = static_cast<std::uint8_t>(weekday(day).iso_encoding());
    c.hour = static_cast<std::uint8_t>(tod.hours().count());
    c.minute = static_cast<std::uint8_t>(tod.minutes().count());
    c.second = static_cast<std::uint8_t>(tod.seconds().count());
    c.hundredths = 0;
    // Deviation: minutes from local time to UTC, as EVN's Kaifa sends it (FF88h = -120).
    c.deviation = static_cast<std::int16_t>(summer ? -120 : -60);
    c.status = summer ? cosem_datetime::status_daylight_saving : 0x00;
    return c;
}

double load_profile::pv_watts(sys_time<milliseconds> t) const {
    // Standard time (CET) keeps solar noon at about 11:55 all year in Vienna.
    const auto cet = t + 1h;
    const sys_days day = floor<days>(cet);
    const double hour = duration<double, std::ratio<3600>>(cet - day).count();
    const year_month_day ymd(day);
    const double doy = static_cast<double>((day - sys_days(ymd.year() / January / 1)).count());
    const double season = std::cos(2.0 * std::numbers::pi * (doy - 172.0) / 365.25);
    const double day_length = 12.0 + 3.9 * season;  // 8 h in December, 16 h in June
    const double x = (hour - (11.92 - day_length / 2.0)) / day_length;
    if (x <= 0.0 || x >= 1.0) return 0.0;
    const double elevation = std::pow(std::sin(std::numbers::pi * x), 1.3);
    return pv_peak_w_ * 0.85 * (0.55 + 0.45 * season) * elevation * cloud_;
}

void load_profile::start_appliances(double seconds, double hour_local) {
    const double starts_per_hour = activity(hour_local);
    if (appliances_.size() >= max_appliances) return;
    if (uniform() >= starts_per_hour * seconds / 3600.0) return;
    double total = 0.0;
    for (const auto& k : appliance_kinds)
        total += k.weight;
    double pick = uniform() * total;
    const appliance_kind* kind = &appliance_kinds[0];
    for (const auto& k : appliance_kinds) {
        kind = &k;
        if (pick < k.weight) break;
        pick -= k.weight;
    }
    appliance a;
    const double watts = uniform(kind->watts_lo, kind->watts_hi);
    std::array<double, 3> share = kind->share;
    if (share[0] + share[1] + share[2] == 0.0) {
        share[std::min<std::size_t>(2, static_cast<std::size_t>(uniform() * 3.0))] = 1.0;
    }
    for (std::size_t i = 0; i < 3; ++i)
        a.watts[i] = watts * share[i];
    a.power_factor = kind->power_factor;
    a.remaining_s = 60.0 * uniform(kind->minutes_lo, kind->minutes_hi);
    appliances_.push_back(a);
}

void load_profile::present_power(std::array<double, 3>& p, std::array<double, 3>& q) const {
    const double pv_per_phase = pv_watts(now_) / 3.0;
    const auto reactive = [](double watts, double pf) {
        return watts * std::sqrt(1.0 - pf * pf) / pf;
    };
    for (std::size_t i = 0; i < 3; ++i) {
        double w = base_w_[i];
        double var = reactive(base_w_[i], base_power_factor);
        if (i == 0 && fridge_phase_s_ < fridge_on_s) {
            w += fridge_watts;
            var += reactive(fridge_watts, 0.8);
        }
        for (const auto& a : appliances_) {
            w += a.watts[i];
            var += reactive(a.watts[i], a.power_factor);
        }
        p[i] = w - pv_per_phase;
        q[i] = var;
    }
}

void load_profile::step(double seconds) {
    // Sub-steps of at most a second: appliances start and stop inside long intervals too.
    while (seconds > 0.0) {
        const double dt = std::min(1.0, seconds);
        seconds -= dt;
        const auto local = now_ + (is_summer_time(floor<std::chrono::seconds>(now_)) ? 2h : 1h);
        const double hour_local =
            duration<double, std::ratio<3600>>(local - floor<days>(local)).count();
        start_appliances(dt, hour_local);
        const double root_dt = std::sqrt(dt);
        cloud_ = std::clamp(cloud_ + (uniform() - 0.5) * 0.02 * root_dt, 0.15, 1.0);
        for (auto& v : grid_v_) {
            v += (230.0 - v) * 0.002 * dt + (uniform() - 0.5) * 0.1 * root_dt;
        }
        for (std::size_t i = 0; i < 3; ++i) {
            base_w_[i] = std::clamp(base_w_[i] + (uniform() - 0.5) * 2.0 * root_dt, 20.0, 120.0);
        }

        std::array<double, 3> p{}, q{};
        present_power(p, q);
        const double net = p[0] + p[1] + p[2];
        if (net > 0) {
            interval_import_ws_ += net * dt;
            import_wh_ += net * dt / 3600.0;
        } else {
            interval_export_ws_ -= net * dt;
            export_wh_ -= net * dt / 3600.0;
        }
        for (std::size_t i = 0; i < 3; ++i) {
            interval_p_ws_[i] += p[i] * dt;
            interval_q_ws_[i] += q[i] * dt;
        }

        fridge_phase_s_ = std::fmod(fridge_phase_s_ + dt, fridge_cycle_s);
        for (auto& a : appliances_)
            a.remaining_s -= dt;
        std::erase_if(appliances_, [](const appliance& a) { return a.remaining_s <= 0.0; });
        now_ += milliseconds(std::llround(dt * 1000.0));
    }
}

simulated_push load_profile::next(milliseconds elapsed) {
    const double seconds = first_ ? 0.0 : static_cast<double>(elapsed.count()) / 1000.0;
    first_ = false;
    interval_import_ws_ = interval_export_ws_ = 0.0;
    interval_p_ws_ = interval_q_ws_ = {};
    step(seconds);

    // The power reported is the mean over the interval, so the counters agree with it; with
    // no time elapsed it is the power of the moment.
    std::array<double, 3> p{}, q{};
    double import_w = 0.0, export_w = 0.0;
    if (seconds > 0.0) {
        for (std::size_t i = 0; i < 3; ++i) {
            p[i] = interval_p_ws_[i] / seconds;
            q[i] = interval_q_ws_[i] / seconds;
        }
        import_w = interval_import_ws_ / seconds;
        export_w = interval_export_ws_ / seconds;
    } else {
        present_power(p, q);
        const double net = p[0] + p[1] + p[2];
        (net > 0 ? import_w : export_w) = std::abs(net);
    }
    return make_push(p, q, import_w, export_w);
}

simulated_push load_profile::make_push(const std::array<double, 3>& p,
                                       const std::array<double, 3>& q, double import_w,
                                       double export_w) {
    simulated_push out;
    out.utc = floor<seconds>(now_);
    out.phase_power = p;

    std::array<std::int64_t, std::size(kaifa_registers)> raw{};
    raw[0] = static_cast<std::int64_t>(static_cast<std::uint32_t>(std::floor(import_wh_)));
    raw[1] = static_cast<std::int64_t>(static_cast<std::uint32_t>(std::floor(export_wh_)));
    raw[2] = std::llround(import_w);
    raw[3] = std::llround(export_w);
    // Voltage: the grid's, lowered by what this household draws on the phase (raised by
    // what it feeds in).
    std::array<double, 3> volts{};
    double sum_p = 0.0, sum_s = 0.0;
    for (std::size_t i = 0; i < 3; ++i) {
        const double v = std::clamp(grid_v_[i] - p[i] / 230.0 * line_resistance_ohm, 208.0, 252.0);
        raw[4 + i] = clamp_u16(v * 10.0);
        volts[i] = static_cast<double>(raw[4 + i]) / 10.0;
        sum_p += std::abs(p[i]);
        sum_s += std::hypot(p[i], q[i]);
    }
    // Power factor: active over apparent power, both summed over the phases.
    raw[10] = sum_s < 1.0 ? 1000 : clamp_u16(std::min(1.0, sum_p / sum_s) * 1000.0);
    for (std::size_t i = 0; i < 3; ++i) {
        raw[7 + i] = clamp_u16(std::hypot(p[i], q[i]) / volts[i] * 100.0);
    }

    kaifa_push& push = out.push;
    push.invoke_id = 0x80000000U | (invoke_id_++ & 0xFFFFFFU);  // high priority, like EVN's
    push.clock = vienna_clock(out.utc);
    push.meter_number = meter_number_;
    nlohmann::json j = nlohmann::json::object();
    nlohmann::json obis = nlohmann::json::object();
    for (std::size_t i = 0; i < std::size(kaifa_registers); ++i) {
        const register_spec& spec = kaifa_registers[i];
        register_value r;
        r.code = spec.code;
        r.raw = raw[i];
        r.scaler = spec.scaler;
        r.unit = spec.unit;
        r.wide = spec.wide;
        push.registers.push_back(r);

        const nlohmann::json value = scaled_json(raw[i], spec.scaler);
        j[spec.name] = value;
        nlohmann::json entry = {{"value", value}};
        if (*spec.unit_symbol != '\0') entry["unit"] = spec.unit_symbol;
        obis[spec.code.to_string()] = std::move(entry);
    }
    // Derived as derived_values.hpp defines it: P+ - P-, both in W with scaler 0.
    j["p_net"] = scaled_json(raw[2] - raw[3], 0);
    j["meter_number"] = meter_number_;
    j["clock"] = format_utc(out.utc);
    j["obis"] = std::move(obis);
    out.expected = std::move(j);
    return out;
}

}  // namespace evn_mbus
