// Unit tests for COSEM date-time parsing and conversion to UTC (evn_mbus/cosem_datetime.hpp).
//
// Expected instants are computed here with <chrono> calendar types, independently of the code
// under test.
#include "evn_mbus/cosem_datetime.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evn_mbus/axdr_writer.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;
using evn_mbus::cosem_datetime;
namespace chr = std::chrono;

chr::sys_seconds utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
    return chr::sys_days{chr::year{y} / chr::month{mo} / chr::day{d}} + chr::hours{h} +
           chr::minutes{mi} + chr::seconds{s};
}

cosem_datetime local(std::uint16_t y, std::uint8_t mo, std::uint8_t d, std::uint8_t h,
                     std::uint8_t mi, std::uint8_t s, std::int16_t deviation, std::uint8_t status) {
    cosem_datetime dt;
    dt.year = y;
    dt.month = mo;
    dt.day = d;
    dt.day_of_week = 0xFF;
    dt.hour = h;
    dt.minute = mi;
    dt.second = s;
    dt.hundredths = 0;
    dt.deviation = deviation;
    dt.status = status;
    return dt;
}

constexpr std::int16_t unspecified = cosem_datetime::deviation_not_specified;

// ---- parse -----------------------------------------------------------------------------------

TEST(cosem_datetime_parse, kaifa_example_fields) {
    const bytes in{0x07, 0xE5, 0x09, 0x1B, 0x01, 0x09, 0x2F, 0x0F, 0x00, 0xFF, 0x88, 0x80};
    const auto dt = cosem_datetime::parse(in);
    ASSERT_TRUE(dt.has_value());
    EXPECT_EQ(dt->year, 2021);
    EXPECT_EQ(dt->month, 9);
    EXPECT_EQ(dt->day, 27);
    EXPECT_EQ(dt->day_of_week, 1);
    EXPECT_EQ(dt->hour, 9);
    EXPECT_EQ(dt->minute, 47);
    EXPECT_EQ(dt->second, 15);
    EXPECT_EQ(dt->hundredths, 0);
    EXPECT_EQ(dt->deviation, -120);
    EXPECT_EQ(dt->status, 0x80);
}

TEST(cosem_datetime_parse, deviation_not_specified_and_status) {
    const bytes in{0x07, 0xE6, 0x02, 0x15, 0x01, 0x11, 0x25, 0x1E, 0xFF, 0x80, 0x00, 0x00};
    const auto dt = cosem_datetime::parse(in);
    ASSERT_TRUE(dt.has_value());
    EXPECT_EQ(dt->year, 2022);
    EXPECT_EQ(dt->month, 2);
    EXPECT_EQ(dt->day, 21);
    EXPECT_EQ(dt->hour, 17);
    EXPECT_EQ(dt->minute, 37);
    EXPECT_EQ(dt->second, 30);
    EXPECT_EQ(dt->hundredths, 0xFF);
    EXPECT_EQ(dt->deviation, cosem_datetime::deviation_not_specified);
    EXPECT_EQ(dt->status, 0x00);
}

TEST(cosem_datetime_parse, positive_deviation_is_big_endian) {
    const bytes in{0x07, 0xE8, 0x01, 0x02, 0xFF, 0x03, 0x04, 0x05, 0x06, 0x01, 0x2C, 0x01};
    const auto dt = cosem_datetime::parse(in);
    ASSERT_TRUE(dt.has_value());
    EXPECT_EQ(dt->deviation, 300);
    EXPECT_EQ(dt->hundredths, 6);
    EXPECT_EQ(dt->status, 0x01);
    EXPECT_EQ(dt->day_of_week, 0xFF);
}

TEST(cosem_datetime_parse, rejects_other_lengths) {
    const bytes twelve{0x07, 0xE5, 0x09, 0x1B, 0x01, 0x09, 0x2F, 0x0F, 0x00, 0xFF, 0x88, 0x80};
    for (std::size_t n : {0u, 1u, 5u, 11u, 13u, 24u}) {
        bytes in(n, 0x00);
        for (std::size_t i = 0; i < n && i < twelve.size(); ++i)
            in[i] = twelve[i];
        EXPECT_FALSE(cosem_datetime::parse(in).has_value()) << n;
    }
}

