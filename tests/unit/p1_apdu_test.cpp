// The P1 port's bare APDU link (apdu_frame_assembler.hpp) and its DSMR plaintext, on the real
// capture of Energienetze Steiermark's Sagemcom T210-D-R (fixtures/shrdzm_sagemcom_steiermark:
// key published with it, no authentication key) and on synthetic APDUs from our encoder.
// Every value is checked against the plaintext an independent decoder produced (the DSMR lines
// in fixtures/vectors.json's plaintext_hex); the source publishes no other interpretation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

const std::string steiermark = "shrdzm_sagemcom_steiermark";

struct events {
    std::vector<reading> readings;
    std::vector<std::error_code> errors;
};

events run(telegram_decoder& dec, const bytes& data, std::size_t chunk = 0) {
    events out;
    auto drain = [&] {
        for (auto ev = dec.next(); ev.what != decode_event::kind::need_more; ev = dec.next()) {
            if (ev.what == decode_event::kind::reading) {
                out.readings.push_back(*ev.value);
            } else {
                out.errors.push_back(ev.error);
            }
        }
    };
    if (chunk == 0) chunk = data.size();
    for (std::size_t at = 0; at < data.size(); at += chunk) {
        const std::size_t n = std::min(chunk, data.size() - at);
        dec.feed(std::span(data).subspan(at, n));
        drain();
    }
    dec.on_idle_gap();
    drain();
    return out;
}

bytes push(const capture& c) {
    return concat(c.frames);
}

void expect_steiermark_values(const reading& r) {
    // The DSMR lines of the plaintext, every one (Wh, W, varh, var as sent).
    const std::vector<std::pair<std::string, double>> expected = {
        {"w_p", 14159934}, {"w_p_t1", 8520922},  {"w_p_t2", 5639012}, {"p_p", 544},
        {"w_n", 7086646},  {"w_n_t1", 7084926},  {"w_n_t2", 1720},    {"p_n", 1803},
        {"r_p", 3866},     {"r_p_t1", 241},      {"r_p_t2", 3625},    {"q_p", 0},
        {"r_n", 19308370}, {"r_n_t1", 12529385}, {"r_n_t2", 6778985}, {"q_n", 1659},
    };
    for (const auto& [name, value] : expected)
        EXPECT_EQ(r.named(name), value) << name;
    // 16 values, the DSMR version and the time stamp: nothing left out, nothing added.
    EXPECT_EQ(r.values.size(), expected.size() + 2);
    const obis_value* version = r.find(obis_code{{1, 3, 0, 2, 8, 255}});
    ASSERT_NE(version, nullptr);
    EXPECT_EQ(version->scaled(), 50.0);
    // 0-0:1.0.0(210929114730S): 29 Sep 2021 11:47:30 summer time (UTC+2).
    ASSERT_TRUE(r.clock);
    EXPECT_EQ(format_utc(*r.clock), "2021-09-29T09:47:30Z");
    EXPECT_EQ(r.device_name, "EST5\\253717584_A");
    EXPECT_EQ(r.manufacturer(), "SAG");
    EXPECT_EQ(r.frame_counter, 0x50A5u);
    EXPECT_EQ(r.security_control, 0x30);
    EXPECT_TRUE(r.encrypted);
    EXPECT_FALSE(r.tag_verified);  // no authentication key was published
    EXPECT_EQ(r.layout, value_layout::dsmr);
    EXPECT_EQ(r.link, link_layer::apdu);
}

TEST(p1_apdu_golden, decrypts_to_the_published_plaintext_and_every_value) {
    const capture& c = capture_by_id(steiermark);
    for (const link_layer link : {link_layer::auto_detect, link_layer::apdu}) {
        telegram_decoder dec(c.keys, decoder_options{link, {}});
        const events e = run(dec, push(c));
        ASSERT_EQ(e.readings.size(), 1u) << to_string(link);
        EXPECT_TRUE(e.errors.empty()) << e.errors.front().message();
        const auto plain = dec.last_plaintext();
        EXPECT_EQ(bytes(plain.begin(), plain.end()), c.plaintext);
        expect_steiermark_values(e.readings[0]);
        EXPECT_EQ(dec.detected_link(), link_layer::apdu);
    }
}

TEST(p1_apdu_golden, a_stream_with_noise_gives_each_push_once_in_any_chunking) {
    const capture& c = capture_by_id(steiermark);
    bytes stream = {0x00, 0xDB, 0x08, 0xFF, 0x41};  // line noise, a false start among it
    for (int i = 0; i < 3; ++i) {
        const bytes p = push(c);
        stream.insert(stream.end(), p.begin(), p.end());
    }
    for (const std::size_t chunk :
         {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{64}}) {
        telegram_decoder dec(c.keys);
        const events e = run(dec, stream, chunk);
        ASSERT_EQ(e.readings.size(), 3u) << chunk;
        EXPECT_TRUE(e.errors.empty()) << chunk;
        for (const auto& r : e.readings)
            EXPECT_EQ(r.named("w_p"), 14159934.0);
        EXPECT_EQ(dec.apdu_statistics().frames, 3u);
        EXPECT_EQ(dec.link_statistics().frames, 3u);
    }
}

