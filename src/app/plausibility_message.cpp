#include "plausibility_message.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

#include "evn_mbus/obis_code.hpp"

namespace evn_mbus {
namespace {

// "w_p (active energy import (A+))" and "Wh", or the OBIS code for a register without a name.
std::string register_name(const obis_code& code) {
    if (const auto q = name_for(code)) return fmt::format("{} ({})", q->name, q->description);
    return "register " + code.to_string();
}

std::string register_unit(const obis_code& code) {
    if (const auto q = name_for(code)) return std::string(q->unit);
    return "Wh";
}

std::string what_changed(const plausibility_check& c) {
    if (c.values != c.previous_values) {
        return fmt::format("{} values instead of {}", c.values, c.previous_values);
    }
    if (c.position < c.values) {
        const auto q = name_for(c.code);
        return fmt::format("value {} is now {}{}, or has another scaler or unit", c.position + 1,
                           c.code.to_string(), q ? fmt::format(" ({})", q->name) : std::string());
    }
    return "another meter number or layout";
}

std::string damaged(unsigned accept_after, const char* change) {
    return fmt::format(
        "the telegram was most likely damaged on the wire (this meter sends no authentication "
        "tag that would reveal it), so the reading was NOT published and Home Assistant's "
        "energy totals stay right; if this repeats, check the M-Bus wiring. If {}, the new "
        "values are taken after {} consistent readings",
        change, accept_after);
}

}  // namespace

std::string describe_plausibility(const plausibility_check& c, const std::string& meter,
                                  unsigned max_power_kw, unsigned accept_after) {
    const std::string unit = register_unit(c.code);
    switch (c.verdict) {
        case plausibility_verdict::too_fast:
            return fmt::format(
                "meter {} sent an impossible reading: {} rose from {} to {} {} in {} s ({}), "
                "which would take {:.0f} kW, more than the {} kW of meter.max_power_kw; {}",
                meter, register_name(c.code), c.previous, c.value, unit, c.seconds,
                c.by_meter_clock ? "by the meter clock" : "as received",
                (c.value - c.previous) * 3600.0 / std::max(c.seconds, 1.0) / 1000.0, max_power_kw,
                damaged(accept_after, "your supply really draws more, raise meter.max_power_kw"));
        case plausibility_verdict::backwards:
            return fmt::format(
                "meter {} sent an impossible reading: {} went down from {} to {} {}, and an "
                "energy register never goes down; {}",
                meter, register_name(c.code), c.previous, c.value, unit,
                damaged(accept_after, "the meter was exchanged or reset"));
        case plausibility_verdict::structure_changed:
            return fmt::format(
                "meter {} sent a reading with other values than before ({}); {}", meter,
                what_changed(c),
                damaged(accept_after, "the meter was exchanged or got new firmware"));
        case plausibility_verdict::new_level_accepted:
            if (c.structure) {
                return fmt::format(
                    "meter {} has sent {} consistent readings with other values than before "
                    "({}): taken as a new meter or new firmware; publishing again",
                    meter, c.run, what_changed(c));
            }
            return fmt::format(
                "meter {} has sent {} consistent readings at a new level ({} {} {}, was {}): "
                "taken as a meter exchanged or reset; publishing again (Home Assistant may "
                "show the step in its energy statistics: check them)",
                meter, c.run, register_name(c.code), c.value, unit, c.previous);
        default:
            return {};
    }
}

}  // namespace evn_mbus
