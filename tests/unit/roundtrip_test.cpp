// Synthetic telegrams: our encoder builds EVN Kaifa-style pushes from random values, and the
// decoder must give back exactly those values, for every segmentation and security mode.
#include <gtest/gtest.h>

#include <random>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

struct quantity {
    obis_code code;
    std::int8_t scaler;
    std::uint8_t unit;
    bool wide;
    const char* name;
};

constexpr quantity kaifa_quantities[] = {
    {{{1, 0, 1, 8, 0, 255}}, 0, 30, true, "w_p"},
    {{{1, 0, 2, 8, 0, 255}}, 0, 30, true, "w_n"},
    {{{1, 0, 1, 7, 0, 255}}, 0, 27, true, "p_p"},
    {{{1, 0, 2, 7, 0, 255}}, 0, 27, true, "p_n"},
    {{{1, 0, 32, 7, 0, 255}}, -1, 35, false, "u1"},
    {{{1, 0, 52, 7, 0, 255}}, -1, 35, false, "u2"},
    {{{1, 0, 72, 7, 0, 255}}, -1, 35, false, "u3"},
    {{{1, 0, 31, 7, 0, 255}}, -2, 33, false, "i1"},
    {{{1, 0, 51, 7, 0, 255}}, -2, 33, false, "i2"},
    {{{1, 0, 71, 7, 0, 255}}, -2, 33, false, "i3"},
    {{{1, 0, 13, 7, 0, 255}}, -3, 255, false, "phi"},
};

struct synthetic_case {
    kaifa_push push;
    bytes apdu;
};

kaifa_push random_push(std::mt19937& rng) {
    kaifa_push p;
    p.invoke_id = static_cast<std::uint32_t>(rng());
    p.clock.year = static_cast<std::uint16_t>(2020 + rng() % 10);
    p.clock.month = static_cast<std::uint8_t>(1 + rng() % 12);
    p.clock.day = static_cast<std::uint8_t>(1 + rng() % 28);
    p.clock.day_of_week = 0xFF;
    p.clock.hour = static_cast<std::uint8_t>(rng() % 24);
    p.clock.minute = static_cast<std::uint8_t>(rng() % 60);
    p.clock.second = static_cast<std::uint8_t>(rng() % 60);
    p.clock.hundredths = 0;
    p.clock.deviation = (rng() % 2) ? -60 : -120;
    p.clock.status = p.clock.deviation == -120 ? 0x80 : 0x00;
    for (const auto& q : kaifa_quantities) {
        register_value r;
        r.code = q.code;
        r.scaler = q.scaler;
        r.unit = q.unit;
        r.wide = q.wide;
        r.raw =
            q.wide ? static_cast<std::int64_t>(rng()) : static_cast<std::int64_t>(rng() % 65536);
        p.registers.push_back(r);
    }
    p.meter_number = std::to_string(100000000000ULL + rng() % 899999999999ULL);
    return p;
}

void expect_same(const kaifa_push& p, const reading& r) {
    ASSERT_EQ(r.values.size(), p.registers.size());
    for (std::size_t i = 0; i < p.registers.size(); ++i) {
        const auto& sent = p.registers[i];
        const auto& got = r.values[i];
        EXPECT_EQ(got.code, sent.code);
        EXPECT_EQ(got.scaler, sent.scaler);
        EXPECT_EQ(got.unit, sent.unit);
        EXPECT_EQ(got.raw_unsigned, static_cast<std::uint64_t>(sent.raw));
        double expected = static_cast<double>(sent.raw);
        for (int s = sent.scaler; s < 0; ++s)
            expected /= 10.0;
        EXPECT_DOUBLE_EQ(r.named(kaifa_quantities[i].name).value_or(-1), expected);
    }
    EXPECT_EQ(r.meter_number, p.meter_number);
    ASSERT_TRUE(r.clock.has_value());
    EXPECT_EQ(*r.clock, *p.clock.to_utc());
    EXPECT_EQ(r.invoke_id, p.invoke_id);
}

