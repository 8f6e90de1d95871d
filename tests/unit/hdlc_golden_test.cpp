// Golden tests on the real HDLC captures (fixtures/README.md names their sources): each one
// decrypts to the plaintext an independent decoder produced, byte for byte, and the Landis+Gyr
// E450's values (OBIS-tagged, general block transfer, authenticated) are checked one by one.
// Then the link layer choice: detection from the bytes, forced links, switching, and the same
// synthetic telegram through M-Bus and HDLC giving identical readings.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "evn_mbus/error.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fixture_loader.hpp"
#include "reading_json.hpp"

namespace evn_mbus::test {
namespace {

const std::vector<std::string> hdlc_ids = {
    "lgz_e450_landis_gyr_e450", "iskra_am550_kaerntennetz_amsreader_gh787",
    "wienernetze_siemens_rddl", "shrdzm_siemens_im350_wels_frame2",
    "lgz_e450_netzburgenland_amsreader_gh501_2"};

struct events {
    std::vector<reading> readings;
    std::vector<std::error_code> errors;
    std::vector<bytes> raws;  // of the readings
};

events run(telegram_decoder& dec, const bytes& data, bool idle_gap = true) {
    events out;
    dec.feed(data);
    if (idle_gap) dec.on_idle_gap();
    for (auto ev = dec.next(); ev.what != decode_event::kind::need_more; ev = dec.next()) {
        if (ev.what == decode_event::kind::reading) {
            out.readings.push_back(*ev.value);
            out.raws.emplace_back(ev.raw.begin(), ev.raw.end());
        } else {
            out.errors.push_back(ev.error);
        }
    }
    return out;
}

// "1.0.1.8.0.255" -> 1-0:1.8.0.255
obis_code parse_obis(const std::string& text) {
    obis_code code;
    std::istringstream in(text);
    std::string part;
    for (std::size_t i = 0; i < 6 && std::getline(in, part, '.'); ++i)
        code.bytes[i] = static_cast<std::uint8_t>(std::stoi(part));
    return code;
}

// The captures with a shared flag between frames instead of one flag each.
bytes shared_flags(const std::vector<bytes>& frames) {
    bytes out;
    for (const auto& f : frames)
        out.insert(out.end(), f.begin() + (out.empty() ? 0 : 1), f.end());
    return out;
}

class hdlc_golden : public ::testing::TestWithParam<std::string> {
  protected:
    const capture& c() const { return capture_by_id(GetParam()); }
};

std::string name_of(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

INSTANTIATE_TEST_SUITE_P(real_captures, hdlc_golden, ::testing::ValuesIn(hdlc_ids), name_of);

TEST_P(hdlc_golden, decrypts_to_the_published_plaintext_using_every_frame) {
    ASSERT_NE(c().framing.find("hdlc"), std::string::npos);
    telegram_decoder dec(c().keys);
    const auto out = run(dec, concat(c().frames));
    ASSERT_TRUE(out.errors.empty()) << out.errors[0].message();
    ASSERT_EQ(out.readings.size(), 1u);
    const auto p = dec.last_plaintext();
    EXPECT_EQ(bytes(p.begin(), p.end()), c().plaintext);
    EXPECT_EQ(dec.detected_link(), link_layer::hdlc);
    EXPECT_EQ(dec.link_statistics().frames, c().frames.size());
    EXPECT_EQ(dec.link_statistics().skipped_bytes, 0u);
    EXPECT_EQ(dec.hdlc_statistics().bad_frames, 0u);
    const reading& r = out.readings[0];
    EXPECT_EQ(r.link, link_layer::hdlc);
    EXPECT_EQ(r.block_transfer, c().framing == "hdlc+gbt");
    EXPECT_TRUE(r.encrypted);
    // The reading's raw bytes are the push's frames.
    EXPECT_EQ(out.raws[0], concat(c().frames));
}

TEST_P(hdlc_golden, forced_hdlc_and_shared_flags_give_the_same) {
    telegram_decoder dec(c().keys, decoder_options{link_layer::hdlc, {}});
    const auto out = run(dec, shared_flags(c().frames));
    ASSERT_TRUE(out.errors.empty()) << out.errors[0].message();
    ASSERT_EQ(out.readings.size(), 1u);
    const auto p = dec.last_plaintext();
    EXPECT_EQ(bytes(p.begin(), p.end()), c().plaintext);
}

TEST_P(hdlc_golden, split_at_every_byte_position) {
    const bytes data = concat(c().frames);
    for (std::size_t cut = 0; cut <= data.size(); ++cut) {
        telegram_decoder dec(c().keys);
        auto a =
            run(dec, bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(cut)), false);
        const auto b =
            run(dec, bytes(data.begin() + static_cast<std::ptrdiff_t>(cut), data.end()), false);
        ASSERT_TRUE(a.errors.empty() && b.errors.empty()) << "cut " << cut;
        ASSERT_EQ(a.readings.size() + b.readings.size(), 1u) << "cut " << cut;
    }
}

TEST_P(hdlc_golden, forced_mbus_finds_nothing) {
    telegram_decoder dec(c().keys, decoder_options{link_layer::mbus, {}});
    const auto out = run(dec, concat(c().frames));
    EXPECT_TRUE(out.readings.empty());
    EXPECT_EQ(dec.detected_link(), link_layer::mbus);
}

TEST_P(hdlc_golden, damaged_frame_costs_only_its_push) {
    auto damaged = c().frames;
    // The middle of the last frame is ciphertext in every capture: the FCS no longer matches.
    damaged.back()[damaged.back().size() / 2] ^= 0x10;
    bytes data = concat(c().frames);
    const bytes d = concat(damaged);
    data.insert(data.end(), d.begin(), d.end());
    const bytes g = concat(c().frames);
    data.insert(data.end(), g.begin(), g.end());
    telegram_decoder dec(c().keys);
    const auto out = run(dec, data);
    EXPECT_EQ(out.readings.size(), 2u);
    ASSERT_FALSE(out.errors.empty());
    EXPECT_EQ(out.errors[0], errc::hdlc_bad_fcs);
}

TEST(hdlc_golden_landis_gyr, every_published_value_with_a_verified_tag) {
    const auto& c = capture_by_id("lgz_e450_landis_gyr_e450");
    ASSERT_TRUE(c.keys.auth_key.has_value());
    telegram_decoder dec(c.keys);
    const auto out = run(dec, concat(c.frames));
    ASSERT_EQ(out.readings.size(), 1u);
    const reading& r = out.readings[0];
    EXPECT_TRUE(r.tag_verified);
    EXPECT_EQ(r.security_control, 0x30);
    EXPECT_EQ(r.frame_counter, 0x00177BCAu);
    EXPECT_EQ(r.manufacturer(), "LGZ");
    EXPECT_EQ(to_hex(r.title), "4C475A677370B177");
    EXPECT_EQ(r.invoke_id, 0x00177BCAu);
    EXPECT_TRUE(r.block_transfer);
    EXPECT_EQ(describe_link(r.link, r.block_transfer), "HDLC, general block transfer");

    ASSERT_TRUE(c.expected.is_object());
    EXPECT_EQ(c.expected.size(), 16u);
    for (const auto& [text, value] : c.expected.items()) {
        const obis_value* v = r.find(parse_obis(text));
        ASSERT_NE(v, nullptr) << text;
        EXPECT_DOUBLE_EQ(v->scaled(), value.get<double>()) << text;
    }
    EXPECT_EQ(r.named("w_p"), 4408736.0);
    EXPECT_EQ(r.named("p_p"), 2893.0);
    EXPECT_EQ(r.values.size(), 16u);
}

TEST(hdlc_golden_landis_gyr, wrong_authentication_key_is_a_tag_mismatch) {
    const auto& c = capture_by_id("lgz_e450_landis_gyr_e450");
    decoder_keys wrong = c.keys;
    (*wrong.auth_key)[0] ^= 0x01;
    telegram_decoder dec(wrong);
    const auto out = run(dec, concat(c.frames));
    EXPECT_TRUE(out.readings.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::tag_mismatch);
    EXPECT_NE(out.errors[0].message().find("the key or the authentication key is wrong"),
              std::string::npos)
        << out.errors[0].message();
}

TEST(hdlc_golden_landis_gyr, without_authentication_key_decrypts_unverified) {
    const auto& c = capture_by_id("lgz_e450_landis_gyr_e450");
    decoder_keys no_ak = c.keys;
    no_ak.auth_key.reset();
    telegram_decoder dec(no_ak);
    const auto out = run(dec, concat(c.frames));
    ASSERT_EQ(out.readings.size(), 1u);
    EXPECT_FALSE(out.readings[0].tag_verified);
    EXPECT_EQ(out.readings[0].named("w_p"), 4408736.0);
}

TEST(hdlc_golden_landis_gyr, lost_block_is_a_missing_segment_and_the_next_push_decodes) {
    const auto& c = capture_by_id("lgz_e450_landis_gyr_e450");
    bytes data = concat({c.frames[0], c.frames[2]});
    const bytes g = concat(c.frames);
    data.insert(data.end(), g.begin(), g.end());
    telegram_decoder dec(c.keys);
    const auto out = run(dec, data);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::missing_segment);
    EXPECT_EQ(out.readings.size(), 1u);
}

TEST(hdlc_golden_landis_gyr, wrong_key) {
    const auto& c = capture_by_id("lgz_e450_landis_gyr_e450");
    decoder_keys wrong = c.keys;
    wrong.key[3] ^= 0x20;
    telegram_decoder dec(wrong);
    const auto out = run(dec, concat(c.frames));
    EXPECT_TRUE(out.readings.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    // The tag covers the ciphertext under the key: a wrong key fails the tag as well.
    EXPECT_EQ(out.errors[0], errc::tag_mismatch);
}

// --- Link-layer detection. ---

TEST(link_detection, mbus_then_hdlc_then_mbus_in_one_stream) {
    const auto& evn = capture_by_id("evn_kaifa_ma309_doc");
    const auto& iskra = capture_by_id("iskra_am550_kaerntennetz_amsreader_gh787");
    // One key per meter, so try each push with both: the link layer does not depend on keys.
    telegram_decoder dec(evn.keys);
    auto out = run(dec, concat(evn.frames), false);
    ASSERT_EQ(out.readings.size(), 1u);
    EXPECT_EQ(out.readings[0].link, link_layer::mbus);
    EXPECT_FALSE(out.readings[0].block_transfer);
    EXPECT_EQ(dec.detected_link(), link_layer::mbus);

    dec.set_keys(iskra.keys);
    out = run(dec, concat(iskra.frames), false);
    ASSERT_EQ(out.readings.size(), 1u) << (out.errors.empty() ? "" : out.errors[0].message());
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(out.readings[0].link, link_layer::hdlc);
    EXPECT_EQ(dec.detected_link(), link_layer::hdlc);

    dec.set_keys(evn.keys);
    out = run(dec, concat(evn.frames));
    ASSERT_EQ(out.readings.size(), 1u);
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(dec.detected_link(), link_layer::mbus);
    EXPECT_EQ(dec.statistics().errors, 0u);
}

TEST(link_detection, forced_hdlc_ignores_mbus_frames) {
    const auto& evn = capture_by_id("evn_kaifa_ma309_doc");
    telegram_decoder dec(evn.keys, decoder_options{link_layer::hdlc, {}});
    const auto out = run(dec, concat(evn.frames));
    EXPECT_TRUE(out.readings.empty());
    EXPECT_EQ(dec.configured_link(), link_layer::hdlc);
    // set_link switches at run time.
    dec.set_link(link_layer::auto_detect);
    const auto again = run(dec, concat(evn.frames));
    EXPECT_EQ(again.readings.size(), 1u);
}

TEST(link_detection, stray_flags_in_mbus_data_are_not_reported) {
    // M-Bus pushes whose ciphertext is full of 7E Ax pairs: the HDLC framer's rejects of
    // these must not surface while the line is M-Bus, detected or not.
    std::mt19937 rng(1);
    telegram_encoder enc;
    const aes_key key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    bytes plain = capture_by_id("evn_kaifa_ma309_doc").plaintext;
    bytes stream;
    for (int i = 0; i < 20; ++i) {
        bytes apdu;
        ASSERT_FALSE(enc.encrypt(plain, key, std::nullopt,
                                 system_title{'K', 'F', 'M', 1, 2, 3, 4, 5},
                                 static_cast<std::uint32_t>(i), 0x20, apdu));
        // Sprinkle flag + format pairs into the (encrypted, hence opaque) content.
        for (std::size_t k = 30; k + 2 < apdu.size(); k += 17) {
            apdu[k] = 0x7E;
            apdu[k + 1] = static_cast<std::uint8_t>(0xA0 | (rng() % 8));
        }
        stream = concat({stream, concat(telegram_encoder::segment_mbus(apdu))});
    }
    telegram_decoder dec({key, std::nullopt});
    const auto out = run(dec, stream);
    // The content was altered, so it does not parse after decryption (no tag): that is the
    // only error per push; none from the HDLC side.
    for (const auto& e : out.errors)
        EXPECT_EQ(e, errc::not_a_valid_apdu) << e.message();
    EXPECT_EQ(out.errors.size() + out.readings.size(), 20u);
    EXPECT_EQ(dec.detected_link(), link_layer::mbus);
    EXPECT_GT(dec.hdlc_statistics().bad_frames, 0u);  // they were there, and not reported
}

TEST(link_detection, events_in_stream_order_whatever_the_chunking) {
    // Before anything is detected: an HDLC frame whose header checks out but whose FCS does
    // not, then an M-Bus push. The HDLC error came first on the line, so it is reported, and the
    // push is detected as M-Bus and decoded, whether the bytes arrive in one piece or in small
    // chunks. (Found by fuzz_telegram_decoder: in one piece, the M-Bus framer's frame used to be
    // taken first, and the detection it made then hid the HDLC error.)
    const auto& evn = capture_by_id("evn_kaifa_ma309_doc");
    const bytes info = {0xE6, 0xE7, 0x00, 0x0F, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    bytes data = telegram_encoder::hdlc_frame(info, false);
    data[data.size() - 4] ^= 0x01;  // the last information byte: the FCS no longer matches
    const bytes push = concat(evn.frames);
    data.insert(data.end(), push.begin(), push.end());
    for (const std::size_t chunk : {data.size(), std::size_t{1}, std::size_t{7}}) {
        telegram_decoder dec(evn.keys);
        events out;
        for (std::size_t pos = 0; pos < data.size(); pos += chunk) {
            const std::size_t end = std::min(pos + chunk, data.size());
            const bytes part(data.begin() + static_cast<std::ptrdiff_t>(pos),
                             data.begin() + static_cast<std::ptrdiff_t>(end));
            const auto e = run(dec, part, end == data.size());
            out.readings.insert(out.readings.end(), e.readings.begin(), e.readings.end());
            out.errors.insert(out.errors.end(), e.errors.begin(), e.errors.end());
        }
        ASSERT_EQ(out.errors.size(), 1u) << "chunks of " << chunk;
        EXPECT_EQ(out.errors[0], errc::hdlc_bad_fcs) << "chunks of " << chunk;
        EXPECT_EQ(out.readings.size(), 1u) << "chunks of " << chunk;
        EXPECT_EQ(dec.detected_link(), link_layer::mbus) << "chunks of " << chunk;
    }
}

// --- The same synthetic telegram through both link layers. ---

kaifa_push synthetic_push(std::mt19937& rng) {
    kaifa_push p;
    p.invoke_id = static_cast<std::uint32_t>(rng());
    p.clock = {2025, 3, 14, 0xFF, 15, 9, 26, 0, -60, 0x00};
    const obis_code codes[] = {{{1, 0, 1, 8, 0, 255}},  {{1, 0, 2, 8, 0, 255}},
                               {{1, 0, 1, 7, 0, 255}},  {{1, 0, 2, 7, 0, 255}},
                               {{1, 0, 32, 7, 0, 255}}, {{1, 0, 31, 7, 0, 255}}};
    for (const auto& code : codes) {
        register_value r;
        r.code = code;
        r.raw = static_cast<std::int64_t>(rng() % 100000);
        r.unit = 30;
        p.registers.push_back(r);
    }
    p.meter_number = "123456789012";
    return p;
}

TEST(same_telegram_both_links, identical_readings) {
    std::mt19937 rng(2025);
    telegram_encoder enc;
    const aes_key key{7, 6, 5, 4, 3, 2, 1, 0, 7, 6, 5, 4, 3, 2, 1, 0};
    const aes_key ak{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8};
    for (int i = 0; i < 60; ++i) {
        const bool authenticated = i % 2 == 1;
        bytes apdu;
        ASSERT_FALSE(enc.encrypt(telegram_encoder::encode_kaifa_notification(synthetic_push(rng)),
                                 key, ak, system_title{'K', 'F', 'M', 0x67, 0x50, 0, 0, 9},
                                 static_cast<std::uint32_t>(1000 + i), authenticated ? 0x30 : 0x20,
                                 apdu));
        const decoder_keys keys{key, authenticated ? std::optional<aes_key>(ak) : std::nullopt};
        const std::size_t info = 4 + rng() % 300;
        const std::size_t block = 1 + rng() % 200;
        const std::vector<std::pair<const char*, bytes>> ways = {
            {"mbus", concat(telegram_encoder::segment_mbus(apdu))},
            {"hdlc", concat(telegram_encoder::segment_hdlc(apdu, info))},
            {"hdlc+gbt", concat(telegram_encoder::segment_hdlc_blocks(apdu, block, info))},
        };
        std::vector<reading> got;
        for (const auto& [name, wire] : ways) {
            telegram_decoder dec(keys);
            const auto out = run(dec, wire);
            ASSERT_TRUE(out.errors.empty())
                << name << " case " << i << ": " << out.errors[0].message();
            ASSERT_EQ(out.readings.size(), 1u) << name;
            got.push_back(out.readings[0]);
        }
        EXPECT_EQ(got[0].link, link_layer::mbus);
        EXPECT_EQ(got[1].link, link_layer::hdlc);
        EXPECT_FALSE(got[1].block_transfer);
        EXPECT_TRUE(got[2].block_transfer);
        for (std::size_t k = 1; k < got.size(); ++k) {
            // The published JSON is the same, and so is every field of the reading.
            EXPECT_EQ(to_json(got[k]).dump(), to_json(got[0]).dump()) << "case " << i;
            EXPECT_EQ(got[k].values.size(), got[0].values.size());
            for (std::size_t v = 0; v < got[0].values.size(); ++v) {
                EXPECT_EQ(got[k].values[v].code, got[0].values[v].code);
                EXPECT_EQ(got[k].values[v].raw_unsigned, got[0].values[v].raw_unsigned);
            }
            EXPECT_EQ(got[k].clock, got[0].clock);
            EXPECT_EQ(got[k].frame_counter, got[0].frame_counter);
            EXPECT_EQ(got[k].tag_verified, authenticated);
            EXPECT_EQ(got[k].meter_number, got[0].meter_number);
        }
    }
}

TEST(same_telegram_both_links, many_hdlc_pushes_in_one_stream_with_shared_flags) {
    std::mt19937 rng(8);
    telegram_encoder enc;
    const aes_key key{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    bytes stream;
    std::vector<kaifa_push> pushes;
    for (std::uint32_t i = 0; i < 30; ++i) {
        pushes.push_back(synthetic_push(rng));
        bytes apdu;
        ASSERT_FALSE(enc.encrypt(telegram_encoder::encode_kaifa_notification(pushes.back()), key,
                                 std::nullopt, system_title{'L', 'G', 'Z', 0, 0, 0, 0, 1}, i, 0x20,
                                 apdu));
        const auto frames = i % 2 == 0 ? telegram_encoder::segment_hdlc(apdu, 100)
                                       : telegram_encoder::segment_hdlc_blocks(apdu, 90, 128);
        for (const auto& f : frames)
            stream.insert(stream.end(), f.begin() + (stream.empty() ? 0 : 1), f.end());
    }
    telegram_decoder dec({key, std::nullopt});
    const auto out = run(dec, stream);
    EXPECT_TRUE(out.errors.empty());
    ASSERT_EQ(out.readings.size(), pushes.size());
    for (std::size_t i = 0; i < pushes.size(); ++i) {
        EXPECT_EQ(out.readings[i].invoke_id, pushes[i].invoke_id);
        EXPECT_EQ(out.readings[i].block_transfer, i % 2 == 1);
    }
}

}  // namespace
}  // namespace evn_mbus::test
