// Unit tests for the A-XDR decoder (evn_mbus/axdr_decoder.hpp) and writer
// (evn_mbus/axdr_writer.hpp).
//
// Every input is built in a vector of exactly its own size, so that AddressSanitizer reports any
// read past its end.
#include "evn_mbus/axdr_decoder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "evn_mbus/axdr_writer.hpp"
#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/obis_code.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;
using evn_mbus::axdr_limits;
using evn_mbus::axdr_node;
using evn_mbus::axdr_type;
using evn_mbus::errc;

std::error_code ec_of(errc e) {
    return evn_mbus::make_error_code(e);
}

struct decoded {
    std::error_code ec;
    std::vector<axdr_node> nodes;
    std::size_t consumed = 0;
};

decoded decode(const bytes& in, const axdr_limits& limits = {}) {
    // A copy with capacity == size, so that an over-read lands outside the allocation.
    const bytes exact(in.begin(), in.end());
    decoded d;
    d.ec = evn_mbus::decode_axdr(std::span<const std::uint8_t>(exact.data(), exact.size()), d.nodes,
                                 d.consumed, limits);
    return d;
}

// Decodes a single scalar and checks the common properties of a leaf node.
axdr_node decode_one(const bytes& in, axdr_type expected_type) {
    const decoded d = decode(in);
    EXPECT_FALSE(d.ec) << d.ec.message();
    EXPECT_EQ(d.consumed, in.size());
    EXPECT_EQ(d.nodes.size(), 1u);
    if (d.nodes.size() != 1) return axdr_node{};
    const axdr_node& n = d.nodes[0];
    EXPECT_EQ(n.type, expected_type);
    EXPECT_EQ(n.depth, 0u);
    EXPECT_EQ(n.subtree, 1u);
    return n;
}

