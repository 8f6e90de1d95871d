// Unit tests for OBIS codes, their names and COSEM unit symbols (evn_mbus/obis_code.hpp).
#include "evn_mbus/obis_code.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>
#include <vector>

namespace {

using bytes = std::vector<std::uint8_t>;
using evn_mbus::obis_code;

obis_code electricity(std::uint8_t c, std::uint8_t d, std::uint8_t e, std::uint8_t b = 0,
                      std::uint8_t f = 255) {
    return obis_code{{1, b, c, d, e, f}};
}

// ---- from_bytes / to_string ------------------------------------------------------------------

TEST(obis_code, from_six_bytes) {
    const bytes in{0x01, 0x00, 0x01, 0x08, 0x00, 0xFF};
    const auto code = obis_code::from_bytes(in);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(code->bytes, (std::array<std::uint8_t, 6>{1, 0, 1, 8, 0, 255}));
}

TEST(obis_code, from_other_lengths_is_nullopt) {
    const bytes seven{0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, 0x00};
    EXPECT_FALSE(obis_code::from_bytes(seven).has_value());
    EXPECT_FALSE(obis_code::from_bytes(std::span<const std::uint8_t>(seven).first(5)).has_value());
    EXPECT_FALSE(obis_code::from_bytes(bytes{}).has_value());
}

TEST(obis_code, to_string) {
    EXPECT_EQ(electricity(1, 8, 0).to_string(), "1-0:1.8.0.255");
    EXPECT_EQ(electricity(32, 7, 0).to_string(), "1-0:32.7.0.255");
    EXPECT_EQ((obis_code{{0, 0, 96, 1, 0, 255}}).to_string(), "0-0:96.1.0.255");
    EXPECT_EQ((obis_code{{0, 0, 0, 0, 0, 0}}).to_string(), "0-0:0.0.0.0");
    EXPECT_EQ((obis_code{{255, 254, 253, 252, 251, 250}}).to_string(), "255-254:253.252.251.250");
    EXPECT_EQ(evn_mbus::obis_clock.to_string(), "0-0:1.0.0.255");
    EXPECT_EQ(evn_mbus::obis_meter_number.to_string(), "0-0:96.1.0.255");
    EXPECT_EQ(evn_mbus::obis_device_name.to_string(), "0-0:42.0.0.255");
}

TEST(obis_code, equality) {
    EXPECT_EQ(electricity(1, 8, 0), (obis_code{{1, 0, 1, 8, 0, 255}}));
    EXPECT_NE(electricity(1, 8, 0), electricity(2, 8, 0));
    EXPECT_NE(electricity(1, 8, 0), electricity(1, 8, 0, 1));
    const bytes clock{0, 0, 1, 0, 0, 255};
    EXPECT_EQ(obis_code::from_bytes(clock), evn_mbus::obis_clock);
}

// ---- name_for --------------------------------------------------------------------------------

struct named_case {
    std::uint8_t c, d, e;
    std::string_view name;
    std::string_view unit;
};

// The names users' dashboards depend on: never change one of these.
const named_case named_cases[] = {
    {1, 8, 0, "w_p", "Wh"},
    {2, 8, 0, "w_n", "Wh"},
    {1, 7, 0, "p_p", "W"},
    {2, 7, 0, "p_n", "W"},
    {32, 7, 0, "u1", "V"},
    {52, 7, 0, "u2", "V"},
    {72, 7, 0, "u3", "V"},
    {31, 7, 0, "i1", "A"},
    {51, 7, 0, "i2", "A"},
    {71, 7, 0, "i3", "A"},
    {13, 7, 0, "phi", ""},
    // Tariffs, reactive energy and power, per-phase power and power factor, frequency.
    {1, 8, 1, "w_p_t1", "Wh"},
    {1, 8, 2, "w_p_t2", "Wh"},
    {2, 8, 1, "w_n_t1", "Wh"},
    {2, 8, 2, "w_n_t2", "Wh"},
    {3, 8, 0, "r_p", "varh"},
    {4, 8, 0, "r_n", "varh"},
    {3, 8, 1, "r_p_t1", "varh"},
    {3, 8, 2, "r_p_t2", "varh"},
    {4, 8, 1, "r_n_t1", "varh"},
    {4, 8, 2, "r_n_t2", "varh"},
    {3, 7, 0, "q_p", "var"},
    {4, 7, 0, "q_n", "var"},
    {21, 7, 0, "p1_p", "W"},
    {41, 7, 0, "p2_p", "W"},
    {61, 7, 0, "p3_p", "W"},
    {22, 7, 0, "p1_n", "W"},
    {42, 7, 0, "p2_n", "W"},
    {62, 7, 0, "p3_n", "W"},
    {33, 7, 0, "phi1", ""},
    {53, 7, 0, "phi2", ""},
    {73, 7, 0, "phi3", ""},
    {14, 7, 0, "f", "Hz"},
};

TEST(name_for, known_quantities) {
    for (const named_case& nc : named_cases) {
        const obis_code code = electricity(nc.c, nc.d, nc.e);
        const auto named = evn_mbus::name_for(code);
        ASSERT_TRUE(named.has_value()) << code.to_string();
        EXPECT_EQ(named->name, nc.name) << code.to_string();
        EXPECT_EQ(named->unit, nc.unit) << code.to_string();
        EXPECT_FALSE(named->description.empty()) << code.to_string();
    }
}

TEST(name_for, any_channel) {
    for (std::uint8_t b : {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{64}}) {
        for (const named_case& nc : named_cases) {
            const auto named = evn_mbus::name_for(electricity(nc.c, nc.d, nc.e, b));
            ASSERT_TRUE(named.has_value());
            EXPECT_EQ(named->name, nc.name);
        }
    }
}

TEST(name_for, names_are_distinct) {
    for (std::size_t i = 0; i < std::size(named_cases); ++i) {
        for (std::size_t j = i + 1; j < std::size(named_cases); ++j) {
            EXPECT_NE(named_cases[i].name, named_cases[j].name);
        }
    }
}

TEST(name_for, named_quantities_lists_every_name_once) {
    const auto all = evn_mbus::named_quantities();
    EXPECT_EQ(all.size(), std::size(named_cases));
    for (const named_case& nc : named_cases) {
        const auto n =
            std::count_if(all.begin(), all.end(), [&](const auto& q) { return q.name == nc.name; });
        EXPECT_EQ(n, 1) << nc.name;
    }
    for (const auto& q : all) {
        const auto named = evn_mbus::name_for(electricity(q.c, q.d, q.e));
        ASSERT_TRUE(named.has_value()) << q.name;
        EXPECT_EQ(named->name, q.name);
    }
    // The order of the log line and the Home Assistant sensors starts as it always did.
    EXPECT_EQ(all[0].name, "w_p");
    EXPECT_EQ(all[1].name, "w_n");
}

TEST(name_for, not_electricity_is_nullopt) {
    // Same C.D.E, but A = 0 (abstract), 6 (heat), 7 (gas).
    EXPECT_FALSE(evn_mbus::name_for(obis_code{{0, 0, 1, 8, 0, 255}}).has_value());
    EXPECT_FALSE(evn_mbus::name_for(obis_code{{6, 0, 1, 8, 0, 255}}).has_value());
    EXPECT_FALSE(evn_mbus::name_for(obis_code{{7, 0, 32, 7, 0, 255}}).has_value());
    EXPECT_FALSE(evn_mbus::name_for(evn_mbus::obis_clock).has_value());
    EXPECT_FALSE(evn_mbus::name_for(evn_mbus::obis_meter_number).has_value());
}

TEST(name_for, unknown_codes_are_nullopt) {
    EXPECT_FALSE(evn_mbus::name_for(electricity(99, 1, 0)).has_value());  // load profile
    EXPECT_FALSE(evn_mbus::name_for(electricity(96, 1, 0)).has_value());
    EXPECT_FALSE(evn_mbus::name_for(electricity(200, 200, 200)).has_value());
    EXPECT_FALSE(evn_mbus::name_for(electricity(32, 8, 0)).has_value());  // no such register
    EXPECT_FALSE(evn_mbus::name_for(electricity(1, 8, 3)).has_value());   // tariff 3: unnamed
}

// ---- unit_symbol -----------------------------------------------------------------------------

TEST(unit_symbol, common_units) {
    EXPECT_EQ(evn_mbus::unit_symbol(30), "Wh");
    EXPECT_EQ(evn_mbus::unit_symbol(32), "varh");
    EXPECT_EQ(evn_mbus::unit_symbol(29), "var");
    EXPECT_EQ(evn_mbus::unit_symbol(44), "Hz");
    EXPECT_EQ(evn_mbus::unit_symbol(27), "W");
    EXPECT_EQ(evn_mbus::unit_symbol(35), "V");
    EXPECT_EQ(evn_mbus::unit_symbol(33), "A");
}

TEST(unit_symbol, count_and_unknown_are_empty) {
    EXPECT_EQ(evn_mbus::unit_symbol(255), "");
    EXPECT_EQ(evn_mbus::unit_symbol(0), "");    // not a COSEM unit
    EXPECT_EQ(evn_mbus::unit_symbol(200), "");  // not a COSEM unit
}

}  // namespace
