#include "http_listen_address.hpp"

#include "endpoint_text.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

namespace ip = boost::asio::ip;

ip::tcp::endpoint parsed(std::string_view text) {
    auto r = parse_listen_address(text);
    const auto* e = std::get_if<ip::tcp::endpoint>(&r);
    if (e == nullptr) {
        ADD_FAILURE() << text << ": " << std::get<listen_problem>(r).message;
        return {};
    }
    return *e;
}

listen_problem problem(std::string_view text) {
    auto r = parse_listen_address(text);
    const auto* p = std::get_if<listen_problem>(&r);
    if (p == nullptr) {
        ADD_FAILURE() << text << " was accepted";
        return {};
    }
    return *p;
}

TEST(http_listen_address, reads_the_forms_the_readme_shows) {
    EXPECT_EQ(parsed("127.0.0.1:8080"), ip::tcp::endpoint(ip::make_address("127.0.0.1"), 8080));
    EXPECT_EQ(parsed("localhost:80"), ip::tcp::endpoint(ip::make_address("127.0.0.1"), 80));
    EXPECT_EQ(parsed("0.0.0.0:9100"), ip::tcp::endpoint(ip::make_address("0.0.0.0"), 9100));
    EXPECT_EQ(parsed("[::]:8080"), ip::tcp::endpoint(ip::make_address("::"), 8080));
    EXPECT_EQ(parsed("[::1]:65535"), ip::tcp::endpoint(ip::make_address("::1"), 65535));
}

TEST(http_listen_address, says_what_is_wrong_and_where) {
    EXPECT_EQ(problem("127.0.0.1").offset, 9u);
    EXPECT_NE(problem("127.0.0.1").message.find("127.0.0.1:8080"), std::string::npos);
    EXPECT_EQ(problem("127.0.0.1:0").offset, 10u);
    EXPECT_EQ(problem("127.0.0.1:65536").offset, 10u);
    EXPECT_EQ(problem("127.0.0.1:80x").offset, 10u);
    EXPECT_NE(problem("::1:8080").message.find("brackets"), std::string::npos);
    EXPECT_NE(problem("[::1:8080").message.find("']'"), std::string::npos);
    EXPECT_NE(problem("[::1]8080").message.find("port"), std::string::npos);
    EXPECT_NE(problem("pi.local:8080").message.find("not an IP address"), std::string::npos);
    EXPECT_NE(problem(":8080").message.find("not an IP address"), std::string::npos);
}

TEST(http_listen_address, knows_which_addresses_other_machines_reach) {
    EXPECT_FALSE(reachable_from_network(parsed("127.0.0.1:1")));
    EXPECT_FALSE(reachable_from_network(parsed("127.3.2.1:1")));
    EXPECT_FALSE(reachable_from_network(parsed("[::1]:1")));
    EXPECT_FALSE(reachable_from_network(parsed("[::ffff:127.0.0.1]:1")));
    EXPECT_TRUE(reachable_from_network(parsed("0.0.0.0:1")));
    EXPECT_TRUE(reachable_from_network(parsed("[::]:1")));
    EXPECT_TRUE(reachable_from_network(parsed("192.168.1.5:1")));
}

TEST(http_listen_address, endpoint_text_writes_it_back) {
    EXPECT_EQ(endpoint_text(parsed("127.0.0.1:8080")), "127.0.0.1:8080");
    EXPECT_EQ(endpoint_text(parsed("[::1]:8080")), "[::1]:8080");
}

}  // namespace
}  // namespace evn_mbus
