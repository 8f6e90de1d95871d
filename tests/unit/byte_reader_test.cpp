// Unit tests for the bounds-checked cursor (evn_mbus/byte_reader.hpp) and the A-XDR length read
// through it (evn_mbus/axdr_decoder.hpp).
#include "evn_mbus/byte_reader.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "evn_mbus/axdr_decoder.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;
using evn_mbus::byte_reader;

TEST(byte_reader, reads_big_endian_integers_in_order) {
    const bytes in{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A};
    byte_reader r(in);
    std::uint8_t a = 0;
    std::uint16_t b = 0;
    std::uint32_t c = 0;
    std::uint64_t d = 0;
    ASSERT_TRUE(r.u8(a));
    ASSERT_TRUE(r.be16(b));
    ASSERT_TRUE(r.be32(c));
    ASSERT_TRUE(r.be(3, d));
    EXPECT_EQ(a, 0x01u);
    EXPECT_EQ(b, 0x0203u);
    EXPECT_EQ(c, 0x04050607u);
    EXPECT_EQ(d, 0x08090Au);
    EXPECT_TRUE(r.at_end());
    EXPECT_FALSE(r.failed());
    EXPECT_EQ(r.position(), in.size());
}

TEST(byte_reader, reads_the_widest_integers) {
    const bytes in{0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA, 0xF9, 0xF8, 0x80, 0x00, 0x00, 0x01};
    byte_reader r(in);
    std::uint64_t v = 0;
    ASSERT_TRUE(r.be(8, v));
    EXPECT_EQ(v, 0xFFFEFDFCFBFAF9F8u);
    std::uint32_t w = 0;
    ASSERT_TRUE(r.be32(w));
    EXPECT_EQ(w, 0x80000001u);
    // Zero bytes read nothing and succeed, even at the end.
    ASSERT_TRUE(r.be(0, v));
    EXPECT_EQ(v, 0u);
}

TEST(byte_reader, a_read_past_the_end_fails_and_changes_nothing) {
    const bytes in{0xAB, 0xCD, 0xEF};
    byte_reader r(in);
    std::uint8_t a = 0;
    ASSERT_TRUE(r.u8(a));
    std::uint32_t v = 0x11223344;
    EXPECT_FALSE(r.be32(v));
    EXPECT_EQ(v, 0x11223344u);    // output untouched
    EXPECT_EQ(r.position(), 1u);  // position untouched
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(r.remaining(), 2u);
}

TEST(byte_reader, once_failed_every_later_read_fails) {
    const bytes in{0x01, 0x02, 0x03, 0x04};
    byte_reader r(in);
    std::span<const std::uint8_t> s;
    EXPECT_FALSE(r.bytes(5, s));
    // Two bytes are there, but the chain already broke: checking once at the end is enough.
    std::uint16_t v = 0;
    EXPECT_FALSE(r.be16(v));
    std::uint8_t b = 0;
    EXPECT_FALSE(r.u8(b));
    EXPECT_FALSE(r.peek(b));
    EXPECT_FALSE(r.skip(1));
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(r.position(), 0u);
}

TEST(byte_reader, huge_lengths_cannot_wrap_around) {
    const bytes in{0x01, 0x02};
    byte_reader r(in);
    ASSERT_TRUE(r.skip(1));
    std::span<const std::uint8_t> s;
    EXPECT_FALSE(r.bytes(std::numeric_limits<std::size_t>::max(), s));
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(r.position(), 1u);
}

TEST(byte_reader, more_than_eight_bytes_do_not_fit_an_integer) {
    const bytes in(16, 0x01);
    byte_reader r(in);
    std::uint64_t v = 7;
    EXPECT_FALSE(r.be(9, v));
    EXPECT_EQ(v, 7u);
    EXPECT_TRUE(r.failed());
}

TEST(byte_reader, views_copies_and_the_rest) {
    const bytes in{'K', 'F', 'M', 0x67, 0x50, 0x00, 0x00, 0x09, 0xAA, 0xBB, 0xCC};
    byte_reader r(in);
    std::array<std::uint8_t, 8> title{};
    ASSERT_TRUE(r.copy(title));
    EXPECT_EQ(title[0], 'K');
    EXPECT_EQ(title[7], 0x09u);
    std::uint8_t next = 0;
    ASSERT_TRUE(r.peek(next));
    EXPECT_EQ(next, 0xAAu);
    EXPECT_EQ(r.position(), 8u);  // peek does not move
    std::span<const std::uint8_t> view;
    ASSERT_TRUE(r.bytes(1, view));
    ASSERT_EQ(view.size(), 1u);
    EXPECT_EQ(view.data(), in.data() + 8);  // a view into the input, not a copy
    EXPECT_EQ(r.rest().size(), 2u);
    EXPECT_EQ(r.rest()[0], 0xBBu);
    std::array<std::uint8_t, 3> too_many{};
    EXPECT_FALSE(r.copy(too_many));
}

TEST(byte_reader, an_empty_input_fails_the_first_read) {
    byte_reader r(std::span<const std::uint8_t>{});
    EXPECT_TRUE(r.at_end());
    std::uint8_t b = 0;
    EXPECT_FALSE(r.u8(b));
    EXPECT_TRUE(r.failed());
    EXPECT_TRUE(r.rest().empty());
}

TEST(byte_reader, axdr_length_through_the_reader) {
    const bytes in{0x05, 0x82, 0x01, 0x00, 0x83, 0x01};
    byte_reader r(in);
    std::size_t len = 0;
    ASSERT_TRUE(evn_mbus::read_axdr_length(r, len));
    EXPECT_EQ(len, 5u);
    ASSERT_TRUE(evn_mbus::read_axdr_length(r, len));
    EXPECT_EQ(len, 0x100u);
    EXPECT_EQ(r.position(), 4u);
    // 83h announces three length bytes, one is there: refused, the reader unmoved.
    EXPECT_FALSE(evn_mbus::read_axdr_length(r, len));
    EXPECT_EQ(len, 0x100u);
    EXPECT_EQ(r.position(), 4u);
}

}  // namespace
