#include "publish_throttle.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
using clock_type = publish_throttle::clock;

// A meter pushing every second for 30 s, through a 10 s throttle: which pushes go, and when.
struct sent_push {
    int push;  // the second it was pushed
    clock_type::time_point at;
};

std::vector<sent_push> run(publish_throttle& t, int pushes, clock_type::time_point start) {
    std::vector<sent_push> sent;
    int held = -1;
    for (int s = 0; s < pushes; ++s) {
        const auto now = start + std::chrono::seconds(s);
        // The timer of the daemon: anything due before this push goes first.
        if (const auto due = t.due(); due && *due <= now && t.take_due(*due))
            sent.push_back({held, *due});
        if (t.offer(now) == publish_throttle::verdict::now) {
            sent.push_back({s, now});
        } else {
            held = s;
        }
    }
    if (const auto due = t.due(); due && t.take_due(*due)) sent.push_back({held, *due});
    return sent;
}

TEST(publish_throttle, zero_sends_every_reading_at_once) {
    publish_throttle t(0s);
    const auto start = clock_type::time_point{} + 1h;
    for (int s = 0; s < 5; ++s)
        EXPECT_EQ(t.offer(start + std::chrono::seconds(s)), publish_throttle::verdict::now);
    EXPECT_FALSE(t.due());
}

TEST(publish_throttle, one_per_interval_and_the_last_of_each_interval) {
    publish_throttle t(10s);
    const auto start = clock_type::time_point{} + 1h;
    const auto sent = run(t, 30, start);
    // Push 0 at once; pushes 1..9 wait, 9 goes at 10 s; then 10..19 wait (10 s after 9 went,
    // at 20 s: push 19), then 20..29 (at 30 s: push 29).
    ASSERT_EQ(sent.size(), 4u);
    EXPECT_EQ(sent[0].push, 0);
    EXPECT_EQ(sent[0].at, start);
    EXPECT_EQ(sent[1].push, 9);
    EXPECT_EQ(sent[1].at, start + 10s);
    EXPECT_EQ(sent[2].push, 19);
    EXPECT_EQ(sent[2].at, start + 20s);
    EXPECT_EQ(sent[3].push, 29);
    EXPECT_EQ(sent[3].at, start + 30s);
    // The newest push always went: the last one (29) is among them, and none waited longer
    // than the interval.
    for (std::size_t i = 1; i < sent.size(); ++i)
        EXPECT_LE(sent[i].at - (start + std::chrono::seconds(sent[i].push)), 10s);
    EXPECT_EQ(t.superseded(), 30u - 4u);
}

TEST(publish_throttle, a_reading_after_a_quiet_interval_goes_at_once) {
    publish_throttle t(10s);
    const auto start = clock_type::time_point{} + 1h;
    EXPECT_EQ(t.offer(start), publish_throttle::verdict::now);
    EXPECT_EQ(t.offer(start + 25s), publish_throttle::verdict::now);
    EXPECT_EQ(t.offer(start + 26s), publish_throttle::verdict::held);
    EXPECT_EQ(t.due(), start + 35s);
    EXPECT_FALSE(t.take_due(start + 34s));  // early
    EXPECT_TRUE(t.take_due(start + 35s));
    EXPECT_FALSE(t.due());
    EXPECT_FALSE(t.take_due(start + 36s));  // nothing held any more
}

TEST(publish_throttle, a_late_timer_does_not_shift_the_next_interval) {
    publish_throttle t(10s);
    const auto start = clock_type::time_point{} + 1h;
    t.offer(start);
    t.offer(start + 1s);
    EXPECT_TRUE(t.take_due(start + 13s));  // the loop was busy for 3 s
    // The next interval began at 10 s, so a push at 20 s goes at once.
    EXPECT_EQ(t.offer(start + 20s), publish_throttle::verdict::now);
}

TEST(publish_throttle, take_held_hands_out_the_waiting_reading_once) {
    publish_throttle t(60s);
    const auto start = clock_type::time_point{} + 1h;
    t.offer(start);
    EXPECT_FALSE(t.take_held());
    t.offer(start + 1s);
    EXPECT_TRUE(t.take_held());
    EXPECT_FALSE(t.take_held());
    EXPECT_FALSE(t.due());
}

}  // namespace
}  // namespace evn_mbus
