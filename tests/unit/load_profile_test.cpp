// The simulator's household: plausible, self-consistent values, the real Kaifa's layout, and
// JSON that the decoder reproduces exactly.
#include "load_profile.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "evn_mbus/telegram_decoder.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fixture_loader.hpp"
#include "reading_json.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono;

// Register order of the Kaifa push.
enum reg : std::size_t { w_p, w_n, p_p, p_n, u1, u2, u3, i1, i2, i3, phi, register_count };

sys_seconds utc(int y, unsigned m, unsigned d, int h, int min = 0, int s = 0) {
    return sys_days(year{y} / month{m} / day{d}) + hours{h} + minutes{min} + seconds{s};
}

double value(const simulated_push& s, std::size_t i) {
    const register_value& r = s.push.registers.at(i);
    return static_cast<double>(r.raw) * std::pow(10.0, r.scaler);
}

std::vector<simulated_push> run(std::uint64_t seed, sys_seconds start, seconds interval,
                                std::size_t n) {
    load_profile lp({seed, start, {}});
    std::vector<simulated_push> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(lp.next(interval));
    return out;
}

TEST(load_profile, counters_only_grow_and_agree_with_the_power) {
    // A whole summer day at the Kaifa's 5 s: night import, PV export around noon.
    const seconds dt{5};
    const auto pushes = run(42, utc(2024, 6, 21, 0), dt, 24 * 3600 / 5);
    const double hours_per_push = 5.0 / 3600.0;
    double import_from_power = 0.0, export_from_power = 0.0;
    bool imported = false, exported = false;
    for (std::size_t k = 1; k < pushes.size(); ++k) {
        const auto& a = pushes[k - 1];
        const auto& b = pushes[k];
        const double d_import = value(b, w_p) - value(a, w_p);
        const double d_export = value(b, w_n) - value(a, w_n);
        ASSERT_GE(d_import, 0) << k;
        ASSERT_GE(d_export, 0) << k;
        // Whole Wh on the counter, whole W for the power: one Wh plus rounding apart.
        ASSERT_NEAR(d_import, value(b, p_p) * hours_per_push, 1.0 + 0.5 * hours_per_push) << k;
        ASSERT_NEAR(d_export, value(b, p_n) * hours_per_push, 1.0 + 0.5 * hours_per_push) << k;
        import_from_power += value(b, p_p) * hours_per_push;
        export_from_power += value(b, p_n) * hours_per_push;
        imported = imported || value(b, p_p) > 0;
        exported = exported || value(b, p_n) > 0;
        ASSERT_EQ(b.utc - a.utc, dt);
    }
    const double n = static_cast<double>(pushes.size());
    const double day_import = value(pushes.back(), w_p) - value(pushes.front(), w_p);
    const double day_export = value(pushes.back(), w_n) - value(pushes.front(), w_n);
    EXPECT_NEAR(day_import, import_from_power, 1.0 + n * 0.5 * hours_per_push);
    EXPECT_NEAR(day_export, export_from_power, 1.0 + n * 0.5 * hours_per_push);
    EXPECT_TRUE(imported);
    EXPECT_TRUE(exported);
    // A household's day: a few kWh bought, PV sold in summer.
    EXPECT_GT(day_import, 1000);
    EXPECT_LT(day_import, 40000);
    EXPECT_GT(day_export, 1000);
    // No sun at 1 a.m. (local 03:00 CEST): nothing exported.
    EXPECT_EQ(value(pushes[3600 / 5], p_n), 0);
}

TEST(load_profile, voltages_currents_and_power_factor_are_plausible_and_consistent) {
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
        const auto pushes = run(seed, utc(2024, 5, 10, 4), seconds{5}, 8000);
        double volt_sum = 0.0;
        for (const auto& s : pushes) {
            double sum_abs_p = 0.0, sum_ui_phi = 0.0;
            const double pf = value(s, phi);
            ASSERT_GT(pf, 0.3);
            ASSERT_LE(pf, 1.0);
            for (std::size_t i = 0; i < 3; ++i) {
                const double u = value(s, u1 + i);
                const double amps = value(s, i1 + i);
                ASSERT_GE(u, 207.0);  // 230 V +-10 % (EN 50160)
                ASSERT_LE(u, 253.0);
                volt_sum += u;
                ASSERT_LT(amps, 63.0);  // a household's main fuse
                const double p = std::abs(s.phase_power[i]);
                // Apparent power is never below the active power.
                ASSERT_GE(u * amps + 0.005 * u + 0.05 * amps, p);
                sum_abs_p += p;
                sum_ui_phi += u * amps * pf;
            }
            // The power factor is active over apparent power of the three phases.
            ASSERT_NEAR(sum_ui_phi, sum_abs_p, 5.0 + 0.005 * sum_abs_p);
            // The phases add up to the net power the meter shows.
            ASSERT_NEAR(s.phase_power[0] + s.phase_power[1] + s.phase_power[2],
                        value(s, p_p) - value(s, p_n), 1.0);
            // A net meter shows import or export, in the same interval at most briefly both.
            ASSERT_TRUE(value(s, p_p) == 0 || value(s, p_n) == 0 ||
                        std::min(value(s, p_p), value(s, p_n)) < 2000);
        }
        const double mean = volt_sum / (3.0 * static_cast<double>(pushes.size()));
        EXPECT_GT(mean, 224.0);
        EXPECT_LT(mean, 236.0);
    }
}

