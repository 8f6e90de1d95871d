#include "evn_mbus/dlms_security.hpp"

#include <gtest/gtest.h>

#include "evn_mbus/error.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

TEST(axdr_length, short_and_long_forms) {
    const bytes in{0x7F, 0x81, 0xF8, 0x82, 0x01, 0x09, 0x84, 0, 0, 1, 0};
    std::size_t pos = 0, len = 0;
    ASSERT_TRUE(read_axdr_length(in, pos, len));
    EXPECT_EQ(len, 0x7Fu);
    ASSERT_TRUE(read_axdr_length(in, pos, len));
    EXPECT_EQ(len, 0xF8u);
    ASSERT_TRUE(read_axdr_length(in, pos, len));
    EXPECT_EQ(len, 0x109u);
    ASSERT_TRUE(read_axdr_length(in, pos, len));
    EXPECT_EQ(len, 0x100u);
    EXPECT_EQ(pos, in.size());
    EXPECT_FALSE(read_axdr_length(in, pos, len));  // at the end
}

TEST(axdr_length, refuses_truncated_and_oversized_forms) {
    std::size_t pos = 0, len = 0;
    EXPECT_FALSE(read_axdr_length(bytes{0x82, 0x01}, pos, len));
    pos = 0;
    EXPECT_FALSE(read_axdr_length(bytes{0x80}, pos, len));
    pos = 0;
    EXPECT_FALSE(read_axdr_length(bytes{0x85, 1, 2, 3, 4, 5}, pos, len));
    EXPECT_EQ(pos, 0u);
}

bytes evn_apdu() {
    // Reassembled by hand from the two frames: segment payloads after STSAP/DTSAP.
    const auto& c = capture_by_id("evn_kaifa_ma309_doc");
    bytes apdu(c.frames[0].begin() + 9, c.frames[0].end() - 2);
    apdu.insert(apdu.end(), c.frames[1].begin() + 9, c.frames[1].end() - 2);
    return apdu;
}

TEST(security_header, real_capture_fields) {
    const bytes apdu = evn_apdu();
    security_header h;
    ASSERT_FALSE(parse_security_header(apdu, h));
    EXPECT_EQ(h.tag, 0xDB);
    EXPECT_EQ(to_hex(h.title), "4B464D6750000009");
    EXPECT_EQ(h.control, 0x20);
    EXPECT_EQ(h.frame_counter, 0x23u);
    EXPECT_EQ(h.content.size(), 248u - 5u);
    EXPECT_TRUE(h.auth_tag.empty());
}

TEST(security_header, malformed) {
    security_header h;
    EXPECT_EQ(parse_security_header(bytes{}, h), errc::bad_security_header);
    EXPECT_EQ(parse_security_header(bytes{0x0F, 1, 2}, h), errc::unsupported_apdu);
    EXPECT_EQ(parse_security_header(bytes{0xDB, 0x07, 1, 2, 3, 4, 5, 6, 7}, h),
              errc::bad_security_header);
    bytes apdu = evn_apdu();
    apdu.pop_back();  // length now points one past the end
    EXPECT_EQ(parse_security_header(apdu, h), errc::bad_security_header);
    // Authentication bit set but too short for a tag.
    const bytes short_tag{0xDB, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x30, 0, 0, 0, 1, 1, 2, 3};
    EXPECT_EQ(parse_security_header(short_tag, h), errc::bad_security_header);
}

TEST(decryptor, real_capture_matches_independent_plaintext) {
    const auto& c = capture_by_id("evn_kaifa_ma309_doc");
    const bytes apdu = evn_apdu();
    security_header h;
    ASSERT_FALSE(parse_security_header(apdu, h));
    dlms_decryptor d;
    d.set_keys(c.keys.key, std::nullopt);
    bytes out;
    bool verified = true;
    ASSERT_FALSE(d.decrypt(h, out, verified));
    EXPECT_FALSE(verified);
    EXPECT_EQ(out, c.plaintext);
    // The context is reused: a second telegram decrypts the same.
    bytes again;
    ASSERT_FALSE(d.decrypt(h, again, verified));
    EXPECT_EQ(again, c.plaintext);
}

TEST(decryptor, unsupported_suites_and_compression) {
    bytes apdu = evn_apdu();
    security_header h;
    ASSERT_FALSE(parse_security_header(apdu, h));
    dlms_decryptor d;
    d.set_keys(aes_key{}, std::nullopt);
    bytes out;
    bool verified = false;
    h.control = 0x22;  // suite 2: AES-256
    EXPECT_EQ(d.decrypt(h, out, verified), errc::unsupported_security);
    h.control = 0xA0;  // compression
    EXPECT_EQ(d.decrypt(h, out, verified), errc::unsupported_security);
}

}  // namespace
}  // namespace evn_mbus::test
