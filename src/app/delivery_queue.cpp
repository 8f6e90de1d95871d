#include "delivery_queue.hpp"

#include <utility>

namespace evn_mbus {

delivery_queue::delivery_queue(const delivery_limits& limits, clock::time_point now)
    : limits_(limits),
      away_since_(now),
      budget_(limits.max_readings, limits.max_bytes),
      watch_(limits.stall_after) {
    if (limits_.window == 0) limits_.window = 1;
}

std::vector<std::string> delivery_queue::push(std::vector<mqtt_message> messages,
                                              clock::time_point now) {
    std::vector<std::string> warnings;
    if (closed_ || messages.empty()) return warnings;
    queued_reading q;
    q.messages.reserve(messages.size());
    for (auto& m : messages)
        q.messages.push_back({std::move(m), false});
    q.remaining = q.messages.size();
    q.bytes = footprint(q);
    while (const auto bound = budget_.full_for(q.bytes)) {
        if (auto text = drop_oldest(*bound, now)) warnings.push_back(std::move(*text));
    }
    budget_.add(q.bytes);
    queue_.push_back(std::move(q));
    return warnings;
}

// The memory a queued reading takes: the queue's element, the message array, and every topic
// and payload that does not fit in its string.
std::size_t delivery_queue::footprint(const queued_reading& q) noexcept {
    std::size_t n =
        sizeof(queued_reading) + allocation_bytes(q.messages.capacity() * sizeof(queued_message));
    for (const auto& m : q.messages)
        n += heap_bytes(m.m.topic) + heap_bytes(m.m.payload);
    return n;
}

std::optional<std::string> delivery_queue::drop_oldest(queue_bound bound, clock::time_point now) {
    budget_.remove(queue_.front().bytes);
    queue_.pop_front();
    ++front_seq_;
    drop_context c;
    // Connected with a full queue: the broker confirms more slowly than readings come.
    // Connected, dropping a reading queued during the outage: the backlog, not a slow broker.
    c.cause = !connected_                 ? drop_cause::broker_away
              : front_seq_ < backlog_end_ ? drop_cause::catching_up
                                          : drop_cause::broker_slow;
    c.bound = bound;
    c.max_readings = budget_.max_readings();
    c.max_mb = budget_.max_bytes() >> 20;
    c.queued = queue_.size();
    c.window = in_flight_.size();
    c.never_connected = !ever_connected_;
    c.away_for = now - away_since_;
    return drops_.dropped(now, c);
}

void delivery_queue::connected() {
    connected_ = true;
    ever_connected_ = true;
    backlog_end_ = front_seq_ + queue_.size();
    rewind();
}

void delivery_queue::lost(clock::time_point now) {
    connected_ = false;
    in_flight_.clear();
    watch_.reset();
    dropped_at_loss_ = drops_.total();
    away_since_ = now;
}

void delivery_queue::rewind() {
    in_flight_.clear();
    watch_.reset();
    cursor_ = {front_seq_, 0};
}

std::optional<delivery_queue::send_item> delivery_queue::next(clock::time_point now) {
    if (!connected_ || closed_) return std::nullopt;
    while (in_flight_.size() < limits_.window) {
        if (cursor_.seq < front_seq_) cursor_ = {front_seq_, 0};  // its reading was dropped
        auto* q = at(cursor_.seq);
        if (!q) return std::nullopt;
        if (cursor_.index >= q->messages.size()) {
            cursor_ = {cursor_.seq + 1, 0};
            continue;
        }
        const position p = cursor_;
        ++cursor_.index;
        const auto& m = q->messages[p.index];
        if (m.done) continue;  // confirmed before a rewind
        const auto id = next_id_++;
        in_flight_.emplace(id, p);
        watch_.sent(now);
        return send_item{id, m.m.topic, m.m.payload};
    }
    return std::nullopt;
}

bool delivery_queue::confirmed(std::uint64_t id, clock::time_point now) {
    const auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return false;
    const position p = it->second;
    in_flight_.erase(it);
    watch_.confirmed(now, in_flight_.size());
    mark_done(p);
    return true;
}

bool delivery_queue::failed(std::uint64_t id) {
    if (in_flight_.erase(id) == 0) return false;
    watch_.abandoned(in_flight_.size());
    return true;
}

void delivery_queue::refused(std::uint64_t id) {
    const auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return;
    cursor_ = it->second;
    in_flight_.erase(it);
    watch_.abandoned(in_flight_.size());
}

void delivery_queue::discard(std::uint64_t id) {
    const auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return;
    const position p = it->second;
    in_flight_.erase(it);
    watch_.abandoned(in_flight_.size());
    mark_done(p);
}

void delivery_queue::mark_done(position p) {
    if (auto* q = at(p.seq)) {  // else dropped from the full queue meanwhile
        auto& m = q->messages[p.index];
        if (!m.done) {
            m.done = true;
            --q->remaining;
        }
    }
    pop_delivered();
}

void delivery_queue::pop_delivered() {
    while (!queue_.empty() && queue_.front().remaining == 0) {
        budget_.remove(queue_.front().bytes);
        queue_.pop_front();
        ++front_seq_;
        ++delivered_;
    }
}

delivery_queue::queued_reading* delivery_queue::at(std::uint64_t seq) {
    if (seq < front_seq_ || seq - front_seq_ >= queue_.size()) return nullptr;
    return &queue_[static_cast<std::size_t>(seq - front_seq_)];
}

delivery_counters delivery_queue::counters() const noexcept {
    delivery_counters c;
    c.queued = queue_.size();
    c.queued_bytes = budget_.bytes();
    c.in_flight = in_flight_.size();
    c.delivered = delivered_;
    c.dropped = drops_.total();
    return c;
}

}  // namespace evn_mbus
