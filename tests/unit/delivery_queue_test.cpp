// The MQTT publisher's delivery queue without a broker: order, the send window, sending again
// after a reconnect, dropping the oldest (counted, by readings and by memory), draining.
#include "delivery_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
using clock_type = delivery_queue::clock;

const clock_type::time_point t0{};

// A reading of `n` messages "<r>/0" ... with payloads of `payload` bytes.
std::vector<mqtt_message> reading_of(int r, int n = 1, std::size_t payload = 4) {
    std::vector<mqtt_message> out;
    for (int i = 0; i < n; ++i)
        out.push_back({std::to_string(r) + "/" + std::to_string(i), std::string(payload, 'x')});
    return out;
}

delivery_limits limits(std::size_t readings, std::size_t window = 20,
                       std::size_t bytes = std::size_t{32} << 20) {
    delivery_limits l;
    l.max_readings = readings;
    l.max_bytes = bytes;
    l.window = window;
    l.stall_after = 30s;
    return l;
}

// A connected queue holding one reading of `n` messages.
delivery_queue connected_with(int n) {
    delivery_queue q(limits(10), t0);
    q.connected();
    q.push(reading_of(1, n), t0);
    return q;
}

struct taken {
    std::uint64_t id;
    std::string topic;
};

// Everything next() hands out now.
std::vector<taken> take_all(delivery_queue& q, clock_type::time_point now = t0) {
    std::vector<taken> out;
    while (const auto m = q.next(now))
        out.push_back({m->id, m->topic});
    return out;
}

std::vector<std::string> topics(const std::vector<taken>& t) {
    std::vector<std::string> out;
    for (const auto& x : t)
        out.push_back(x.topic);
    return out;
}

TEST(delivery_queue, nothing_is_handed_out_before_the_broker_is_connected) {
    delivery_queue q(limits(10), t0);
    q.push(reading_of(1), t0);
    EXPECT_FALSE(q.next(t0));
    q.connected();
    const auto t = take_all(q);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].topic, "1/0");
}

TEST(delivery_queue, messages_go_out_in_the_order_queued) {
    auto q = connected_with(2);
    q.push(reading_of(2, 2), t0);
    EXPECT_EQ(topics(take_all(q)), (std::vector<std::string>{"1/0", "1/1", "2/0", "2/1"}));
}

TEST(delivery_queue, the_window_bounds_the_messages_awaiting_confirmation) {
    delivery_queue q(limits(10, 3), t0);
    q.connected();
    q.push(reading_of(1, 5), t0);
    auto first = take_all(q);
    ASSERT_EQ(first.size(), 3u);
    EXPECT_EQ(q.counters().in_flight, 3u);
    EXPECT_TRUE(q.confirmed(first[0].id, t0));
    const auto more = take_all(q);
    ASSERT_EQ(more.size(), 1u);  // one confirmed, one more out
    EXPECT_EQ(more[0].topic, "1/3");
}

TEST(delivery_queue, a_reading_leaves_only_when_all_its_messages_are_confirmed) {
    auto q = connected_with(2);
    const auto t = take_all(q);
    ASSERT_EQ(t.size(), 2u);
    q.confirmed(t[1].id, t0);
    EXPECT_EQ(q.counters().queued, 1u);
    EXPECT_EQ(q.counters().delivered, 0u);
    q.confirmed(t[0].id, t0);
    EXPECT_EQ(q.counters().queued, 0u);
    EXPECT_EQ(q.counters().delivered, 1u);
    EXPECT_EQ(q.counters().queued_bytes, 0u);
    EXPECT_TRUE(q.empty());
}

TEST(delivery_queue, after_a_lost_connection_the_unconfirmed_messages_are_sent_again) {
    auto q = connected_with(3);
    const auto t = take_all(q);
    ASSERT_EQ(t.size(), 3u);
    q.confirmed(t[1].id, t0);  // 1/1 got through, the others were in flight
    q.lost(t0 + 1s);
    EXPECT_FALSE(q.next(t0 + 1s));
    EXPECT_FALSE(q.confirmed(t[0].id, t0 + 1s));  // from the old connection: ignored
    q.connected();
    EXPECT_EQ(topics(take_all(q)), (std::vector<std::string>{"1/0", "1/2"}));
}

TEST(delivery_queue, a_failed_message_is_sent_again_after_a_rewind) {
    auto q = connected_with(2);
    const auto t = take_all(q);
    EXPECT_TRUE(q.failed(t[0].id));
    EXPECT_FALSE(q.failed(t[0].id));
    q.confirmed(t[1].id, t0);
    EXPECT_TRUE(take_all(q).empty());  // nothing until the retry
    q.rewind();
    EXPECT_EQ(topics(take_all(q)), (std::vector<std::string>{"1/0"}));
}

TEST(delivery_queue, a_refused_message_is_handed_out_again_next) {
    auto q = connected_with(3);
    const auto a = q.next(t0);
    const auto b = q.next(t0);
    ASSERT_TRUE(a && b);
    q.refused(b->id);
    EXPECT_EQ(q.counters().in_flight, 1u);
    EXPECT_EQ(topics(take_all(q)), (std::vector<std::string>{"1/1", "1/2"}));
}

TEST(delivery_queue, a_discarded_message_counts_as_done) {
    auto q = connected_with(2);
    const auto t = take_all(q);
    q.discard(t[0].id);
    q.confirmed(t[1].id, t0);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.counters().delivered, 1u);
}