TEST(p1_apdu_golden, a_flipped_bit_is_a_bad_crc_and_the_next_push_decodes) {
    const capture& c = capture_by_id(steiermark);
    bytes damaged = push(c);
    damaged[18 + 100] ^= 0x04;  // a ciphertext byte: CTR flips the same plaintext bit
    bytes stream = damaged;
    const bytes good = push(c);
    stream.insert(stream.end(), good.begin(), good.end());
    telegram_decoder dec(c.keys, decoder_options{link_layer::apdu, {}});
    const events e = run(dec, stream);
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0], errc::dsmr_bad_crc);
    ASSERT_EQ(e.readings.size(), 1u);
    expect_steiermark_values(e.readings[0]);
}

TEST(p1_apdu_golden, cut_off_by_a_pause_is_named_and_the_next_push_decodes) {
    const capture& c = capture_by_id(steiermark);
    telegram_decoder dec(c.keys, decoder_options{link_layer::apdu, {}});
    const bytes p = push(c);
    const events cut = run(dec, bytes(p.begin(), p.begin() + 300));
    EXPECT_TRUE(cut.readings.empty());
    ASSERT_EQ(cut.errors.size(), 1u);
    EXPECT_EQ(cut.errors[0], errc::apdu_truncated);
    const events next = run(dec, p);
    EXPECT_TRUE(next.errors.empty());
    ASSERT_EQ(next.readings.size(), 1u);
}

TEST(p1_apdu_golden, a_wrong_key_is_said_from_the_second_push_in_auto_mode) {
    const capture& c = capture_by_id(steiermark);
    decoder_keys wrong = c.keys;
    wrong.key[0] ^= 0xFF;
    bytes two = push(c);
    two.insert(two.end(), two.begin(), two.end());
    // Auto: one failed bare APDU may be an M-Bus or HDLC push read from its middle.
    telegram_decoder automatic(wrong);
    const events a = run(automatic, two);
    EXPECT_TRUE(a.readings.empty());
    ASSERT_EQ(a.errors.size(), 1u);
    EXPECT_EQ(a.errors[0], errc::not_a_valid_apdu);
    // Forced: every push says it.
    telegram_decoder forced(wrong, decoder_options{link_layer::apdu, {}});
    const events f = run(forced, two);
    ASSERT_EQ(f.errors.size(), 2u);
    EXPECT_EQ(f.errors[1], errc::not_a_valid_apdu);
    // A capture of one push ends: no link frame came, so it was no link's push; said then.
    telegram_decoder one(wrong);
    one.feed(push(c));
    one.end_of_input();
    std::vector<std::error_code> said;
    for (auto ev = one.next(); ev.what != decode_event::kind::need_more; ev = one.next())
        said.push_back(ev.error);
    ASSERT_EQ(said.size(), 1u);
    EXPECT_EQ(said[0], errc::not_a_valid_apdu);
}

// Synthetic: a DSMR text whose CRC holds but with a line the parser does not take was
// decrypted with the right key: it is named as malformed, not as a wrong key.
TEST(p1_apdu_link, a_malformed_dsmr_text_with_a_good_crc_is_no_key_error) {
    const std::string text = telegram_encoder::dsmr_text("SAG5\\X", {{"1-0:1.8.0(1*Wh"}});
    decoder_keys keys;
    keys.key.fill(0x33);
    telegram_encoder enc;
    bytes apdu;
    const system_title title{{'S', 'A', 'G', 5, 0, 0, 0, 2}};
    ASSERT_FALSE(enc.encrypt({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                             keys.key, std::nullopt, title, 5, 0x20, apdu));
    telegram_decoder dec(keys, decoder_options{link_layer::apdu, {}});
    const events e = run(dec, apdu);
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0], errc::dsmr_malformed);
}

// The APDU inside an M-Bus push is no bare one: a stream that starts in the middle of a first
// frame (after its header, before its APDU) loses that push and invents no key error; the
// pushes after it are M-Bus. (The Sagemcom T210-D's APDU, taken with the next frame's header
// bytes in its last 9, decrypts without a tag and parses: it must not count.)
TEST(p1_apdu_golden, an_mbus_push_read_from_its_middle_is_no_bare_apdu) {
    for (const auto& c : mbus_captures()) {
        const bytes p = push(c);
        bytes stream(p.begin() + 4, p.end());  // no "68 L L 68": the first frame is garbage
        stream.insert(stream.end(), p.begin(), p.end());
        stream.insert(stream.end(), p.begin(), p.end());
        telegram_decoder dec(c.keys);
        const events e = run(dec, stream);
        ASSERT_EQ(e.readings.size(), 2u) << c.id;
        for (const auto& ec : e.errors)
            EXPECT_NE(ec, errc::not_a_valid_apdu) << c.id;
        for (const auto& r : e.readings)
            EXPECT_EQ(r.link, link_layer::mbus) << c.id;
        EXPECT_EQ(dec.detected_link(), link_layer::mbus) << c.id;
    }
}

