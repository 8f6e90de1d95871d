// Notices a broker that stopped confirming: messages handed to it wait, and nothing has been
// confirmed for longer than a limit (the MQTT keepalive). A frozen or hopelessly overloaded
// broker keeps the TCP connection open, and Paho's own keepalive takes two to three intervals
// to give up on it; this tells it after one. Sans-I/O: the publisher reports sends and
// confirmations with `now`, and asks on a timer.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace evn_mbus {

class delivery_watch {
  public:
    using clock = std::chrono::steady_clock;

    explicit delivery_watch(clock::duration limit) : limit_(limit) {}

    // A message was handed to the broker.
    void sent(clock::time_point now) noexcept {
        if (!waiting_since_) waiting_since_ = now;
    }
    // The broker confirmed a message; `in_flight` are still waiting.
    void confirmed(clock::time_point now, std::size_t in_flight) noexcept {
        waiting_since_ = in_flight > 0 ? std::optional(now) : std::nullopt;
    }
    // Messages stopped waiting without a confirmation (refused, or sent again later).
    void abandoned(std::size_t in_flight) noexcept {
        if (in_flight == 0) waiting_since_.reset();
    }
    // The connection ended: nothing waits any more.
    void reset() noexcept { waiting_since_.reset(); }

    // How long the broker has confirmed nothing while messages waited, once that is the limit
    // or more.
    std::optional<clock::duration> stalled(clock::time_point now) const noexcept {
        if (!waiting_since_ || now - *waiting_since_ < limit_) return std::nullopt;
        return now - *waiting_since_;
    }

    clock::duration limit() const noexcept { return limit_; }

  private:
    clock::duration limit_;
    std::optional<clock::time_point> waiting_since_;
};

}  // namespace evn_mbus
