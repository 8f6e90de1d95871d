// A decoded push: what the meter said, in plain values, independent of the wire layout.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/dlms_security.hpp"
#include "evn_mbus/obis_code.hpp"

namespace evn_mbus {

// One OBIS code with its value and, where the meter sends one, its scaler and unit
// (Register class 3: value x 10^scaler, in unit).
struct obis_value {
    obis_code code;
    axdr_type type = axdr_type::null_data;  // the A-XDR type the meter used
    std::int64_t raw_signed = 0;            // signed integers, enum, boolean
    std::uint64_t raw_unsigned = 0;         // unsigned integers
    double raw_float = 0.0;                 // float32/float64
    std::string text;  // strings: printable ASCII as is, else hex; date-time: ISO 8601 UTC
    std::int8_t scaler = 0;
    std::uint8_t unit = 255;  // COSEM unit enum; 255 = none
    bool has_scaler_unit = false;

    bool is_number() const noexcept;
    // The value with the scaler applied (0 for non-numbers).
    double scaled() const noexcept;
    // The scaled value when it is an exact integer (integer type and scaler >= 0).
    std::optional<std::int64_t> scaled_integer() const noexcept;
};

struct reading {
    system_title title{};             // sender's system title (empty for plaintext pushes)
    std::uint32_t frame_counter = 0;  // GCM invocation counter
    std::uint8_t security_control = 0;
    bool encrypted = false;
    bool tag_verified = false;
    std::uint32_t invoke_id = 0;
    std::optional<std::chrono::sys_seconds> clock;  // meter clock, UTC
    std::string meter_number;                       // empty when not sent
    std::string device_name;                        // logical device name, empty when not sent
    std::vector<obis_value> values;                 // every OBIS-tagged value, in wire order

    const obis_value* find(const obis_code& code) const noexcept;
    // The scaled value of the named quantity ("w_p", "u1", ...), if sent.
    std::optional<double> named(std::string_view name) const noexcept;
    // Three letters of the system title ("KFM", "SAG", ...), or empty.
    std::string manufacturer() const;
    void clear() noexcept;
};

}  // namespace evn_mbus
