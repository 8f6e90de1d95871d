// When a lost meter line is tried again, and which failures are said.
#include "retry_state.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;

TEST(retry_state, the_delay_doubles_from_a_quarter_second_up_to_the_cap) {
    retry_state r;
    std::vector<long> got;
    for (int i = 0; i < 6; ++i)
        got.push_back(r.next_delay(2000ms).count());
    EXPECT_EQ(got, (std::vector<long>{250, 500, 1000, 2000, 2000, 2000}));
    r.succeeded();
    EXPECT_EQ(r.next_delay(2000ms), 250ms);
    // The first delay is always 250 ms (serial.reopen_max_s is at least 1 s); the cap from then.
    retry_state low;
    EXPECT_EQ(low.next_delay(100ms), 250ms);
    EXPECT_EQ(low.next_delay(100ms), 100ms);
}

TEST(retry_state, a_failure_is_news_once_until_another_or_a_success) {
    retry_state r;
    EXPECT_TRUE(r.is_news("refused"));
    EXPECT_FALSE(r.is_news("refused"));
    EXPECT_TRUE(r.is_news("timed out"));
    EXPECT_TRUE(r.is_news("refused"));
    r.succeeded();
    EXPECT_TRUE(r.is_news("refused"));
}

}  // namespace
}  // namespace evn_mbus
