// The log's words for the serial line and for a reading (start-up line, first reading).
#pragma once

#include <string>

#include "daemon_config.hpp"
#include "evn_mbus/reading.hpp"

namespace evn_mbus {

// "9600 baud 8N1, idle gap 100 ms".
std::string line_settings(const serial_config& s);
// Only the line's format: "2400 baud 8E1".
std::string line_format(const serial_config& s);
// "w_p 12937 Wh, p_p 0 W, u1 233.7 V, ..." for the values the meter sent.
std::string named_values(const reading& r);
// "Landis+Gyr (LGZ), HDLC, general block transfer, layout obis-tagged, 17 values" and, for a
// layout evn-mbus does not know, what was left out and what to do.
std::string detected(const reading& r);
// "181220000009", or "with system title 4B464D..." for a meter that sends no number.
std::string meter_label(const reading& r);
// The A-XDR types of a push's top structure (reading::shape), to notice a new shape.
std::string shape_key(const reading& r);
// For a push whose plain values fit no layout (reading::layout untagged): what was left out,
// the push's elements and a ready-to-paste meter.layout line to fill in. `configured` words
// the meter.layout in force (layout_setting_text).
std::string layout_advice(const reading& r, std::string_view configured);
// meter.layout in words: "auto", "netz-burgenland", "your list of 14 positions".
std::string layout_setting_text(const layout_choice& layout);

}  // namespace evn_mbus
