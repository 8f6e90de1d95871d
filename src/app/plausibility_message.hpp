// What the plausibility gate's verdicts mean, in words for a home owner (the rules are in
// include/evn_mbus/plausibility_gate.hpp).
#pragma once

#include <string>

#include "evn_mbus/plausibility_gate.hpp"

namespace evn_mbus {

// The log line for a reading that was not published (structure_changed, backwards, too_fast)
// or for an accepted new level; empty for the other verdicts. `meter` names the meter
// ("181220000009", "with system title ..."); `max_power_kw` and `accept_after` are the gate's.
std::string describe_plausibility(const plausibility_check& c, const std::string& meter,
                                  unsigned max_power_kw, unsigned accept_after);

}  // namespace evn_mbus
