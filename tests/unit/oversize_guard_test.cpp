// What the publisher says when a broker closes connections on messages too big for it, and
// that such losses are never taken for another client with our client id.
#include "oversize_guard.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
const auto t0 = oversize_guard::clock::time_point{} + 1000s;
const std::string big(700, 'x');  // a discovery config, say

struct said {
    std::vector<std::string> too_big, churn;
    void add(const oversize_guard::loss& l) {
        if (l.too_big) too_big.push_back(*l.too_big);
        if (l.churn) churn.push_back(*l.churn);
    }
};

// Clean session: Paho fails what it wrote and keeps what it had not written for the next
// connection. Four configs handed over at once, the broker closes on the first: each carried
// one ends the next connection within a second, every loss explained by a size.
TEST(oversize_guard, carried_messages_too_big_are_not_taken_for_another_client) {
    oversize_guard g{mqtt_config{}};
    said s;
    auto now = t0;
    g.connected(now);
    g.settled(g.sent("ha/a/config", big.size(), 1, now), false);
    g.settled(g.sent("ha/a/config", big.size(), 1, now), false);  // written too, behind it
    s.add(g.lost(now + 10ms, "evn-mbus-1"));                      // a suspect
    now += 2s;
    g.connected(now);
    g.settled(g.sent("ha/a/config", big.size(), 1, now), false);
    std::vector<std::uint64_t> queued;  // not written when the broker closed
    for (int i = 0; i < 4; ++i)
        queued.push_back(g.sent("ha/b/config", big.size() + 10 + i, 1, now));
    s.add(g.lost(now + 10ms, "evn-mbus-1"));  // the limit
    ASSERT_EQ(s.too_big.size(), 1u);
    for (const auto token : queued) {
        now += 2s;
        g.connected(now);
        g.settled(token, false);  // written first, and the broker closes on it
        s.add(g.lost(now + 10ms, "evn-mbus-1"));
    }
    EXPECT_TRUE(s.churn.empty()) << s.churn.front();
    EXPECT_EQ(s.too_big.size(), 1u);
    EXPECT_FALSE(g.churning());
}

// The same losses with nothing to explain them are another client's kicks, said once.
TEST(oversize_guard, unexplained_short_connections_are_said_once) {
    oversize_guard g{mqtt_config{}};
    said s;
    auto now = t0;
    for (int i = 0; i < 6; ++i) {
        g.connected(now);
        g.settled(g.sent("evn/status", 6, 1, now), false);
        s.add(g.lost(now + 10ms, "evn-mbus-1"));
        now += 2s;
    }
    ASSERT_EQ(s.churn.size(), 1u);
    EXPECT_NE(s.churn.front().find("same client id 'evn-mbus-1'"), std::string::npos);
    EXPECT_TRUE(s.too_big.empty());
}

// mqtt.clean_session false: Paho writes the message again on every connection and no limit can
// drop it. Said once, with the setting that helps; not taken for another client either.
TEST(oversize_guard, a_message_resent_on_every_connection_names_clean_session) {
    mqtt_config c;
    c.clean_session = false;
    oversize_guard g{c};
    said s;
    auto now = t0;
    g.connected(now);
    g.sent("ha/a/config", big.size(), 1, now);
    for (int i = 0; i < 8; ++i) {
        if (i > 0) g.connected(now);
        s.add(g.lost(now + 10ms, "evn-mbus-1"));
        now += 2s;
    }
    ASSERT_EQ(s.too_big.size(), 2u);  // the limit, then that it cannot help
    EXPECT_NE(s.too_big[1].find("Set mqtt.clean_session: true"), std::string::npos) << s.too_big[1];
    EXPECT_TRUE(s.churn.empty());
}

}  // namespace
}  // namespace evn_mbus
