// A made-up household behind an EVN Kaifa MA309M, for `evn-mbus simulate` and tests: a base
// load, appliances switching on and off (more in the morning and evening), a PV system that
// exports around noon, voltages wandering around 230 V. Deterministic for a seed.
//
// Each push carries the registers in the real meter's order, types and scalers (see the EVN
// capture in fixtures/), and the JSON a decoder must produce for it, built from the register
// values put in (value x 10^scaler), not by decoding: end-to-end tests compare what went in
// with what came out.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/telegram_encoder.hpp"

namespace evn_mbus {

struct load_profile_options {
    std::uint64_t seed = 1;
    std::chrono::sys_seconds start{};  // meter clock of the first push, UTC
    std::string meter_number;          // empty: 12 digits derived from the seed
};

struct simulated_push {
    kaifa_push push;          // for telegram_encoder::encode_kaifa_notification
    nlohmann::json expected;  // what to_json(reading) must give for this push
    std::chrono::sys_seconds utc{};
    // Signed active power per phase over the interval, W (+ import, - export): what the
    // currents were computed from.
    std::array<double, 3> phase_power{};
};

class load_profile {
  public:
    explicit load_profile(const load_profile_options& options);

    // The next push, `elapsed` (simulated time) after the previous one; for the first push
    // the elapsed time is ignored. Energy counters grow by the mean power over `elapsed`,
    // which is also the power reported.
    simulated_push next(std::chrono::milliseconds elapsed);

    const std::string& meter_number() const noexcept { return meter_number_; }

    // The meter clock for an instant: Europe/Vienna local time (CET, CEST from the last
    // Sunday of March to the last Sunday of October, 01:00 UTC), deviation -60/-120 minutes
    // and the daylight-saving status bit, day of week 1 = Monday, hundredths 0 (like EVN's
    // Kaifa).
    static cosem_datetime vienna_clock(std::chrono::sys_seconds utc);

  private:
    struct appliance {
        std::array<double, 3> watts{};
        double power_factor = 1.0;
        double remaining_s = 0.0;
    };

    double uniform();  // [0, 1)
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    void step(double seconds);
    void start_appliances(double seconds, double hour_local);
    double pv_watts(std::chrono::sys_time<std::chrono::milliseconds> t) const;
    // Per-phase signed power and reactive power of the present state.
    void present_power(std::array<double, 3>& p, std::array<double, 3>& q) const;
    simulated_push make_push(const std::array<double, 3>& p, const std::array<double, 3>& q,
                             double import_w, double export_w);

    std::uint64_t rng_state_;
    std::string meter_number_;
    std::chrono::sys_time<std::chrono::milliseconds> now_;
    bool first_ = true;
    std::uint32_t invoke_id_ = 0;

    double pv_peak_w_ = 0.0;
    double cloud_ = 1.0;
    std::array<double, 3> base_w_{};
    std::array<double, 3> grid_v_{};  // voltage without this household's effect
    double fridge_phase_s_ = 0.0;     // position in the fridge's on/off cycle
    std::vector<appliance> appliances_;

    double import_wh_ = 0.0;  // counters, fractional; the meter shows whole Wh
    double export_wh_ = 0.0;
    // Accumulated over the current interval, for the mean power.
    double interval_import_ws_ = 0.0;
    double interval_export_ws_ = 0.0;
    std::array<double, 3> interval_p_ws_{};
    std::array<double, 3> interval_q_ws_{};
};

}  // namespace evn_mbus
