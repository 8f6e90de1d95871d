// AMIS meters of Netz Oberoesterreich (Siemens TD-3511): EN 13757-3 over M-Bus with OMS mode 5
// (oms_frame.hpp, mbus_records.hpp), on the operator's own example frame (every value its
// specification states) and four consecutive pushes from vzlogger's tests, whose plaintext an
// independent decoder gave (fixtures/vectors.json); and the acknowledgements the meter waits
// for (telegram_decoder's answer events).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/mbus_records.hpp"
#include "evn_mbus/oms_frame.hpp"
#include "fixture_loader.hpp"
#include "reading_json.hpp"

namespace evn_mbus::test {
namespace {

obis_code electricity(std::uint8_t c, std::uint8_t d, std::uint8_t e = 0) {
    return obis_code{{1, 0, c, d, e, 255}};
}

struct events {
    std::vector<decode_event::kind> order;
    std::vector<reading> readings;
    std::vector<std::error_code> errors;
    std::size_t answers = 0;
};

events run(const decoder_keys& keys, const bytes& line) {
    telegram_decoder dec(keys);
    events out;
    dec.feed(line);
    dec.on_idle_gap();
    for (;;) {
        const decode_event ev = dec.next();
        if (ev.what == decode_event::kind::need_more) break;
        out.order.push_back(ev.what);
        if (ev.what == decode_event::kind::answer) {
            EXPECT_EQ(ev.answer.size(), 1u);
            if (!ev.answer.empty()) {
                EXPECT_EQ(ev.answer[0], 0xE5);
            }
            ++out.answers;
        } else if (ev.what == decode_event::kind::reading) {
            out.readings.push_back(*ev.value);
        } else {
            out.errors.push_back(ev.error);
        }
    }
    return out;
}

double value_at(const reading& r, const obis_code& code) {
    const auto* v = r.find(code);
    return v ? v->scaled() : -1.0;
}

TEST(amis, the_operators_example_gives_every_value_its_specification_states) {
    const capture& c = capture_by_id("amis_netzooe_spec_example");
    telegram_decoder dec(c.keys);
    dec.feed(concat(c.frames));
    dec.on_idle_gap();
    decode_event ev = dec.next();
    ASSERT_EQ(ev.what, decode_event::kind::answer);  // the SND_UD to F0h is acknowledged
    ev = dec.next();
    ASSERT_EQ(ev.what, decode_event::kind::reading) << ev.error.message();
    const reading& r = *ev.value;
    EXPECT_EQ(bytes(dec.last_plaintext().begin(), dec.last_plaintext().end()), c.plaintext);
    const auto& e = c.expected;
    EXPECT_EQ(r.layout, value_layout::mbus_records);
    EXPECT_EQ(r.untagged_values, 0u);
    EXPECT_EQ(r.manufacturer(), "SAM");
    EXPECT_EQ(r.manufacturer_label(), "Siemens (SAM)");
    EXPECT_EQ(r.meter_number, "00000000");
    ASSERT_TRUE(r.clock.has_value());
    // 2014-07-01 08:12:31 local time, summer time: 06:12:31 UTC.
    EXPECT_EQ(format_utc(*r.clock), "2014-07-01T06:12:31Z");
    EXPECT_EQ(r.named("w_p"), e.at("1.8.0_Wh").get<double>());
    EXPECT_EQ(r.named("w_n"), e.at("2.8.0_Wh").get<double>());
    EXPECT_EQ(r.named("r_p_t1"), e.at("3.8.1_varh").get<double>());
    EXPECT_EQ(r.named("r_n_t1"), e.at("4.8.1_varh").get<double>());
    EXPECT_EQ(r.named("p_p"), e.at("1.7.0_W").get<double>());
    EXPECT_EQ(r.named("p_n"), e.at("2.7.0_W").get<double>());
    EXPECT_EQ(r.named("q_p"), e.at("3.7.0_var").get<double>());
    EXPECT_EQ(r.named("q_n"), e.at("4.7.0_var").get<double>());
    EXPECT_EQ(value_at(r, electricity(1, 128)), e.at("1.128.0_Wh").get<double>());
    EXPECT_EQ(unit_symbol(r.find(electricity(3, 8, 1))->unit), "varh");
    EXPECT_EQ(r.values.size(), 10u);  // the clock and nine registers
    EXPECT_EQ(dec.next().what, decode_event::kind::need_more);
}

TEST(amis, four_consecutive_pushes_decrypt_to_their_published_plaintext) {
    std::uint32_t previous = 0;
    for (const char* id : {"amis_vzlogger_mock_acc0", "amis_vzlogger_mock_acc1",
                           "amis_vzlogger_mock_acc2", "amis_vzlogger_mock_acc3"}) {
        const capture& c = capture_by_id(id);
        telegram_decoder dec(c.keys);
        dec.feed(concat(c.frames));
        dec.on_idle_gap();
        EXPECT_EQ(dec.next().what, decode_event::kind::answer) << id;
        const decode_event ev = dec.next();
        ASSERT_EQ(ev.what, decode_event::kind::reading) << id << ": " << ev.error.message();
        EXPECT_EQ(bytes(dec.last_plaintext().begin(), dec.last_plaintext().end()), c.plaintext)
            << id;
        const reading& r = *ev.value;
        EXPECT_EQ(r.named("w_p"), 895563.0) << id;  // 4BAA0D00
        EXPECT_EQ(r.named("r_n_t1"), 117922.0) << id;
        EXPECT_EQ(r.untagged_values, 0u) << id;
        // One push a second: the clock is the frame counter.
        if (previous != 0) {
            EXPECT_EQ(r.frame_counter, previous + 1) << id;
        }
        previous = r.frame_counter;
    }
    // The source states the second push's time: 2015-06-20 23:36:03, summer time.
    const capture& c = capture_by_id("amis_vzlogger_mock_acc1");
    const auto e = run(c.keys, concat(c.frames));
    ASSERT_EQ(e.readings.size(), 1u);
    EXPECT_EQ(format_utc(*e.readings[0].clock), "2015-06-20T21:36:03Z");
    EXPECT_EQ(e.readings[0].named("p_p"), 437.0);  // B5010000
}

// The meter's search (SND_NKE 10 40 F0 30 16) and two pushes, as vzlogger's test streams them:
// three acknowledgements, each before the push it answers is reported.
TEST(amis, the_search_and_every_push_to_the_reader_are_answered_in_order) {
    const capture& c = capture_by_id("amis_vzlogger_mock_acc0");
    ASSERT_FALSE(c.stream.empty());
    const auto e = run(c.keys, c.stream);
    using kind = decode_event::kind;
    EXPECT_EQ(e.order, (std::vector<kind>{kind::answer, kind::answer, kind::reading, kind::answer,
                                          kind::reading}));
    EXPECT_TRUE(e.errors.empty());
}

// The meter waits 0.5 s for its E5h: the answer comes as soon as the frame is complete, not at
// the line's idle gap.
TEST(amis, the_answer_comes_with_the_frame_not_at_the_idle_gap) {
    const capture& c = capture_by_id("amis_netzooe_spec_example");
    for (const link_layer link : {link_layer::auto_detect, link_layer::amis}) {
        telegram_decoder dec(c.keys, decoder_options{link, {}});
        dec.feed(bytes{0x10, 0x40, 0xF0, 0x30, 0x16});
        EXPECT_EQ(dec.next().what, decode_event::kind::answer) << to_string(link);
        EXPECT_EQ(dec.next().what, decode_event::kind::need_more);
        dec.feed(concat(c.frames));
        EXPECT_EQ(dec.next().what, decode_event::kind::answer) << to_string(link);
        EXPECT_EQ(dec.next().what, decode_event::kind::reading) << to_string(link);
        // A short frame to another address (a DLMS meter's bus) is not answered.
        dec.feed(bytes{0x10, 0x40, 0x01, 0x41, 0x16});
        EXPECT_EQ(dec.next().what, decode_event::kind::need_more) << to_string(link);
    }
}

TEST(amis, a_wrong_key_is_named_and_the_push_still_answered_a_damaged_frame_is_not) {
    const capture& c = capture_by_id("amis_netzooe_spec_example");
    decoder_keys wrong = c.keys;
    wrong.key[0] ^= 0x01;
    const auto bad_key = run(wrong, concat(c.frames));
    EXPECT_EQ(bad_key.answers, 1u);
    ASSERT_EQ(bad_key.errors.size(), 1u);
    EXPECT_EQ(bad_key.errors[0], make_error_code(errc::oms_not_decrypted));
    EXPECT_TRUE(bad_key.readings.empty());

    bytes damaged = concat(c.frames);
    damaged[30] ^= 0x10;  // a ciphertext byte: the checksum no longer holds
    const auto hurt = run(c.keys, damaged);
    EXPECT_EQ(hurt.answers, 0u);  // the meter repeats a frame it gets no E5 for
    EXPECT_TRUE(hurt.readings.empty());

    // The next intact frame decodes and is answered.
    bytes both = damaged;
    const bytes good = concat(c.frames);
    both.insert(both.end(), good.begin(), good.end());
    const auto after = run(c.keys, both);
    EXPECT_EQ(after.answers, 1u);
    EXPECT_EQ(after.readings.size(), 1u);
}

TEST(amis, malformed_records_and_headers_are_named) {
    reading r;
    // A record whose 32-bit value is cut off.
    EXPECT_EQ(parse_mbus_records(bytes{0x2F, 0x2F, 0x04, 0x03, 0x01, 0x02}, r),
              make_error_code(errc::mbus_bad_record));
    // Eleven DIFEs before a complete record: more than EN 13757-3 allows.
    bytes difes{0x84};
    difes.insert(difes.end(), 10, 0x80);
    for (const int b : {0x00, 0x03, 0x01, 0x00, 0x00, 0x00})
        difes.push_back(static_cast<std::uint8_t>(b));
    EXPECT_EQ(parse_mbus_records(difes, r), make_error_code(errc::mbus_bad_record));
    // Ten are allowed (tariff and storage 0: today's A+).
    bytes ten{0x84};
    ten.insert(ten.end(), 9, 0x80);
    for (const int b : {0x00, 0x03, 0x01, 0x00, 0x00, 0x00})
        ten.push_back(static_cast<std::uint8_t>(b));
    reading ten_difes;
    EXPECT_FALSE(parse_mbus_records(ten, ten_difes));
    EXPECT_EQ(ten_difes.named("w_p"), 1.0);
    // A unit evn-mbus does not name (volume, m3) is left out and counted, not guessed.
    reading volume;
    EXPECT_FALSE(parse_mbus_records(bytes{0x04, 0x13, 0x10, 0x00, 0x00, 0x00}, volume));
    EXPECT_TRUE(volume.values.empty());
    EXPECT_EQ(volume.untagged_values, 1u);
    // A storage number (a historic value) is not today's register.
    reading stored;
    EXPECT_FALSE(parse_mbus_records(bytes{0x44, 0x03, 0x10, 0x00, 0x00, 0x00}, stored));
    EXPECT_TRUE(stored.values.empty());

    oms_header h;
    EXPECT_EQ(parse_oms_header(bytes{0x5B, 0x00, 0x01}, h), make_error_code(errc::oms_bad_header));
    // Mode 7 (AES-CBC with a key derivation) is not decoded.
    bytes mode7{0x5B, 0, 0, 0, 0, 0x2D, 0x4C, 1, 0x0E, 0x0D, 0, 0x50, 0x07};
    mode7.insert(mode7.end(), 80, 0x00);
    ASSERT_FALSE(parse_oms_header(mode7, h));
    oms_decryptor d;
    std::vector<std::uint8_t> out;
    EXPECT_EQ(d.decrypt(h, out), make_error_code(errc::oms_unsupported_mode));
    // More encrypted blocks announced than sent.
    bytes short_of_blocks{0x5B, 0, 0, 0, 0, 0x2D, 0x4C, 1, 0x0E, 0x0D, 0, 0x50, 0x05};
    short_of_blocks.insert(short_of_blocks.end(), 64, 0x00);
    ASSERT_FALSE(parse_oms_header(short_of_blocks, h));
    EXPECT_EQ(d.decrypt(h, out), make_error_code(errc::oms_bad_header));
}

TEST(amis, winter_time_and_an_invalid_time) {
    // Type I: 2015-01-20 23:36:02, the summer-time bit (first byte, bit 6) clear: CET.
    reading winter;
    ASSERT_FALSE(parse_mbus_records(bytes{0x06, 0x6D, 0x02, 0x24, 0xD7, 0xF4, 0x11, 0x04}, winter));
    ASSERT_TRUE(winter.clock.has_value());
    EXPECT_EQ(format_utc(*winter.clock), "2015-01-20T22:36:02Z");
    // The same with the summer-time bit: CEST.
    reading summer;
    ASSERT_FALSE(parse_mbus_records(bytes{0x06, 0x6D, 0x42, 0x24, 0xD7, 0xF4, 0x11, 0x04}, summer));
    EXPECT_EQ(format_utc(*summer.clock), "2015-01-20T21:36:02Z");
    // "Time invalid" (minute byte, bit 7): no clock, and not guessed.
    reading invalid;
    ASSERT_FALSE(
        parse_mbus_records(bytes{0x06, 0x6D, 0x02, 0xA4, 0xD7, 0xF4, 0x11, 0x04}, invalid));
    EXPECT_FALSE(invalid.clock.has_value());
    EXPECT_EQ(invalid.untagged_values, 1u);
}

TEST(amis, manufacturer_registers_only_as_the_specification_names_them) {
    const std::uint16_t sam = 0x4C2D;
    // 04 83 FF 04: 1-0:1.128.0 from a Siemens AMIS meter ...
    reading amis;
    ASSERT_FALSE(parse_mbus_records(bytes{0x04, 0x83, 0xFF, 0x04, 0x14, 0, 0, 0}, amis, sam));
    EXPECT_EQ(value_at(amis, electricity(1, 128)), 20.0);
    // ... from another manufacturer, with another code, or with more VIFEs: left out.
    for (const auto& [record, m] : std::vector<std::pair<bytes, std::uint16_t>>{
             {{0x04, 0x83, 0xFF, 0x04, 0x14, 0, 0, 0}, 0x1234},
             {{0x04, 0x83, 0xFF, 0x00, 0x14, 0, 0, 0}, sam},
             {{0x04, 0x83, 0xFF, 0x84, 0x73, 0x14, 0, 0, 0}, sam}}) {
        reading r;
        ASSERT_FALSE(parse_mbus_records(record, r, m));
        EXPECT_TRUE(r.values.empty()) << r.values.size();
        EXPECT_EQ(r.untagged_values, 1u);
    }
}

// serial.link: mbus only listens (EVN's meters on a bus): the push decodes, nothing is answered.
TEST(amis, a_listening_mbus_link_decodes_without_answering) {
    const capture& c = capture_by_id("amis_vzlogger_mock_acc0");
    telegram_decoder dec(c.keys, decoder_options{link_layer::mbus, {}});
    dec.feed(c.stream);
    dec.end_of_input();
    std::vector<decode_event::kind> order;
    for (decode_event e = dec.next(); e.what != decode_event::kind::need_more; e = dec.next())
        order.push_back(e.what);
    // The meter's search is said once (it would search for ever), never answered.
    EXPECT_EQ(order, (std::vector<decode_event::kind>{decode_event::kind::error,
                                                      decode_event::kind::reading,
                                                      decode_event::kind::reading}));
    dec.feed(bytes{0x10, 0x40, 0xF0, 0x30, 0x16});
    EXPECT_EQ(dec.next().what, decode_event::kind::need_more);
    EXPECT_EQ(dec.detected_link(), link_layer::mbus);
}

TEST(amis, only_snd_nke_and_snd_ud_to_the_reader_are_answered) {
    const capture& c = capture_by_id("amis_netzooe_spec_example");
    // 10 C A CS 16 with C 60h (not SND_NKE), 40h to another address, 5Bh (REQ_UD2) to F0h.
    for (const bytes& frame :
         {bytes{0x10, 0x60, 0xF0, 0x50, 0x16}, bytes{0x10, 0x40, 0xFE, 0x3E, 0x16},
          bytes{0x10, 0x5B, 0xF0, 0x4B, 0x16}}) {
        const auto e = run(c.keys, frame);
        EXPECT_EQ(e.answers, 0u) << to_hex(frame);
    }
    EXPECT_EQ(run(c.keys, bytes{0x10, 0x40, 0xF0, 0x30, 0x16}).answers, 1u);
}

// Synthetic: pushes encrypted here with OMS mode 5 (the operator's example key and header), to
// check what a decryption must hold before it is taken.
bytes amis_frame(const bytes& plain) {
    const capture& c = capture_by_id("amis_netzooe_spec_example");
    bytes frame = concat(c.frames);
    const std::uint8_t iv[16] = {0x2D, 0x4C, 0,    0,    0,    0,    0x01, 0x0E,
                                 0x0D, 0x0D, 0x0D, 0x0D, 0x0D, 0x0D, 0x0D, 0x0D};
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    bytes cipher(plain.size());
    int len = 0;
    EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), nullptr, c.keys.key.data(), iv);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    EVP_EncryptUpdate(ctx, cipher.data(), &len, plain.data(), static_cast<int>(plain.size()));
    EVP_CIPHER_CTX_free(ctx);
    std::copy(cipher.begin(), cipher.end(), frame.begin() + 19);  // after the header
    std::uint8_t sum = 0;
    for (std::size_t i = 4; i < frame.size() - 2; ++i)
        sum = static_cast<std::uint8_t>(sum + frame[i]);
    frame[frame.size() - 2] = sum;
    return frame;
}

