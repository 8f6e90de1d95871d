// A decoded push: what the meter said, in plain values, independent of the wire layout.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/link_layer.hpp"
#include "evn_mbus/obis_code.hpp"
#include "evn_mbus/system_title.hpp"

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

// Where the values of a push came from (reading_extractor.hpp explains the rules).
enum class value_layout : std::uint8_t {
    empty,        // no values at all
    obis_tagged,  // each value next to its OBIS code (EVN, TINETZ, Landis+Gyr E450, ...)
    // Known push profiles that send plain values; the OBIS codes follow from the position.
    wiener_netze,        // {clock, A+, A-, R+, R-, P+, P-, Q+, Q-} (Iskraemeco AM550)
    wiener_netze_im350,  // {meter number, clock, A+ ... Q-} (Siemens IM350)
    kaernten_netz,       // {0-6:25.9.0.255, meter number, time, date, A+, A-, R+, R-, P+,
                         //  P-, message text, message code} (Iskraemeco AM550)
    eww_wels,            // {0-6:25.9.0.255, meter number, time, date, A+, A-, R+, R-, P+, P-}
                         // (Siemens IM350)
    netz_burgenland,     // {U L1-L3, I L1-L3, P+, P-, A+, A-, angles L1-L3, meter number}
                         // (Landis+Gyr E450)
    configured,          // plain values placed by the user's own layout (push_layout.hpp)
    capture_list,        // the push's own capture-object list first, then the values
                         // (Landis+Gyr E450, Stadtwerke Klagenfurt)
    mbus_records,        // EN 13757-3 DIF/VIF records (AMIS meters, mbus_records.hpp)
    untagged,            // plain values in no known profile: left out (reading::untagged_values)
    dsmr,                // DSMR P1 text lines, each with its OBIS code (dsmr_telegram.hpp)
};

// "obis-tagged", "wiener-netze", "wiener-netze-im350", "kaernten-netz", "eww-wels",
// "netz-burgenland", "configured", "capture-list", "mbus-records", "untagged", "dsmr", "empty".
std::string_view layout_name(value_layout layout) noexcept;

// The company a DLMS FLAG id (the system title's first three letters) stands for: "KFM" ->
// "Kaifa", "SAG" -> "Sagemcom", "ISK" -> "Iskraemeco", "LGZ" -> "Landis+Gyr", "SMS" ->
// "Siemens", ...; empty when evn-mbus does not know the id.
std::string_view flag_manufacturer(std::string_view flag_id) noexcept;

// One element of a push's top structure (reading::shape): its A-XDR type and its value as
// text (a number, a string, hex, a date-time in UTC, "N elements").
struct shape_element {
    axdr_type type{};
    std::string preview;
};

// An EN 13757-3 record evn-mbus does not name (mbus_records.hpp), passed through by its header:
// the DIF, DIFEs, VIF and VIFEs as sent, in hex ("04FD17"), and its data as sent: integers and
// BCD as the number, a real as the number, other data as hex text; no scaler applied.
struct mbus_record_value {
    std::string header;
    obis_value value;  // its code is unused (zero)
};

struct reading {
    system_title title{};  // sender's system title (empty for plaintext pushes)
    // GCM invocation counter; for EN 13757-3 (AMIS) pushes the meter clock in seconds since
    // 1970 (none, and not checked, when no clock was sent)
    std::uint32_t frame_counter = 0;
    std::uint8_t security_control = 0;
    bool encrypted = false;
    bool tag_verified = false;
    std::uint32_t invoke_id = 0;
    std::optional<std::chrono::sys_seconds> clock;  // meter clock, UTC
    std::string meter_number;                       // empty when not sent
    std::string device_name;                        // logical device name, empty when not sent
    std::vector<obis_value> values;                 // every OBIS-tagged value, in wire order
    value_layout layout = value_layout::empty;      // how `values` were found
    // Numbers sent without an OBIS code that no known profile placed; they are left out of
    // `values` rather than given a guessed meaning.
    std::uint32_t untagged_values = 0;
    // EN 13757-3 pushes: the records among untagged_values, by header, in wire order (the first
    // of records with the same header).
    std::vector<mbus_record_value> unnamed_records;
    // layout untagged: the top structure's elements, to write a layout from; else empty.
    std::vector<shape_element> shape;
    // The framing the push came in: mbus or hdlc (auto_detect: decoded from a bare APDU), and
    // whether it was split into general-block-transfer blocks. describe_link() words it.
    link_layer link = link_layer::auto_detect;
    bool block_transfer = false;

    const obis_value* find(const obis_code& code) const noexcept;
    // The number the meter sent for the named quantity ("w_p", "u1", ...), if any.
    const obis_value* find_named(std::string_view name) const noexcept;
    // The scaled value of the named quantity, if sent.
    std::optional<double> named(std::string_view name) const noexcept;
    // Three letters of the system title ("KFM", "SAG", ...), or empty.
    std::string manufacturer() const;
    // For people: "Landis+Gyr (LGZ)"; "XYZ (manufacturer id unknown to evn-mbus)"; empty when
    // the push had no system title (plaintext).
    std::string manufacturer_label() const;
    // Empties the reading for the next push. The values' text buffers are kept for reuse
    // (take_text), so that decoding a meter's pushes allocates nothing once warmed up.
    void clear();
    // An empty string, with the capacity of a text buffer clear() kept if there is one.
    std::string take_text() noexcept;

  private:
    std::vector<std::string> spare_texts_;
};

}  // namespace evn_mbus
