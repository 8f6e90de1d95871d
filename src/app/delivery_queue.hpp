// The MQTT publisher's delivery queue, sans-I/O (in the manner of async_mqtt's protocol/):
// readings wait here, in order, until the broker confirms every message of them. Driven by
// plain calls and `now`; it sends nothing itself. The adapter (mqtt_publisher) asks next() for
// what to hand to the broker, reports the outcome (confirmed, failed, refused, discarded) and
// the connection's coming and going.
//
// - Bounded by mqtt.queue_size readings and mqtt.queue_max_mb (queue_budget): a reading that
//   does not fit pushes out the oldest, counted and worded by drop_reporter.
// - A send window: at most `window` messages wait for confirmation at a time.
// - A message leaves only when confirmed, so a connection lost in mid-flight sends it again
//   from the oldest unconfirmed message (duplicates are possible, loss is not).
// - A broker that confirms nothing for the keepalive while messages wait is stalled
//   (delivery_watch).
// - Draining on stop: close() takes no more readings and says how many were left.
// Throttling and per-message size limits belong in next(): it already gets `now`, and a
// message given up without sending goes through discard().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "delivery_watch.hpp"
#include "drop_reporter.hpp"
#include "queue_budget.hpp"

namespace evn_mbus {

struct mqtt_message {
    std::string topic;
    std::string payload;
};

struct delivery_limits {
    std::size_t max_readings = 10000;                   // mqtt.queue_size (0 counts as 1)
    std::size_t max_bytes = std::size_t{32} << 20;      // mqtt.queue_max_mb in bytes
    std::size_t window = 20;                            // messages awaiting confirmation at most
    std::chrono::steady_clock::duration stall_after{};  // mqtt.keepalive
};

struct delivery_counters {
    std::size_t queued = 0;        // readings not yet confirmed
    std::size_t queued_bytes = 0;  // the memory they take
    std::size_t in_flight = 0;     // messages handed out and not yet confirmed
    std::uint64_t delivered = 0;   // readings confirmed whole
    std::uint64_t dropped = 0;     // oldest readings dropped from a full queue
};

class delivery_queue {
  public:
    using clock = std::chrono::steady_clock;

    // `now`: when the broker's absence began (start-up), for the drop warning.
    delivery_queue(const delivery_limits& limits, clock::time_point now);

    // ---- queueing ----
    // Queues one reading's messages (none: ignored; closed: ignored). Returns the warnings
    // due for the readings dropped to make room (none, usually).
    std::vector<std::string> push(std::vector<mqtt_message> messages, clock::time_point now);

    // ---- the connection ----
    // Connected: sending starts again from the oldest unconfirmed message. What is queued now
    // is the backlog of the outage (a drop from it is not the broker's slowness).
    void connected();
    // The connection is gone (lost, or dropped as stalled): nothing is in flight any more,
    // and the broker counts as away from `now`.
    void lost(clock::time_point now);
    // Starts sending from the oldest unconfirmed message again, forgetting what is in flight
    // (after a failed or refused send, the adapter's retry).
    void rewind();

    // ---- the send window ----
    struct send_item {
        std::uint64_t id;
        const std::string& topic;  // valid until the next call that changes the queue
        const std::string& payload;
    };
    // The next message to hand to the broker, if connected and the window has room; it counts
    // as in flight from now on.
    std::optional<send_item> next(clock::time_point now);
    // The broker confirmed it (qos 0: it was sent). Unknown ids (from before a rewind or a
    // loss) are ignored; returns false for them.
    bool confirmed(std::uint64_t id, clock::time_point now);
    // The broker or the client reported a failure: out of flight, not delivered; the message is
    // sent again after rewind() or a new connection. Returns false for unknown ids.
    bool failed(std::uint64_t id);
    // The client did not take it at all: the next next() hands it out again.
    void refused(std::uint64_t id);
    // Given up without sending (too big for the broker): counts as done.
    void discard(std::uint64_t id);

    // A broker that has confirmed nothing for `stall_after` while messages wait: for how long.
    std::optional<clock::duration> stalled(clock::time_point now) const noexcept {
        return watch_.stalled(now);
    }

    // ---- stopping ----
    // Takes no more readings (confirmations still count); returns how many are not delivered.
    std::size_t close() noexcept {
        closed_ = true;
        return queue_.size();
    }
    bool empty() const noexcept { return queue_.empty(); }
    std::size_t size() const noexcept { return queue_.size(); }  // readings
    // Readings dropped since the broker was last lost (or since the start): for the connect line.
    std::uint64_t dropped_while_away() const noexcept { return drops_.total() - dropped_at_loss_; }

    delivery_counters counters() const noexcept;

  private:
    struct queued_message {
        mqtt_message m;
        bool done = false;
    };
    struct queued_reading {
        std::vector<queued_message> messages;
        std::size_t remaining = 0;  // messages not yet confirmed
        std::size_t bytes = 0;      // memory it takes, as counted in budget_
    };
    struct position {
        std::uint64_t seq;  // reading
        std::size_t index;  // message within it
    };

    static std::size_t footprint(const queued_reading& q) noexcept;
    std::optional<std::string> drop_oldest(queue_bound bound, clock::time_point now);
    void mark_done(position p);
    void pop_delivered();
    queued_reading* at(std::uint64_t seq);

    delivery_limits limits_;
    std::deque<queued_reading> queue_;
    std::uint64_t front_seq_ = 0;    // sequence number of queue_.front()
    std::uint64_t backlog_end_ = 0;  // the first reading queued after the last connect
    position cursor_{0, 0};          // the next message to hand out
    std::unordered_map<std::uint64_t, position> in_flight_;  // by send id
    std::uint64_t next_id_ = 1;
    bool connected_ = false;
    bool ever_connected_ = false;
    bool closed_ = false;
    std::uint64_t delivered_ = 0;
    std::uint64_t dropped_at_loss_ = 0;
    clock::time_point away_since_;
    queue_budget budget_;
    drop_reporter drops_;
    delivery_watch watch_;
};

}  // namespace evn_mbus
