// Unit tests for hex text and key parsing (evn_mbus/hex.hpp) and the error names
// (evn_mbus/error.hpp).
#include "evn_mbus/hex.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "evn_mbus/error.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;
using evn_mbus::errc;

std::error_code ec_of(errc e) {
    return evn_mbus::make_error_code(e);
}

bytes as_bytes(std::string_view text) {
    bytes out;
    for (char ch : text)
        out.push_back(static_cast<std::uint8_t>(ch));
    return out;
}

// ---- parse_hex -------------------------------------------------------------------------------

TEST(parse_hex, plain_digits_both_cases) {
    bytes out;
    ASSERT_FALSE(evn_mbus::parse_hex("0123456789abcdefABCDEF", out));
    EXPECT_EQ(out, (bytes{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xAB, 0xCD, 0xEF}));
}

TEST(parse_hex, empty_text_gives_no_bytes) {
    bytes out;
    EXPECT_FALSE(evn_mbus::parse_hex("", out));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(evn_mbus::parse_hex("  \n\t # only a comment\n", out));
    EXPECT_TRUE(out.empty());
}

TEST(parse_hex, whitespace_anywhere_between_bytes) {
    bytes out;
    ASSERT_FALSE(evn_mbus::parse_hex("  68 14\t14\r\n68\n\n 53FF  ", out));
    EXPECT_EQ(out, (bytes{0x68, 0x14, 0x14, 0x68, 0x53, 0xFF}));
}

TEST(parse_hex, zero_x_prefixes) {
    bytes out;
    ASSERT_FALSE(evn_mbus::parse_hex("0x01 0x02 0XfF", out));
    EXPECT_EQ(out, (bytes{0x01, 0x02, 0xFF}));

    out.clear();
    ASSERT_FALSE(evn_mbus::parse_hex("0x0102 0XA0B0", out));  // prefix before a byte group
    EXPECT_EQ(out, (bytes{0x01, 0x02, 0xA0, 0xB0}));
}

TEST(parse_hex, zero_digits_are_not_mistaken_for_prefix) {
    bytes out;
    ASSERT_FALSE(evn_mbus::parse_hex("00 00 0a", out));
    EXPECT_EQ(out, (bytes{0x00, 0x00, 0x0A}));
}

TEST(parse_hex, comments_run_to_end_of_line) {
    bytes out;
    ASSERT_FALSE(
        evn_mbus::parse_hex("# header line with ZZ and odd 123\n"
                            "01 02 # trailing comment GG\n"
                            "03\n"
                            "#last line without newline 4",
                            out));
    EXPECT_EQ(out, (bytes{0x01, 0x02, 0x03}));
}

TEST(parse_hex, odd_number_of_digits_is_bad_hex) {
    bytes out;
    EXPECT_EQ(evn_mbus::parse_hex("012", out), ec_of(errc::bad_hex));
    EXPECT_EQ(evn_mbus::parse_hex("0", out), ec_of(errc::bad_hex));
    EXPECT_EQ(evn_mbus::parse_hex("01 02 0", out), ec_of(errc::bad_hex));
}

TEST(parse_hex, stray_characters_are_bad_hex) {
    bytes out;
    EXPECT_EQ(evn_mbus::parse_hex("01g2", out), ec_of(errc::bad_hex));
    EXPECT_EQ(evn_mbus::parse_hex("01;02", out), ec_of(errc::bad_hex));
    EXPECT_EQ(evn_mbus::parse_hex("0102;", out), ec_of(errc::bad_hex));
    EXPECT_EQ(evn_mbus::parse_hex("zz", out), ec_of(errc::bad_hex));
    EXPECT_EQ(evn_mbus::parse_hex(std::string_view("01\0"
                                                   "02",
                                                   5),
                                  out),
              ec_of(errc::bad_hex));
}

TEST(parse_hex, commas_separate_like_whitespace) {
    // Captures pasted from C arrays or forum posts ("0x68, 0xFA, ...") are accepted.
    bytes out;
    ASSERT_FALSE(evn_mbus::parse_hex("01,02", out));
    EXPECT_EQ(out, (bytes{0x01, 0x02}));
}

