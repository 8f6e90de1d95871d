// A broker that keeps closing fresh connections (another client with the same client id).
#include "connection_churn.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
const auto t0 = connection_churn::clock::time_point{} + 1000s;

TEST(connection_churn, three_short_connections_in_a_row_are_reported_once) {
    connection_churn c;
    auto now = t0;
    int reported = 0;
    for (int i = 0; i < 10; ++i) {
        c.connected(now);
        now += 1s;
        if (c.lost(now, false)) {
            ++reported;
            EXPECT_EQ(i, 2) << "on the third";
        }
        now += 1s;
    }
    EXPECT_EQ(reported, 1);
    EXPECT_TRUE(c.churning());
}

TEST(connection_churn, a_long_connection_ends_the_streak) {
    connection_churn c;
    auto now = t0;
    for (int i = 0; i < 2; ++i) {
        c.connected(now);
        EXPECT_FALSE(c.lost(now += 1s, false));
    }
    c.connected(now);
    EXPECT_FALSE(c.lost(now += 60s, false));
    EXPECT_FALSE(c.churning());
    for (int i = 0; i < 2; ++i) {
        c.connected(now);
        EXPECT_FALSE(c.lost(now += 1s, false));
    }
    c.connected(now);
    EXPECT_TRUE(c.lost(now += 1s, false)) << "a new streak is reported again";
}

TEST(connection_churn, explained_losses_do_not_count) {
    connection_churn c;
    auto now = t0;
    for (int i = 0; i < 6; ++i) {
        c.connected(now);
        EXPECT_FALSE(c.lost(now += 1s, true));
    }
    EXPECT_FALSE(c.churning());
}

TEST(connection_churn, a_loss_without_a_connection_is_not_a_short_one) {
    connection_churn c;
    for (int i = 0; i < 5; ++i)
        EXPECT_FALSE(c.lost(t0 + std::chrono::seconds(i), false));
}

}  // namespace
}  // namespace evn_mbus
