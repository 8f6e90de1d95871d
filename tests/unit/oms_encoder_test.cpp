// The simulator's AMIS pushes (oms_encoder.hpp): with the values, clock, header and key of the
// operator's example and of vzlogger's pushes, the encoder must give those frames byte for
// byte; and what it makes from other values decodes back to them.
#include "evn_mbus/oms_encoder.hpp"

#include <gtest/gtest.h>

#include "evn_mbus/telegram_decoder.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

cosem_datetime local_time(std::uint16_t y, std::uint8_t mo, std::uint8_t d, std::uint8_t h,
                          std::uint8_t mi, std::uint8_t s, bool summer) {
    cosem_datetime t;
    t.year = y;
    t.month = mo;
    t.day = d;
    t.hour = h;
    t.minute = mi;
    t.second = s;
    t.status = summer ? cosem_datetime::status_daylight_saving : 0x00;
    return t;
}

TEST(oms_encoder, the_operators_example_comes_out_byte_for_byte) {
    const capture& c = capture_by_id("amis_netzooe_spec_example");
    amis_push p;
    p.access_number = 0x0D;
    p.clock = local_time(2014, 7, 1, 8, 12, 31, true);
    p.w_p = 684544;
    p.w_n = 129412;
    p.r_p = 357918;
    p.r_n = 81446;
    p.p_n = 117;
    p.vendor_register = 20;
    EXPECT_EQ(oms_encoder::records(p), c.plaintext);
    oms_encoder enc;
    bytes frame;
    ASSERT_FALSE(enc.encode(p, c.keys.key, frame));
    EXPECT_EQ(to_hex(frame), to_hex(concat(c.frames)));
}

TEST(oms_encoder, vzloggers_first_push_comes_out_byte_for_byte) {
    const capture& c = capture_by_id("amis_vzlogger_mock_acc0");
    amis_push p;
    p.fcb = true;
    p.clock = local_time(2015, 6, 20, 23, 36, 2, true);
    p.w_p = 895563;
    p.r_p = 11243;
    p.r_n = 117922;
    p.p_p = 435;
    p.q_p = 9;
    p.q_n = 134;
    oms_encoder enc;
    bytes frame;
    ASSERT_FALSE(enc.encode(p, c.keys.key, frame));
    EXPECT_EQ(to_hex(frame), to_hex(concat(c.frames)));
}

TEST(oms_encoder, other_values_decode_back_in_winter_and_summer) {
    aes_key key{};
    for (std::size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<std::uint8_t>(0xA0 + i);
    oms_encoder enc;
    for (const bool summer : {false, true}) {
        amis_push p;
        p.id = 0x12345678;
        p.access_number = 0xFF;
        p.clock = summer ? local_time(2026, 8, 2, 14, 0, 59, true)
                         : local_time(2026, 12, 31, 23, 59, 58, false);
        p.w_p = 2000000000;  // type B: signed 32-bit
        p.w_n = 1;
        p.r_p = 2;
        p.r_n = 3;
        p.p_p = 4;
        p.p_n = 5;
        p.q_p = 6;
        p.q_n = 7;
        p.vendor_register = -8;
        bytes frame;
        ASSERT_FALSE(enc.encode(p, key, frame));
        telegram_decoder dec(decoder_keys{key, {}}, decoder_options{link_layer::amis, {}});
        dec.feed(frame);
        ASSERT_EQ(dec.next().what, decode_event::kind::answer);
        const decode_event e = dec.next();
        ASSERT_EQ(e.what, decode_event::kind::reading) << e.error.message();
        const reading& r = *e.value;
        EXPECT_EQ(r.meter_number, "12345678");
        ASSERT_TRUE(r.clock);
        EXPECT_EQ(format_utc(*r.clock), summer ? "2026-08-02T12:00:59Z" : "2026-12-31T22:59:58Z");
        const double expected[] = {2000000000.0, 1, 2, 3, 4, 5, 6, 7, -8};
        const obis_code codes[] = {
            {{1, 0, 1, 8, 0, 255}}, {{1, 0, 2, 8, 0, 255}}, {{1, 0, 3, 8, 1, 255}},
            {{1, 0, 4, 8, 1, 255}}, {{1, 0, 1, 7, 0, 255}}, {{1, 0, 2, 7, 0, 255}},
            {{1, 0, 3, 7, 0, 255}}, {{1, 0, 4, 7, 0, 255}}, {{1, 0, 1, 128, 0, 255}}};
        for (std::size_t i = 0; i < std::size(codes); ++i) {
            const auto* v = r.find(codes[i]);
            ASSERT_NE(v, nullptr) << i;
            EXPECT_DOUBLE_EQ(v->scaled(), expected[i]) << i;
        }
    }
}

}  // namespace
}  // namespace evn_mbus::test
