// What the simulated AMIS meter says about its reader's answers: a line for each missing,
// late or wrong acknowledgement (an unanswered search only now and then), a summary with the
// acknowledgement latency at the end, and the same figures as JSON for scripts and tests.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>

#include "amis_master.hpp"

namespace evn_mbus {

class amis_report {
  public:
    explicit amis_report(std::ostream& err) : err_(err) {}

    // One finished wait; `seq` the push's number from 1 (0 for a search).
    void say(const amis_master::result& r, std::uint64_t seq);
    // The figures, one paragraph.
    void say_summary(const amis_master::stats& s) const;
    // {"searches": .., "acknowledged": .., "late": .., "missing": .., ..., "latency_ms":
    //  {"count", "p50", "p99", "max"}}
    static nlohmann::json figures(const amis_master::stats& s);

  private:
    std::ostream& err_;
    std::uint64_t unanswered_searches_ = 0;
};

}  // namespace evn_mbus
