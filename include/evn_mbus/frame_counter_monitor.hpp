// Lost-push and replay detection by the GCM frame counter (invocation counter), which every
// encrypted push carries in the clear and which the meter increases with every push.
//
// Rules, per meter (system title):
// - The first push sets the baseline.
// - The meter's usual step is the smallest increase among its first `learn_pushes` increases.
//   Real meters step by 1 (consecutive captures: EVN Kaifa MA309M 0022E252 -> 0022E253,
//   Kaernten Netz Iskra AM550 0003D784 -> ..85 -> ..86 -> ..87 -> ..88), but a meter that
//   steps by a constant k must not look as if it lost k - 1 pushes every time. Pushes lost
//   while learning are counted once the step is known (reported with the push that ends the
//   learning), so the count is exact from the first push on.
// - An increase of n steps means n - 1 pushes were lost (gap) -- unless that is more pushes
//   than the meter can have sent since the last one (`gap_slack` plus one per second: no
//   meter pushes faster). Then the counter jumped: meters keep their counter in blocks and
//   resume above the last saved block after a power cut, and a replaced meter starts
//   elsewhere. A jump is published and becomes the new baseline, not millions of lost pushes.
// - A counter seen recently (the last `remembered` ones) is a duplicate: a repeated or
//   replayed telegram. Not published.
// - A lower counter went backwards: a replayed old telegram, or the meter was reset. Not
//   published. A reset meter keeps counting up from its new low value, a replay does not:
//   when `reset_after` pushes in a row count up from the new low value (the low one
//   included), the last of them is published as `reset_accepted` and the new value is the
//   baseline. With 3, a reset costs two readings (10 s on a Kaifa); a replay would have to
//   repeat three consecutive old telegrams that are no longer remembered, with nothing from
//   the meter in between, to be taken for a reset.
// - Counters compare by serial number arithmetic (RFC 1982): 0xFFFFFFFF -> 0 is one step
//   forward, so the 32-bit wrap needs no special case.
// - Plaintext pushes carry no counter: `unchecked`, always published.
// Nothing is ever published twice: only increases past the baseline publish, and each moves
// it up.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "evn_mbus/reading.hpp"
#include "evn_mbus/system_title.hpp"

namespace evn_mbus {

enum class counter_verdict : std::uint8_t {
    unchecked,       // plaintext push, no counter: publish
    first,           // first push of this meter: the baseline; publish
    in_order,        // the next one (or still learning the step): publish
    gap,             // `lost` pushes missing before this one: publish
    jump,            // jumped further ahead than pushes can have been lost: publish, new baseline
    duplicate,       // a counter seen recently: repeated or replayed telegram; do not publish
    backwards,       // lower than the baseline: replay or reset; do not publish
    reset_accepted,  // `reset_after` pushes counted up from a lower value: publish, new baseline
};

// "in_order", "gap", ... for logs and tests.
const char* to_string(counter_verdict v) noexcept;

struct counter_check {
    counter_verdict verdict = counter_verdict::unchecked;
    std::uint32_t counter = 0;   // this push's
    std::uint32_t previous = 0;  // the baseline before this push (gap: where it started)
    std::uint64_t lost = 0;      // gap: pushes missing
    std::uint32_t step = 1;      // the meter's usual increase per push, as far as known

    bool publish() const noexcept;
};

struct frame_counter_stats {
    std::uint64_t lost_pushes = 0;  // pushes missing in gaps
    std::uint64_t gaps = 0;         // places where pushes were missing
    std::uint64_t duplicates = 0;   // pushes not published: counter seen before
    std::uint64_t backwards = 0;    // pushes not published: counter went backwards
    std::uint64_t resets = 0;       // accepted meter resets
    std::uint64_t jumps = 0;        // forward jumps too large to be lost pushes
};

struct frame_counter_options {
    std::uint32_t reset_after = 3;   // pushes counting up from a lower value (2 at least)
    std::uint32_t learn_pushes = 4;  // increases that teach the step
    std::uint64_t gap_slack = 100;   // lost pushes always believed, beyond 1 per second
    std::size_t remembered = 16;     // recent counters per meter, for duplicates
    std::size_t max_meters = 16;     // the least recently heard one is forgotten beyond this
};

class frame_counter_monitor {
  public:
    using clock = std::chrono::steady_clock;

    explicit frame_counter_monitor(frame_counter_options options = {});

    // Judges a decoded push that arrived at `now`; updates the counts.
    counter_check check(const reading& r, clock::time_point now);
    counter_check check(const system_title& title, std::uint32_t counter, clock::time_point now);

    const frame_counter_stats& stats() const noexcept { return stats_; }

  private:
    struct meter {
        std::uint32_t last = 0;  // the baseline: the highest counter accepted
        clock::time_point last_time{};
        std::uint32_t step = 0;  // 0: no increase seen yet
        bool learned = false;
        std::uint32_t learning_since = 0;     // baseline when learning started
        std::vector<std::uint32_t> learning;  // increases seen while learning
        std::vector<std::uint32_t> recent;    // ring of recently seen counters
        std::size_t recent_next = 0;
        std::uint32_t run = 0;  // pushes counting up below the baseline (a reset?)
        std::uint32_t run_last = 0;
        clock::time_point run_time{};
        std::uint64_t heard = 0;  // for forgetting the least recently heard meter
    };

    counter_check forward(meter& m, std::uint32_t counter, std::uint32_t delta,
                          clock::time_point now);
    bool plausible(std::uint64_t lost, clock::duration elapsed) const noexcept;
    void remember(meter& m, std::uint32_t counter) const;
    void forget_one();

    frame_counter_options options_;
    std::map<system_title, meter> meters_;
    frame_counter_stats stats_;
    std::uint64_t heard_ = 0;
};

}  // namespace evn_mbus
