// The JSON form of a reading: one schema for `evn-mbus decode` and the MQTT state topic.
//   {"meter_number": "...", "clock": "2025-01-02T03:04:05Z", "w_p": Wh, ..., "phi": cos phi,
//    "obis": {"1-0:1.8.0.255": {"value": ..., "unit": "Wh"}, ...}}
// Numbers are already scaled; a field the meter did not send is absent. The named fields are
// those of obis_code.hpp's name_for (w_p, w_n, tariffs, r_p/r_n, p_p/p_n, q_p/q_n, per-phase
// power, u1..u3, i1..i3, phi, phi1..phi3, f); every value also appears under "obis". Beside
// them the derived values (derived_values.hpp: p_net = p_p - p_n, p1_net ...), which are not
// under "obis" (the meter did not send them).
#pragma once

#include <nlohmann/json.hpp>

#include "derived_values.hpp"
#include "evn_mbus/reading.hpp"

namespace evn_mbus {

nlohmann::json to_json(const reading& r);

// The value alone: an integer where the scaled value is exact, else a double, a string for
// text and time stamps, a bool for booleans, null for null-data.
nlohmann::json value_json(const obis_value& v);

// A derived value alone: an integer where it is exact, else a double.
nlohmann::json derived_json(const derived_value& d);

}  // namespace evn_mbus
