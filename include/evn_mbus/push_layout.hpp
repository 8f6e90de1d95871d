// A push layout the user writes (meter.layout in the configuration): what each element of a
// push's top structure means, for meters that send plain values without their OBIS codes.
// The push setup's capture objects (IEC 62056-6-2, class 40 "push setup", attribute 3) are
// fixed by the operator and not sent, so an operator that changes them needs a new layout;
// with this one it is a line of configuration, not a release. reading_extractor.hpp says how
// a layout is matched.
//
// One position per element, in the text users write:
//   skip                      the element is not a value (or not wanted)
//   1-0:1.8.0                 the OBIS code (IEC 62056-6-1 "A-B:C.D.E", ".F"/"*F" optional)
//   1-0:1.8.0 Wh              ... with the unit (Blue Book 4.3.2 symbols: Wh, W, varh, var,
//                             VAh, VA, A, V, Hz, deg, degC, s, %, ...)
//   1-0:31.7.0 A scaler -2    ... and the scaler: the value times 10^scaler (Register class 3
//                             attribute 3)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evn_mbus/obis_code.hpp"
#include "evn_mbus/reading.hpp"

namespace evn_mbus {

struct layout_position {
    bool skip = true;
    obis_code code{};
    std::int8_t scaler = 0;
    std::uint8_t unit = 255;  // COSEM unit enum; 255: none

    bool operator==(const layout_position&) const = default;
};

// Why a position's text does not parse; the text says it to a person.
struct layout_text_problem {
    std::string_view what;
};

// Parses one position; on failure `problem` says what is wrong (never throws).
std::optional<layout_position> parse_layout_position(std::string_view text,
                                                     layout_text_problem& problem) noexcept;
// The text parse_layout_position reads back ("skip", "1-0:31.7.0 A scaler -2").
std::string to_string(const layout_position& p);

// Which layouts the decoder may give plain values (decoder_options::layout).
struct layout_choice {
    // The user's own, one per element; tried before the built-in ones. Empty: none.
    std::vector<layout_position> positions;
    // A built-in layout named by the user (layout_name()): only it is tried of the built-in
    // ones. nullopt: all of them.
    std::optional<value_layout> builtin;

    bool operator==(const layout_choice&) const = default;
};

// The built-in layouts a user may name: wiener-netze, wiener-netze-im350, kaernten-netz,
// eww-wels, netz-burgenland.
std::vector<value_layout> builtin_layouts();

}  // namespace evn_mbus
