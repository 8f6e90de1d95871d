// The simulator's AMIS meter as M-Bus master (EN 13757-2 5.7.4, Netz OOe's interface
// specification): it looks for its reader with SND_NKE once a search interval until an E5h
// answers within the acknowledgement time, then sends one SND_UD a push interval, the frame
// count bit toggled after each acknowledged one; a frame not acknowledged in time is sent
// again unchanged, and after `max_missing` of them in a row the meter searches again.
//
// Sans-I/O: the caller says what the time is, sends what due() asks for, reports when the
// frame's last byte left (sent) and hands over what the reader wrote (received). It counts
// acknowledgements in time, late and missing ones, and answers to damaged frames, which a
// reader must never acknowledge.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace evn_mbus {

class amis_master {
  public:
    using clock = std::chrono::steady_clock;

    struct options {
        clock::duration search_interval = std::chrono::seconds(60);
        clock::duration push_interval = std::chrono::seconds(1);
        clock::duration ack_timeout = std::chrono::milliseconds(500);
        unsigned max_missing = 10;
    };

    enum class frame { search, push, repeat };  // repeat: the last push again, unchanged

    struct stats {
        std::uint64_t searches = 0;           // SND_NKE sent
        std::uint64_t searches_answered = 0;  // ... answered in time
        std::uint64_t pushes = 0;             // new SND_UD pushes sent
        std::uint64_t repeats = 0;            // SND_UD sent again
        std::uint64_t acknowledged = 0;       // E5h in time for an intact push
        std::uint64_t unanswered_searches = 0;
        std::uint64_t late = 0;                  // E5h after the acknowledgement time
        std::uint64_t missing = 0;               // intact pushes without an E5h in time
        std::uint64_t damaged = 0;               // frames the line damaged (no E5h is right)
        std::uint64_t damaged_acknowledged = 0;  // ... acknowledged all the same: wrong
        std::uint64_t stray = 0;                 // other bytes, or E5h for nothing sent
        std::uint64_t answered_unheard = 0;      // E5h in time that the meter lost on purpose
        std::vector<clock::duration> latencies;  // last byte out to E5h in, every one in time
    };

    // What the last finished wait for an acknowledgement came to, for the caller's messages.
    enum class outcome {
        none,
        acknowledged,
        missing,
        damaged_unanswered,
        damaged_acknowledged,
        late,
        unheard  // answered in time, the answer lost on purpose
    };

    amis_master(const options& o, clock::time_point start);

    // Ends a wait for an acknowledgement whose time is up.
    void update(clock::time_point now) { expire(now); }
    // What to send at `now`, if anything; call again at next_due() or when bytes arrive.
    std::optional<frame> due(clock::time_point now);
    clock::time_point next_due() const noexcept;
    // The frame due() asked for is on the line, its last byte at `now`; `damaged` when the
    // line changed it (a fault the simulator injected).
    void sent(clock::time_point now, bool damaged);
    // Bytes from the reader at `now`. `heard` false: the meter loses them (a fault the
    // simulator injects): an E5h in time counts as answered_unheard, and the frame as not
    // acknowledged, so it is sent again.
    void received(std::span<const std::uint8_t> bytes, clock::time_point now, bool heard = true);
    // The waits that ended since the last call, oldest first.
    struct result {
        outcome what = outcome::none;
        frame which = frame::search;
        clock::duration latency{};  // E5h after the last byte; the timeout when none came
    };
    std::vector<result> take_results();

    bool searching() const noexcept { return searching_; }
    bool fcb() const noexcept { return fcb_; }
    std::uint8_t access_number() const noexcept { return access_number_; }
    // True while a frame is on its way or waits for its acknowledgement.
    bool busy() const noexcept { return sending_ || waiting_; }
    const stats& statistics() const noexcept { return stats_; }

  private:
    void expire(clock::time_point now);
    void finish(outcome o, clock::duration latency);

    options o_;
    stats stats_;
    bool searching_ = true;
    bool sending_ = false;  // due() said a frame, sent() not yet called
    bool waiting_ = false;  // for the E5h of the last frame
    bool damaged_ = false;  // the last frame was damaged
    bool repeat_ = false;   // the last push was not acknowledged: send it again
    bool fcb_ = false;
    std::uint8_t access_number_ = 0;
    unsigned missing_in_a_row_ = 0;
    frame last_ = frame::search;
    clock::time_point next_;      // the next frame is due
    clock::time_point started_;   // the last frame was due (the interval counts from there)
    clock::time_point sent_at_;   // its last byte left
    clock::time_point deadline_;  // its acknowledgement is due
    bool late_possible_ = false;  // the last wait ended missing: a late E5h may still come
    bool unheard_ = false;        // an E5h in time was lost on purpose
    std::vector<result> results_;
};

}  // namespace evn_mbus
