// Bad input, made from the real captures: each case gets its named error, and the next good
// telegram still decodes.
#include <gtest/gtest.h>

#include <random>

#include "evn_mbus/error.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fixture_layout.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

// Re-computes the checksum of a long frame after a test changed its user data.
void fix_checksum(bytes& frame) {
    unsigned sum = 0;
    for (std::size_t i = 4; i + 2 < frame.size(); ++i)
        sum += frame[i];
    frame[frame.size() - 2] = static_cast<std::uint8_t>(sum);
}

class negative : public ::testing::TestWithParam<std::string> {
  protected:
    const capture& c() const { return capture_by_id(GetParam()); }
    bytes good() const { return concat(c().frames); }
};

std::string name_of(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

INSTANTIATE_TEST_SUITE_P(real_captures, negative,
                         ::testing::Values("evn_kaifa_ma309_doc", "tinetz_kaifa_ma309_doc",
                                           "evn_sagemcom_t210d_fkw9"),
                         name_of);

TEST_P(negative, truncated_push_is_reported_and_the_next_push_decodes) {
    bytes data = good();
    data.pop_back();  // the stop byte of the last frame never arrives
    telegram_decoder dec(c().keys);
    dec.feed(data);
    dec.on_idle_gap();
    auto ev = dec.next();
    ASSERT_EQ(ev.what, decode_event::kind::error);
    EXPECT_EQ(ev.error, errc::truncated_frame);
    while (ev.what != decode_event::kind::need_more)
        ev = dec.next();
    dec.feed(good());
    ev = dec.next();
    // The incomplete first push is dropped when the next one starts.
    ASSERT_EQ(ev.what, decode_event::kind::error);
    EXPECT_EQ(ev.error, errc::missing_segment);
    ev = dec.next();
    EXPECT_EQ(ev.what, decode_event::kind::reading) << ev.error.message();
}

// `decode` of a capture cut after the first frame: the end of the input names the push as
// incomplete, with how many frames came and how many it needed. An idle gap alone does not:
// on the line it also falls between the frames of one push.
TEST_P(negative, first_frame_only_is_an_incomplete_push_at_the_end_of_input) {
    ASSERT_GE(c().frames.size(), 2u);
    telegram_decoder dec(c().keys);
    dec.feed(c().frames[0]);
    dec.on_idle_gap();
    EXPECT_EQ(dec.next().what, decode_event::kind::need_more);
    dec.end_of_input();
    const auto ev = dec.next();
    ASSERT_EQ(ev.what, decode_event::kind::error);
    EXPECT_EQ(ev.error, errc::incomplete_push);
    EXPECT_EQ(ev.frames, 1u);
    EXPECT_EQ(ev.frames_expected, static_cast<unsigned>(c().frames.size()));
    EXPECT_EQ(bytes(ev.raw.begin(), ev.raw.end()), c().frames[0]);
    EXPECT_EQ(dec.next().what, decode_event::kind::need_more);
    // The decoder goes on: a whole push after the end still decodes.
    dec.feed(good());
    dec.end_of_input();
    EXPECT_EQ(dec.next().what, decode_event::kind::reading);
    EXPECT_EQ(dec.next().what, decode_event::kind::need_more);
}

TEST_P(negative, bad_checksum_costs_only_its_push) {
    auto frames = c().frames;
    // A byte of the DLMS length field (81 F8 / 82 01 09): the M-Bus checksum no longer matches.
    frames[0][mbus_at::dlms_length + 1] ^= 0x01;
    bytes data = concat(frames);
    const bytes g = good();
    data.insert(data.end(), g.begin(), g.end());
    const auto out = decode_all(c().keys, data);
    ASSERT_EQ(out.readings.size(), 1u);
    ASSERT_GE(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::bad_checksum);
    // The orphaned continuation frame is reported as such, not silently used.
    EXPECT_EQ(out.errors.back(), errc::missing_segment);
}

TEST_P(negative, bad_stop_byte) {
    auto frames = c().frames;
    frames[1].back() = 0x17;  // the stop byte 16 of the last segment
    const auto out = decode_all(c().keys, concat(frames));
    EXPECT_TRUE(out.readings.empty());
    ASSERT_FALSE(out.errors.empty());
    EXPECT_EQ(out.errors[0], errc::bad_stop_byte);
}

TEST_P(negative, wrong_key_says_the_key_is_most_likely_wrong) {
    decoder_keys keys = c().keys;
    keys.key[0] ^= 0x55;
    const auto out = decode_all(keys, good());
    EXPECT_TRUE(out.readings.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::not_a_valid_apdu);
    EXPECT_NE(out.errors[0].message().find("key is most likely wrong"), std::string::npos);
}

TEST_P(negative, garbage_before_and_between_frames_is_skipped) {
    std::mt19937 rng(7);
    auto noise = [&](std::size_t n) {
        bytes b(n);
        // No 68h/10h/E5h: those would be (bad) frame starts, tested elsewhere.
        for (auto& x : b) {
            do
                x = static_cast<std::uint8_t>(rng());
            while (x == 0x68 || x == 0x10 || x == 0xE5);
        }
        return b;
    };
    bytes data = noise(37);
    for (const auto& f : c().frames) {
        data.insert(data.end(), f.begin(), f.end());
        const bytes n = noise(11);
        data.insert(data.end(), n.begin(), n.end());
    }
    telegram_decoder dec(c().keys);
    dec.feed(data);
    dec.on_idle_gap();
    const auto ev = dec.next();
    ASSERT_EQ(ev.what, decode_event::kind::reading) << ev.error.message();
    EXPECT_EQ(dec.next().what, decode_event::kind::need_more);
    EXPECT_EQ(dec.link_statistics().skipped_bytes, 37u + 11u * c().frames.size());
}

TEST_P(negative, split_at_every_byte_position) {
    const bytes data = good();
    for (std::size_t cut = 0; cut <= data.size(); ++cut) {
        telegram_decoder dec(c().keys);
        std::size_t readings = 0;
        auto drain = [&] {
            for (auto ev = dec.next(); ev.what != decode_event::kind::need_more; ev = dec.next()) {
                ASSERT_EQ(ev.what, decode_event::kind::reading) << "cut " << cut;
                ++readings;
            }
        };
        dec.feed(std::span(data).first(cut));
        drain();
        dec.feed(std::span(data).subspan(cut));
        drain();
        EXPECT_EQ(readings, 1u) << "cut at " << cut;
    }
}

TEST_P(negative, byte_by_byte_gives_the_reading_with_the_last_byte) {
    const bytes data = good();
    telegram_decoder dec(c().keys);
    for (std::size_t i = 0; i < data.size(); ++i) {
        dec.feed(std::span(data).subspan(i, 1));
        const auto ev = dec.next();
        if (i + 1 < data.size()) {
            ASSERT_EQ(ev.what, decode_event::kind::need_more) << "byte " << i;
        } else {
            EXPECT_EQ(ev.what, decode_event::kind::reading);  // no idle gap needed
        }
    }
}

TEST_P(negative, lost_continuation_frame) {
    // Push 1 loses its last frame; push 2 arrives whole.
    bytes data;
    for (std::size_t i = 0; i + 1 < c().frames.size(); ++i) {
        data.insert(data.end(), c().frames[i].begin(), c().frames[i].end());
    }
    const bytes g = good();
    data.insert(data.end(), g.begin(), g.end());
    const auto out = decode_all(c().keys, data);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::missing_segment);
    EXPECT_EQ(out.readings.size(), 1u);
}

