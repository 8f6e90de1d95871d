// The plausibility gate for untagged meters (plausibility_gate.hpp). Readings are made up here
// in the EVN Kaifa's layout (clock, A+, A-, P+, meter number); the receive clock is a fake
// steady_clock time moved on by hand.
#include "evn_mbus/plausibility_gate.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
using verdict = plausibility_verdict;

const system_title kaifa{'K', 'F', 'M', 0x67, 0x50, 0x00, 0x00, 0x09};

obis_value reg(std::uint8_t c, std::uint8_t d, std::uint64_t value, std::uint8_t unit,
               std::int8_t scaler = 0) {
    obis_value v;
    v.code.bytes = {1, 0, c, d, 0, 255};
    v.type = axdr_type::double_long_unsigned;
    v.raw_unsigned = value;
    v.scaler = scaler;
    v.unit = unit;
    v.has_scaler_unit = true;
    return v;
}

struct rig {
    plausibility_gate gate;
    plausibility_gate::clock::time_point now{};
    std::chrono::sys_seconds meter_clock{std::chrono::sys_days{2026y / 12 / 2} + 6h};
    bool send_clock = true;

    explicit rig(plausibility_options o = {}) : gate(o) {}

    static reading make(std::uint64_t w_p, std::uint64_t w_n = 1000, std::uint64_t p_p = 300) {
        reading r;
        r.title = kaifa;
        r.encrypted = true;
        r.security_control = 0x20;
        r.layout = value_layout::obis_tagged;
        r.meter_number = "181220000009";
        r.values.push_back(reg(1, 8, w_p, 30));
        r.values.push_back(reg(2, 8, w_n, 30));
        r.values.push_back(reg(1, 7, p_p, 27));
        return r;
    }
    // One push `after` later (5 s: a Kaifa's interval), by both clocks.
    plausibility_check push(reading r, std::chrono::seconds after = 5s) {
        now += after;
        meter_clock += after;
        if (send_clock) r.clock = meter_clock;
        return gate.check(r, now);
    }
    plausibility_check push(std::uint64_t w_p, std::chrono::seconds after = 5s) {
        return push(make(w_p), after);
    }
};

TEST(plausibility_gate, first_reading_is_the_baseline_and_steady_readings_pass) {
    rig r;
    EXPECT_EQ(r.push(7'016'121).verdict, verdict::first);
    EXPECT_EQ(r.push(7'016'121).verdict, verdict::plausible);
    EXPECT_EQ(r.push(7'016'150).verdict, verdict::plausible);
    EXPECT_EQ(r.gate.stats().rejected(), 0u);
}

