// Golden tests on real captures (fixtures/README.md names their sources): every value the
// source publishes is checked, and the decryption byte for byte against the plaintext an
// independent decoder produced.
#include <gtest/gtest.h>

#include <cmath>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/error.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

reading decode_one(const capture& c, telegram_decoder& dec) {
    dec.feed(concat(c.frames));
    dec.on_idle_gap();
    const auto ev = dec.next();
    EXPECT_EQ(ev.what, decode_event::kind::reading) << c.id << ": " << ev.error.message();
    reading r = ev.what == decode_event::kind::reading ? *ev.value : reading{};
    EXPECT_EQ(dec.next().what, decode_event::kind::need_more);
    return r;
}

double value_of(const reading& r, std::string_view name) {
    const auto v = r.named(name);
    EXPECT_TRUE(v.has_value()) << name;
    return v.value_or(NAN);
}

std::string unit_of(const reading& r, const obis_code& code) {
    const auto* v = r.find(code);
    return v ? std::string(unit_symbol(v->unit)) : "<absent>";
}

class golden : public ::testing::TestWithParam<std::string> {};

TEST_P(golden, decrypts_to_the_published_plaintext_and_consumes_every_frame) {
    const auto& c = capture_by_id(GetParam());
    telegram_decoder dec(c.keys);
    decode_one(c, dec);
    const auto p = dec.last_plaintext();
    EXPECT_EQ(bytes(p.begin(), p.end()), c.plaintext);
    EXPECT_EQ(dec.link_statistics().frames, c.frames.size());
    EXPECT_EQ(dec.link_statistics().skipped_bytes, 0u);
}

INSTANTIATE_TEST_SUITE_P(real_captures, golden,
                         ::testing::Values("evn_kaifa_ma309_doc", "tinetz_kaifa_ma309_doc",
                                           "evn_sagemcom_t210d_fkw9"));

TEST(golden_evn_kaifa, every_published_value) {
    const auto& c = capture_by_id("evn_kaifa_ma309_doc");
    const auto& e = c.expected;
    telegram_decoder dec(c.keys);
    const reading r = decode_one(c, dec);

    // "2021-09-27T09:47:15+02:00"
    ASSERT_TRUE(r.clock.has_value());
    EXPECT_EQ(format_utc(*r.clock), "2021-09-27T07:47:15Z");
    EXPECT_EQ(r.meter_number, e.at("meter_number").get<std::string>());
    EXPECT_DOUBLE_EQ(value_of(r, "w_p"), e.at("1.8.0_Wh").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "w_n"), e.at("2.8.0_Wh").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "p_p"), e.at("1.7.0_W").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "p_n"), e.at("2.7.0_W").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "u1"), e.at("U1_V").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "u2"), e.at("U2_V").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "u3"), e.at("U3_V").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "i1"), e.at("I1_A").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "i2"), e.at("I2_A").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "i3"), e.at("I3_A").get<double>());
    EXPECT_DOUBLE_EQ(value_of(r, "phi"), e.at("PF").get<double>());

    EXPECT_EQ(unit_of(r, obis_code{{1, 0, 1, 8, 0, 255}}), "Wh");
    EXPECT_EQ(unit_of(r, obis_code{{1, 0, 1, 7, 0, 255}}), "W");
    EXPECT_EQ(unit_of(r, obis_code{{1, 0, 32, 7, 0, 255}}), "V");
    EXPECT_EQ(unit_of(r, obis_code{{1, 0, 31, 7, 0, 255}}), "A");
    EXPECT_EQ(r.values.size(), 11u);
    // Security header, as the source's notes give it.
    EXPECT_EQ(to_hex(r.title), "4B464D6750000009");
    EXPECT_EQ(r.manufacturer(), "KFM");
    EXPECT_EQ(r.frame_counter, 0x23u);
    EXPECT_EQ(r.security_control, 0x20);
    EXPECT_TRUE(r.encrypted);
    EXPECT_FALSE(r.tag_verified);
    EXPECT_EQ(r.invoke_id, 0x8006870Eu);
}

