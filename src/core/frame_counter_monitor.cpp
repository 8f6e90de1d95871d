#include "evn_mbus/frame_counter_monitor.hpp"

#include <algorithm>

namespace evn_mbus {
namespace {

// Serial number arithmetic: a difference below 2^31 is forward, anything else backwards.
constexpr std::uint32_t half_range = 0x80000000U;

bool is_forward(std::uint32_t delta) noexcept {
    return delta != 0 && delta < half_range;
}

// Pushes missing in an increase of `delta` counts at `step` per push. Increases that are not a
// multiple of the step (a meter that sometimes counts one more) round down: only whole missing
// steps are lost pushes.
std::uint64_t lost_in(std::uint32_t delta, std::uint32_t step) noexcept {
    const std::uint32_t steps = delta / std::max<std::uint32_t>(step, 1);
    return steps > 1 ? steps - 1 : 0;
}

}  // namespace

const char* to_string(counter_verdict v) noexcept {
    switch (v) {
        case counter_verdict::unchecked:
            return "unchecked";
        case counter_verdict::first:
            return "first";
        case counter_verdict::in_order:
            return "in_order";
        case counter_verdict::gap:
            return "gap";
        case counter_verdict::jump:
            return "jump";
        case counter_verdict::duplicate:
            return "duplicate";
        case counter_verdict::backwards:
            return "backwards";
        case counter_verdict::reset_accepted:
            return "reset_accepted";
    }
    return "?";
}

bool counter_check::publish() const noexcept {
    return verdict != counter_verdict::duplicate && verdict != counter_verdict::backwards;
}

frame_counter_monitor::frame_counter_monitor(frame_counter_options options) : options_(options) {
    // Fewer would defeat the rule: one lower push would be published as a reset at once.
    options_.reset_after = std::max<std::uint32_t>(options_.reset_after, 2);
    options_.learn_pushes = std::max<std::uint32_t>(options_.learn_pushes, 1);
    options_.remembered = std::max<std::size_t>(options_.remembered, 1);
    options_.max_meters = std::max<std::size_t>(options_.max_meters, 1);
}

counter_check frame_counter_monitor::check(const reading& r, clock::time_point now) {
    if (!r.encrypted) return {};
    return check(r.title, r.frame_counter, now);
}

counter_check frame_counter_monitor::check(const system_title& title, std::uint32_t counter,
                                           clock::time_point now) {
    counter_check out;
    out.counter = counter;
    auto it = meters_.find(title);
    if (it == meters_.end()) {
        if (meters_.size() >= options_.max_meters) forget_one();
        meter& m = meters_[title];
        m.last = counter;
        m.last_time = now;
        m.learning_since = counter;
        m.heard = ++heard_;
        remember(m, counter);
        out.verdict = counter_verdict::first;
        out.previous = counter;
        return out;
    }
    meter& m = it->second;
    m.heard = ++heard_;
    out.previous = m.last;
    out.step = std::max<std::uint32_t>(m.step, 1);

    if (counter == m.last ||
        std::find(m.recent.begin(), m.recent.end(), counter) != m.recent.end()) {
        ++stats_.duplicates;
        out.verdict = counter_verdict::duplicate;
        return out;
    }
    remember(m, counter);

    const std::uint32_t delta = counter - m.last;
    if (is_forward(delta)) {
        m.run = 0;  // the meter is on its old sequence: no reset
        return forward(m, counter, delta, now);
    }

    // Backwards. Does it continue a run counting up from a lower value?
    const std::uint32_t run_delta = counter - m.run_last;
    if (m.run > 0 && is_forward(run_delta) &&
        plausible(lost_in(run_delta, out.step), now - m.run_time)) {
        ++m.run;
    } else {
        m.run = 1;
    }
    m.run_last = counter;
    m.run_time = now;
    if (m.run >= options_.reset_after) {
        m.run = 0;
        m.last = counter;
        m.last_time = now;
        ++stats_.resets;
        out.verdict = counter_verdict::reset_accepted;
        return out;
    }
    ++stats_.backwards;
    out.verdict = counter_verdict::backwards;
    return out;
}

counter_check frame_counter_monitor::forward(meter& m, std::uint32_t counter, std::uint32_t delta,
                                             clock::time_point now) {
    counter_check out;
    out.counter = counter;
    out.previous = m.last;
    const clock::duration elapsed = now - m.last_time;
    const std::uint32_t provisional = std::max<std::uint32_t>(m.step, 1);
    m.last = counter;
    m.last_time = now;

    if (!plausible(lost_in(delta, provisional), elapsed)) {
        // Not counted as lost. While learning, the increases so far may belong to a meter
        // that has since restarted: learn afresh from here.
        if (!m.learned) {
            m.learning.clear();
            m.step = 0;
            m.learning_since = counter;
        }
        ++stats_.jumps;
        out.verdict = counter_verdict::jump;
        out.step = std::max<std::uint32_t>(m.step, 1);
        return out;
    }

    m.step = m.step == 0 ? delta : std::min(m.step, delta);
    out.step = m.step;
    std::uint64_t lost = 0;
    std::uint64_t gaps = 0;
    if (!m.learned) {
        m.learning.push_back(delta);
        if (m.learning.size() < options_.learn_pushes) {
            out.verdict = counter_verdict::in_order;
            return out;
        }
        // The step is known now: count what went missing while it was being learnt.
        m.learned = true;
        for (const std::uint32_t d : m.learning) {
            const std::uint64_t n = lost_in(d, m.step);
            lost += n;
            if (n > 0) ++gaps;
        }
        out.previous = m.learning_since;
        m.learning.clear();
        m.learning.shrink_to_fit();
    } else {
        lost = lost_in(delta, m.step);
        gaps = lost > 0 ? 1 : 0;
    }
    if (lost == 0) {
        out.verdict = counter_verdict::in_order;
        return out;
    }
    stats_.lost_pushes += lost;
    stats_.gaps += gaps;
    out.verdict = counter_verdict::gap;
    out.lost = lost;
    return out;
}

bool frame_counter_monitor::plausible(std::uint64_t lost, clock::duration elapsed) const noexcept {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
    const std::uint64_t possible =
        options_.gap_slack + (seconds > 0 ? static_cast<std::uint64_t>(seconds) : 0);
    return lost <= possible;
}

void frame_counter_monitor::remember(meter& m, std::uint32_t counter) const {
    if (m.recent.size() < options_.remembered) {
        m.recent.push_back(counter);
        return;
    }
    m.recent[m.recent_next] = counter;
    m.recent_next = (m.recent_next + 1) % m.recent.size();
}

void frame_counter_monitor::forget_one() {
    auto oldest = meters_.begin();
    for (auto it = meters_.begin(); it != meters_.end(); ++it) {
        if (it->second.heard < oldest->second.heard) oldest = it;
    }
    if (oldest != meters_.end()) meters_.erase(oldest);
}

}  // namespace evn_mbus
