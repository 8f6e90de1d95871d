// Turns a decoded notification body into a reading by walking its structure, not by offsets.
//
// Within every structure or array, a 6-byte octet-string is an OBIS code; the element after it
// is its value, and a following structure {integer scaler, enum unit} its scaler and unit
// (Register class 3 attribute 3, Blue Book 4.3.2). Nested structures are walked the same way,
// so both the flat EVN layout (OBIS, value, {scaler, unit}, ...) and the TINETZ layout
// ({OBIS, value, {scaler, unit}}, ...) decode. Values without an OBIS code are used only where
// their meaning is unambiguous: a printable string is the meter number and a valid date-time the
// clock, unless OBIS-tagged ones were sent. Unknown OBIS codes pass through.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/data_notification.hpp"
#include "evn_mbus/reading.hpp"

namespace evn_mbus {

// `body` is the buffer the nodes were decoded from. Fills the clock, meter number, device name
// and values of `out` (other fields are left as they are).
void extract_readings(const data_notification& notification, std::span<const std::uint8_t> body,
                      const std::vector<axdr_node>& nodes, reading& out);

}  // namespace evn_mbus
