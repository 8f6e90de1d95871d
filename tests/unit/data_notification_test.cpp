// The data-notification header (IEC 62056-5-3:2017, 8.5): the date-time untagged (as the
// standard has it), absent, or as tagged Data 09h 0Ch (Kaifa MA304H3E); lengths that are
// neither are refused. The APDUs here are synthetic, built by hand.
#include "evn_mbus/data_notification.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "evn_mbus/error.hpp"

namespace evn_mbus::test {
namespace {

using bytes = std::vector<std::uint8_t>;

// 2025-01-02 03:04:05, deviation 0 (UTC), clock status 0.
const bytes date_time{0x07, 0xE9, 0x01, 0x02, 0x04, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00};
const bytes body{0x12, 0x00, 0x2A};  // long-unsigned 42
const bytes invoke{0x0F, 0x00, 0x00, 0x00, 0x01};

bytes apdu(const bytes& date_field) {
    bytes out = invoke;
    out.insert(out.end(), date_field.begin(), date_field.end());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

bytes with_prefix(bytes prefix, const bytes& rest) {
    prefix.insert(prefix.end(), rest.begin(), rest.end());
    return prefix;
}

TEST(data_notification, untagged_and_tagged_date_times_read_alike) {
    // The body is a view into the APDU: both stay alive for the whole test.
    const bytes plain_apdu = apdu(with_prefix({0x0C}, date_time));
    const bytes tagged_apdu = apdu(with_prefix({0x09, 0x0C}, date_time));
    data_notification plain;
    ASSERT_FALSE(parse_data_notification(plain_apdu, plain));
    data_notification tagged;
    ASSERT_FALSE(parse_data_notification(tagged_apdu, tagged));
    ASSERT_TRUE(plain.date_time);
    ASSERT_TRUE(tagged.date_time);
    EXPECT_EQ(plain.date_time->to_utc(), tagged.date_time->to_utc());
    EXPECT_TRUE(plain.date_time->to_utc());
    EXPECT_EQ(tagged.invoke_id, 1u);
    EXPECT_EQ(bytes(tagged.body.begin(), tagged.body.end()), body);
}

TEST(data_notification, an_absent_date_time_leaves_the_body) {
    const bytes absent = apdu({0x00});
    data_notification n;
    ASSERT_FALSE(parse_data_notification(absent, n));
    EXPECT_FALSE(n.date_time);
    EXPECT_EQ(bytes(n.body.begin(), n.body.end()), body);
}

TEST(data_notification, other_date_time_lengths_and_a_cut_header_are_refused) {
    data_notification n;
    EXPECT_EQ(parse_data_notification(apdu(with_prefix({0x09, 0x05}, date_time)), n),
              errc::bad_notification);
    EXPECT_EQ(parse_data_notification(apdu(with_prefix({0x0B}, date_time)), n),
              errc::bad_notification);
    EXPECT_EQ(parse_data_notification(bytes{0x0F, 0x00, 0x00, 0x00, 0x01, 0x09}, n),
              errc::bad_notification);
    // A tagged date-time and no body: the body is mandatory.
    EXPECT_EQ(parse_data_notification(with_prefix(invoke, with_prefix({0x09, 0x0C}, date_time)), n),
              errc::bad_notification);
}

}  // namespace
}  // namespace evn_mbus::test
