// Turns a decoded notification body into a reading by walking its structure, not by offsets.
//
// OBIS-tagged layouts (the rule for every meter that sends codes): within every structure or
// array, a 6-byte octet-string is an OBIS code; the element after it is its value, and a
// following structure {integer scaler, enum unit} its scaler and unit (Register class 3
// attribute 3, Blue Book 4.3.2). Nested structures are walked the same way, so both the flat
// EVN layout (OBIS, value, {scaler, unit}, ...) and the TINETZ layout ({OBIS, value, {scaler,
// unit}}, ...) decode. Unknown OBIS codes pass through. Values without an OBIS code are used
// only where their meaning is unambiguous: a printable string is the meter number and a valid
// date-time the clock, unless OBIS-tagged ones were sent.
//
// Push profiles with implied OBIS codes: some operators' meters send a structure of plain
// values. A body whose top structure matches one of these element for element (count and
// A-XDR type of every element, plus the push-setup OBIS code where the profile starts with
// one) gets the OBIS codes, scalers and units of its profile's positions:
//   wiener-netze        {date-time, A+ 1.8.0 Wh, A- 2.8.0 Wh, R+ 3.8.0 varh, R- 4.8.0 varh,
//                        P+ 1.7.0 W, P- 2.7.0 W, Q+ 3.7.0 var, Q- 4.7.0 var}, all values
//                        double-long-unsigned, scaler 0 (Iskraemeco AM550, Wiener Netze)
//   wiener-netze-im350  {meter number, date-time, the same eight values} (Siemens IM350)
//   kaernten-netz       {OBIS 0-6:25.9.0.255, meter number, time (4 bytes), date (5 bytes),
//                        A+, A-, R+, R-, P+, P- (as above), consumer message text 0-0:96.13.0,
//                        consumer message code 0-0:96.13.1} (Iskraemeco AM550, Kaernten Netz)
//   eww-wels            kaernten-netz's first ten, no message strings (Siemens IM350, eww Wels)
//   netz-burgenland     {U L1-L3 V, I L1-L3 A (scaler -2), long-unsigned; P+, P-, A+, A-;
//                        angles 1-0:81.7.40/51/62 degrees, long-unsigned; meter number}
//                       (Landis+Gyr E450, Netz Burgenland)
// The separate time and date of kaernten-netz and eww-wels are not values: the push's own date-time
// (which carries the UTC deviation) is the clock. Empty message strings are left out.
//
// Pushes that carry their own capture-object list (the push setup's attribute 2, IEC 62056-6-2
// class 40; Landis+Gyr E450 at Stadtwerke Klagenfurt): a top structure whose first element is
// an array of {class_id, logical name, attribute, data index}, one per element, the first one
// the list itself (class 40, attribute 2). Each further element is the value of its entry's
// object: attribute 2 is the value under its OBIS code, attribute 3 a register's {scaler,
// unit} for the value with the same code; other attributes are left out.
//
// The user's own layout (meter.layout, push_layout.hpp) is tried first: it matches a body whose
// top structure has as many elements as it has positions, each one that is not skipped a
// plain element (not a structure or array); numbers get its OBIS code, scaler and unit,
// strings and date-times its OBIS code (the meter number and clock codes work as when sent).
// A built-in layout the user named is the only built-in one tried.
//
// Plain numbers in a body that matches no profile are NOT given a guessed OBIS code: they are
// left out of the values and counted in reading::untagged_values, and the layout is
// "untagged" when no OBIS-tagged value was found either; reading::shape then lists the top
// structure's elements, so that the log can offer a layout to fill in.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/data_notification.hpp"
#include "evn_mbus/push_layout.hpp"
#include "evn_mbus/reading.hpp"

namespace evn_mbus {

// `body` is the buffer the nodes were decoded from. Fills the clock, meter number, device name,
// values, layout and shape of `out` (other fields are left as they are).
void extract_readings(const data_notification& notification, std::span<const std::uint8_t> body,
                      const std::vector<axdr_node>& nodes, const layout_choice& layout,
                      reading& out);

}  // namespace evn_mbus