TEST_P(negative, continuation_frame_alone) {
    const auto out = decode_all(c().keys, c().frames.back());
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::missing_segment);
}

TEST_P(negative, dlms_length_longer_than_the_segments_carry) {
    // Raise the A-XDR length after the system title by one: the last segment then ends short.
    auto frames = c().frames;
    bytes& f = frames[0];
    // 68 L L 68 C A CI STSAP DTSAP | DB 08 title(8) | length...
    const std::size_t len_pos = mbus_at::dlms_length;
    if (f[len_pos] == 0x81) {
        f[len_pos + 1] = static_cast<std::uint8_t>(f[len_pos + 1] + 1);
    } else {
        ASSERT_EQ(f[len_pos], 0x82);
        f[len_pos + 2] = static_cast<std::uint8_t>(f[len_pos + 2] + 1);
    }
    fix_checksum(f);
    const auto out = decode_all(c().keys, concat(frames));
    EXPECT_TRUE(out.readings.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::truncated_telegram);
}

TEST_P(negative, dlms_length_shorter_than_the_segments_carry) {
    auto frames = c().frames;
    bytes& f = frames[0];
    const std::size_t len_pos = mbus_at::dlms_length;
    if (f[len_pos] == 0x81) {
        f[len_pos + 1] = static_cast<std::uint8_t>(f[len_pos + 1] - 1);
    } else {
        f[len_pos + 2] = static_cast<std::uint8_t>(f[len_pos + 2] - 1);
    }
    fix_checksum(f);
    const auto out = decode_all(c().keys, concat(frames));
    EXPECT_TRUE(out.readings.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::length_mismatch);
}