TEST(parse_hex, error_is_in_core_category) {
    bytes out;
    const std::error_code ec = evn_mbus::parse_hex("xyz", out);
    EXPECT_EQ(&ec.category(), &evn_mbus::core_category());
    EXPECT_EQ(ec.value(), static_cast<int>(errc::bad_hex));
}

TEST(parse_hex, round_trips_every_byte_value_through_to_hex) {
    bytes all;
    for (int i = 0; i < 256; ++i)
        all.push_back(static_cast<std::uint8_t>(i));
    const std::string text = evn_mbus::to_hex(all);
    bytes back;
    ASSERT_FALSE(evn_mbus::parse_hex(text, back));
    EXPECT_EQ(back, all);
}

// ---- to_hex ----------------------------------------------------------------------------------

TEST(to_hex, upper_case_without_separators) {
    const bytes in{0xAB, 0x01, 0x00, 0xFF, 0x9c};
    EXPECT_EQ(evn_mbus::to_hex(in), "AB0100FF9C");
}

TEST(to_hex, empty_input_gives_empty_string) {
    EXPECT_EQ(evn_mbus::to_hex(bytes{}), "");
}

// ---- parse_key -------------------------------------------------------------------------------

const evn_mbus::aes_key expected_key{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                     0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};

TEST(parse_key, thirty_two_digits) {
    evn_mbus::aes_key key{};
    ASSERT_FALSE(evn_mbus::parse_key("00112233445566778899AABBCCDDEEFF", key));
    EXPECT_EQ(key, expected_key);
}

TEST(parse_key, lower_case) {
    evn_mbus::aes_key key{};
    ASSERT_FALSE(evn_mbus::parse_key("00112233445566778899aabbccddeeff", key));
    EXPECT_EQ(key, expected_key);
}

TEST(parse_key, separators_and_prefix_are_removed) {
    const char* const variants[] = {
        "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF",
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
        "00-11-22-33-44-55-66-77-88-99-AA-BB-CC-DD-EE-FF",
        "0x00112233445566778899AABBCCDDEEFF",
        "0011 2233 4455 6677 8899 aabb ccdd eeff",
    };
    for (const char* text : variants) {
        evn_mbus::aes_key key{};
        EXPECT_FALSE(evn_mbus::parse_key(text, key)) << text;
        EXPECT_EQ(key, expected_key) << text;
    }
}

TEST(parse_key, thirty_one_digits_is_bad_key) {
    evn_mbus::aes_key key{};
    EXPECT_EQ(evn_mbus::parse_key("00112233445566778899AABBCCDDEEF", key), ec_of(errc::bad_key));
}

TEST(parse_key, thirty_three_digits_is_bad_key) {
    evn_mbus::aes_key key{};
    EXPECT_EQ(evn_mbus::parse_key("00112233445566778899AABBCCDDEEFF0", key), ec_of(errc::bad_key));
}

TEST(parse_key, thirty_four_digits_is_bad_key) {
    evn_mbus::aes_key key{};
    EXPECT_EQ(evn_mbus::parse_key("00112233445566778899AABBCCDDEEFF00", key), ec_of(errc::bad_key));
}

TEST(parse_key, non_hex_character_is_bad_key) {
    evn_mbus::aes_key key{};
    EXPECT_EQ(evn_mbus::parse_key("00112233445566778899AABBCCDDEEFG", key), ec_of(errc::bad_key));
    EXPECT_EQ(evn_mbus::parse_key("00112233445566778899AABBCCDDEE.F", key), ec_of(errc::bad_key));
    EXPECT_EQ(evn_mbus::parse_key("0011223344556677_8899AABBCCDDEEFF", key), ec_of(errc::bad_key));
}

TEST(parse_key, empty_is_bad_key) {
    evn_mbus::aes_key key{};
    EXPECT_EQ(evn_mbus::parse_key("", key), ec_of(errc::bad_key));
    EXPECT_EQ(evn_mbus::parse_key("   ", key), ec_of(errc::bad_key));
}

