#include "amis_master.hpp"

#include <utility>

namespace evn_mbus {

amis_master::amis_master(const options& o, clock::time_point start) : o_(o), next_(start) {}

amis_master::clock::time_point amis_master::next_due() const noexcept {
    return waiting_ ? deadline_ : next_;
}

std::optional<amis_master::frame> amis_master::due(clock::time_point now) {
    expire(now);
    if (sending_ || waiting_ || now < next_) return std::nullopt;
    sending_ = true;
    started_ = now;
    if (searching_) {
        last_ = frame::search;
        ++stats_.searches;
    } else if (repeat_) {
        last_ = frame::repeat;
        ++stats_.repeats;
    } else {
        last_ = frame::push;
        ++stats_.pushes;
    }
    return last_;
}

void amis_master::sent(clock::time_point now, bool damaged) {
    if (!sending_) return;
    sending_ = false;
    waiting_ = true;
    damaged_ = damaged;
    if (damaged) ++stats_.damaged;
    sent_at_ = now;
    deadline_ = now + o_.ack_timeout;
    late_possible_ = false;
    unheard_ = false;
}

void amis_master::received(std::span<const std::uint8_t> bytes, clock::time_point now, bool heard) {
    expire(now);
    for (const std::uint8_t b : bytes) {
        if (b != 0xE5) {
            ++stats_.stray;
        } else if (waiting_ && !heard) {
            if (unheard_) {
                ++stats_.stray;  // a second answer to one frame
                continue;
            }
            unheard_ = true;
            if (damaged_) {
                ++stats_.damaged_acknowledged;  // wrong, whether the meter hears it or not
                finish(outcome::damaged_acknowledged, now - sent_at_);
                continue;
            }
            ++stats_.answered_unheard;
            stats_.latencies.push_back(now - sent_at_);
        } else if (waiting_ && unheard_) {
            ++stats_.stray;
        } else if (waiting_) {
            waiting_ = false;
            const clock::duration latency = now - sent_at_;
            if (damaged_) {
                ++stats_.damaged_acknowledged;
                finish(outcome::damaged_acknowledged, latency);
            } else {
                if (!searching_) ++stats_.acknowledged;
                stats_.latencies.push_back(latency);
                finish(outcome::acknowledged, latency);
            }
            // The meter takes it as acknowledged either way.
            missing_in_a_row_ = 0;
            if (searching_) {
                ++stats_.searches_answered;
                searching_ = false;
                fcb_ = false;  // a new link: the first push after the search has FCB 0
                next_ = now;
            } else {
                fcb_ = !fcb_;
                ++access_number_;
                repeat_ = false;
                next_ = started_ + o_.push_interval;
            }
        } else if (late_possible_) {
            late_possible_ = false;
            if (damaged_) {
                // After the deadline it may be a stalled reader's answer to an earlier frame.
                ++stats_.stray;
                continue;
            }
            if (last_ != frame::search) ++stats_.late;  // a search is said, not counted
            finish(outcome::late, now - sent_at_);
        } else {
            ++stats_.stray;
        }
    }
}

void amis_master::expire(clock::time_point now) {
    if (!waiting_ || now < deadline_) return;
    waiting_ = false;
    late_possible_ = !unheard_;
    if (damaged_ && unheard_) {
        // Said when its E5h came (damaged_acknowledged).
    } else if (damaged_) {
        finish(outcome::damaged_unanswered, o_.ack_timeout);
    } else if (unheard_) {
        finish(outcome::unheard, o_.ack_timeout);
    } else {
        ++(searching_ ? stats_.unanswered_searches : stats_.missing);
        finish(outcome::missing, o_.ack_timeout);
    }
    if (searching_) {
        next_ = started_ + o_.search_interval;
        return;
    }
    repeat_ = true;
    next_ = started_ + o_.push_interval;
    if (++missing_in_a_row_ >= o_.max_missing) {
        // The reader is gone: look for it again, from the start of the next push's slot.
        missing_in_a_row_ = 0;
        searching_ = true;
        repeat_ = false;
    }
}

void amis_master::finish(outcome o, clock::duration latency) {
    results_.push_back({o, last_, latency});
}

std::vector<amis_master::result> amis_master::take_results() {
    return std::exchange(results_, {});
}

}  // namespace evn_mbus
