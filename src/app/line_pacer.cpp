#include "line_pacer.hpp"

#include <algorithm>

namespace evn_mbus {
namespace {

line_pacer::clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<line_pacer::clock::duration>(
        std::chrono::duration<double>(seconds));
}

}  // namespace

line_pacer::line_pacer(std::optional<line_timing> timing, clock::time_point start)
    : paced_(timing.has_value()), start_(start), free_(start), next_(start), begin_(start) {
    if (!timing) return;
    const double speed = timing->speed;
    byte_ = to_duration(11.0 / timing->baud / speed);
    gap_ = to_duration(timing->frame_gap_ms / 1000.0 / speed);
    interval_ = to_duration(timing->interval_s / speed);
}

line_pacer::clock::time_point line_pacer::push_due(std::uint64_t seq) {
    if (!paced_) return clock::time_point::min();
    next_ = std::max(start_ + interval_ * static_cast<std::int64_t>(seq), free_);
    return next_;
}

line_pacer::clock::time_point line_pacer::block_due(bool after_gap) {
    if (!paced_) return clock::time_point::min();
    if (after_gap) next_ = free_ + gap_;
    return next_;
}

void line_pacer::start_block(clock::time_point now, std::size_t size) {
    begin_ = std::max(next_, now);
    size_ = size;
}

std::size_t line_pacer::bytes_due(clock::time_point now) const {
    if (!paced_) return size_;
    if (now < begin_) return 0;
    return std::min(size_, static_cast<std::size_t>((now - begin_) / byte_) + 1);
}

line_pacer::clock::time_point line_pacer::byte_due(std::size_t n) const {
    if (!paced_) return clock::time_point::min();
    return begin_ + byte_ * static_cast<std::int64_t>(n);
}

void line_pacer::end_block() {
    if (paced_) free_ = begin_ + byte_ * static_cast<std::int64_t>(size_);
}

}  // namespace evn_mbus