// The source publishes the decrypted bytes (checked above byte for byte); the values below
// are read by hand from that published plaintext.
TEST(golden_tinetz_kaifa, values_of_the_published_plaintext) {
    const auto& c = capture_by_id("tinetz_kaifa_ma309_doc");
    telegram_decoder dec(c.keys);
    const reading r = decode_one(c, dec);
    ASSERT_TRUE(r.clock.has_value());
    EXPECT_EQ(format_utc(*r.clock), "2021-07-19T13:46:35Z");  // 15:46:35, deviation -120
    EXPECT_EQ(r.meter_number, "1KFM0100000035");              // 0-0:96.1.0.255
    EXPECT_EQ(r.device_name, "KFM1100100000035");             // 0-0:42.0.0.255
    EXPECT_DOUBLE_EQ(value_of(r, "u1"), 230.8);               // 0904h, scaler -1
    EXPECT_DOUBLE_EQ(value_of(r, "i1"), 0.0);
    EXPECT_DOUBLE_EQ(value_of(r, "p_p"), 0.0);
    EXPECT_DOUBLE_EQ(value_of(r, "p_n"), 0.0);
    EXPECT_DOUBLE_EQ(value_of(r, "w_p"), 9108.0);  // 2394h Wh
    EXPECT_DOUBLE_EQ(value_of(r, "w_n"), 0.0);
    EXPECT_FALSE(r.named("u2").has_value());  // single-phase values only
    const auto* rplus = r.find(obis_code{{1, 0, 3, 8, 0, 255}});
    ASSERT_NE(rplus, nullptr);
    EXPECT_DOUBLE_EQ(rplus->scaled(), 96.0);
    EXPECT_EQ(unit_symbol(rplus->unit), "varh");
    const auto* rminus = r.find(obis_code{{1, 0, 4, 8, 0, 255}});
    ASSERT_NE(rminus, nullptr);
    EXPECT_DOUBLE_EQ(rminus->scaled(), 9.0);
    EXPECT_EQ(r.frame_counter, 0x00295B9Au);
    EXPECT_EQ(r.security_control, 0x21);
    EXPECT_EQ(to_hex(r.title), "4B464D1010000023");
}

TEST(golden_evn_sagemcom, overflowed_length_field_and_values_of_the_plaintext) {
    const auto& c = capture_by_id("evn_sagemcom_t210d_fkw9");
    ASSERT_EQ(c.frames[0][1], 0x01);  // the quirk this capture is here for
    ASSERT_EQ(c.frames[0].size(), 263u);
    telegram_decoder dec(c.keys);
    const reading r = decode_one(c, dec);
    ASSERT_TRUE(r.clock.has_value());
    EXPECT_EQ(format_utc(*r.clock), "2023-04-14T15:56:05Z");  // 17:56:05, deviation -120
    EXPECT_EQ(r.meter_number, "178210431186");
    EXPECT_DOUBLE_EQ(value_of(r, "w_p"), 627660.0);  // 0993CCh
    EXPECT_DOUBLE_EQ(value_of(r, "w_n"), 0.0);
    EXPECT_DOUBLE_EQ(value_of(r, "p_p"), 515.0);  // 0203h
    EXPECT_DOUBLE_EQ(value_of(r, "p_n"), 0.0);
    EXPECT_DOUBLE_EQ(value_of(r, "u1"), 232.9);
    EXPECT_DOUBLE_EQ(value_of(r, "u2"), 236.5);
    EXPECT_DOUBLE_EQ(value_of(r, "u3"), 237.2);
    EXPECT_DOUBLE_EQ(value_of(r, "i1"), 0.85);
    EXPECT_DOUBLE_EQ(value_of(r, "i2"), 0.94);
    EXPECT_DOUBLE_EQ(value_of(r, "i3"), 1.18);
    EXPECT_DOUBLE_EQ(value_of(r, "phi"), 0.819);  // signed 16-bit on this meter
    EXPECT_EQ(r.manufacturer(), "SAG");
    EXPECT_EQ(r.frame_counter, 0x1576u);
}

}  // namespace
}  // namespace evn_mbus::test