TEST(cosem_datetime_parse, writer_round_trip) {
    const cosem_datetime dt = local(2023, 12, 31, 23, 59, 58, -60, 0x00);
    bytes out;
    evn_mbus::axdr_writer::put_date_time(out, dt);
    ASSERT_EQ(out.size(), 12u);
    const auto back = cosem_datetime::parse(out);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->year, dt.year);
    EXPECT_EQ(back->month, dt.month);
    EXPECT_EQ(back->day, dt.day);
    EXPECT_EQ(back->day_of_week, dt.day_of_week);
    EXPECT_EQ(back->hour, dt.hour);
    EXPECT_EQ(back->minute, dt.minute);
    EXPECT_EQ(back->second, dt.second);
    EXPECT_EQ(back->hundredths, dt.hundredths);
    EXPECT_EQ(back->deviation, dt.deviation);
    EXPECT_EQ(back->status, dt.status);
}

// ---- to_utc with a deviation -----------------------------------------------------------------

TEST(cosem_datetime_to_utc, kaifa_example) {
    const bytes in{0x07, 0xE5, 0x09, 0x1B, 0x01, 0x09, 0x2F, 0x0F, 0x00, 0xFF, 0x88, 0x80};
    const auto dt = cosem_datetime::parse(in);
    ASSERT_TRUE(dt.has_value());
    const auto t = dt->to_utc();
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(*t, utc(2021, 9, 27, 7, 47, 15));
    EXPECT_EQ(evn_mbus::format_utc(*t), "2021-09-27T07:47:15Z");
}

TEST(cosem_datetime_to_utc, deviation_is_added) {
    EXPECT_EQ(local(2021, 1, 15, 12, 0, 0, -60, 0x00).to_utc(), utc(2021, 1, 15, 11, 0, 0));
    EXPECT_EQ(local(2021, 1, 15, 12, 0, 0, 0, 0x00).to_utc(), utc(2021, 1, 15, 12, 0, 0));
    EXPECT_EQ(local(2021, 1, 15, 12, 0, 0, 60, 0x00).to_utc(), utc(2021, 1, 15, 13, 0, 0));
    EXPECT_EQ(local(2021, 1, 15, 12, 0, 0, 330, 0x00).to_utc(), utc(2021, 1, 15, 17, 30, 0));
}

TEST(cosem_datetime_to_utc, specified_deviation_wins_over_status) {
    // The DST bit says summer, but the deviation says -60: the deviation decides.
    EXPECT_EQ(local(2021, 7, 1, 12, 0, 0, -60, 0x80).to_utc(), utc(2021, 7, 1, 11, 0, 0));
    EXPECT_EQ(local(2021, 1, 1, 12, 0, 0, -120, 0x00).to_utc(), utc(2021, 1, 1, 10, 0, 0));
    EXPECT_EQ(local(2021, 1, 1, 12, 0, 0, -120, 0xFF).to_utc(), utc(2021, 1, 1, 10, 0, 0));
}

TEST(cosem_datetime_to_utc, crosses_day_month_and_year_boundaries) {
    EXPECT_EQ(local(2021, 12, 31, 23, 30, 0, 60, 0x00).to_utc(), utc(2022, 1, 1, 0, 30, 0));
    EXPECT_EQ(local(2021, 1, 1, 0, 30, 0, -120, 0x80).to_utc(), utc(2020, 12, 31, 22, 30, 0));
    EXPECT_EQ(local(2024, 3, 1, 0, 15, 0, -60, 0x00).to_utc(), utc(2024, 2, 29, 23, 15, 0));
    EXPECT_EQ(local(2023, 3, 1, 0, 15, 0, -60, 0x00).to_utc(), utc(2023, 2, 28, 23, 15, 0));
}

TEST(cosem_datetime_to_utc, leap_day) {
    EXPECT_EQ(local(2024, 2, 29, 12, 0, 0, 0, 0x00).to_utc(), utc(2024, 2, 29, 12, 0, 0));
    EXPECT_EQ(local(2000, 2, 29, 12, 0, 0, 0, 0x00).to_utc(), utc(2000, 2, 29, 12, 0, 0));
}

