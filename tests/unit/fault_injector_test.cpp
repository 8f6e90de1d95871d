// The simulator's faults: each does what its name says to a push, and a seed repeats them.
#include "fault_injector.hpp"

#include <gtest/gtest.h>

#include <bit>

namespace evn_mbus::test {
namespace {

// Two frames like the Kaifa's (their content does not matter here): an M-Bus long frame
// 68 L L 68 ... CS 16 and a second one.
push_bytes two_frames() {
    push_bytes p;
    std::vector<std::uint8_t> first{0x68, 0x05, 0x05, 0x68, 0x53, 0xFF,
                                    0x00, 0x01, 0x67, 0xBA, 0x16};
    std::vector<std::uint8_t> second{0x68, 0x03, 0x03, 0x68, 0x53, 0xFF, 0x11, 0x63, 0x16};
    p.frames = {first, second};
    return p;
}

std::size_t bits_changed(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        n += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(a[i] ^ b[i])));
    return n;
}

TEST(fault_injector, no_faults_leave_the_push_alone) {
    fault_injector f({}, 1);
    push_bytes p = two_frames();
    EXPECT_STREQ(f.apply(p), "none");
    EXPECT_EQ(p.frames, two_frames().frames);
    EXPECT_TRUE(f.noise().empty());
}

TEST(fault_injector, corrupt_flips_one_bit_of_each_frame_it_hits) {
    fault_options o;
    o.corrupt = 1.0;
    fault_injector f(o, 7);
    push_bytes p = two_frames();
    const push_bytes before = two_frames();
    EXPECT_STREQ(f.apply(p), "corrupt");
    ASSERT_EQ(p.frames.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        ASSERT_EQ(p.frames[i].size(), before.frames[i].size());
        EXPECT_EQ(bits_changed(p.frames[i], before.frames[i]), 1u) << i;
    }
}

TEST(fault_injector, drop_truncate_and_oversize) {
    fault_options drop;
    drop.drop_frame = 1.0;
    push_bytes p = two_frames();
    EXPECT_STREQ(fault_injector(drop, 3).apply(p), "drop_frame");
    ASSERT_EQ(p.frames.size(), 1u);
    EXPECT_EQ(p.frames[0], two_frames().frames[0]);  // never the first

    fault_options cut;
    cut.truncate = 1.0;
    p = two_frames();
    EXPECT_STREQ(fault_injector(cut, 3).apply(p), "truncate");
    ASSERT_EQ(p.frames.size(), 2u);
    EXPECT_TRUE(p.frames[0].size() < 11 || p.frames[1].size() < 9);

    fault_options big;
    big.oversize = 1.0;
    p = two_frames();
    EXPECT_STREQ(fault_injector(big, 3).apply(p), "oversize");
    // More user data than the one-byte L field can describe.
    EXPECT_GT(p.frames[0].size(), 4u + 255u + 2u);
    EXPECT_EQ(p.frames[0].front(), 0x68);
    EXPECT_EQ(p.frames[0].back(), 0x16);
}

TEST(fault_injector, noise_and_a_seed_repeat) {
    fault_options o;
    o.corrupt = 0.5;
    o.noise = true;
    fault_injector a(o, 42), b(o, 42);
    for (int i = 0; i < 20; ++i) {
        push_bytes pa = two_frames(), pb = two_frames();
        EXPECT_STREQ(a.apply(pa), b.apply(pb));
        EXPECT_EQ(pa.frames, pb.frames);
        const auto na = a.noise();
        EXPECT_EQ(na, b.noise());
        EXPECT_GE(na.size(), 1u);
        EXPECT_LE(na.size(), 48u);
    }
    EXPECT_EQ(a.draw(), b.draw());
}

TEST(fault_injector, probabilities_outside_zero_to_one_are_invalid) {
    fault_options o;
    EXPECT_TRUE(o.valid());
    o.truncate = 1.5;
    EXPECT_FALSE(o.valid());
    o.truncate = -0.1;
    EXPECT_FALSE(o.valid());
}

}  // namespace
}  // namespace evn_mbus::test
