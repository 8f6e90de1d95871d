// The frozen-broker watch (delivery_watch): messages waiting and nothing confirmed for the
// limit is a stall; any confirmation, or nothing waiting, is not.
#include "delivery_watch.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
using clock_type = delivery_watch::clock;

TEST(delivery_watch, nothing_waiting_is_never_a_stall) {
    delivery_watch w(30s);
    EXPECT_FALSE(w.stalled(clock_type::time_point{} + 1h));
}

TEST(delivery_watch, waiting_without_a_confirmation_for_the_limit_is_a_stall) {
    delivery_watch w(30s);
    const clock_type::time_point t{};
    w.sent(t);
    w.sent(t + 10s);  // a later send does not restart the wait
    EXPECT_FALSE(w.stalled(t + 29s));
    ASSERT_TRUE(w.stalled(t + 30s));
    EXPECT_EQ(*w.stalled(t + 31s), 31s);
}

TEST(delivery_watch, each_confirmation_restarts_the_wait) {
    delivery_watch w(30s);
    const clock_type::time_point t{};
    w.sent(t);
    w.sent(t);
    w.confirmed(t + 20s, 1);  // one still waits
    EXPECT_FALSE(w.stalled(t + 49s));
    EXPECT_TRUE(w.stalled(t + 50s));
    w.confirmed(t + 50s, 0);  // all confirmed
    EXPECT_FALSE(w.stalled(t + 2h));
}

TEST(delivery_watch, abandoned_messages_and_a_reset_end_the_wait) {
    delivery_watch w(30s);
    const clock_type::time_point t{};
    w.sent(t);
    w.abandoned(1);
    EXPECT_TRUE(w.stalled(t + 30s)) << "one still waits";
    w.abandoned(0);
    EXPECT_FALSE(w.stalled(t + 30s));
    w.sent(t + 40s);
    w.reset();
    EXPECT_FALSE(w.stalled(t + 2h));
}

}  // namespace
}  // namespace evn_mbus
