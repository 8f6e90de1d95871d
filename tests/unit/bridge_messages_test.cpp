// The log's words for a network bridge that cannot be reached or drops the connection.
#include "bridge_messages.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>

#include "asio_error.hpp"

namespace evn_mbus {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

serial_endpoint bridge(const std::string& host = "keller") {
    return {serial_transport::tcp, {}, host, 2001};
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(bridge_messages, ser2net_complaints_are_found_and_quoted_without_control_bytes) {
    EXPECT_EQ(ser2net_complaint(bytes_of("Device open failure: Value or file not found\r\n")),
              "Device open failure: Value or file not found");
    // After Telnet negotiation bytes, and with a byte that is not text in it.
    EXPECT_EQ(ser2net_complaint(bytes_of("\xFF\xFB\x03Port already in\x01 use\r\nmore")),
              "");  // not the known text
    EXPECT_EQ(ser2net_complaint(bytes_of("\xFF\xFB\x03Port already in use\r\n")),
              "Port already in use");
    EXPECT_EQ(ser2net_complaint(bytes_of("\x68\x10\x10\x68kicked off, new user is coming\r\n")),
              "kicked off, new user is coming");
    EXPECT_EQ(ser2net_complaint(bytes_of("\x68\xFA\xFA\x68\x53\xFF")), "");
}

TEST(bridge_messages, the_end_of_a_connection_says_why_and_what_to_do) {
    const auto missing = describe_connection_end(
        bridge(), {}, false, bytes_of("Device open failure: No such file\r\n"), {});
    EXPECT_TRUE(has(missing,
                    "the network bridge tcp://keller:2001 cannot open its serial device "
                    "(it said \"Device open failure: No such file\")"))
        << missing;
    EXPECT_TRUE(has(missing, "connector: serialdev")) << missing;

    const auto taken = describe_connection_end(bridge(), {}, false, {},
                                               bytes_of("Port's device already in use\r\n"));
    EXPECT_TRUE(has(taken, "kickolduser: true")) << taken;

    const auto kicked = describe_connection_end(bridge(), {}, true, bytes_of("\x68\x10"),
                                                bytes_of("kicked off, new user is coming\r\n"));
    EXPECT_TRUE(has(kicked, "another client connected to the network bridge")) << kicked;

    EXPECT_TRUE(has(describe_connection_end(bridge(), {}, false, {}, {}),
                    "accepted the connection and closed it at once"));
    EXPECT_TRUE(has(describe_connection_end(bridge(), {}, true, {}, {}),
                    "closed the connection (it restarted, or another client took it)"));
    // Early, but the meter's bytes came: a connection lost, not one refused.
    EXPECT_TRUE(has(describe_connection_end(bridge(), {}, false, bytes_of("\x68\xFA"), {}),
                    "closed the connection (it restarted, or another client took it)"));
    EXPECT_TRUE(has(
        describe_connection_end(bridge(), std::make_error_code(std::errc::timed_out), true, {}, {}),
        "the connection to the network bridge tcp://keller:2001 failed ("));
}

TEST(bridge_messages, connect_and_resolve_failures_name_the_likely_cause) {
    const auto refused =
        describe_connect_failure(bridge(), std::make_error_code(std::errc::connection_refused),
                                 false, std::chrono::seconds(10));
    EXPECT_TRUE(has(refused, "refused the connection: nothing listens on port 2001 of keller"));
    EXPECT_TRUE(has(describe_connect_failure(bridge(), {}, true, std::chrono::seconds(10)),
                    "no answer from the network bridge tcp://keller:2001 within 10 s"));
    const auto name = describe_resolve_failure(bridge("keller"), {});
    EXPECT_TRUE(has(name, "cannot find the host \"keller\"")) << name;
    // The resolver's own error keeps its words (a netdb code is no errno).
    const auto unknown =
        describe_resolve_failure(bridge("keller"), to_std(boost::asio::error::host_not_found));
    EXPECT_TRUE(has(unknown, "(Host not found")) << unknown;
    const auto literal = describe_resolve_failure(bridge("fd00::5"), {});
    EXPECT_TRUE(has(literal, "cannot use the address fd00::5")) << literal;
    EXPECT_TRUE(has(literal, "IPv6")) << literal;
}

}  // namespace
}  // namespace evn_mbus