// ---- looks_like_hex_text ---------------------------------------------------------------------

TEST(looks_like_hex_text, hex_text_is_recognised) {
    EXPECT_TRUE(evn_mbus::looks_like_hex_text(as_bytes("68 14 14 68 53 FF\n")));
    EXPECT_TRUE(evn_mbus::looks_like_hex_text(as_bytes("6814146853ff")));
    EXPECT_TRUE(evn_mbus::looks_like_hex_text(as_bytes("# capture\n0x68 0x14\r\n")));
}

TEST(looks_like_hex_text, binary_capture_is_not_hex_text) {
    const bytes frame{0x68, 0x14, 0x14, 0x68, 0x53, 0xFF, 0x11, 0x01, 0x67, 0x41, 0x9A, 0x3C, 0xFD,
                      0xA4, 0x4B, 0xE4, 0x38, 0xC9, 0x6F, 0x0E, 0x38, 0xBF, 0x83, 0xD9, 0x83, 0x16};
    EXPECT_FALSE(evn_mbus::looks_like_hex_text(frame));
    EXPECT_FALSE(evn_mbus::looks_like_hex_text(bytes{0x00, 0x01, 0x02, 0x03}));
    EXPECT_FALSE(evn_mbus::looks_like_hex_text(bytes{0xE5}));
}

// ---- error names -----------------------------------------------------------------------------

TEST(error_name, names_are_the_enumerator_names) {
    EXPECT_EQ(evn_mbus::error_name(errc::bad_checksum), "bad_checksum");
    EXPECT_EQ(evn_mbus::error_name(errc::bad_stop_byte), "bad_stop_byte");
    EXPECT_EQ(evn_mbus::error_name(errc::truncated_frame), "truncated_frame");
    EXPECT_EQ(evn_mbus::error_name(errc::missing_segment), "missing_segment");
    EXPECT_EQ(evn_mbus::error_name(errc::axdr_truncated), "axdr_truncated");
    EXPECT_EQ(evn_mbus::error_name(errc::bad_key), "bad_key");
    EXPECT_EQ(evn_mbus::error_name(errc::bad_hex), "bad_hex");
}

TEST(error_name, codes_convert_and_have_messages) {
    const std::error_code ec = errc::bad_checksum;
    EXPECT_EQ(ec, ec_of(errc::bad_checksum));
    EXPECT_NE(ec, ec_of(errc::bad_stop_byte));
    EXPECT_TRUE(static_cast<bool>(ec));
    EXPECT_FALSE(ec.message().empty());
}

TEST(error_name, every_code_has_its_own_name_and_a_message) {
    std::set<std::string_view> names;
    std::set<std::string> messages;
    const auto last = static_cast<int>(evn_mbus::last_errc);
    for (int v = 0; v <= last; ++v) {
        const auto e = static_cast<errc>(v);
        const std::string_view name = evn_mbus::error_name(e);
        EXPECT_NE(name, "unknown") << v;
        EXPECT_TRUE(names.insert(name).second) << "name used twice: " << name;
        const std::string message = ec_of(e).message();
        EXPECT_NE(message, "unknown error") << name;
        EXPECT_TRUE(messages.insert(message).second) << "message used twice: " << message;
    }
    EXPECT_EQ(evn_mbus::error_name(errc::ok), "ok");
    EXPECT_EQ(evn_mbus::error_name(errc::incomplete_push), "incomplete_push");
    EXPECT_EQ(evn_mbus::error_name(errc::dsmr_bad_crc), "dsmr_bad_crc");
    // A value past the table is not a core error: it says so instead of reading past the end.
    const auto beyond = static_cast<errc>(last + 1);
    EXPECT_EQ(evn_mbus::error_name(beyond), "unknown");
    EXPECT_EQ(ec_of(beyond).message(), "unknown error");
    EXPECT_EQ(evn_mbus::error_name(std::make_error_code(std::errc::io_error)), "other");
}

}  // namespace