TEST(load_profile, vienna_clock_in_winter_and_summer) {
    // Winter: CET, UTC+1. Monday 2024-01-15.
    cosem_datetime w = load_profile::vienna_clock(utc(2024, 1, 15, 12, 34, 56));
    EXPECT_EQ(w.year, 2024);
    EXPECT_EQ(w.month, 1);
    EXPECT_EQ(w.day, 15);
    EXPECT_EQ(w.day_of_week, 1);
    EXPECT_EQ(w.hour, 13);
    EXPECT_EQ(w.minute, 34);
    EXPECT_EQ(w.second, 56);
    EXPECT_EQ(w.hundredths, 0);
    EXPECT_EQ(w.deviation, -60);
    EXPECT_EQ(w.status, 0x00);
    // Summer: CEST, UTC+2, daylight-saving bit, as in EVN's capture (FF88h, 80h). Sunday.
    cosem_datetime s = load_profile::vienna_clock(utc(2024, 7, 14, 22, 30));
    EXPECT_EQ(s.day, 15);  // past midnight local time
    EXPECT_EQ(s.day_of_week, 1);
    EXPECT_EQ(s.hour, 0);
    EXPECT_EQ(s.minute, 30);
    EXPECT_EQ(s.deviation, -120);
    EXPECT_EQ(s.status, cosem_datetime::status_daylight_saving);
    // The switches, at 01:00 UTC on the last Sundays of March and October.
    EXPECT_EQ(load_profile::vienna_clock(utc(2024, 3, 31, 0, 59, 59)).hour, 1);
    EXPECT_EQ(load_profile::vienna_clock(utc(2024, 3, 31, 1)).hour, 3);
    EXPECT_EQ(load_profile::vienna_clock(utc(2024, 3, 31, 1)).deviation, -120);
    EXPECT_EQ(load_profile::vienna_clock(utc(2024, 10, 27, 0, 59, 59)).hour, 2);
    EXPECT_EQ(load_profile::vienna_clock(utc(2024, 10, 27, 0, 59, 59)).deviation, -120);
    EXPECT_EQ(load_profile::vienna_clock(utc(2024, 10, 27, 1)).hour, 2);
    EXPECT_EQ(load_profile::vienna_clock(utc(2024, 10, 27, 1)).deviation, -60);
    // And the meter clock reads back as the instant it was made from, across a whole year.
    for (sys_seconds t = utc(2023, 12, 31, 0); t < utc(2025, 1, 2, 0); t += minutes{37}) {
        auto c = load_profile::vienna_clock(t);
        ASSERT_EQ(c.to_utc(), t) << format_utc(t);
        c.deviation = cosem_datetime::deviation_not_specified;  // from the status bit alone
        ASSERT_EQ(c.to_utc(), t) << format_utc(t);
    }
}

TEST(load_profile, pushes_carry_the_meter_clock_and_advance_it) {
    load_profile winter({5, utc(2025, 2, 3, 6, 0, 0), "123456789012"});
    const auto a = winter.next(seconds{5});  // the first push is at the start time
    EXPECT_EQ(a.utc, utc(2025, 2, 3, 6, 0, 0));
    EXPECT_EQ(a.push.clock.hour, 7);
    EXPECT_EQ(a.push.clock.deviation, -60);
    EXPECT_EQ(a.expected.at("clock"), "2025-02-03T06:00:00Z");
    EXPECT_EQ(a.expected.at("meter_number"), "123456789012");
    const auto b = winter.next(milliseconds{7500});
    EXPECT_EQ(b.expected.at("clock"), "2025-02-03T06:00:07Z");
    const auto c = winter.next(milliseconds{7500});
    EXPECT_EQ(c.expected.at("clock"), "2025-02-03T06:00:15Z");
    EXPECT_EQ(c.push.invoke_id & 0xFFFFFFU, (a.push.invoke_id + 2) & 0xFFFFFFU);
    EXPECT_EQ(c.push.invoke_id & 0xFF000000U, 0x80000000U);  // high priority, like EVN's

    load_profile summer({5, utc(2025, 8, 3, 6, 0, 0), {}});
    const auto d = summer.next(seconds{5});
    EXPECT_EQ(d.push.clock.hour, 8);
    EXPECT_EQ(d.push.clock.deviation, -120);
    EXPECT_EQ(d.push.clock.status, 0x80);
    EXPECT_EQ(d.push.meter_number.size(), 12u);
}

