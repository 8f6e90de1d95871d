// The simulator's line timing, computed without a clock: when pushes, frames and bytes are
// due at a baud rate and speed, and that a late start keeps the byte spacing.
#include "line_pacer.hpp"

#include <gtest/gtest.h>

namespace evn_mbus::test {
namespace {

using namespace std::chrono;
using clock_type = line_pacer::clock;

const clock_type::time_point t0 = clock_type::time_point{} + hours(1);
// 11 bits (8E1) at 2400 baud.
const clock_type::duration byte_2400 =
    duration_cast<clock_type::duration>(duration<double>(11.0 / 2400));

TEST(line_pacer, unpaced_everything_is_due_at_once) {
    line_pacer p(std::nullopt, t0);
    EXPECT_FALSE(p.paced());
    EXPECT_LE(p.push_due(7), t0);
    EXPECT_LE(p.block_due(true), t0);
    p.start_block(t0, 282);
    EXPECT_EQ(p.bytes_due(t0), 282u);
    EXPECT_LE(p.byte_due(200), t0);
}

TEST(line_pacer, bytes_follow_the_baud_rate) {
    line_pacer p(line_timing{2400, 160.0, 5.0, 1.0}, t0);
    EXPECT_EQ(p.push_due(0), t0);
    EXPECT_EQ(p.block_due(false), t0);
    p.start_block(t0, 10);
    EXPECT_EQ(p.bytes_due(t0 - milliseconds(1)), 0u);
    EXPECT_EQ(p.bytes_due(t0), 1u);  // the first byte at once
    EXPECT_EQ(p.bytes_due(t0 + byte_2400 * 3), 4u);
    EXPECT_EQ(p.bytes_due(t0 + byte_2400 * 3 - nanoseconds(1)), 3u);
    EXPECT_EQ(p.bytes_due(t0 + hours(1)), 10u);
    EXPECT_EQ(p.byte_due(5), t0 + byte_2400 * 5);
    p.end_block();
    // The next frame: the frame gap after the last byte has gone out.
    EXPECT_EQ(p.block_due(true), t0 + byte_2400 * 10 + milliseconds(160));
    // The next push: an interval after the first, the line being free by then.
    EXPECT_EQ(p.push_due(1), t0 + seconds(5));
}

TEST(line_pacer, a_push_waits_for_a_busy_line_and_a_late_block_keeps_its_spacing) {
    line_pacer p(line_timing{2400, 160.0, 1.0, 1.0}, t0);
    p.push_due(0);
    p.start_block(t0, 300);  // 1.375 s of bytes: longer than the interval
    p.end_block();
    EXPECT_EQ(p.push_due(1), t0 + byte_2400 * 300);
    // A reader held the line up: the block starts when it can, byte spacing from there.
    const auto late = t0 + seconds(3);
    p.block_due(false);
    p.start_block(late, 4);
    EXPECT_EQ(p.bytes_due(late), 1u);
    EXPECT_EQ(p.byte_due(2), late + byte_2400 * 2);
    p.end_block();
    EXPECT_EQ(p.push_due(2), late + byte_2400 * 4);
}

TEST(line_pacer, speed_divides_every_time) {
    line_pacer p(line_timing{9600, 100.0, 4.0, 2.0}, t0);
    const auto byte = duration_cast<clock_type::duration>(duration<double>(11.0 / 9600 / 2));
    p.push_due(0);
    p.start_block(t0, 2);
    EXPECT_EQ(p.byte_due(1), t0 + byte);
    p.end_block();
    EXPECT_EQ(p.block_due(true), t0 + byte * 2 + milliseconds(50));
    EXPECT_EQ(p.push_due(1), t0 + seconds(2));
}

}  // namespace
}  // namespace evn_mbus::test