TEST(delivery_queue, a_full_queue_drops_the_oldest_reading_and_counts_it) {
    delivery_queue q(limits(3), t0);
    for (int r = 1; r <= 3; ++r)
        EXPECT_TRUE(q.push(reading_of(r), t0).empty());
    const auto warnings = q.push(reading_of(4), t0 + 90s);
    ASSERT_EQ(warnings.size(), 1u);  // the first drop is said at once
    EXPECT_NE(warnings[0].find("3 readings, mqtt.queue_size"), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("not been reachable since evn-mbus started (1 min 30 s ago)"),
              std::string::npos)
        << warnings[0];
    EXPECT_TRUE(q.push(reading_of(5), t0 + 91s).empty());  // the next one within a minute: not
    EXPECT_EQ(q.counters().dropped, 2u);
    EXPECT_EQ(q.counters().queued, 3u);
    EXPECT_EQ(q.dropped_while_away(), 2u);
    q.connected();
    EXPECT_EQ(topics(take_all(q)), (std::vector<std::string>{"3/0", "4/0", "5/0"}));
}

TEST(delivery_queue, dropping_the_backlog_after_a_reconnect_is_not_called_a_slow_broker) {
    delivery_queue q(limits(2), t0);
    q.push(reading_of(1), t0);
    q.push(reading_of(2), t0);
    q.connected();
    const auto w = q.push(reading_of(3), t0);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("still full of readings from while it was away"), std::string::npos)
        << w[0];
    // Once the backlog is gone, a full queue means a broker slower than the meter.
    std::vector<std::string> later;
    for (int r = 4; r <= 6; ++r) {
        for (auto& text : q.push(reading_of(r), t0))
            later.push_back(std::move(text));
    }
    ASSERT_EQ(later.size(), 1u);  // a new cause is said at once, then not again within a minute
    EXPECT_NE(later[0].find("more slowly"), std::string::npos) << later[0];
}

TEST(delivery_queue, a_message_of_a_dropped_reading_confirmed_late_changes_nothing) {
    delivery_queue q(limits(1), t0);
    q.connected();
    q.push(reading_of(1), t0);
    const auto t = take_all(q);
    q.push(reading_of(2), t0);  // drops reading 1, in flight
    EXPECT_TRUE(q.confirmed(t[0].id, t0));
    EXPECT_EQ(q.counters().delivered, 0u);
    EXPECT_EQ(q.counters().queued, 1u);
    EXPECT_EQ(topics(take_all(q)), (std::vector<std::string>{"2/0"}));
}

TEST(delivery_queue, the_memory_bound_drops_the_oldest_too) {
    // 1 MiB; readings of 300 KB each: three fit, the fourth pushes out the first.
    delivery_queue q(limits(1000, 20, std::size_t{1} << 20), t0);
    for (int r = 1; r <= 3; ++r)
        EXPECT_TRUE(q.push(reading_of(r, 1, 300'000), t0).empty());
    EXPECT_GT(q.counters().queued_bytes, 900'000u);
    EXPECT_LE(q.counters().queued_bytes, std::size_t{1} << 20);
    const auto w = q.push(reading_of(4, 1, 300'000), t0);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("1 MiB, mqtt.queue_max_mb; 2 readings"), std::string::npos) << w[0];
    EXPECT_EQ(q.counters().queued, 3u);
    EXPECT_LE(q.counters().queued_bytes, std::size_t{1} << 20);
    q.connected();
    EXPECT_EQ(topics(take_all(q)), (std::vector<std::string>{"2/0", "3/0", "4/0"}));
}

TEST(delivery_queue, an_empty_queue_takes_a_reading_larger_than_the_memory_bound) {
    delivery_queue q(limits(10, 20, 1000), t0);
    EXPECT_TRUE(q.push(reading_of(1, 1, 5000), t0).empty());
    EXPECT_EQ(q.counters().queued, 1u);
}

TEST(delivery_queue, a_broker_confirming_nothing_is_stalled_after_the_limit) {
    auto q = connected_with(2);
    const auto t = take_all(q, t0);
    EXPECT_FALSE(q.stalled(t0 + 29s));
    q.confirmed(t[0].id, t0 + 20s);  // still one waiting, since 20 s
    EXPECT_FALSE(q.stalled(t0 + 49s));
    EXPECT_EQ(q.stalled(t0 + 55s), std::optional<clock_type::duration>(35s));
    q.confirmed(t[1].id, t0 + 56s);
    EXPECT_FALSE(q.stalled(t0 + 200s));  // nothing waits
}

TEST(delivery_queue, closing_for_the_stop_reports_the_undelivered_and_takes_no_more) {
    delivery_queue q(limits(10), t0);
    q.connected();
    q.push(reading_of(1), t0);
    q.push(reading_of(2), t0);
    const auto t = take_all(q);
    EXPECT_EQ(q.close(), 2u);
    q.push(reading_of(3), t0);
    EXPECT_EQ(q.counters().queued, 2u);
    EXPECT_FALSE(q.next(t0));
    q.confirmed(t[0].id, t0);  // still counted while the connection winds down
    EXPECT_EQ(q.counters().delivered, 1u);
    q.confirmed(t[1].id, t0);
    EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace evn_mbus
