// Values evn-mbus computes from what the meter sent, with one definition for every output
// (the JSON of decode and <prefix>/state, the per-value topics, Home Assistant, Prometheus).
// They are the app's, not the core's: obis_code.hpp names only what a meter sends.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "evn_mbus/reading.hpp"

namespace evn_mbus {

// A difference of two named quantities (obis_code.hpp), present when the meter sent both.
struct derived_quantity {
    std::string_view name;         // "p_net": JSON key and MQTT topic, stable like the core's
    std::string_view unit;         // "W"
    std::string_view description;  // "net active power, import - export (P+ - P-)"
    std::string_view minuend;      // "p_p"
    std::string_view subtrahend;   // "p_n"
};

// p_net = p_p - p_n, then p1_net, p2_net, p3_net from p1_p - p1_n etc.: signed, in W,
// import positive (the sign a household reads as "drawing from the grid").
std::span<const derived_quantity> derived_quantities() noexcept;

struct derived_value {
    std::string_view name;
    double value = 0.0;
    // Set when both operands are integers with scalers (exact decimals): the difference
    // computed on the integers. An integer when its scaler is >= 0.
    std::optional<std::int64_t> integer;

    bool operator==(const derived_value&) const = default;
};

// The derived values the reading allows, in derived_quantities() order. Values with negative
// scalers (0.1 W) are subtracted as integers and divided once, so that 2.3 - 0.2 is 2.1 and
// not 2.0999999999999996.
std::vector<derived_value> derived_values(const reading& r);

// The value of one derived quantity, if the reading allows it.
std::optional<derived_value> derived_value_of(const reading& r, std::string_view name);

}  // namespace evn_mbus