TEST(amis, a_decryption_is_taken_only_with_fillers_clock_and_registers) {
    const capture& c = capture_by_id("amis_netzooe_spec_example");
    ASSERT_EQ(run(c.keys, amis_frame(c.plaintext)).readings.size(), 1u);  // the control
    // 80 bytes each: a clock and A+, filled with 2F, but broken one way each.
    bytes good{0x2F, 0x2F, 0x06, 0x6D, 0x5F, 0x0C, 0x48, 0xC1,
               0x17, 0x1B, 0x04, 0x03, 0x00, 0x72, 0x0A, 0x00};
    good.resize(80, 0x2F);
    EXPECT_EQ(run(c.keys, amis_frame(good)).readings.size(), 1u);
    bytes no_trailing_filler = good;
    no_trailing_filler[79] = 0x00;
    bytes no_clock = good;
    no_clock[3] = 0x13;  // a volume record: left out
    bytes vendor_data_inside = good;
    vendor_data_inside[16] = 0x0F;  // manufacturer data from byte 16
    for (const bytes& plain : {no_trailing_filler, no_clock, vendor_data_inside}) {
        const auto e = run(c.keys, amis_frame(plain));
        EXPECT_TRUE(e.readings.empty());
        ASSERT_EQ(e.errors.size(), 1u);
        EXPECT_EQ(e.errors[0], make_error_code(errc::oms_not_decrypted));
        EXPECT_EQ(e.answers, 1u);  // the frame itself was whole: answered
    }
}

}  // namespace
}  // namespace evn_mbus::test