TEST(load_profile, same_seed_same_pushes) {
    const auto a = run(7, utc(2024, 9, 1, 8), seconds{5}, 2000);
    const auto b = run(7, utc(2024, 9, 1, 8), seconds{5}, 2000);
    const auto c = run(8, utc(2024, 9, 1, 8), seconds{5}, 2000);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i].expected, b[i].expected) << i;
        ASSERT_EQ(telegram_encoder::encode_kaifa_notification(a[i].push),
                  telegram_encoder::encode_kaifa_notification(b[i].push));
        if (a[i].expected != c[i].expected) ++differ;
    }
    EXPECT_EQ(differ, a.size());
    // The household changes: not the same power all the time.
    std::size_t changes = 0;
    for (std::size_t i = 1; i < a.size(); ++i) {
        if (a[i].expected.at("p_p") != a[i - 1].expected.at("p_p") ||
            a[i].expected.at("p_n") != a[i - 1].expected.at("p_n")) {
            ++changes;
        }
    }
    EXPECT_GT(changes, a.size() / 2);
}

TEST(load_profile, every_push_decodes_to_exactly_the_expected_json) {
    telegram_encoder enc;
    const aes_key key{0x36, 0xC6, 0x66, 0x39, 0xE4, 0x8A, 0x8C, 0xA4,
                      0xD6, 0xBC, 0x8B, 0x28, 0x2A, 0x79, 0x3B, 0xBB};
    const system_title title{'K', 'F', 'M', 0x67, 0x50, 0x00, 0x00, 0x09};
    std::uint32_t fc = 1;
    // Different seasons and intervals, including none (two pushes in the same second).
    const std::pair<sys_seconds, milliseconds> runs[] = {
        {utc(2024, 1, 10, 5), milliseconds{5000}},
        {utc(2024, 7, 10, 9), milliseconds{1000}},
        {utc(2024, 3, 31, 0, 55), milliseconds{60000}},
        {utc(2024, 11, 2, 17), milliseconds{0}},
    };
    for (const auto& [start, interval] : runs) {
        load_profile lp({fc, start, {}});
        for (int i = 0; i < 400; ++i) {
            const simulated_push s = lp.next(interval);
            bytes apdu;
            ASSERT_FALSE(enc.encrypt(telegram_encoder::encode_kaifa_notification(s.push), key,
                                     std::nullopt, title, fc++, 0x20, apdu));
            const auto frames = telegram_encoder::segment_mbus(apdu, 245);
            // Two frames of 256 and 26 bytes, like EVN's capture.
            ASSERT_EQ(frames.size(), 2u);
            ASSERT_EQ(frames[0].size(), 256u);
            ASSERT_EQ(frames[1].size(), 26u);
            const auto out = decode_all({key, std::nullopt}, concat(frames));
            ASSERT_TRUE(out.errors.empty()) << out.errors[0].message();
            ASSERT_EQ(out.readings.size(), 1u);
            const nlohmann::json got = to_json(out.readings[0]);
            ASSERT_EQ(got, s.expected) << got.dump() << "\n" << s.expected.dump();
            // Equal as text too: integers stay integers, 233.7 stays 233.7.
            ASSERT_EQ(got.dump(), s.expected.dump());
        }
    }
}

TEST(load_profile, layout_is_byte_for_byte_the_real_kaifa) {
    // EVN's published push (fixtures/evn_kaifa_ma309_doc.hex), rebuilt: same clock, meter
    // number and values must give the same plaintext.
    const capture& real = capture_by_id("evn_kaifa_ma309_doc");
    load_profile lp({1, utc(2021, 9, 27, 7, 47, 15), "181220000009"});
    simulated_push s = lp.next(seconds{5});
    ASSERT_EQ(s.push.registers.size(), static_cast<std::size_t>(register_count));
    const std::int64_t values[register_count] = {12937, 0, 0, 0, 2337, 0, 0, 0, 0, 0, 1000};
    for (std::size_t i = 0; i < register_count; ++i)
        s.push.registers[i].raw = values[i];
    s.push.invoke_id = 0x8006870E;
    EXPECT_EQ(to_hex(telegram_encoder::encode_kaifa_notification(s.push)), to_hex(real.plaintext));
}

}  // namespace
}  // namespace evn_mbus::test
