// The JSON form of a reading: one schema for `evn-mbus decode` and the MQTT state topic.
//   {"meter_number": "...", "clock": "2025-01-02T03:04:05Z", "w_p": Wh, ..., "phi": cos phi,
//    "obis": {"1-0:1.8.0.255": {"value": ..., "unit": "Wh"}, ...}}
// Numbers are already scaled; a field the meter did not send is absent.
#pragma once

#include <nlohmann/json.hpp>

#include "evn_mbus/reading.hpp"

namespace evn_mbus {

nlohmann::json to_json(const reading& r);

// The value alone: an integer where the scaled value is exact, else a double, a string for
// text and time stamps, a bool for booleans, null for null-data.
nlohmann::json value_json(const obis_value& v);

}  // namespace evn_mbus