namespace evn_mbus::test {
namespace {

// Records evn-mbus does not name pass through by their DIF/VIF header, their data as sent: an
// integer, BCD digits, variable-length data as hex, a register with a storage number; the
// named ones and the clock stay where they were.
TEST(amis, records_without_a_name_pass_through_by_their_header) {
    const bytes plain = {0x04, 0x03, 0x10, 0x00, 0x00, 0x00,         // A+ 16 Wh
                         0x04, 0xFD, 0x17, 0x01, 0x00, 0x00, 0x00,   // error flags
                         0x0C, 0x13, 0x78, 0x56, 0x34, 0x12,         // volume, BCD
                         0x0D, 0xFD, 0x0C, 0x03, 0x41, 0x42, 0x43,   // model, 3 bytes
                         0x44, 0x03, 0x05, 0x00, 0x00, 0x00,         // A+ storage 1
                         0x04, 0xFD, 0x17, 0x02, 0x00, 0x00, 0x00};  // the same again
    reading r;
    ASSERT_FALSE(parse_mbus_records(plain, r));
    ASSERT_EQ(r.values.size(), 1u);
    EXPECT_EQ(r.untagged_values, 5u);
    ASSERT_EQ(r.unnamed_records.size(), 4u);
    EXPECT_EQ(r.unnamed_records[0].header, "04FD17");
    EXPECT_EQ(r.unnamed_records[0].value.scaled(), 1.0);  // the first of the two
    EXPECT_EQ(r.unnamed_records[1].header, "0C13");
    EXPECT_EQ(r.unnamed_records[1].value.scaled(), 12345678.0);
    EXPECT_EQ(r.unnamed_records[2].header, "0DFD0C");
    EXPECT_EQ(r.unnamed_records[2].value.text, "414243");
    EXPECT_EQ(r.unnamed_records[3].header, "4403");
    EXPECT_EQ(r.unnamed_records[3].value.scaled(), 5.0);
    const nlohmann::json j = to_json(r);
    EXPECT_EQ(
        j.at("mbus_records"),
        (nlohmann::json{{"04FD17", 1}, {"0C13", 12345678}, {"0DFD0C", "414243"}, {"4403", 5}}));
    r.clear();
    EXPECT_TRUE(r.unnamed_records.empty());
    EXPECT_FALSE(to_json(r).contains("mbus_records"));
}

}  // namespace
}  // namespace evn_mbus::test