// Synthetic (our encoder): a data-notification sent as a bare APDU decodes like the DLMS
// paths, and a switch from bare APDUs to M-Bus frames is followed. In auto mode only with a
// verified tag; forced, without one too.
TEST(p1_apdu_link, a_bare_data_notification_apdu_and_a_switch_to_mbus) {
    kaifa_push k;
    k.invoke_id = 1;
    k.clock = {2025, 1, 2, 4, 3, 4, 5, 0, cosem_datetime::deviation_not_specified, 0x00};
    k.registers = {{obis_code{{1, 0, 1, 8, 0, 255}}, 1234, 0, 30}};
    k.meter_number = "1KFM0200204012";
    const bytes plain = telegram_encoder::encode_kaifa_notification(k);
    decoder_keys keys;
    for (std::size_t i = 0; i < keys.key.size(); ++i)
        keys.key[i] = static_cast<std::uint8_t>(i);
    keys.auth_key = keys.key;
    telegram_encoder enc;
    bytes apdu;
    const system_title title{{'K', 'F', 'M', 1, 2, 3, 4, 5}};
    ASSERT_FALSE(enc.encrypt(plain, keys.key, keys.auth_key, title, 7, 0x30, apdu));
    bytes untagged;
    ASSERT_FALSE(enc.encrypt(plain, keys.key, std::nullopt, title, 8, 0x20, untagged));
    {
        telegram_decoder automatic(keys);
        const events e = run(automatic, untagged);
        EXPECT_TRUE(e.readings.empty());  // nothing checked it
        EXPECT_TRUE(e.errors.empty());
        telegram_decoder forced(keys, decoder_options{link_layer::apdu, {}});
        const events f = run(forced, untagged);
        ASSERT_EQ(f.readings.size(), 1u);
        EXPECT_EQ(f.readings[0].named("w_p"), 1234.0);
    }
    bytes stream = apdu;
    for (const auto& f : telegram_encoder::segment_mbus(apdu))
        stream.insert(stream.end(), f.begin(), f.end());
    telegram_decoder dec(keys);
    const events e = run(dec, stream);
    ASSERT_EQ(e.readings.size(), 2u);
    EXPECT_TRUE(e.errors.empty());
    EXPECT_EQ(e.readings[0].link, link_layer::apdu);
    EXPECT_EQ(e.readings[1].link, link_layer::mbus);
    for (const auto& r : e.readings) {
        EXPECT_EQ(r.named("w_p"), 1234.0);
        EXPECT_EQ(r.meter_number, "1KFM0200204012");
    }
    EXPECT_EQ(dec.detected_link(), link_layer::mbus);
}

// Synthetic: a DSMR telegram from our encoder, encrypted as the T210-D-R does (security 30h,
// with the authentication key the tag is checked too).
TEST(p1_apdu_link, an_authenticated_dsmr_apdu_verifies_its_tag) {
    const std::vector<std::string> lines = {"0-0:1.0.0(250102050304W)", "1-0:1.8.0(000001234*Wh)",
                                            "1-0:1.7.0(00.512*kW)"};
    const std::string text = telegram_encoder::dsmr_text("SAG5\\2SYNTHETIC", lines);
    decoder_keys keys;
    keys.key.fill(0x11);
    keys.auth_key = aes_key{};
    keys.auth_key->fill(0x22);
    telegram_encoder enc;
    bytes apdu;
    const system_title title{{'S', 'A', 'G', 5, 0, 0, 0, 1}};
    ASSERT_FALSE(enc.encrypt({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                             keys.key, keys.auth_key, title, 99, 0x30, apdu));
    telegram_decoder dec(keys, decoder_options{link_layer::apdu, {}});
    const events e = run(dec, apdu);
    ASSERT_EQ(e.readings.size(), 1u);
    EXPECT_TRUE(e.readings[0].tag_verified);
    EXPECT_EQ(e.readings[0].named("p_p"), 512.0);
    EXPECT_EQ(format_utc(*e.readings[0].clock), "2025-01-02T04:03:04Z");
    // The wrong authentication key: the tag says so.
    decoder_keys wrong = keys;
    wrong.auth_key->fill(0x23);
    telegram_decoder bad(wrong, decoder_options{link_layer::apdu, {}});
    const events f = run(bad, apdu);
    ASSERT_EQ(f.errors.size(), 1u);
    EXPECT_EQ(f.errors[0], errc::tag_mismatch);
}

}  // namespace
}  // namespace evn_mbus::test