TEST(cosem_datetime_to_utc, hundredths_do_not_change_the_second) {
    cosem_datetime dt = local(2021, 6, 1, 8, 0, 5, 0, 0x00);
    dt.hundredths = 99;
    EXPECT_EQ(dt.to_utc(), utc(2021, 6, 1, 8, 0, 5));
    dt.hundredths = 0xFF;  // not specified
    EXPECT_EQ(dt.to_utc(), utc(2021, 6, 1, 8, 0, 5));
}

TEST(cosem_datetime_to_utc, day_of_week_not_specified_is_fine) {
    cosem_datetime dt = local(2021, 6, 1, 8, 0, 0, -120, 0x80);
    dt.day_of_week = 0xFF;
    EXPECT_EQ(dt.to_utc(), utc(2021, 6, 1, 6, 0, 0));
}

// ---- to_utc without a deviation: Europe/Vienna -----------------------------------------------

TEST(cosem_datetime_to_utc, landis_gyr_example_winter) {
    const bytes in{0x07, 0xE6, 0x02, 0x15, 0x01, 0x11, 0x25, 0x1E, 0xFF, 0x80, 0x00, 0x00};
    const auto dt = cosem_datetime::parse(in);
    ASSERT_TRUE(dt.has_value());
    const auto t = dt->to_utc();
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(*t, utc(2022, 2, 21, 16, 37, 30));
    EXPECT_EQ(evn_mbus::format_utc(*t), "2022-02-21T16:37:30Z");
}

TEST(cosem_datetime_to_utc, status_daylight_saving_bit_decides) {
    // The status is trusted even where the calendar would say otherwise.
    EXPECT_EQ(local(2021, 7, 1, 12, 0, 0, unspecified, 0x80).to_utc(), utc(2021, 7, 1, 10, 0, 0));
    EXPECT_EQ(local(2021, 7, 1, 12, 0, 0, unspecified, 0x00).to_utc(), utc(2021, 7, 1, 11, 0, 0));
    EXPECT_EQ(local(2021, 1, 1, 12, 0, 0, unspecified, 0x00).to_utc(), utc(2021, 1, 1, 11, 0, 0));
    EXPECT_EQ(local(2021, 1, 1, 12, 0, 0, unspecified, 0x80).to_utc(), utc(2021, 1, 1, 10, 0, 0));
}

TEST(cosem_datetime_to_utc, no_valid_status_uses_eu_rule_mid_season) {
    EXPECT_EQ(local(2021, 7, 15, 12, 0, 0, unspecified, 0xFF).to_utc(), utc(2021, 7, 15, 10, 0, 0));
    EXPECT_EQ(local(2021, 1, 15, 12, 0, 0, unspecified, 0xFF).to_utc(), utc(2021, 1, 15, 11, 0, 0));
    EXPECT_EQ(local(2021, 12, 24, 18, 0, 0, unspecified, 0xFF).to_utc(),
              utc(2021, 12, 24, 17, 0, 0));
}

TEST(cosem_datetime_to_utc, no_valid_status_eu_rule_around_spring_change) {
    // 2021: last Sunday of March is the 28th; at 01:00 UTC (02:00 CET) clocks go to 03:00 CEST.
    EXPECT_EQ(local(2021, 3, 27, 12, 0, 0, unspecified, 0xFF).to_utc(), utc(2021, 3, 27, 11, 0, 0));
    EXPECT_EQ(local(2021, 3, 28, 1, 30, 0, unspecified, 0xFF).to_utc(), utc(2021, 3, 28, 0, 30, 0));
    EXPECT_EQ(local(2021, 3, 28, 3, 30, 0, unspecified, 0xFF).to_utc(), utc(2021, 3, 28, 1, 30, 0));
    EXPECT_EQ(local(2021, 3, 28, 12, 0, 0, unspecified, 0xFF).to_utc(), utc(2021, 3, 28, 10, 0, 0));
    // 2022: the 27th; the 21st (a Monday after the last-but-one Sunday) is still winter time.
    EXPECT_EQ(local(2022, 3, 21, 12, 0, 0, unspecified, 0xFF).to_utc(), utc(2022, 3, 21, 11, 0, 0));
    EXPECT_EQ(local(2022, 3, 26, 12, 0, 0, unspecified, 0xFF).to_utc(), utc(2022, 3, 26, 11, 0, 0));
    EXPECT_EQ(local(2022, 3, 27, 4, 0, 0, unspecified, 0xFF).to_utc(), utc(2022, 3, 27, 2, 0, 0));
    EXPECT_EQ(local(2022, 3, 31, 12, 0, 0, unspecified, 0xFF).to_utc(), utc(2022, 3, 31, 10, 0, 0));
}

