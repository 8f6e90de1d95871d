// The MQTT queue's two bounds (queue_budget): readings and bytes, whichever comes first, and
// the memory a string is counted as.
#include "queue_budget.hpp"

#include <gtest/gtest.h>

namespace evn_mbus {
namespace {

TEST(queue_budget, the_reading_bound) {
    queue_budget b(3, 1'000'000);
    for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(b.full_for(100));
        b.add(100);
    }
    EXPECT_EQ(b.full_for(100), queue_bound::readings);
    b.remove(100);
    EXPECT_FALSE(b.full_for(100));
    EXPECT_EQ(b.readings(), 2u);
    EXPECT_EQ(b.bytes(), 200u);
}

TEST(queue_budget, the_byte_bound) {
    queue_budget b(1'000'000, 1000);
    b.add(400);
    b.add(400);
    EXPECT_FALSE(b.full_for(200));
    EXPECT_EQ(b.full_for(201), queue_bound::bytes);
}

// A reading larger than the whole budget still gets in once the queue is empty: the newest
// reading is never the one dropped.
TEST(queue_budget, an_empty_queue_takes_any_reading) {
    queue_budget b(10, 100);
    EXPECT_FALSE(b.full_for(5000));
    b.add(5000);
    EXPECT_EQ(b.full_for(1), queue_bound::bytes);
    b.remove(5000);
    EXPECT_EQ(b.bytes(), 0u);
    EXPECT_FALSE(b.full_for(5000));
}

TEST(queue_budget, a_zero_reading_bound_means_one) {
    queue_budget b(0, 1000);
    EXPECT_EQ(b.max_readings(), 1u);
    b.add(10);
    EXPECT_EQ(b.full_for(10), queue_bound::readings);
}

TEST(queue_budget, strings_are_counted_as_malloc_holds_them) {
    EXPECT_EQ(heap_bytes(std::string("evn/w_p")), 0u) << "short strings live in the object";
    std::string s(100, 'x');
    EXPECT_GE(heap_bytes(s), s.capacity() + 1);
    EXPECT_LT(heap_bytes(s), s.capacity() + 1 + 32);
    EXPECT_EQ(allocation_bytes(0), 0u);
    EXPECT_EQ(allocation_bytes(1), 32u);
    EXPECT_EQ(allocation_bytes(24), 32u);
    EXPECT_EQ(allocation_bytes(25), 48u);
}

}  // namespace
}  // namespace evn_mbus