bytes concat(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

bytes filled(std::size_t n, std::uint8_t first = 0) {
    bytes v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::uint8_t>(first + i);
    return v;
}

// ---- scalar types ----------------------------------------------------------------------------

TEST(axdr_decode, null_data) {
    decode_one({0x00}, axdr_type::null_data);
}

TEST(axdr_decode, boolean) {
    EXPECT_EQ(decode_one({0x03, 0x01}, axdr_type::boolean).int_value, 1);
    EXPECT_EQ(decode_one({0x03, 0x00}, axdr_type::boolean).int_value, 0);
}

TEST(axdr_decode, double_long_int32) {
    EXPECT_EQ(decode_one({0x05, 0x00, 0x01, 0x02, 0x03}, axdr_type::double_long).int_value,
              0x010203);
    EXPECT_EQ(decode_one({0x05, 0xFF, 0xFF, 0xFF, 0xFE}, axdr_type::double_long).int_value, -2);
    EXPECT_EQ(decode_one({0x05, 0x80, 0x00, 0x00, 0x00}, axdr_type::double_long).int_value,
              std::numeric_limits<std::int32_t>::min());
    EXPECT_EQ(decode_one({0x05, 0x7F, 0xFF, 0xFF, 0xFF}, axdr_type::double_long).int_value,
              std::numeric_limits<std::int32_t>::max());
}

TEST(axdr_decode, double_long_unsigned_uint32) {
    EXPECT_EQ(
        decode_one({0x06, 0x00, 0x00, 0x01, 0x2C}, axdr_type::double_long_unsigned).uint_value,
        300u);
    EXPECT_EQ(
        decode_one({0x06, 0xFF, 0xFF, 0xFF, 0xFF}, axdr_type::double_long_unsigned).uint_value,
        0xFFFFFFFFu);
    EXPECT_EQ(
        decode_one({0x06, 0x12, 0x34, 0x56, 0x78}, axdr_type::double_long_unsigned).uint_value,
        0x12345678u);
}

TEST(axdr_decode, integer_int8) {
    EXPECT_EQ(decode_one({0x0F, 0xFF}, axdr_type::integer).int_value, -1);
    EXPECT_EQ(decode_one({0x0F, 0x80}, axdr_type::integer).int_value, -128);
    EXPECT_EQ(decode_one({0x0F, 0x7F}, axdr_type::integer).int_value, 127);
    EXPECT_EQ(decode_one({0x0F, 0xFD}, axdr_type::integer).int_value, -3);
}

TEST(axdr_decode, long_signed_int16) {
    EXPECT_EQ(decode_one({0x10, 0xFF, 0x38}, axdr_type::long_signed).int_value, -200);
    EXPECT_EQ(decode_one({0x10, 0x80, 0x00}, axdr_type::long_signed).int_value, -32768);
    EXPECT_EQ(decode_one({0x10, 0x01, 0x02}, axdr_type::long_signed).int_value, 0x0102);
}

TEST(axdr_decode, unsigned8) {
    EXPECT_EQ(decode_one({0x11, 0xFF}, axdr_type::unsigned8).uint_value, 255u);
    EXPECT_EQ(decode_one({0x11, 0x05}, axdr_type::unsigned8).uint_value, 5u);
}

TEST(axdr_decode, long_unsigned_uint16) {
    EXPECT_EQ(decode_one({0x12, 0xAB, 0xCD}, axdr_type::long_unsigned).uint_value, 0xABCDu);
    EXPECT_EQ(decode_one({0x12, 0x00, 0x01}, axdr_type::long_unsigned).uint_value, 1u);
}

TEST(axdr_decode, long64) {
    EXPECT_EQ(decode_one({0x14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE}, axdr_type::long64)
                  .int_value,
              -2);
    EXPECT_EQ(decode_one({0x14, 0x80, 0, 0, 0, 0, 0, 0, 0}, axdr_type::long64).int_value,
              std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(decode_one({0x14, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}, axdr_type::long64)
                  .int_value,
              0x0102030405060708);
}

TEST(axdr_decode, long64_unsigned) {
    EXPECT_EQ(decode_one({0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
                         axdr_type::long64_unsigned)
                  .uint_value,
              std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(decode_one({0x15, 0x81, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
                         axdr_type::long64_unsigned)
                  .uint_value,
              0x8102030405060708u);
}

TEST(axdr_decode, enumeration) {
    const axdr_node n = decode_one({0x16, 0x1B}, axdr_type::enumeration);
    EXPECT_EQ(n.int_value, 27);
    EXPECT_DOUBLE_EQ(n.as_double(), 27.0);
    EXPECT_EQ(decode_one({0x16, 0xFF}, axdr_type::enumeration).int_value, 255);
}

TEST(axdr_decode, float32) {
    // 1.5f = 3FC00000h, -2.25f = C0100000h
    EXPECT_DOUBLE_EQ(decode_one({0x17, 0x3F, 0xC0, 0x00, 0x00}, axdr_type::float32).float_value,
                     1.5);
    EXPECT_DOUBLE_EQ(decode_one({0x17, 0xC0, 0x10, 0x00, 0x00}, axdr_type::float32).float_value,
                     -2.25);
}

TEST(axdr_decode, float64) {
    // 1.5 = 3FF8000000000000h, -0.5 = BFE0000000000000h
    EXPECT_DOUBLE_EQ(
        decode_one({0x18, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0}, axdr_type::float64).float_value, 1.5);
    EXPECT_DOUBLE_EQ(
        decode_one({0x18, 0xBF, 0xE0, 0, 0, 0, 0, 0, 0}, axdr_type::float64).float_value, -0.5);
}

TEST(axdr_decode, bcd_takes_one_byte) {
    const decoded d = decode({0x0D, 0x12, 0xEE});
    ASSERT_FALSE(d.ec);
    EXPECT_EQ(d.consumed, 2u);
    ASSERT_EQ(d.nodes.size(), 1u);
    EXPECT_EQ(d.nodes[0].type, axdr_type::bcd);
}

TEST(axdr_decode, octet_string_offset_and_length) {
    const bytes in{0x09, 0x03, 0xAA, 0xBB, 0xCC};
    const axdr_node n = decode_one(in, axdr_type::octet_string);
    EXPECT_EQ(n.offset, 2u);
    EXPECT_EQ(n.length, 3u);
    EXPECT_TRUE(n.is_bytes());
}

TEST(axdr_decode, empty_octet_string) {
    const axdr_node n = decode_one({0x09, 0x00}, axdr_type::octet_string);
    EXPECT_EQ(n.length, 0u);
}

TEST(axdr_decode, visible_string) {
    const bytes in{0x0A, 0x04, 'E', 'V', 'N', '1'};
    const axdr_node n = decode_one(in, axdr_type::visible_string);
    EXPECT_EQ(n.offset, 2u);
    ASSERT_EQ(n.length, 4u);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(in.data() + n.offset), n.length),
              "EVN1");
}

TEST(axdr_decode, utf8_string) {
    const bytes in{0x0C, 0x02, 0xC3, 0xA4};  // "ä"
    const axdr_node n = decode_one(in, axdr_type::utf8_string);
    EXPECT_EQ(n.offset, 2u);
    EXPECT_EQ(n.length, 2u);
}

TEST(axdr_decode, bit_string_length_is_in_bits) {
    {
        const axdr_node n = decode_one({0x04, 0x0C, 0xAB, 0xC0}, axdr_type::bit_string);
        EXPECT_EQ(n.offset, 2u);
        EXPECT_EQ(n.length, 2u);  // 12 bits use 2 bytes
    }
    {
        const axdr_node n = decode_one({0x04, 0x08, 0xFF}, axdr_type::bit_string);
        EXPECT_EQ(n.length, 1u);
    }
    {
        const axdr_node n = decode_one({0x04, 0x01, 0x80}, axdr_type::bit_string);
        EXPECT_EQ(n.length, 1u);
    }
    {
        const axdr_node n = decode_one({0x04, 0x00}, axdr_type::bit_string);
        EXPECT_EQ(n.length, 0u);
    }
    {
        // 9 bits need 2 bytes; only 1 is there.
        EXPECT_EQ(decode({0x04, 0x09, 0xFF}).ec, ec_of(errc::axdr_truncated));
    }
}

TEST(axdr_decode, date_time_has_no_length_byte) {
    const bytes in{0x19, 0x07, 0xE5, 0x09, 0x1B, 0x01, 0x09, 0x2F, 0x0F, 0x00, 0xFF, 0x88, 0x80};
    const axdr_node n = decode_one(in, axdr_type::date_time);
    EXPECT_EQ(n.offset, 1u);
    EXPECT_EQ(n.length, 12u);
    EXPECT_TRUE(n.is_bytes());
}

TEST(axdr_decode, date_is_five_bytes) {
    const bytes in{0x1A, 0x07, 0xE5, 0x09, 0x1B, 0x01};
    const axdr_node n = decode_one(in, axdr_type::date);
    EXPECT_EQ(n.offset, 1u);
    EXPECT_EQ(n.length, 5u);
    EXPECT_TRUE(n.is_bytes());
}

TEST(axdr_decode, time_is_four_bytes) {
    const bytes in{0x1B, 0x09, 0x2F, 0x0F, 0x00};
    const axdr_node n = decode_one(in, axdr_type::time);
    EXPECT_EQ(n.offset, 1u);
    EXPECT_EQ(n.length, 4u);
    EXPECT_TRUE(n.is_bytes());
}

TEST(axdr_decode, consumed_excludes_trailing_bytes) {
    const decoded d = decode({0x12, 0x01, 0x02, 0xAA, 0xBB});
    ASSERT_FALSE(d.ec);
    EXPECT_EQ(d.consumed, 3u);
    ASSERT_EQ(d.nodes.size(), 1u);
    EXPECT_EQ(d.nodes[0].uint_value, 0x0102u);
}

// ---- node predicates -------------------------------------------------------------------------

TEST(axdr_node, predicates) {
    const axdr_node i8 = decode_one({0x0F, 0xFB}, axdr_type::integer);
    EXPECT_TRUE(i8.is_signed_integer());
    EXPECT_FALSE(i8.is_unsigned_integer());
    EXPECT_TRUE(i8.is_number());
    EXPECT_FALSE(i8.is_bytes());
    EXPECT_FALSE(i8.is_container());
    EXPECT_DOUBLE_EQ(i8.as_double(), -5.0);

    for (const bytes& in :
         {bytes{0x10, 0x00, 0x01}, bytes{0x05, 0, 0, 0, 1}, bytes{0x14, 0, 0, 0, 0, 0, 0, 0, 1}}) {
        const decoded d = decode(in);
        ASSERT_FALSE(d.ec);
        EXPECT_TRUE(d.nodes[0].is_signed_integer());
        EXPECT_FALSE(d.nodes[0].is_unsigned_integer());
        EXPECT_TRUE(d.nodes[0].is_number());
        EXPECT_DOUBLE_EQ(d.nodes[0].as_double(), 1.0);
    }
    for (const bytes& in : {bytes{0x11, 0x01}, bytes{0x12, 0x00, 0x01}, bytes{0x06, 0, 0, 0, 1},
                            bytes{0x15, 0, 0, 0, 0, 0, 0, 0, 1}}) {
        const decoded d = decode(in);
        ASSERT_FALSE(d.ec);
        EXPECT_TRUE(d.nodes[0].is_unsigned_integer());
        EXPECT_FALSE(d.nodes[0].is_signed_integer());
        EXPECT_TRUE(d.nodes[0].is_number());
        EXPECT_DOUBLE_EQ(d.nodes[0].as_double(), 1.0);
    }

    const axdr_node u32 =
        decode_one({0x06, 0x00, 0x00, 0x01, 0x2C}, axdr_type::double_long_unsigned);
    EXPECT_DOUBLE_EQ(u32.as_double(), 300.0);

    const axdr_node u64 = decode_one({0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
                                     axdr_type::long64_unsigned);
    EXPECT_DOUBLE_EQ(u64.as_double(), 18446744073709551615.0);

    const axdr_node f = decode_one({0x17, 0x3F, 0xC0, 0x00, 0x00}, axdr_type::float32);
    EXPECT_TRUE(f.is_number());
    EXPECT_FALSE(f.is_signed_integer());
    EXPECT_FALSE(f.is_unsigned_integer());
    EXPECT_DOUBLE_EQ(f.as_double(), 1.5);

    const axdr_node d64 = decode_one({0x18, 0xBF, 0xE0, 0, 0, 0, 0, 0, 0}, axdr_type::float64);
    EXPECT_TRUE(d64.is_number());
    EXPECT_DOUBLE_EQ(d64.as_double(), -0.5);

    const axdr_node os = decode_one({0x09, 0x01, 0x05}, axdr_type::octet_string);
    EXPECT_TRUE(os.is_bytes());
    EXPECT_FALSE(os.is_number());
    EXPECT_FALSE(os.is_container());
    EXPECT_DOUBLE_EQ(os.as_double(), 0.0);

    EXPECT_TRUE(decode_one({0x0A, 0x01, 'a'}, axdr_type::visible_string).is_bytes());
    EXPECT_TRUE(decode_one({0x0C, 0x01, 'a'}, axdr_type::utf8_string).is_bytes());

    const axdr_node nul = decode_one({0x00}, axdr_type::null_data);
    EXPECT_FALSE(nul.is_number());
    EXPECT_FALSE(nul.is_bytes());
    EXPECT_DOUBLE_EQ(nul.as_double(), 0.0);

    const decoded s = decode({0x02, 0x00});
    ASSERT_FALSE(s.ec);
    EXPECT_TRUE(s.nodes[0].is_container());
    EXPECT_FALSE(s.nodes[0].is_number());
    EXPECT_FALSE(s.nodes[0].is_bytes());
    EXPECT_DOUBLE_EQ(s.nodes[0].as_double(), 0.0);

    const decoded a = decode({0x01, 0x00});
    ASSERT_FALSE(a.ec);
    EXPECT_TRUE(a.nodes[0].is_container());
}

// ---- containers ------------------------------------------------------------------------------

TEST(axdr_decode, empty_containers) {
    for (std::uint8_t tag : {std::uint8_t{0x01}, std::uint8_t{0x02}}) {
        const decoded d = decode({tag, 0x00});
        ASSERT_FALSE(d.ec);
        EXPECT_EQ(d.consumed, 2u);
        ASSERT_EQ(d.nodes.size(), 1u);
        EXPECT_EQ(d.nodes[0].count, 0u);
        EXPECT_EQ(d.nodes[0].subtree, 1u);
    }
}

TEST(axdr_decode, nested_structure_flattened_in_pre_order) {
    // structure(3) { uint8 5, structure(2) { octet-string AA BB, int16 7 }, array(0) } + trailer
    const bytes in{0x02, 0x03, 0x11, 0x05, 0x02, 0x02, 0x09, 0x02,
                   0xAA, 0xBB, 0x10, 0x00, 0x07, 0x01, 0x00, 0xEE};
    const decoded d = decode(in);
    ASSERT_FALSE(d.ec) << d.ec.message();
    EXPECT_EQ(d.consumed, 15u);
    ASSERT_EQ(d.nodes.size(), 6u);

    EXPECT_EQ(d.nodes[0].type, axdr_type::structure);
    EXPECT_EQ(d.nodes[0].count, 3u);
    EXPECT_EQ(d.nodes[0].subtree, 6u);
    EXPECT_EQ(d.nodes[0].depth, 0u);

    EXPECT_EQ(d.nodes[1].type, axdr_type::unsigned8);
    EXPECT_EQ(d.nodes[1].uint_value, 5u);
    EXPECT_EQ(d.nodes[1].depth, 1u);
    EXPECT_EQ(d.nodes[1].subtree, 1u);

    EXPECT_EQ(d.nodes[2].type, axdr_type::structure);
    EXPECT_EQ(d.nodes[2].count, 2u);
    EXPECT_EQ(d.nodes[2].subtree, 3u);
    EXPECT_EQ(d.nodes[2].depth, 1u);

    EXPECT_EQ(d.nodes[3].type, axdr_type::octet_string);
    EXPECT_EQ(d.nodes[3].offset, 8u);
    EXPECT_EQ(d.nodes[3].length, 2u);
    EXPECT_EQ(d.nodes[3].depth, 2u);

    EXPECT_EQ(d.nodes[4].type, axdr_type::long_signed);
    EXPECT_EQ(d.nodes[4].int_value, 7);
    EXPECT_EQ(d.nodes[4].depth, 2u);

    EXPECT_EQ(d.nodes[5].type, axdr_type::array);
    EXPECT_EQ(d.nodes[5].count, 0u);
    EXPECT_EQ(d.nodes[5].subtree, 1u);
    EXPECT_EQ(d.nodes[5].depth, 1u);

    // Walking the root's children by subtree visits exactly its three children.
    std::size_t i = 1;
    int children = 0;
    while (i < d.nodes[0].subtree) {
        EXPECT_EQ(d.nodes[i].depth, 1u);
        i += d.nodes[i].subtree;
        ++children;
    }
    EXPECT_EQ(children, 3);
    EXPECT_EQ(i, d.nodes.size());
}

TEST(axdr_decode, array_of_register_structures) {
    // array(2) of structure { OBIS octet-string, uint32, structure { int8 scaler, enum unit } }
    bytes in{0x01, 0x02};
    const bytes reg1{0x02, 0x03, 0x09, 0x06, 0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, 0x06,
                     0x00, 0x00, 0x10, 0x00, 0x02, 0x02, 0x0F, 0x00, 0x16, 0x1E};
    const bytes reg2{0x02, 0x03, 0x09, 0x06, 0x01, 0x00, 0x20, 0x07, 0x00, 0xFF,
                     0x12, 0x09, 0x2E, 0x02, 0x02, 0x0F, 0xFF, 0x16, 0x23};
    in = concat(concat(in, reg1), reg2);
    const decoded d = decode(in);
    ASSERT_FALSE(d.ec) << d.ec.message();
    EXPECT_EQ(d.consumed, in.size());
    ASSERT_EQ(d.nodes.size(), 13u);  // array + 2 * (struct + octet + value + struct + 2)
    EXPECT_EQ(d.nodes[0].count, 2u);
    EXPECT_EQ(d.nodes[0].subtree, 13u);
    EXPECT_EQ(d.nodes[1].subtree, 6u);
    EXPECT_EQ(d.nodes[1].depth, 1u);
    const axdr_node& second = d.nodes[1 + d.nodes[1].subtree];
    EXPECT_EQ(second.type, axdr_type::structure);
    EXPECT_EQ(second.depth, 1u);
    EXPECT_EQ(second.subtree, 6u);
    EXPECT_EQ(d.nodes[9].type, axdr_type::long_unsigned);
    EXPECT_EQ(d.nodes[9].uint_value, 0x092Eu);
    EXPECT_EQ(d.nodes[11].type, axdr_type::integer);
    EXPECT_EQ(d.nodes[11].int_value, -1);
    EXPECT_EQ(d.nodes[11].depth, 3u);
    EXPECT_EQ(d.nodes[12].type, axdr_type::enumeration);
    EXPECT_EQ(d.nodes[12].int_value, 0x23);
    // The OBIS of the second register is at the offset the node says.
    const axdr_node& obis2 = d.nodes[8];
    ASSERT_EQ(obis2.length, 6u);
    EXPECT_EQ(bytes(in.begin() + static_cast<std::ptrdiff_t>(obis2.offset),
                    in.begin() + static_cast<std::ptrdiff_t>(obis2.offset + 6)),
              (bytes{0x01, 0x00, 0x20, 0x07, 0x00, 0xFF}));
}

TEST(axdr_decode, nodes_are_cleared_before_decoding) {
    std::vector<axdr_node> nodes;
    std::size_t consumed = 0;
    const bytes big{0x02, 0x02, 0x11, 0x01, 0x11, 0x02};
    ASSERT_FALSE(evn_mbus::decode_axdr(big, nodes, consumed));
    EXPECT_EQ(nodes.size(), 3u);
    const bytes small{0x11, 0x07};
    ASSERT_FALSE(evn_mbus::decode_axdr(small, nodes, consumed));
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].uint_value, 7u);
    EXPECT_EQ(consumed, 2u);
}

// ---- long-form lengths -----------------------------------------------------------------------

TEST(axdr_decode, long_form_length_81) {
    const bytes content = filled(0x80);
    const bytes in = concat({0x09, 0x81, 0x80}, content);
    const axdr_node n = decode_one(in, axdr_type::octet_string);
    EXPECT_EQ(n.offset, 3u);
    EXPECT_EQ(n.length, 0x80u);
}

TEST(axdr_decode, long_form_length_81_ff) {
    const bytes in = concat({0x0A, 0x81, 0xFF}, filled(0xFF));
    const axdr_node n = decode_one(in, axdr_type::visible_string);
    EXPECT_EQ(n.offset, 3u);
    EXPECT_EQ(n.length, 255u);
}

TEST(axdr_decode, long_form_length_82) {
    const bytes in = concat({0x09, 0x82, 0x01, 0x2C}, filled(300));
    const axdr_node n = decode_one(in, axdr_type::octet_string);
    EXPECT_EQ(n.offset, 4u);
    EXPECT_EQ(n.length, 300u);
}

TEST(axdr_decode, long_form_array_count) {
    bytes in{0x01, 0x81, 0x85};
    in.resize(in.size() + 0x85, 0x00);  // 133 null-data elements
    const decoded d = decode(in);
    ASSERT_FALSE(d.ec) << d.ec.message();
    EXPECT_EQ(d.consumed, in.size());
    ASSERT_EQ(d.nodes.size(), 134u);
    EXPECT_EQ(d.nodes[0].count, 133u);
    EXPECT_EQ(d.nodes[0].subtree, 134u);
    EXPECT_EQ(d.nodes[133].depth, 1u);
}

// ---- malformed input -------------------------------------------------------------------------

TEST(axdr_decode, empty_input_is_truncated) {
    EXPECT_EQ(decode({}).ec, ec_of(errc::axdr_truncated));
}

TEST(axdr_decode, lying_lengths_are_truncated) {
    const bytes cases[] = {
        {0x09, 0x05, 0xAA, 0xBB},              // octet-string claims 5, has 2
        {0x09},                                // no length
        {0x0A, 0x01},                          // visible-string claims 1, has 0
        {0x0C, 0x81},                          // long form without its length byte
        {0x09, 0x81, 0x80, 0x00},              // long form 128, has 1
        {0x09, 0x82, 0x01},                    // 82h with one length byte
        {0x09, 0x82, 0xFF, 0xFF, 0x00},        // 65535, has 1
        {0x09, 0x84, 0xFF, 0xFF, 0xFF, 0xFF},  // 4 GiB
        {0x09, 0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00},  // would wrap
        {0x04, 0x81, 0xF0, 0x00},                    // bit-string of 240 bits, 1 byte
        {0x01, 0x03, 0x11, 0x01},                    // array claims 3 elements, has 1
        {0x02, 0xFF},                                // structure claims 255, has none
        {0x02, 0x02, 0x11, 0x01, 0x09, 0x04, 0x00},  // nested string too short
        {0x01},                                      // no count
        {0x05, 0x00, 0x00, 0x00},                    // int32 with 3 bytes
        {0x06, 0x00},                                // uint32 with 1 byte
        {0x10, 0x00},                                // int16 with 1 byte
        {0x12},                                      // uint16 with nothing
        {0x14, 0, 0, 0, 0, 0, 0, 0},                 // int64 with 7 bytes
        {0x15, 0, 0, 0, 0, 0, 0, 0},                 // uint64 with 7 bytes
        {0x17, 0x3F, 0xC0, 0x00},                    // float32 with 3 bytes
        {0x18, 0x3F, 0xF8, 0, 0, 0, 0, 0},           // float64 with 7 bytes
        {0x19, 0x07, 0xE5, 0x09, 0x1B, 0x01, 0x09, 0x2F, 0x0F, 0x00, 0xFF, 0x88},  // 11 bytes
        {0x1A, 0x07, 0xE5, 0x09, 0x1B},  // date with 4 bytes
        {0x1B, 0x09, 0x2F, 0x0F},        // time with 3 bytes
        {0x03},                          // boolean without value
        {0x0F},                          // int8 without value
        {0x11},                          // uint8 without value
        {0x16},                          // enum without value
        {0x0D},                          // bcd without value
    };
    for (const bytes& in : cases) {
        EXPECT_EQ(decode(in).ec, ec_of(errc::axdr_truncated)) << ::testing::PrintToString(in);
    }
}

// Encodes one element of every type, nested; every strict prefix of it must be reported as
// truncated (a Data element is self-delimiting), never decoded and never over-read.
bytes everything_encoded() {
    bytes out;
    evn_mbus::axdr_writer w(out);
    evn_mbus::cosem_datetime dt;
    dt.year = 2021;
    dt.month = 9;
    dt.day = 27;
    dt.day_of_week = 1;
    dt.hour = 9;
    dt.minute = 47;
    dt.second = 15;
    dt.hundredths = 0;
    dt.deviation = -120;
    dt.status = 0x80;
    const bytes blob = filled(130);
    w.structure(19)
        .null_data()
        .boolean(true)
        .int8(-3)
        .uint8(200)
        .int16(-200)
        .uint16(0xABCD)
        .int32(-70000)
        .uint32(0xDEADBEEF)
        .int64(-5000000000)
        .uint64(0x0102030405060708u)
        .enumeration(30)
        .float32(1.5f)
        .float64(-0.5)
        .octet_string(blob)
        .visible_string("1KFM0200001234")
        .octet_string_text("abc")
        .obis(evn_mbus::obis_code{{1, 0, 1, 8, 0, 255}})
        .date_time_octets(dt)
        .array(2)
        .scaler_unit(-1, 27)
        .scaler_unit(0, 30);
    // Raw COSEM types the writer has no method for.
    const bytes raw_types{0x02, 0x06, 0x0D, 0x12, 0x19, 0x07, 0xE5, 0x09, 0x1B, 0x01, 0x09, 0x2F,
                          0x0F, 0x00, 0xFF, 0x88, 0x80, 0x1A, 0x07, 0xE5, 0x09, 0x1B, 0x01, 0x1B,
                          0x09, 0x2F, 0x0F, 0x00, 0x04, 0x0C, 0xAB, 0xC0, 0x0C, 0x02, 0xC3, 0xA4};
    bytes wrapped;
    evn_mbus::axdr_writer(wrapped).structure(2);
    wrapped = concat(concat(wrapped, out), raw_types);
    return wrapped;
}

TEST(axdr_decode, every_strict_prefix_is_truncated) {
    const bytes full = everything_encoded();
    const decoded whole = decode(full);
    ASSERT_FALSE(whole.ec) << whole.ec.message();
    ASSERT_EQ(whole.consumed, full.size());
    for (std::size_t n = 0; n < full.size(); ++n) {
        const bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_EQ(decode(prefix).ec, ec_of(errc::axdr_truncated)) << "prefix length " << n;
    }
}

TEST(axdr_decode, unknown_tags) {
    for (std::uint8_t tag : {std::uint8_t{0x07}, std::uint8_t{0x08}, std::uint8_t{0x0B},
                             std::uint8_t{0x0E}, std::uint8_t{0x13}, std::uint8_t{0x1C},
                             std::uint8_t{0x20}, std::uint8_t{0x80}, std::uint8_t{0xFF}}) {
        const bytes in{tag, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
        EXPECT_EQ(decode(in).ec, ec_of(errc::axdr_unknown_type)) << int{tag};
    }
}

TEST(axdr_decode, unknown_tag_nested) {
    EXPECT_EQ(decode({0x02, 0x02, 0x11, 0x01, 0x07, 0x00}).ec, ec_of(errc::axdr_unknown_type));
    EXPECT_EQ(decode({0x01, 0x01, 0x02, 0x01, 0xFF}).ec, ec_of(errc::axdr_unknown_type));
}

bytes nested_structures(std::size_t levels) {
    bytes in;
    for (std::size_t i = 0; i < levels; ++i) {
        in.push_back(0x02);
        in.push_back(0x01);
    }
    in.push_back(0x11);
    in.push_back(0x2A);
    return in;
}

TEST(axdr_decode, moderate_nesting_is_fine) {
    const bytes in = nested_structures(5);
    const decoded d = decode(in);
    ASSERT_FALSE(d.ec) << d.ec.message();
    ASSERT_EQ(d.nodes.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(d.nodes[i].depth, i);
        EXPECT_EQ(d.nodes[i].subtree, 6u - i);
    }
    EXPECT_EQ(d.nodes[5].uint_value, 42u);
}

TEST(axdr_decode, deep_nesting_is_too_deep) {
    EXPECT_EQ(decode(nested_structures(100)).ec, ec_of(errc::axdr_too_deep));
    // Far deeper than any stack could recurse: must be refused, not crash.
    EXPECT_EQ(decode(nested_structures(100000)).ec, ec_of(errc::axdr_too_deep));
}

TEST(axdr_decode, depth_limit_is_configurable) {
    axdr_limits limits;
    limits.max_depth = 4;
    EXPECT_FALSE(decode(nested_structures(2), limits).ec);
    EXPECT_EQ(decode(nested_structures(8), limits).ec, ec_of(errc::axdr_too_deep));
    limits.max_depth = 64;
    EXPECT_FALSE(decode(nested_structures(40), limits).ec);
}

bytes array_of_nulls(std::size_t n) {
    bytes in;
    evn_mbus::axdr_writer(in).array(n);
    in.resize(in.size() + n, 0x00);
    return in;
}

TEST(axdr_decode, too_many_nodes) {
    EXPECT_EQ(decode(array_of_nulls(2000)).ec, ec_of(errc::axdr_too_many_nodes));
    const decoded ok = decode(array_of_nulls(500));
    ASSERT_FALSE(ok.ec);
    EXPECT_EQ(ok.nodes.size(), 501u);
}

TEST(axdr_decode, node_limit_is_configurable) {
    axdr_limits limits;
    limits.max_nodes = 10;
    EXPECT_FALSE(decode(array_of_nulls(5), limits).ec);
    EXPECT_EQ(decode(array_of_nulls(20), limits).ec, ec_of(errc::axdr_too_many_nodes));
    limits.max_nodes = 5000;
    const decoded d = decode(array_of_nulls(3000), limits);
    ASSERT_FALSE(d.ec);
    EXPECT_EQ(d.nodes.size(), 3001u);
}

TEST(axdr_decode, decodes_again_after_an_error) {
    std::vector<axdr_node> nodes;
    std::size_t consumed = 0;
    const bytes bad{0x09, 0x05, 0x01};
    EXPECT_EQ(evn_mbus::decode_axdr(bad, nodes, consumed), ec_of(errc::axdr_truncated));
    const bytes good{0x12, 0x00, 0x2A};
    ASSERT_FALSE(evn_mbus::decode_axdr(good, nodes, consumed));
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].uint_value, 42u);
    EXPECT_EQ(consumed, 3u);
}

// ---- writer: exact encodings -----------------------------------------------------------------

template <typename F>
bytes written(F&& f) {
    bytes out;
    evn_mbus::axdr_writer w(out);
    f(w);
    return out;
}

TEST(axdr_writer, scalar_encodings) {
    using W = evn_mbus::axdr_writer;
    EXPECT_EQ(written([](W& w) { w.null_data(); }), (bytes{0x00}));
    EXPECT_EQ(written([](W& w) { w.int8(-3); }), (bytes{0x0F, 0xFD}));
    EXPECT_EQ(written([](W& w) { w.uint8(200); }), (bytes{0x11, 0xC8}));
    EXPECT_EQ(written([](W& w) { w.int16(-200); }), (bytes{0x10, 0xFF, 0x38}));
    EXPECT_EQ(written([](W& w) { w.uint16(0xABCD); }), (bytes{0x12, 0xAB, 0xCD}));
    EXPECT_EQ(written([](W& w) { w.int32(-2); }), (bytes{0x05, 0xFF, 0xFF, 0xFF, 0xFE}));
    EXPECT_EQ(written([](W& w) { w.uint32(0x12345678); }), (bytes{0x06, 0x12, 0x34, 0x56, 0x78}));
    EXPECT_EQ(written([](W& w) { w.int64(-2); }),
              (bytes{0x14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE}));
    EXPECT_EQ(written([](W& w) { w.uint64(0x0102030405060708u); }),
              (bytes{0x15, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
    EXPECT_EQ(written([](W& w) { w.enumeration(30); }), (bytes{0x16, 0x1E}));
    EXPECT_EQ(written([](W& w) { w.float32(1.5f); }), (bytes{0x17, 0x3F, 0xC0, 0x00, 0x00}));
    EXPECT_EQ(written([](W& w) { w.float64(-0.5); }),
              (bytes{0x18, 0xBF, 0xE0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));
}

TEST(axdr_writer, boolean_encoding) {
    using W = evn_mbus::axdr_writer;
    EXPECT_EQ(written([](W& w) { w.boolean(false); }), (bytes{0x03, 0x00}));
    const bytes t = written([](W& w) { w.boolean(true); });
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0], 0x03);
    EXPECT_NE(t[1], 0x00);
}

TEST(axdr_writer, container_encodings) {
    using W = evn_mbus::axdr_writer;
    EXPECT_EQ(written([](W& w) { w.structure(3); }), (bytes{0x02, 0x03}));
    EXPECT_EQ(written([](W& w) { w.array(2); }), (bytes{0x01, 0x02}));
    EXPECT_EQ(written([](W& w) { w.array(300); }), (bytes{0x01, 0x82, 0x01, 0x2C}));
    EXPECT_EQ(written([](W& w) { w.structure(0x80); }), (bytes{0x02, 0x81, 0x80}));
}

TEST(axdr_writer, string_encodings) {
    using W = evn_mbus::axdr_writer;
    EXPECT_EQ(written([](W& w) { w.visible_string("abc"); }),
              (bytes{0x0A, 0x03, 0x61, 0x62, 0x63}));
    EXPECT_EQ(written([](W& w) { w.octet_string_text("abc"); }),
              (bytes{0x09, 0x03, 0x61, 0x62, 0x63}));
    const bytes two{0xDE, 0xAD};
    EXPECT_EQ(written([&](W& w) { w.octet_string(two); }), (bytes{0x09, 0x02, 0xDE, 0xAD}));
    EXPECT_EQ(written([](W& w) { w.octet_string(bytes{}); }), (bytes{0x09, 0x00}));

    const bytes long200 = filled(200);
    EXPECT_EQ(written([&](W& w) { w.octet_string(long200); }), concat({0x09, 0x81, 0xC8}, long200));
    const bytes long300 = filled(300);
    EXPECT_EQ(written([&](W& w) { w.octet_string(long300); }),
              concat({0x09, 0x82, 0x01, 0x2C}, long300));
}

TEST(axdr_writer, obis_and_scaler_unit) {
    using W = evn_mbus::axdr_writer;
    EXPECT_EQ(written([](W& w) {
                  w.obis(evn_mbus::obis_code{{1, 0, 1, 8, 0, 255}});
              }),
              (bytes{0x09, 0x06, 0x01, 0x00, 0x01, 0x08, 0x00, 0xFF}));
    EXPECT_EQ(written([](W& w) { w.scaler_unit(-3, 30); }),
              (bytes{0x02, 0x02, 0x0F, 0xFD, 0x16, 0x1E}));
}

evn_mbus::cosem_datetime sample_datetime() {
    evn_mbus::cosem_datetime dt;
    dt.year = 2021;
    dt.month = 9;
    dt.day = 27;
    dt.day_of_week = 1;
    dt.hour = 9;
    dt.minute = 47;
    dt.second = 15;
    dt.hundredths = 0;
    dt.deviation = -120;
    dt.status = 0x80;
    return dt;
}

const bytes sample_datetime_bytes{0x07, 0xE5, 0x09, 0x1B, 0x01, 0x09,
                                  0x2F, 0x0F, 0x00, 0xFF, 0x88, 0x80};

TEST(axdr_writer, date_time_encodings) {
    using W = evn_mbus::axdr_writer;
    const evn_mbus::cosem_datetime dt = sample_datetime();
    EXPECT_EQ(written([&](W& w) { w.date_time_octets(dt); }),
              concat({0x09, 0x0C}, sample_datetime_bytes));
    bytes raw;
    W::put_date_time(raw, dt);
    EXPECT_EQ(raw, sample_datetime_bytes);

    evn_mbus::cosem_datetime unspecified = dt;
    unspecified.deviation = evn_mbus::cosem_datetime::deviation_not_specified;
    unspecified.status = 0x00;
    raw.clear();
    W::put_date_time(raw, unspecified);
    EXPECT_EQ(raw, (bytes{0x07, 0xE5, 0x09, 0x1B, 0x01, 0x09, 0x2F, 0x0F, 0x00, 0x80, 0x00, 0x00}));
}

TEST(axdr_writer, put_length_forms) {
    const std::pair<std::size_t, bytes> cases[] = {
        {0, {0x00}},
        {1, {0x01}},
        {0x7F, {0x7F}},
        {0x80, {0x81, 0x80}},
        {0xFF, {0x81, 0xFF}},
        {0x100, {0x82, 0x01, 0x00}},
        {0x1234, {0x82, 0x12, 0x34}},
        {0xFFFF, {0x82, 0xFF, 0xFF}},
        {0x10000, {0x83, 0x01, 0x00, 0x00}},
    };
    for (const auto& [length, expected] : cases) {
        bytes out{0xAA};  // appends, keeps what is there
        evn_mbus::axdr_writer::put_length(out, length);
        EXPECT_EQ(out, concat({0xAA}, expected)) << length;
    }
}

TEST(axdr_writer, appends_to_existing_output) {
    bytes out{0xDB};
    evn_mbus::axdr_writer(out).uint8(1).uint8(2);
    EXPECT_EQ(out, (bytes{0xDB, 0x11, 0x01, 0x11, 0x02}));
}

// ---- writer -> decoder round trip ------------------------------------------------------------

TEST(axdr_round_trip, every_writer_method) {
    const evn_mbus::cosem_datetime dt = sample_datetime();
    const bytes blob = filled(130, 0x40);
    const evn_mbus::obis_code code{{1, 0, 32, 7, 0, 255}};
    bytes out;
    evn_mbus::axdr_writer w(out);
    w.structure(21)
        .null_data()
        .boolean(true)
        .boolean(false)
        .int8(std::numeric_limits<std::int8_t>::min())
        .uint8(std::numeric_limits<std::uint8_t>::max())
        .int16(std::numeric_limits<std::int16_t>::min())
        .uint16(std::numeric_limits<std::uint16_t>::max())
        .int32(std::numeric_limits<std::int32_t>::min())
        .uint32(std::numeric_limits<std::uint32_t>::max())
        .int64(std::numeric_limits<std::int64_t>::min())
        .uint64(std::numeric_limits<std::uint64_t>::max())
        .enumeration(33)
        .float32(-2.25f)
        .float64(3.141592653589793)
        .octet_string(blob)
        .visible_string("1KFM0200001234")
        .octet_string_text("EVN")
        .obis(code)
        .date_time_octets(dt)
        .scaler_unit(-1, 35)
        .array(3)
        .int16(1)
        .int16(-1)
        .structure(0);
    out.push_back(0x99);  // trailer, not consumed

    const decoded d = decode(out);
    ASSERT_FALSE(d.ec) << d.ec.message();
    EXPECT_EQ(d.consumed, out.size() - 1);
    ASSERT_EQ(d.nodes.size(), 27u);
    const auto& n = d.nodes;
    EXPECT_EQ(n[0].type, axdr_type::structure);
    EXPECT_EQ(n[0].count, 21u);
    EXPECT_EQ(n[0].subtree, n.size());

    EXPECT_EQ(n[1].type, axdr_type::null_data);
    EXPECT_EQ(n[2].type, axdr_type::boolean);
    EXPECT_NE(n[2].int_value, 0);
    EXPECT_EQ(n[3].type, axdr_type::boolean);
    EXPECT_EQ(n[3].int_value, 0);
    EXPECT_EQ(n[4].type, axdr_type::integer);
    EXPECT_EQ(n[4].int_value, -128);
    EXPECT_EQ(n[5].type, axdr_type::unsigned8);
    EXPECT_EQ(n[5].uint_value, 255u);
    EXPECT_EQ(n[6].type, axdr_type::long_signed);
    EXPECT_EQ(n[6].int_value, -32768);
    EXPECT_EQ(n[7].type, axdr_type::long_unsigned);
    EXPECT_EQ(n[7].uint_value, 65535u);
    EXPECT_EQ(n[8].type, axdr_type::double_long);
    EXPECT_EQ(n[8].int_value, std::numeric_limits<std::int32_t>::min());
    EXPECT_EQ(n[9].type, axdr_type::double_long_unsigned);
    EXPECT_EQ(n[9].uint_value, std::numeric_limits<std::uint32_t>::max());
    EXPECT_EQ(n[10].type, axdr_type::long64);
    EXPECT_EQ(n[10].int_value, std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(n[11].type, axdr_type::long64_unsigned);
    EXPECT_EQ(n[11].uint_value, std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(n[12].type, axdr_type::enumeration);
    EXPECT_EQ(n[12].int_value, 33);
    EXPECT_EQ(n[13].type, axdr_type::float32);
    EXPECT_DOUBLE_EQ(n[13].float_value, -2.25);
    EXPECT_EQ(n[14].type, axdr_type::float64);
    EXPECT_DOUBLE_EQ(n[14].float_value, 3.141592653589793);

    auto contents = [&](const axdr_node& node) {
        return bytes(out.begin() + static_cast<std::ptrdiff_t>(node.offset),
                     out.begin() + static_cast<std::ptrdiff_t>(node.offset + node.length));
    };
    EXPECT_EQ(n[15].type, axdr_type::octet_string);
    EXPECT_EQ(contents(n[15]), blob);
    EXPECT_EQ(n[16].type, axdr_type::visible_string);
    const bytes meter{'1', 'K', 'F', 'M', '0', '2', '0', '0', '0', '0', '1', '2', '3', '4'};
    EXPECT_EQ(contents(n[16]), meter);
    EXPECT_EQ(n[17].type, axdr_type::octet_string);
    EXPECT_EQ(contents(n[17]), (bytes{'E', 'V', 'N'}));
    EXPECT_EQ(n[18].type, axdr_type::octet_string);
    EXPECT_EQ(contents(n[18]), (bytes{1, 0, 32, 7, 0, 255}));
    const auto back = evn_mbus::obis_code::from_bytes(contents(n[18]));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, code);

    EXPECT_EQ(n[19].type, axdr_type::octet_string);
    EXPECT_EQ(contents(n[19]), sample_datetime_bytes);
    const auto dt_back = evn_mbus::cosem_datetime::parse(contents(n[19]));
    ASSERT_TRUE(dt_back.has_value());
    EXPECT_EQ(dt_back->year, dt.year);
    EXPECT_EQ(dt_back->deviation, dt.deviation);
    EXPECT_EQ(dt_back->status, dt.status);

    // scaler_unit: structure { int8, enum }
    EXPECT_EQ(n[20].type, axdr_type::structure);
    EXPECT_EQ(n[20].count, 2u);
    EXPECT_EQ(n[20].subtree, 3u);
    EXPECT_EQ(n[21].type, axdr_type::integer);
    EXPECT_EQ(n[21].int_value, -1);
    EXPECT_EQ(n[21].depth, 2u);
    EXPECT_EQ(n[22].type, axdr_type::enumeration);
    EXPECT_EQ(n[22].int_value, 35);

    EXPECT_EQ(n[23].type, axdr_type::array);
    EXPECT_EQ(n[23].count, 3u);
    EXPECT_EQ(n[23].subtree, 4u);
    EXPECT_EQ(n[24].int_value, 1);
    EXPECT_EQ(n[25].int_value, -1);
    EXPECT_EQ(n[26].type, axdr_type::structure);
    EXPECT_EQ(n[26].count, 0u);
    EXPECT_EQ(n[26].depth, 2u);

    for (std::size_t i = 1; i < 21; ++i)
        EXPECT_EQ(n[i].depth, 1u) << i;
}

TEST(axdr_round_trip, integer_values_survive) {
    for (std::int32_t v : {0, 1, -1, 127, -128, 1000, -1000, 123456789, -123456789}) {
        bytes out;
        evn_mbus::axdr_writer(out).int32(v);
        const decoded d = decode(out);
        ASSERT_FALSE(d.ec);
        EXPECT_EQ(d.nodes[0].int_value, v);
        EXPECT_DOUBLE_EQ(d.nodes[0].as_double(), static_cast<double>(v));
    }
    for (std::uint16_t v : {std::uint16_t{0}, std::uint16_t{2350}, std::uint16_t{0x8000}}) {
        bytes out;
        evn_mbus::axdr_writer(out).uint16(v);
        const decoded d = decode(out);
        ASSERT_FALSE(d.ec);
        EXPECT_EQ(d.nodes[0].uint_value, v);
    }
}

TEST(axdr_round_trip, long_containers) {
    bytes out;
    evn_mbus::axdr_writer w(out);
    w.array(200);
    for (int i = 0; i < 200; ++i)
        w.uint8(static_cast<std::uint8_t>(i));
    const decoded d = decode(out);
    ASSERT_FALSE(d.ec) << d.ec.message();
    EXPECT_EQ(d.consumed, out.size());
    ASSERT_EQ(d.nodes.size(), 201u);
    EXPECT_EQ(d.nodes[0].count, 200u);
    for (std::size_t i = 1; i < 201; ++i)
        EXPECT_EQ(d.nodes[i].uint_value, i - 1);
}

}  // namespace