// The reading of issue 13: bit 24 of A+ flipped between two readings of 7,016,121.
TEST(plausibility_gate, a_flipped_high_bit_is_too_fast_and_the_next_reading_passes) {
    rig r;
    r.push(7'016'121);
    const auto c = r.push(7'016'121 + (1u << 24));
    EXPECT_EQ(c.verdict, verdict::too_fast);
    EXPECT_FALSE(c.publish());
    EXPECT_EQ(c.code, (obis_code{{1, 0, 1, 8, 0, 255}}));
    EXPECT_EQ(c.previous, 7'016'121.0);
    EXPECT_EQ(c.value, 23'793'337.0);
    EXPECT_TRUE(c.by_meter_clock);
    EXPECT_EQ(c.seconds, 5.0);
    // 60 kW for 5 s + 2 s of clock slack, + 1 Wh of resolution.
    EXPECT_NEAR(c.allowed, 60'000.0 * 7 / 3600 + 1, 1e-9);
    EXPECT_EQ(r.push(7'016'125).verdict, verdict::plausible);
    EXPECT_EQ(r.gate.stats().too_fast, 1u);
    EXPECT_EQ(r.gate.stats().new_levels, 0u);
}

TEST(plausibility_gate, the_bound_is_the_maximum_power_times_the_elapsed_time) {
    plausibility_options o;
    o.max_power_w = 43'470.0;  // 3 x 63 A x 230 V
    o.clock_slack = 0s;
    rig r(o);
    r.push(1'000'000);
    // 43.47 kW for 5 s = 60.4 Wh, + 1 Wh resolution.
    EXPECT_EQ(r.push(1'000'061).verdict, verdict::plausible);
    EXPECT_EQ(r.push(1'000'061 + 62).verdict, verdict::too_fast);
    // A long gap (a day without pushes) allows correspondingly more: 43.47 kWh per hour.
    EXPECT_EQ(r.push(1'000'061 + 43'000 * 24, 24h).verdict, verdict::plausible);
}

TEST(plausibility_gate, any_energy_register_going_down_is_backwards) {
    rig r;
    r.push(rig::make(5000, 1000));
    auto c = r.push(rig::make(5000, 999));
    EXPECT_EQ(c.verdict, verdict::backwards);
    EXPECT_EQ(c.code, (obis_code{{1, 0, 2, 8, 0, 255}}));
    EXPECT_EQ(c.previous, 1000.0);
    EXPECT_EQ(c.value, 999.0);
    EXPECT_EQ(r.push(4999).verdict, verdict::backwards);
    // Power is no register: it may fall to nothing.
    EXPECT_EQ(r.push(rig::make(5000, 1000, 0)).verdict, verdict::plausible);
    EXPECT_EQ(r.gate.stats().backwards, 2u);
}

// The net register 1-0:16.8.0 ((QI+QIV)-(QII+QIII)) falls while a PV system exports: no
// counter. The per-phase A+ (1-0:21.8.0) and |A| (15.8.0) are.
TEST(plausibility_gate, only_registers_that_count_up_must_not_go_down) {
    auto with = [](int c, std::uint64_t v) {
        reading x = rig::make(5000);
        x.values.push_back(reg(static_cast<std::uint8_t>(c), 8, v, 30));
        return x;
    };
    rig r;
    r.push(with(16, 4000));
    EXPECT_EQ(r.push(with(16, 3990)).verdict, verdict::plausible);
    EXPECT_EQ(r.push(with(16, 3980)).verdict, verdict::plausible);
    for (const int c : {15, 21, 41, 61, 70}) {
        rig p;
        p.push(with(c, 4000));
        EXPECT_EQ(p.push(with(c, 3990)).verdict, verdict::backwards) << c;
    }
    for (const int c : {36, 56, 76, 128}) {
        rig p;
        p.push(with(c, 4000));
        EXPECT_EQ(p.push(with(c, 3990)).verdict, verdict::plausible) << c;
    }
}

TEST(plausibility_gate, a_changed_structure_is_not_published) {
    rig r;
    r.push(5000);
    reading other_code = rig::make(5000);
    other_code.values[0].code.bytes[4] = 1;  // 1.8.0 became 1.8.1 (w_p_t1)
    auto c = r.push(other_code);
    EXPECT_EQ(c.verdict, verdict::structure_changed);
    EXPECT_EQ(c.position, 0u);
    reading scaled = rig::make(5000);
    scaled.values[2].scaler = 3;  // a thousandfold power
    EXPECT_EQ(r.push(scaled).verdict, verdict::structure_changed);
    reading fewer = rig::make(5000);
    fewer.values.pop_back();
    c = r.push(fewer);
    EXPECT_EQ(c.verdict, verdict::structure_changed);
    EXPECT_EQ(c.previous_values, 3u);
    EXPECT_EQ(c.values, 2u);
    reading number = rig::make(5000);
    number.meter_number = "181220000019";
    EXPECT_EQ(r.push(number).verdict, verdict::structure_changed);
    EXPECT_EQ(r.gate.stats().structure_changed, 4u);
    EXPECT_EQ(r.push(5000).verdict, verdict::plausible);
}

// A meter exchanged (same system title: a plaintext meter) or reset starts at a new level;
// after `accept_after` consistent readings it is taken, the first two are not published.
TEST(plausibility_gate, a_sustained_new_level_is_accepted_after_three_readings) {
    rig r;
    r.push(7'016'121);
    EXPECT_EQ(r.push(12).verdict, verdict::backwards);
    EXPECT_EQ(r.push(13).verdict, verdict::backwards);
    const auto c = r.push(15);
    EXPECT_EQ(c.verdict, verdict::new_level_accepted);
    EXPECT_TRUE(c.publish());
    EXPECT_EQ(c.previous, 7'016'121.0);
    EXPECT_EQ(c.value, 15.0);
    EXPECT_EQ(c.run, 3u);
    EXPECT_EQ(r.push(16).verdict, verdict::plausible);
    EXPECT_EQ(r.push(7'016'121).verdict, verdict::too_fast);  // the old level is gone
    EXPECT_EQ(r.gate.stats().new_levels, 1u);
    EXPECT_EQ(r.gate.stats().backwards, 2u);
}

TEST(plausibility_gate, a_new_structure_is_accepted_after_three_readings) {
    rig r;
    r.push(5000);
    reading more = rig::make(5000);
    more.values.push_back(reg(3, 8, 10, 32));  // a firmware update adds R+
    EXPECT_EQ(r.push(more).verdict, verdict::structure_changed);
    EXPECT_EQ(r.push(more).verdict, verdict::structure_changed);
    const auto c = r.push(more);
    EXPECT_EQ(c.verdict, verdict::new_level_accepted);
    EXPECT_TRUE(c.structure);
    EXPECT_EQ(r.push(more).verdict, verdict::plausible);
}

// Damage now and then does not add up to a new level: each damaged reading is followed by an
// intact one, which passes and ends the run.
TEST(plausibility_gate, scattered_damage_never_becomes_a_new_level) {
    rig r;
    r.push(5000);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(r.push(5000 + (1u << 20)).verdict, verdict::too_fast);
        EXPECT_EQ(r.push(5000).verdict, verdict::plausible);
    }
    // Nor do damaged readings that disagree with each other.
    EXPECT_EQ(r.push(5000 + (1u << 20)).verdict, verdict::too_fast);
    EXPECT_EQ(r.push(1).verdict, verdict::backwards);
    EXPECT_EQ(r.push(5000 + (1u << 22)).verdict, verdict::too_fast);
    EXPECT_EQ(r.gate.stats().new_levels, 0u);
}

// Nothing to compare the first reading with: a damaged one is published, and the intact ones
// after it are taken as a new level after three of them.
TEST(plausibility_gate, a_damaged_first_reading_costs_two_readings) {
    rig r;
    EXPECT_EQ(r.push(5000 + (1u << 24)).verdict, verdict::first);
    EXPECT_EQ(r.push(5000).verdict, verdict::backwards);
    EXPECT_EQ(r.push(5005).verdict, verdict::backwards);
    EXPECT_EQ(r.push(5010).verdict, verdict::new_level_accepted);
    EXPECT_EQ(r.push(5015).verdict, verdict::plausible);
}

TEST(plausibility_gate, tagged_readings_are_not_checked) {
    rig r;
    reading tagged = rig::make(7'016'121);
    tagged.security_control = 0x30;
    tagged.tag_verified = true;
    EXPECT_EQ(r.push(tagged).verdict, verdict::authenticated);
    tagged.values[0].raw_unsigned = 1;
    EXPECT_EQ(r.push(tagged).verdict, verdict::authenticated);
    tagged.values.pop_back();
    EXPECT_TRUE(r.push(tagged).publish());
    EXPECT_EQ(r.gate.stats().rejected(), 0u);
    // And they set no baseline: the first untagged reading is the first.
    EXPECT_EQ(r.push(7'016'121).verdict, verdict::first);
}

// Without a meter clock (or with one that went backwards) the receive time counts.
TEST(plausibility_gate, without_a_meter_clock_the_receive_time_counts) {
    rig r;
    r.send_clock = false;
    r.push(5000);
    auto c = r.push(5000 + 100, 10s);  // 60 kW x 12 s = 200 Wh
    EXPECT_EQ(c.verdict, verdict::plausible);
    EXPECT_FALSE(c.by_meter_clock);
    EXPECT_EQ(c.seconds, 10.0);
    EXPECT_EQ(r.push(5100 + 1000, 1s).verdict, verdict::too_fast);

    rig back;
    back.push(5000);
    back.meter_clock -= 1h;  // the meter's clock was set back
    c = back.push(5000 + 150, 7s);
    EXPECT_FALSE(c.by_meter_clock);
    EXPECT_EQ(c.verdict, verdict::plausible);
}

// A replay at full speed (simulator, buffered line): the meter clock keeps the time right.
TEST(plausibility_gate, the_meter_clock_wins_over_a_fast_replay) {
    rig r;
    r.push(5000);
    reading next = rig::make(5000 + 500);  // 500 Wh in 60 s = 30 kW
    r.meter_clock += 55s;
    EXPECT_EQ(r.push(next, 5s).verdict, verdict::plausible);
}

TEST(plausibility_gate, kwh_registers_get_one_step_of_resolution) {
    rig r;
    reading kwh = rig::make(0);
    kwh.values[0] = reg(1, 8, 7016, 30, 3);  // 7016 kWh, in whole kWh
    r.push(kwh);
    kwh.values[0].raw_unsigned = 7017;  // rounded up within 5 s
    EXPECT_EQ(r.push(kwh).verdict, verdict::plausible);
    kwh.values[0].raw_unsigned = 7019;
    EXPECT_EQ(r.push(kwh).verdict, verdict::too_fast);
}

}  // namespace
}  // namespace evn_mbus
