#include "change_filter.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
using clock_type = change_filter::clock;

bool value_topic(const std::string& topic) {
    return topic != "evn/state" && topic != "evn/raw";
}

std::vector<std::string> topics_of(const std::vector<mqtt_message>& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages)
        out.push_back(m.topic);
    return out;
}

std::vector<mqtt_message> reading(const std::string& w_p, const std::string& p_p) {
    return {{"evn/w_p", w_p}, {"evn/p_p", p_p}, {"evn/state", "{}"}, {"evn/raw", "00"}};
}

TEST(change_filter, sends_what_changed_and_always_the_state) {
    change_filter f(300s);
    const auto t0 = clock_type::time_point{} + 1h;
    auto first = reading("1000", "500");
    f.apply(first, t0, value_topic);
    EXPECT_EQ(topics_of(first),
              (std::vector<std::string>{"evn/w_p", "evn/p_p", "evn/state", "evn/raw"}));

    auto same = reading("1000", "500");
    f.apply(same, t0 + 1s, value_topic);
    EXPECT_EQ(topics_of(same), (std::vector<std::string>{"evn/state", "evn/raw"}));

    auto power_moved = reading("1000", "510");
    f.apply(power_moved, t0 + 2s, value_topic);
    EXPECT_EQ(topics_of(power_moved),
              (std::vector<std::string>{"evn/p_p", "evn/state", "evn/raw"}));
    EXPECT_EQ(power_moved.front().payload, "510");
    EXPECT_EQ(f.suppressed(), 3u);
}

TEST(change_filter, an_unchanged_value_goes_again_after_the_heartbeat) {
    change_filter f(60s);
    const auto t0 = clock_type::time_point{} + 1h;
    auto m = reading("1000", "500");
    f.apply(m, t0, value_topic);
    m = reading("1000", "500");
    f.apply(m, t0 + 59s, value_topic);
    EXPECT_EQ(m.size(), 2u);
    m = reading("1000", "500");
    f.apply(m, t0 + 60s, value_topic);
    EXPECT_EQ(m.size(), 4u);  // both values again
    // and the heartbeat counts from then
    m = reading("1000", "500");
    f.apply(m, t0 + 61s, value_topic);
    EXPECT_EQ(m.size(), 2u);
}

TEST(change_filter, a_change_restarts_the_heartbeat_of_that_topic_only) {
    change_filter f(60s);
    const auto t0 = clock_type::time_point{} + 1h;
    auto m = reading("1000", "500");
    f.apply(m, t0, value_topic);
    m = reading("1000", "600");
    f.apply(m, t0 + 30s, value_topic);
    m = reading("1000", "600");
    f.apply(m, t0 + 61s, value_topic);  // w_p's heartbeat is due, p_p's is not
    EXPECT_EQ(topics_of(m), (std::vector<std::string>{"evn/w_p", "evn/state", "evn/raw"}));
}

TEST(change_filter, forget_sends_everything_again) {
    change_filter f(300s);
    const auto t0 = clock_type::time_point{} + 1h;
    auto m = reading("1000", "500");
    f.apply(m, t0, value_topic);
    f.forget();
    m = reading("1000", "500");
    f.apply(m, t0 + 1s, value_topic);
    EXPECT_EQ(m.size(), 4u);
}

}  // namespace
}  // namespace evn_mbus