TEST_P(negative, three_pushes_with_damage_in_the_middle_deliver_the_two_intact_ones) {
    auto damaged = c().frames;
    // The second ciphertext byte of the last segment: its checksum no longer matches.
    damaged[1][mbus_at::segment_data + 1] ^= 0xFF;
    bytes data = good();
    const bytes d = concat(damaged);
    const bytes g = good();
    data.insert(data.end(), d.begin(), d.end());
    data.insert(data.end(), g.begin(), g.end());
    const auto out = decode_all(c().keys, data);
    EXPECT_EQ(out.readings.size(), 2u);
    ASSERT_FALSE(out.errors.empty());
    EXPECT_EQ(out.errors[0], errc::bad_checksum);
}

// Synthetic: authenticated telegrams (security control 30h) made by our encoder.
class authenticated_synthetic : public ::testing::Test {
  protected:
    void SetUp() override {
        keys_.key = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                     0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F};
        keys_.auth_key = aes_key{0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
                                 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF};
    }
    bytes make(const bytes& plaintext) {
        bytes apdu;
        EXPECT_FALSE(enc_.encrypt(plaintext, keys_.key, keys_.auth_key, title_, 42, 0x30, apdu));
        return apdu;
    }
    decoder_keys keys_;
    system_title title_{'K', 'F', 'M', 0x67, 0x50, 0, 0, 9};
    telegram_encoder enc_;
};

TEST_F(authenticated_synthetic, altered_ciphertext_is_a_tag_mismatch) {
    bytes apdu = make(capture_by_id("evn_kaifa_ma309_doc").plaintext);
    apdu[40] ^= 0x01;  // after DB 08 title(8) 82 01 04 30 counter(4): ciphertext byte 23
    telegram_decoder dec(keys_);
    reading r;
    EXPECT_EQ(dec.decode_apdu(apdu, r), errc::tag_mismatch);
}

TEST_F(authenticated_synthetic, wrong_auth_key_is_a_tag_mismatch) {
    const bytes apdu = make(capture_by_id("evn_kaifa_ma309_doc").plaintext);
    decoder_keys wrong = keys_;
    (*wrong.auth_key)[15] ^= 0x80;
    telegram_decoder dec(wrong);
    reading r;
    const auto ec = dec.decode_apdu(apdu, r);
    EXPECT_EQ(ec, errc::tag_mismatch);
    EXPECT_NE(ec.message().find("authentication key"), std::string::npos);
}

TEST_F(authenticated_synthetic, lying_axdr_length_inside_verified_plaintext_is_named) {
    // Behind a verified tag, a structural error is reported as what it is.
    bytes plain = capture_by_id("evn_kaifa_ma309_doc").plaintext;
    plain.resize(plain.size() - 3);  // the meter-number string now claims more than is left
    telegram_decoder dec(keys_);
    reading r;
    EXPECT_EQ(dec.decode_apdu(make(plain), r), errc::axdr_truncated);
}

TEST_F(authenticated_synthetic, trailing_bytes_after_the_body) {
    bytes plain = capture_by_id("evn_kaifa_ma309_doc").plaintext;
    plain.push_back(0x00);
    telegram_decoder dec(keys_);
    reading r;
    EXPECT_EQ(dec.decode_apdu(make(plain), r), errc::trailing_bytes);
}

TEST_F(authenticated_synthetic, security_length_pointing_past_the_end) {
    bytes apdu = make(capture_by_id("evn_kaifa_ma309_doc").plaintext);
    apdu.resize(apdu.size() - 1);
    telegram_decoder dec(keys_);
    reading r;
    EXPECT_EQ(dec.decode_apdu(apdu, r), errc::bad_security_header);
}

TEST_F(authenticated_synthetic, verifies_and_decodes) {
    const auto& evn = capture_by_id("evn_kaifa_ma309_doc");
    telegram_decoder dec(keys_);
    reading r;
    ASSERT_FALSE(dec.decode_apdu(make(evn.plaintext), r));
    EXPECT_TRUE(r.tag_verified);
    EXPECT_EQ(r.frame_counter, 42u);
    EXPECT_EQ(r.named("w_p"), 12937.0);
}

TEST_F(authenticated_synthetic, without_auth_key_decrypts_unverified) {
    const auto& evn = capture_by_id("evn_kaifa_ma309_doc");
    decoder_keys no_ak = keys_;
    no_ak.auth_key.reset();
    telegram_decoder dec(no_ak);
    reading r;
    ASSERT_FALSE(dec.decode_apdu(make(evn.plaintext), r));
    EXPECT_FALSE(r.tag_verified);
    EXPECT_EQ(r.named("w_p"), 12937.0);
}

}  // namespace
}  // namespace evn_mbus::test
