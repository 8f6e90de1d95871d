// The warning about readings dropped from the full MQTT queue (drop_reporter): when it comes,
// and that it tells a broker that is away from one that is connected but does not keep up.
#include "drop_reporter.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;

drop_context away(std::chrono::seconds for_how_long, bool never = false) {
    drop_context c;
    c.cause = drop_cause::broker_away;
    c.max_readings = 10;
    c.max_mb = 32;
    c.queued = 10;
    c.away_for = for_how_long;
    c.never_connected = never;
    return c;
}

drop_context slow() {
    drop_context c = away(0s);
    c.cause = drop_cause::broker_slow;
    c.window = 20;
    return c;
}

// Back after an outage with a full queue: the backlog is being sent; the broker is not slow.
TEST(drop_reporter, the_outage_backlog_is_not_blamed_on_a_slow_broker) {
    drop_reporter r(60s);
    drop_reporter::clock::time_point t{};
    drop_context c = away(0s);
    c.cause = drop_cause::catching_up;
    const auto m = r.dropped(t, c);
    ASSERT_TRUE(m);
    EXPECT_NE(m->find("still full of readings from while it was away"), std::string::npos) << *m;
    EXPECT_EQ(m->find("more slowly"), std::string::npos) << *m;
    EXPECT_EQ(m->find("unreachable"), std::string::npos) << *m;
}

TEST(drop_reporter, first_drop_is_told_then_at_most_once_per_interval_with_the_count) {
    drop_reporter r(60s);
    drop_reporter::clock::time_point t{};
    const auto first = r.dropped(t, away(125s));
    ASSERT_TRUE(first);
    EXPECT_NE(first->find("MQTT queue full (10 readings, mqtt.queue_size)"), std::string::npos)
        << *first;
    EXPECT_NE(first->find("1 so far"), std::string::npos) << *first;
    EXPECT_NE(first->find("unreachable for 2 min 5 s"), std::string::npos) << *first;
    EXPECT_NE(first->find("raise mqtt.queue_size"), std::string::npos) << *first;
    for (int i = 0; i < 64; ++i)
        EXPECT_FALSE(r.dropped(t + 59s, away(184s)));
    const auto later = r.dropped(t + 60s, away(185s));
    ASSERT_TRUE(later);
    EXPECT_NE(later->find("66 so far"), std::string::npos) << *later;
    EXPECT_EQ(r.total(), 66u);
}

TEST(drop_reporter, a_broker_never_reached_is_said_so) {
    drop_reporter r;
    const auto text = r.dropped({}, away(30s, true));
    ASSERT_TRUE(text);
    EXPECT_NE(text->find("has not been reachable since evn-mbus started (30 s ago)"),
              std::string::npos)
        << *text;
}

// A burst while connected: the broker is not away, it is slow.
TEST(drop_reporter, a_connected_broker_that_does_not_keep_up_is_not_called_unreachable) {
    drop_reporter r;
    const auto text = r.dropped({}, slow());
    ASSERT_TRUE(text);
    EXPECT_EQ(text->find("unreachable"), std::string::npos) << *text;
    EXPECT_NE(text->find("The broker is connected, but it confirms messages more slowly"),
              std::string::npos)
        << *text;
    EXPECT_NE(text->find("20 messages sent are waiting for its confirmation"), std::string::npos)
        << *text;
}

TEST(drop_reporter, a_new_cause_is_told_at_once) {
    drop_reporter r;
    drop_reporter::clock::time_point t{};
    ASSERT_TRUE(r.dropped(t, away(10s)));
    EXPECT_FALSE(r.dropped(t + 1s, away(11s)));
    const auto text = r.dropped(t + 2s, slow());
    ASSERT_TRUE(text);
    EXPECT_NE(text->find("3 so far"), std::string::npos) << *text;
    EXPECT_FALSE(r.dropped(t + 3s, slow()));
}

TEST(drop_reporter, the_byte_bound_names_its_setting) {
    drop_reporter r;
    drop_context c = away(10s);
    c.bound = queue_bound::bytes;
    c.queued = 9000;
    const auto text = r.dropped({}, c);
    ASSERT_TRUE(text);
    EXPECT_NE(text->find("MQTT queue full (32 MiB, mqtt.queue_max_mb; 9000 readings)"),
              std::string::npos)
        << *text;
    EXPECT_NE(text->find("raise mqtt.queue_max_mb"), std::string::npos) << *text;
}

TEST(drop_reporter, durations_read_as_a_person_says_them) {
    EXPECT_EQ(spoken_duration(0s), "0 s");
    EXPECT_EQ(spoken_duration(59s), "59 s");
    EXPECT_EQ(spoken_duration(60s), "1 min");
    EXPECT_EQ(spoken_duration(79s), "1 min 19 s");
    EXPECT_EQ(spoken_duration(3600s), "1 h");
    EXPECT_EQ(spoken_duration(3600s * 3 + 20min), "3 h 20 min");
    EXPECT_EQ(spoken_duration(-5s), "0 s");
}

}  // namespace
}  // namespace evn_mbus
