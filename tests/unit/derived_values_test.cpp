// Derived values (p_net = p_p - p_n, per phase): on real captures and on synthetic readings
// for the cases no capture shows (per-phase power, decimals, floats).
#include <gtest/gtest.h>

#include "derived_values.hpp"
#include "fixture_loader.hpp"
#include "mqtt_topics.hpp"
#include "reading_json.hpp"

namespace evn_mbus::test {
namespace {

obis_value power(std::uint8_t c, std::int64_t raw, std::int8_t scaler = 0) {
    obis_value v;
    v.code = obis_code{{1, 0, c, 7, 0, 255}};
    v.type = axdr_type::double_long;
    v.raw_signed = raw;
    v.scaler = scaler;
    v.unit = 27;  // W
    v.has_scaler_unit = true;
    return v;
}

std::string payload_of(const std::vector<mqtt_message>& ms, const std::string& topic) {
    for (const auto& m : ms) {
        if (m.topic == topic) return m.payload;
    }
    return "<absent>";
}

// Every capture that sends both P+ and P-: p_net is their difference, exact, in the JSON, on
// its own topic; none without both.
TEST(derived_values, p_net_of_every_real_capture) {
    int with_both = 0;
    for (const auto& c : all_captures()) {
        const auto d = decode_all(c.keys, concat(c.frames));
        ASSERT_FALSE(d.readings.empty()) << c.id;
        const reading& r = d.readings.front();
        const auto p = r.named("p_p");
        const auto n = r.named("p_n");
        const auto j = to_json(r);
        const auto ms = reading_messages(r, {}, {}, mqtt_config{});
        if (!p || !n) {
            EXPECT_TRUE(derived_values(r).empty()) << c.id;
            EXPECT_FALSE(j.contains("p_net")) << c.id;
            EXPECT_EQ(payload_of(ms, "evn/p_net"), "<absent>") << c.id;
            continue;
        }
        ++with_both;
        const auto net = derived_value_of(r, "p_net");
        ASSERT_TRUE(net.has_value()) << c.id;
        EXPECT_EQ(net->value, *p - *n) << c.id;
        ASSERT_TRUE(net->integer.has_value()) << c.id << ": every capture sends whole watts";
        EXPECT_EQ(j.at("p_net"), *net->integer) << c.id;
        EXPECT_EQ(payload_of(ms, "evn/p_net"), std::to_string(*net->integer)) << c.id;
        EXPECT_FALSE(j.at("obis").dump().find("p_net") != std::string::npos) << c.id;
    }
    EXPECT_GE(with_both, 8);
}

// Energienetze Steiermark's P1 capture exports more than it imports: 544 W - 1803 W.
TEST(derived_values, exporting_household_has_a_negative_net_power) {
    const auto& c = capture_by_id("shrdzm_sagemcom_steiermark");
    const auto d = decode_all(c.keys, concat(c.frames));
    ASSERT_EQ(d.readings.size(), 1u);
    const auto v = derived_values(d.readings.front());
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].name, "p_net");
    EXPECT_EQ(v[0].integer, -1259);
    EXPECT_EQ(to_json(d.readings.front()).at("p_net"), -1259);
}

// Synthetic: a meter that sends the phases (no capture does), in the table's order.
TEST(derived_values, per_phase_net_power_when_both_directions_are_sent) {
    reading r;
    r.values = {power(1, 1500), power(2, 0),    power(21, 900), power(22, 0),
                power(41, 0),   power(42, 300), power(61, 600)};  // no P- on L3
    const auto v = derived_values(r);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0], (derived_value{"p_net", 1500.0, 1500}));
    EXPECT_EQ(v[1], (derived_value{"p1_net", 900.0, 900}));
    EXPECT_EQ(v[2], (derived_value{"p2_net", -300.0, -300}));
    EXPECT_FALSE(derived_value_of(r, "p3_net"));
    const auto ms = reading_messages(r, {}, {}, mqtt_config{});
    EXPECT_EQ(payload_of(ms, "evn/p2_net"), "-300");
    EXPECT_EQ(payload_of(ms, "evn/p3_net"), "<absent>");
    EXPECT_EQ(to_json(r).at("p1_net"), 900);
}

// Synthetic: decimals are subtracted as integers, so the text is what a person expects.
TEST(derived_values, decimals_subtract_without_binary_noise) {
    reading r;
    r.values = {power(1, 23, -1), power(2, 2, -1)};  // 2.3 W - 0.2 W
    auto v = derived_value_of(r, "p_net");
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->integer);
    EXPECT_EQ(v->value, 2.1);
    EXPECT_EQ(to_json(r).at("p_net").dump(), "2.1");

    // Mixed scalers: 1 kW (1 x 10^3) - 250.5 W (2505 x 10^-1).
    r.values = {power(1, 1, 3), power(2, 2505, -1)};
    v = derived_value_of(r, "p_net");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->value, 749.5);

    // Both with positive scalers: an integer.
    r.values = {power(1, 12, 2), power(2, 3, 1)};
    v = derived_value_of(r, "p_net");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->integer, 1170);
    EXPECT_EQ(to_json(r).at("p_net").dump(), "1170");

    // A float: plain subtraction, no integer.
    obis_value f = power(2, 0);
    f.type = axdr_type::float64;
    f.raw_float = 0.5;
    r.values = {power(1, 2), f};
    v = derived_value_of(r, "p_net");
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->integer);
    EXPECT_EQ(v->value, 1.5);
}

TEST(derived_values, the_table_names_no_core_quantity) {
    for (const auto& q : derived_quantities()) {
        for (const auto& n : named_quantities())
            EXPECT_NE(q.name, n.name);
        EXPECT_EQ(q.unit, "W");
    }
    EXPECT_EQ(derived_quantities().size(), 4u);
}

}  // namespace
}  // namespace evn_mbus::test
