// Lost-push and replay detection by the GCM frame counter (frame_counter_monitor). Counters
// and system titles are made up here; the clock is a fake steady_clock time that the tests
// move on by hand.
#include "evn_mbus/frame_counter_monitor.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace evn_mbus {
namespace {

using namespace std::chrono_literals;
using verdict = counter_verdict;

const system_title kaifa{'K', 'F', 'M', 0x67, 0x50, 0x00, 0x00, 0x09};
const system_title sagemcom{'S', 'A', 'G', 0x01, 0x02, 0x03, 0x04, 0x05};

// A monitor and a clock that moves 5 s (a Kaifa's push interval) per push.
struct rig {
    frame_counter_monitor monitor;
    frame_counter_monitor::clock::time_point now{};

    explicit rig(frame_counter_options o = {}) : monitor(o) {}

    counter_check push(std::uint32_t counter, const system_title& title = kaifa,
                       std::chrono::seconds after = 5s) {
        now += after;
        return monitor.check(title, counter, now);
    }
    // Pushes counter, counter + step, ... (n of them); all must be accepted in order after
    // the first; returns the verdicts.
    std::vector<verdict> run(std::uint32_t counter, int n, std::uint32_t step = 1) {
        std::vector<verdict> out;
        for (int i = 0; i < n; ++i)
            out.push_back(push(counter + static_cast<std::uint32_t>(i) * step).verdict);
        return out;
    }
    const frame_counter_stats& stats() const { return monitor.stats(); }
};

TEST(frame_counter_monitor, in_order_pushes_are_published_and_nothing_is_counted) {
    rig r;
    const auto v = r.run(1000, 10);
    EXPECT_EQ(v.front(), verdict::first);
    for (std::size_t i = 1; i < v.size(); ++i)
        EXPECT_EQ(v[i], verdict::in_order) << i;
    EXPECT_EQ(r.stats().lost_pushes, 0u);
    EXPECT_EQ(r.stats().gaps, 0u);
    EXPECT_EQ(r.stats().duplicates, 0u);
    EXPECT_EQ(r.stats().backwards, 0u);
}

TEST(frame_counter_monitor, a_gap_of_two_counts_two_lost_pushes) {
    rig r;
    r.run(50, 6);  // 50..55, step learnt
    const counter_check c = r.push(58);
    EXPECT_EQ(c.verdict, verdict::gap);
    EXPECT_TRUE(c.publish());
    EXPECT_EQ(c.lost, 2u);
    EXPECT_EQ(c.previous, 55u);
    EXPECT_EQ(c.counter, 58u);
    EXPECT_EQ(r.push(59).verdict, verdict::in_order);
    EXPECT_EQ(r.stats().lost_pushes, 2u);
    EXPECT_EQ(r.stats().gaps, 1u);
}

TEST(frame_counter_monitor, pushes_lost_while_learning_the_step_are_counted_exactly) {
    rig r;
    EXPECT_EQ(r.push(10).verdict, verdict::first);
    EXPECT_EQ(r.push(12).verdict, verdict::in_order);  // one lost, not known yet
    EXPECT_EQ(r.push(13).verdict, verdict::in_order);
    EXPECT_EQ(r.push(16).verdict, verdict::in_order);  // two lost
    EXPECT_EQ(r.stats().lost_pushes, 0u);
    const counter_check c = r.push(17);  // the 4th increase: the step is 1
    EXPECT_EQ(c.verdict, verdict::gap);
    EXPECT_EQ(c.lost, 3u);
    EXPECT_EQ(c.previous, 10u);  // lost somewhere since the first push
    EXPECT_EQ(c.step, 1u);
    EXPECT_EQ(r.stats().lost_pushes, 3u);
    EXPECT_EQ(r.stats().gaps, 2u);
}

TEST(frame_counter_monitor, a_meter_counting_in_steps_of_k_loses_nothing) {
    rig r;
    const auto v = r.run(300, 20, 3);
    for (std::size_t i = 1; i < v.size(); ++i)
        EXPECT_EQ(v[i], verdict::in_order) << i;
    EXPECT_EQ(r.stats().lost_pushes, 0u);
    // One push of three counts lost: 357 -> 363.
    const counter_check c = r.push(300 + 19 * 3 + 6);
    EXPECT_EQ(c.verdict, verdict::gap);
    EXPECT_EQ(c.lost, 1u);
    EXPECT_EQ(c.step, 3u);
}

TEST(frame_counter_monitor, the_same_counter_again_is_a_duplicate_and_not_published) {
    rig r;
    r.run(40, 18);  // 40..57
    counter_check c = r.push(57);
    EXPECT_EQ(c.verdict, verdict::duplicate);
    EXPECT_FALSE(c.publish());
    EXPECT_EQ(c.previous, 57u);
    // An older one that is still remembered: a replay of a recent telegram.
    c = r.push(50);
    EXPECT_EQ(c.verdict, verdict::duplicate);
    EXPECT_FALSE(c.publish());
    EXPECT_EQ(r.push(58).verdict, verdict::in_order);
    EXPECT_EQ(r.stats().duplicates, 2u);
    EXPECT_EQ(r.stats().backwards, 0u);
    EXPECT_EQ(r.stats().lost_pushes, 0u);
}

TEST(frame_counter_monitor, backwards_is_not_published_until_a_reset_is_proven) {
    rig r;
    r.run(100000, 10);  // .. 100009
    counter_check c = r.push(5);
    EXPECT_EQ(c.verdict, verdict::backwards);
    EXPECT_FALSE(c.publish());
    EXPECT_EQ(c.previous, 100009u);
    EXPECT_EQ(r.push(6).verdict, verdict::backwards);
    c = r.push(7);  // the third counting up from 5: the meter was reset
    EXPECT_EQ(c.verdict, verdict::reset_accepted);
    EXPECT_TRUE(c.publish());
    EXPECT_EQ(c.previous, 100009u);
    EXPECT_EQ(r.push(8).verdict, verdict::in_order);
    EXPECT_EQ(r.push(10).verdict, verdict::gap);
    // The old sequence's last telegrams again are not new.
    EXPECT_EQ(r.push(100009).verdict, verdict::duplicate);
    EXPECT_EQ(r.push(100003).verdict, verdict::duplicate);
    EXPECT_EQ(r.stats().backwards, 2u);
    EXPECT_EQ(r.stats().resets, 1u);
}

TEST(frame_counter_monitor, old_telegrams_between_the_meters_own_pushes_are_never_a_reset) {
    rig r;
    r.run(5000, 20);  // .. 5019
    std::uint32_t next = 5020;
    // A replay of 100.. interleaved with the real meter: never three in a row.
    for (std::uint32_t old = 100; old < 110; ++old) {
        EXPECT_EQ(r.push(old).verdict, verdict::backwards) << old;
        EXPECT_EQ(r.push(old + 100).verdict, verdict::backwards) << old;
        EXPECT_EQ(r.push(next++).verdict, verdict::in_order);
    }
    EXPECT_EQ(r.stats().resets, 0u);
    EXPECT_EQ(r.stats().backwards, 20u);
}

TEST(frame_counter_monitor, a_lower_value_that_does_not_count_up_starts_the_proof_again) {
    rig r;
    r.run(9000, 10);
    EXPECT_EQ(r.push(10).verdict, verdict::backwards);
    EXPECT_EQ(r.push(11).verdict, verdict::backwards);
    EXPECT_EQ(r.push(3).verdict, verdict::backwards);  // not after 11: start again from 3
    EXPECT_EQ(r.push(4).verdict, verdict::backwards);
    EXPECT_EQ(r.push(5).verdict, verdict::reset_accepted);
}

TEST(frame_counter_monitor, two_meters_interleaved_are_judged_separately) {
    rig r;
    EXPECT_EQ(r.push(100, kaifa).verdict, verdict::first);
    EXPECT_EQ(r.push(7, sagemcom).verdict, verdict::first);
    for (std::uint32_t i = 1; i <= 10; ++i) {
        EXPECT_EQ(r.push(100 + i, kaifa).verdict, verdict::in_order);
        EXPECT_EQ(r.push(7 + i, sagemcom).verdict, verdict::in_order);
    }
    EXPECT_EQ(r.push(113, kaifa).lost, 2u);
    EXPECT_EQ(r.push(18, sagemcom).verdict, verdict::in_order);
    // The same counter from the other meter is no duplicate.
    EXPECT_EQ(r.push(19, sagemcom).verdict, verdict::in_order);
    EXPECT_EQ(r.push(17, sagemcom).verdict, verdict::duplicate);
    EXPECT_EQ(r.stats().lost_pushes, 2u);
    EXPECT_EQ(r.stats().duplicates, 1u);
}

TEST(frame_counter_monitor, the_32_bit_wrap_is_one_step_forward) {
    rig r;
    const auto v = r.run(0xFFFFFFFBU, 10);  // ..FFFF, 0, 1, 2, 3, 4
    for (std::size_t i = 1; i < v.size(); ++i)
        EXPECT_EQ(v[i], verdict::in_order) << i;
    rig g;
    g.run(0xFFFFFFF0U, 15);  // .. 0xFFFFFFFE
    const counter_check c = g.push(2);
    EXPECT_EQ(c.verdict, verdict::gap);
    EXPECT_EQ(c.lost, 3u);  // FFFFFFFF, 0, 1
}

TEST(frame_counter_monitor, a_jump_too_far_for_lost_pushes_is_a_new_baseline) {
    rig r;
    r.run(0x0022E252, 10);  // .. 0x0022E25B
    // A power cut: 20 s later the meter resumes from its next saved block.
    counter_check c = r.push(0x0022F000, kaifa, 20s);
    EXPECT_EQ(c.verdict, verdict::jump);
    EXPECT_TRUE(c.publish());
    EXPECT_EQ(r.push(0x0022F001).verdict, verdict::in_order);
    EXPECT_EQ(r.stats().lost_pushes, 0u);
    EXPECT_EQ(r.stats().jumps, 1u);
    // An hour without pushes (the adapter was unplugged): 720 pushes of 5 s really were
    // lost, and more than an hour's worth at one per second can have been.
    c = r.push(0x0022F001 + 721, kaifa, 3600s);
    EXPECT_EQ(c.verdict, verdict::gap);
    EXPECT_EQ(c.lost, 720u);
}

TEST(frame_counter_monitor, plaintext_pushes_are_not_checked) {
    frame_counter_monitor m;
    reading plain;
    plain.encrypted = false;
    for (int i = 0; i < 3; ++i) {
        const counter_check c = m.check(plain, {});
        EXPECT_EQ(c.verdict, verdict::unchecked);
        EXPECT_TRUE(c.publish());
    }
    reading enc;
    enc.encrypted = true;
    enc.title = kaifa;
    enc.frame_counter = 42;
    EXPECT_EQ(m.check(enc, {}).verdict, verdict::first);
    EXPECT_EQ(m.check(enc, {}).verdict, verdict::duplicate);
}

TEST(frame_counter_monitor, the_least_recently_heard_meter_is_forgotten) {
    frame_counter_options o;
    o.max_meters = 2;
    rig r(o);
    r.push(1, kaifa);
    r.push(1, sagemcom);
    r.push(2, kaifa);
    system_title third = kaifa;
    third[7] = 0x77;
    EXPECT_EQ(r.push(1, third).verdict, verdict::first);
    EXPECT_EQ(r.push(3, kaifa).verdict, verdict::in_order);  // kept
    EXPECT_EQ(r.push(1, sagemcom).verdict, verdict::first);  // forgotten
}

// Whatever arrives (repeats, replays, wild values, lost pushes, the wrap), no counter is
// published twice between two new baselines (jump, reset), and the meter's own pushes
// mostly get through.
TEST(frame_counter_monitor, random_traffic_never_publishes_a_counter_twice) {
    std::mt19937 engine(20240607);
    const auto rng = [&engine] { return static_cast<std::uint32_t>(engine()); };
    rig r;
    std::uint32_t meter = 0xFFFFFF00U;
    std::vector<std::uint32_t> sent;
    std::set<std::uint32_t> published;
    std::size_t in_order_total = 0;
    for (int i = 0; i < 20000; ++i) {
        std::uint32_t counter = 0;
        const unsigned what = rng() % 100;
        bool real = false;
        if (what < 70 || sent.empty()) {
            counter = meter++;
            real = true;
        } else if (what < 80) {
            counter = meter += 1 + rng() % 5;  // lost pushes
            ++meter;
            real = true;
        } else if (what < 95) {
            counter = sent[rng() % sent.size()];  // a replay of anything sent so far
        } else {
            counter = rng();  // noise that happens to decrypt: a wild value
        }
        sent.push_back(counter);
        const counter_check c = r.push(counter);
        if (c.verdict == verdict::jump || c.verdict == verdict::reset_accepted) published.clear();
        if (c.publish()) {
            EXPECT_TRUE(published.insert(counter).second) << "counter " << counter << " twice";
        }
        if (real && c.verdict == verdict::in_order) ++in_order_total;
    }
    EXPECT_GT(in_order_total, 5000u);
    // About 15% are replays: old ones go backwards, recent ones are duplicates.
    EXPECT_GT(r.stats().duplicates + r.stats().backwards, 2000u);
    EXPECT_GT(r.stats().duplicates, 0u);
}

}  // namespace
}  // namespace evn_mbus
