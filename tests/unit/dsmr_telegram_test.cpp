// The DSMR P1 text parser (dsmr_telegram.hpp) on synthetic telegrams from our own encoder
// (telegram_encoder::dsmr_text): values, units and scalers, time stamps, ids, and every way a
// telegram can be bad. The real telegram of Energienetze Steiermark is in p1_apdu_test.cpp.
#include "evn_mbus/dsmr_telegram.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/telegram_encoder.hpp"

namespace evn_mbus::test {
namespace {

std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool crc_checked = false;  // of the last parse()

std::error_code parse(const std::string& text, reading& out) {
    out.clear();
    return parse_dsmr(as_bytes(text), out, crc_checked);
}

std::string telegram(const std::vector<std::string>& lines) {
    return telegram_encoder::dsmr_text("XYZ5\\2TEST_A", lines);
}

obis_code code(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint8_t e) {
    return obis_code{{a, b, c, d, e, 255}};
}

TEST(dsmr_crc16, is_crc16_arc) {
    // CRC-16/ARC's check value: the CRC of "123456789" (the catalogue of parametrised CRCs).
    EXPECT_EQ(dsmr_crc16(as_bytes("123456789")), 0xBB3D);
    EXPECT_EQ(dsmr_crc16({}), 0x0000);
}

TEST(dsmr_telegram, values_units_and_scalers) {
    reading r;
    ASSERT_FALSE(
        parse(telegram({"1-0:1.8.1(000123.456*kWh)", "1-0:1.7.0(01.193*kW)", "1-0:32.7.0(230.1*V)",
                        "1-0:31.7.0(001*A)", "1-0:2.8.0(000000042*Wh)", "1-3:0.2.8(50)"}),
              r));
    EXPECT_EQ(r.layout, value_layout::dsmr);
    EXPECT_EQ(r.device_name, "XYZ5\\2TEST_A");
    ASSERT_EQ(r.values.size(), 6u);
    // kWh is published in Wh: 123.456 kWh is 123,456 Wh, exactly.
    EXPECT_EQ(r.values[0].code, code(1, 0, 1, 8, 1));
    EXPECT_EQ(r.values[0].unit, 30);
    EXPECT_EQ(r.values[0].scaled_integer(), 123456);
    EXPECT_EQ(r.named("w_p_t1"), 123456.0);
    EXPECT_EQ(r.named("p_p"), 1193.0);
    EXPECT_EQ(r.values[1].unit, 27);
    EXPECT_DOUBLE_EQ(*r.named("u1"), 230.1);
    EXPECT_EQ(r.values[2].scaler, -1);
    EXPECT_EQ(r.values[2].unit, 35);
    EXPECT_EQ(r.named("i1"), 1.0);
    EXPECT_EQ(r.named("w_n"), 42.0);
    // A number without a unit: a count, no scaler or unit.
    EXPECT_TRUE(r.values[5].is_number());
    EXPECT_EQ(r.values[5].scaled(), 50.0);
    EXPECT_FALSE(r.values[5].has_scaler_unit);
    EXPECT_EQ(r.values[5].code, code(1, 3, 0, 2, 8));
}

TEST(dsmr_telegram, time_stamps_in_summer_and_winter_time) {
    reading r;
    ASSERT_FALSE(parse(telegram({"0-0:1.0.0(210929114730S)"}), r));
    ASSERT_TRUE(r.clock);
    EXPECT_EQ(format_utc(*r.clock), "2021-09-29T09:47:30Z");  // CEST: UTC+2
    ASSERT_FALSE(parse(telegram({"0-0:1.0.0(220115080000W)"}), r));
    ASSERT_TRUE(r.clock);
    EXPECT_EQ(format_utc(*r.clock), "2022-01-15T07:00:00Z");  // CET: UTC+1
    EXPECT_EQ(r.values.at(0).type, axdr_type::date_time);
    EXPECT_EQ(r.values.at(0).text, "2022-01-15T07:00:00Z");
    // An impossible date is text, not a clock.
    ASSERT_FALSE(parse(telegram({"0-0:1.0.0(221315080000W)"}), r));
    EXPECT_FALSE(r.clock);
}

TEST(dsmr_telegram, meter_number_from_the_equipment_id_decoded_from_hex) {
    reading r;
    // "E0044007131610213" as DSMR sends it, hex-coded ASCII.
    ASSERT_FALSE(parse(telegram({"0-0:96.1.1(4530303434303037313331363130323133)"}), r));
    EXPECT_EQ(r.meter_number, "E0044007131610213");
    // 0-0:96.1.0 (the operator's meter number) wins over the equipment id.
    ASSERT_FALSE(parse(telegram({"0-0:96.1.1(4530303434)", "0-0:96.1.0(1KFM0200204012)"}), r));
    EXPECT_EQ(r.meter_number, "1KFM0200204012");
    // All digits: still a number of a meter, not a count, and not hex: only the codes DSMR
    // sends hex-coded are decoded.
    ASSERT_FALSE(parse(telegram({"0-0:96.1.0(611611032083)"}), r));
    EXPECT_EQ(r.meter_number, "611611032083");
    EXPECT_FALSE(r.values.at(0).is_number());
    ASSERT_FALSE(parse(telegram({"0-0:96.1.0(314159265358)"}), r));
    EXPECT_EQ(r.meter_number, "314159265358");
    ASSERT_FALSE(parse(telegram({"0-0:96.1.0(32303231)"}), r));
    EXPECT_EQ(r.meter_number, "32303231");
    ASSERT_FALSE(parse(telegram({"0-0:96.1.1(32303231)"}), r));
    EXPECT_EQ(r.meter_number, "2021");
    // An empty operator number does not hide the equipment id.
    ASSERT_FALSE(parse(telegram({"0-0:96.1.0()", "0-0:96.1.1(4530303434)"}), r));
    EXPECT_EQ(r.meter_number, "E0044");
}

TEST(dsmr_telegram, a_value_with_a_time_stamp_and_a_log_list) {
    reading r;
    ASSERT_FALSE(parse(
        telegram({"0-1:24.2.1(101209112500W)(12785.123*m3)",
                  "1-0:99.97.0(2)(0-0:96.7.19)(101208152415W)(0000000240*s)", "0-0:96.13.0()"}),
        r));
    ASSERT_EQ(r.values.size(), 3u);
    // Gas: the value of the (time stamp)(value) pair.
    EXPECT_EQ(r.values[0].unit, 13);
    EXPECT_EQ(r.values[0].scaled_integer(), std::nullopt);  // 12785.123: not a whole number
    EXPECT_DOUBLE_EQ(r.values[0].scaled(), 12785.123);
    // The power failure log is kept as it was sent, as text.
    EXPECT_FALSE(r.values[1].is_number());
    EXPECT_EQ(r.values[1].text, "(2)(0-0:96.7.19)(101208152415W)(0000000240*s)");
    EXPECT_EQ(r.values[2].text, "");
}

TEST(dsmr_telegram, unknown_units_stay_text_never_a_number_without_its_unit) {
    reading r;
    ASSERT_FALSE(parse(telegram({"1-0:1.8.0(000123*MWh)", "1-0:2.8.0(-12*Wh)"}), r));
    EXPECT_FALSE(r.values[0].is_number());
    EXPECT_EQ(r.values[0].text, "000123*MWh");
    EXPECT_FALSE(r.named("w_p"));
    EXPECT_EQ(r.named("w_n"), -12.0);
    // A quantity evn-mbus names, in another unit than its own or in none: not that quantity.
    ASSERT_FALSE(parse(telegram({"1-0:1.8.0(1.234*kW)", "1-0:2.8.0(000123.456)",
                                 "1-0:13.7.0(0.998)", "1-0:99.1.0(5*W)"}),
                       r));
    EXPECT_FALSE(r.named("w_p"));
    EXPECT_EQ(r.values[0].text, "1.234*kW");
    EXPECT_FALSE(r.named("w_n"));
    EXPECT_EQ(r.named("phi"), 0.998);      // a power factor has no unit
    EXPECT_EQ(r.values[3].scaled(), 5.0);  // a code without a name keeps its unit
}

TEST(dsmr_telegram, no_crc_as_before_dsmr_4_is_accepted) {
    reading r;
    std::string t = telegram({"1-0:1.8.0(000001*kWh)"});
    t.erase(t.find('!') + 1, 4);
    ASSERT_FALSE(parse(t, r));
    EXPECT_EQ(r.named("w_p"), 1000.0);
    EXPECT_FALSE(crc_checked);
    ASSERT_FALSE(parse(telegram({"1-0:1.8.0(000001*kWh)"}), r));
    EXPECT_TRUE(crc_checked);
}

TEST(dsmr_telegram, bad_input_is_named) {
    reading r;
    const std::string good = telegram({"1-0:1.8.0(000001*kWh)", "1-0:2.8.0(000002*kWh)"});
    // Any one character changed: the CRC says so before a line is read; but for the line end
    // before "!", without which the telegram has no end.
    const std::size_t bang = good.find('!');
    for (std::size_t i = 1; i < bang; ++i) {
        std::string t = good;
        t[i] = static_cast<char>(t[i] ^ 0x01);
        EXPECT_EQ(parse(t, r), i == bang - 1 ? errc::dsmr_malformed : errc::dsmr_bad_crc) << i;
    }
    std::string crc_changed = good;
    crc_changed[good.find('!') + 1] = crc_changed[good.find('!') + 1] == '0' ? '1' : '0';
    EXPECT_EQ(parse(crc_changed, r), errc::dsmr_bad_crc);
    EXPECT_EQ(parse(good.substr(0, good.find('!')), r), errc::dsmr_malformed);  // no end
    EXPECT_EQ(parse(good.substr(1), r), errc::dsmr_malformed);                  // no "/"
    EXPECT_EQ(parse(good + "x", r), errc::trailing_bytes);
    EXPECT_EQ(parse(telegram({"1-0:1.8.0(000001*kWh"}), r), errc::dsmr_malformed);
    EXPECT_EQ(parse(telegram({"1-0:1.8(000001*kWh)"}), r), errc::dsmr_malformed);
    EXPECT_EQ(parse(telegram({"1-0:1.8.0"}), r), errc::dsmr_malformed);
    EXPECT_EQ(parse(telegram({"1-0:1.8.999(1)"}), r), errc::dsmr_malformed);
    EXPECT_EQ(parse(telegram({"hello"}), r), errc::dsmr_malformed);
    std::string bad_crc_digits = good;
    bad_crc_digits[good.find('!') + 1] = 'G';
    EXPECT_EQ(parse(bad_crc_digits, r), errc::dsmr_malformed);
    // And the good one still parses.
    EXPECT_FALSE(parse(good, r));
    EXPECT_EQ(r.named("w_n"), 2000.0);
}

TEST(dsmr_telegram, huge_numbers_are_text_not_wrapped) {
    reading r;
    // 19 digits do not fit the 18 taken: text, never a wrapped value.
    ASSERT_FALSE(parse(telegram({"1-0:1.8.0(1234567890123456789*Wh)"}), r));
    EXPECT_FALSE(r.values[0].is_number());
    ASSERT_FALSE(parse(telegram({"1-0:1.8.0(123456789012345678*Wh)"}), r));
    EXPECT_EQ(r.values[0].scaled_integer(), 123456789012345678);
}

}  // namespace
}  // namespace evn_mbus::test