TEST(roundtrip_synthetic, random_pushes_every_segmentation_and_security_mode) {
    std::mt19937 rng(20261125);
    telegram_encoder enc;
    const aes_key key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const aes_key ak{16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    const system_title title{'K', 'F', 'M', 0x67, 0x50, 0x00, 0x00, 0x09};
    for (int i = 0; i < 300; ++i) {
        const kaifa_push push = random_push(rng);
        const bytes plain = telegram_encoder::encode_kaifa_notification(push);
        const bool authenticated = i % 3 == 0;
        const std::uint8_t sc = authenticated ? 0x30 : static_cast<std::uint8_t>(0x20 | (i % 2));
        const auto fc = static_cast<std::uint32_t>(i + 1);
        bytes apdu;
        ASSERT_FALSE(enc.encrypt(plain, key, ak, title, fc, sc, apdu));
        // The segment number is four bits: a push spans at most 16 frames.
        const std::size_t chunk = std::max<std::size_t>(8 + rng() % 240, (apdu.size() + 15) / 16);
        const auto frames = telegram_encoder::segment_mbus(apdu, chunk);
        decoder_keys keys{key, authenticated ? std::optional<aes_key>(ak) : std::nullopt};
        const auto out = decode_all(keys, concat(frames));
        ASSERT_EQ(out.errors.size(), 0u) << "case " << i << ": " << out.errors[0].message();
        ASSERT_EQ(out.readings.size(), 1u);
        expect_same(push, out.readings[0]);
        EXPECT_EQ(out.readings[0].frame_counter, fc);
        EXPECT_EQ(out.readings[0].tag_verified, authenticated);
    }
}

TEST(roundtrip_synthetic, overflowed_length_field_like_the_sagemcom) {
    // One 257-byte first frame, as EVN's Sagemcom T210-D sends it: L = 01h.
    std::mt19937 rng(3);
    telegram_encoder enc;
    const aes_key key{};
    const kaifa_push push = random_push(rng);
    bytes apdu;
    ASSERT_FALSE(enc.encrypt(telegram_encoder::encode_kaifa_notification(push), key, std::nullopt,
                             system_title{'S', 'A', 'G', 1, 2, 3, 4, 5}, 7, 0x20, apdu));
    const auto frames = telegram_encoder::segment_mbus(apdu, 252);
    ASSERT_GE(frames.size(), 2u);
    ASSERT_EQ(frames[0][1], 0x01);
    ASSERT_EQ(frames[0].size(), 263u);
    const auto out = decode_all({key, std::nullopt}, concat(frames));
    ASSERT_TRUE(out.errors.empty()) << out.errors[0].message();
    ASSERT_EQ(out.readings.size(), 1u);
    expect_same(push, out.readings[0]);
}

TEST(roundtrip_synthetic, many_pushes_in_one_stream) {
    std::mt19937 rng(11);
    telegram_encoder enc;
    const aes_key key{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    std::vector<kaifa_push> pushes;
    bytes stream;
    for (std::uint32_t i = 0; i < 50; ++i) {
        pushes.push_back(random_push(rng));
        bytes apdu;
        ASSERT_FALSE(enc.encrypt(telegram_encoder::encode_kaifa_notification(pushes.back()), key,
                                 std::nullopt, system_title{'K', 'F', 'M', 0, 0, 0, 0, 1}, i, 0x20,
                                 apdu));
        stream = concat({stream, concat(telegram_encoder::segment_mbus(apdu))});
    }
    const auto out = decode_all({key, std::nullopt}, stream);
    ASSERT_TRUE(out.errors.empty());
    ASSERT_EQ(out.readings.size(), pushes.size());
    for (std::size_t i = 0; i < pushes.size(); ++i)
        expect_same(pushes[i], out.readings[i]);
}

}  // namespace
}  // namespace evn_mbus::test