TEST(cosem_datetime_to_utc, no_valid_status_eu_rule_around_autumn_change) {
    // 2021: last Sunday of October is the 31st; at 01:00 UTC (03:00 CEST) back to 02:00 CET.
    EXPECT_EQ(local(2021, 10, 30, 12, 0, 0, unspecified, 0xFF).to_utc(),
              utc(2021, 10, 30, 10, 0, 0));
    EXPECT_EQ(local(2021, 10, 31, 0, 30, 0, unspecified, 0xFF).to_utc(),
              utc(2021, 10, 30, 22, 30, 0));
    EXPECT_EQ(local(2021, 10, 31, 4, 0, 0, unspecified, 0xFF).to_utc(), utc(2021, 10, 31, 3, 0, 0));
    EXPECT_EQ(local(2021, 11, 1, 12, 0, 0, unspecified, 0xFF).to_utc(), utc(2021, 11, 1, 11, 0, 0));
    // 2022: the 30th; the 24th (Monday after the last-but-one Sunday) is still summer time.
    EXPECT_EQ(local(2022, 10, 24, 12, 0, 0, unspecified, 0xFF).to_utc(),
              utc(2022, 10, 24, 10, 0, 0));
    EXPECT_EQ(local(2022, 10, 29, 12, 0, 0, unspecified, 0xFF).to_utc(),
              utc(2022, 10, 29, 10, 0, 0));
    EXPECT_EQ(local(2022, 10, 30, 12, 0, 0, unspecified, 0xFF).to_utc(),
              utc(2022, 10, 30, 11, 0, 0));
}

// ---- fields not specified or out of range ----------------------------------------------------

TEST(cosem_datetime_to_utc, not_specified_fields_give_nullopt) {
    const cosem_datetime good = local(2021, 9, 27, 9, 47, 15, -120, 0x80);
    ASSERT_TRUE(good.to_utc().has_value());

    cosem_datetime dt = good;
    dt.year = 0xFFFF;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.month = 0xFF;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.month = 0xFD;  // DST begin
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.month = 0xFE;  // DST end
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.day = 0xFF;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.hour = 0xFF;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.minute = 0xFF;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.second = 0xFF;
    EXPECT_FALSE(dt.to_utc().has_value());
}

TEST(cosem_datetime_to_utc, out_of_range_fields_give_nullopt) {
    const cosem_datetime good = local(2021, 9, 27, 9, 47, 15, -120, 0x80);
    cosem_datetime dt = good;
    dt.month = 0;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.month = 13;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.day = 0;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.day = 32;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.month = 2;
    dt.day = 30;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.hour = 24;
    EXPECT_FALSE(dt.to_utc().has_value());
    dt = good;
    dt.minute = 60;
    EXPECT_FALSE(dt.to_utc().has_value());
}

TEST(cosem_datetime_to_utc, default_constructed_is_not_a_time) {
    EXPECT_FALSE(cosem_datetime{}.to_utc().has_value());
}

TEST(cosem_datetime_to_utc, all_not_specified_bytes) {
    const bytes in{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0xFF};
    const auto dt = cosem_datetime::parse(in);
    ASSERT_TRUE(dt.has_value());  // parses: 12 bytes
    EXPECT_FALSE(dt->to_utc().has_value());
}

// ---- format_utc ------------------------------------------------------------------------------

TEST(format_utc, iso_8601_with_z) {
    EXPECT_EQ(evn_mbus::format_utc(utc(2021, 9, 27, 7, 47, 15)), "2021-09-27T07:47:15Z");
    EXPECT_EQ(evn_mbus::format_utc(utc(2025, 1, 2, 3, 4, 5)), "2025-01-02T03:04:05Z");
    EXPECT_EQ(evn_mbus::format_utc(utc(1999, 12, 31, 23, 59, 59)), "1999-12-31T23:59:59Z");
    EXPECT_EQ(evn_mbus::format_utc(chr::sys_seconds{chr::seconds{0}}), "1970-01-01T00:00:00Z");
}

}  // namespace
