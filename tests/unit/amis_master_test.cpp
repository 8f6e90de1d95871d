// The simulated AMIS meter's master logic (amis_master.hpp), driven by calls and a clock:
// search until answered, a push an interval, the same push again when its E5h does not come,
// a search again after ten in a row, and what counts as late, missing or wrong.
#include "amis_master.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
using frame = amis_master::frame;
using outcome = amis_master::outcome;

constexpr std::uint8_t e5[] = {0xE5};

struct fixture {
    amis_master::clock::time_point t0{};
    amis_master m{amis_master::options{}, t0};
    // Sends what is due at `at`, its last byte 10 ms later; returns what it was.
    std::optional<frame> send(amis_master::clock::duration at, bool damaged = false) {
        const auto f = m.due(t0 + at);
        if (f) m.sent(t0 + at + 10ms, damaged);
        return f;
    }
};

TEST(amis_master, searches_once_a_minute_until_answered_then_pushes_each_second) {
    fixture x;
    EXPECT_EQ(x.send(0s), frame::search);
    EXPECT_EQ(x.m.due(x.t0 + 300ms), std::nullopt);  // waiting for the answer
    x.m.update(x.t0 + 600ms);                        // none came
    auto r = x.m.take_results();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].what, outcome::missing);
    EXPECT_EQ(x.m.next_due(), x.t0 + 60s);
    EXPECT_EQ(x.m.due(x.t0 + 59s), std::nullopt);
    EXPECT_EQ(x.send(60s), frame::search);
    x.m.received(e5, x.t0 + 60s + 12ms);
    EXPECT_FALSE(x.m.searching());
    EXPECT_EQ(x.send(60s + 12ms), frame::push);
    EXPECT_FALSE(x.m.fcb());
    x.m.received(e5, x.t0 + 60s + 30ms);
    EXPECT_TRUE(x.m.fcb());  // toggled after the acknowledgement
    EXPECT_EQ(x.m.access_number(), 1);
    EXPECT_EQ(x.m.due(x.t0 + 61s), std::nullopt);  // one second after the last push began
    EXPECT_EQ(x.send(61s + 12ms), frame::push);
    const auto& s = x.m.statistics();
    EXPECT_EQ(s.searches, 2u);
    EXPECT_EQ(s.unanswered_searches, 1u);
    EXPECT_EQ(s.searches_answered, 1u);
    EXPECT_EQ(s.acknowledged, 1u);
    ASSERT_EQ(s.latencies.size(), 2u);
    EXPECT_EQ(s.latencies[0], 2ms);
    EXPECT_EQ(s.latencies[1], 8ms);
}

TEST(amis_master, a_push_without_answer_is_sent_again_and_ten_in_a_row_start_a_search) {
    fixture x;
    x.send(0s);
    x.m.received(e5, x.t0 + 20ms);
    EXPECT_EQ(x.send(20ms), frame::push);
    const std::uint8_t access = x.m.access_number();
    for (int i = 1; i <= 10; ++i) {
        const auto f = x.send(20ms + i * 1s);
        if (i < 10) {
            EXPECT_EQ(f, frame::repeat) << i;
            EXPECT_EQ(x.m.access_number(), access);  // the same frame, unchanged
        } else {
            EXPECT_EQ(f, frame::search);  // ten missing: the reader is gone
        }
    }
    EXPECT_EQ(x.m.statistics().missing, 10u);
    EXPECT_EQ(x.m.statistics().repeats, 9u);
}

TEST(amis_master, late_damaged_and_unheard_answers_are_told_apart) {
    fixture x;
    x.send(0s);
    x.m.received(e5, x.t0 + 20ms);
    x.send(20ms);
    x.m.received(e5, x.t0 + 700ms);  // after the 0.5 s
    auto r = x.m.take_results();
    ASSERT_EQ(r.size(), 3u);  // search acknowledged, push missing, then its late E5h
    EXPECT_EQ(r[1].what, outcome::missing);
    EXPECT_EQ(r[2].what, outcome::late);
    EXPECT_EQ(x.m.statistics().late, 1u);

    EXPECT_EQ(x.send(1020ms, true), frame::repeat);  // damaged on the line
    x.m.update(x.t0 + 2s);
    r = x.m.take_results();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].what, outcome::damaged_unanswered);  // right: no answer
    EXPECT_EQ(x.send(2020ms, true), frame::repeat);
    x.m.received(e5, x.t0 + 2040ms);
    r = x.m.take_results();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].what, outcome::damaged_acknowledged);  // wrong
    EXPECT_EQ(x.m.statistics().damaged_acknowledged, 1u);

    EXPECT_EQ(x.send(3020ms), frame::push);
    x.m.received(e5, x.t0 + 3040ms, false);  // the meter does not hear it
    x.m.update(x.t0 + 3600ms);
    r = x.m.take_results();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].what, outcome::unheard);
    EXPECT_EQ(x.m.statistics().missing, 1u);  // only the first push's
    EXPECT_EQ(x.send(4020ms), frame::repeat);
    // A damaged frame: an unheard E5h is still wrong; a late one may be an old answer.
    x.m.received(e5, x.t0 + 4030ms);  // acknowledges the repeat
    EXPECT_EQ(x.send(5020ms, true), frame::push);
    x.m.received(e5, x.t0 + 5040ms, false);
    EXPECT_EQ(x.m.statistics().damaged_acknowledged, 2u);
    EXPECT_EQ(x.send(6020ms, true), frame::repeat);
    x.m.update(x.t0 + 6600ms);
    x.m.received(e5, x.t0 + 6700ms);
    EXPECT_EQ(x.m.statistics().damaged_acknowledged, 2u);
    EXPECT_EQ(x.m.statistics().stray, 1u);
    EXPECT_EQ(x.send(7020ms), frame::repeat);
    const std::uint8_t junk[] = {0x00, 0xE5, 0xE5};
    x.m.received(junk, x.t0 + 7040ms);
    EXPECT_EQ(x.m.statistics().stray, 3u);  // the other byte and the second E5h
}

}  // namespace
}  // namespace evn_mbus
