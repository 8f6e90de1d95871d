// Notices a broker that keeps closing fresh connections. The usual cause is a second client
// with the same client id: the broker closes the older connection whenever the other one
// connects, each reconnects, and the two knock each other off for ever, while all that each
// sees is a lost connection. Sans-I/O: driven by calls and `now`.
#pragma once

#include <chrono>
#include <optional>

namespace evn_mbus {

class connection_churn {
  public:
    using clock = std::chrono::steady_clock;

    explicit connection_churn(clock::duration short_lived = std::chrono::seconds(10),
                              unsigned streak = 3)
        : short_lived_(short_lived), streak_needed_(streak) {}

    void connected(clock::time_point now) { connected_at_ = now; }

    // The connection was lost. `explained`: the cause is known (e.g. a message too big).
    // Returns true once per streak, when `streak` connections in a row ended within
    // `short_lived` of being made without another explanation.
    bool lost(clock::time_point now, bool explained);

    // Inside such a streak: the reconnect lines of every round are noise by now.
    bool churning() const { return streak_ >= streak_needed_; }

  private:
    clock::duration short_lived_;
    unsigned streak_needed_;
    std::optional<clock::time_point> connected_at_;
    unsigned streak_ = 0;
    bool warned_ = false;
};

}  // namespace evn_mbus
