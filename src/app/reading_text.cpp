#include "reading_text.hpp"

#include <spdlog/fmt/fmt.h>

#include "evn_mbus/hex.hpp"
#include "evn_mbus/link_layer.hpp"
#include "evn_mbus/obis_code.hpp"

namespace evn_mbus {
namespace {

const char* parity_letter(serial_parity p) {
    switch (p) {
        case serial_parity::none:
            return "N";
        case serial_parity::even:
            return "E";
        case serial_parity::odd:
            return "O";
    }
    return "?";
}

}  // namespace

std::string line_settings(const serial_config& s) {
    return fmt::format("{}, idle gap {} ms", line_format(s), s.idle_gap.count());
}

std::string line_format(const serial_config& s) {
    return fmt::format("{} baud {}{}{}", s.baud, s.data_bits, parity_letter(s.parity), s.stop_bits);
}

std::string named_values(const reading& r) {
    std::string out;
    for (const auto& q : named_quantities()) {
        const auto v = r.named(q.name);
        if (!v) continue;
        if (!out.empty()) out += ", ";
        out += fmt::format("{} {}{}{}", q.name, *v, q.unit.empty() ? "" : " ", q.unit);
    }
    return out.empty() ? std::string("no named values") : out;
}

std::string detected(const reading& r) {
    std::string out = r.manufacturer_label().empty() ? "no system title (plaintext push)"
                                                     : r.manufacturer_label();
    out += fmt::format(", {}, layout {}, {} values", describe_link(r.link, r.block_transfer),
                       layout_name(r.layout), r.values.size());
    if (r.untagged_values > 0) {
        out += fmt::format(
            " ({} more numbers without an OBIS code were left out: their meaning is unknown; "
            "please report your meter and grid operator so that this layout can be added)",
            r.untagged_values);
    }
    return out;
}

std::string shape_key(const reading& r) {
    std::string key;
    for (const shape_element& e : r.shape) {
        key += axdr_type_name(e.type);
        key += ',';
    }
    return key;
}

std::string layout_advice(const reading& r, std::string_view configured) {
    std::string elements;
    std::string skeleton;
    for (std::size_t i = 0; i < r.shape.size(); ++i) {
        const shape_element& e = r.shape[i];
        if (i > 0) {
            elements += ", ";
            skeleton += ", ";
        }
        elements += fmt::format("{} {} {}", i + 1, axdr_type_name(e.type), e.preview);
        skeleton += "skip";
    }
    return fmt::format(
        "{} numbers of this push were left out: they come without an OBIS code and fit no "
        "layout (meter.layout is {}), and evn-mbus does not guess their meaning. The push's {} "
        "elements: {}. To name them, put this line in the meter section of the configuration "
        "and replace each skip you can name with 'OBIS-code [unit] [scaler N]', e.g. "
        "'1-0:1.8.0 Wh' (your operator's description of the customer interface says which): "
        "layout: [{}]. Please report your meter and grid operator too, so that the layout can "
        "be built in",
        r.untagged_values, configured, r.shape.size(), elements, skeleton);
}

std::string meter_label(const reading& r) {
    return r.meter_number.empty() ? "with system title " + to_hex(r.title) : r.meter_number;
}

std::string layout_setting_text(const layout_choice& layout) {
    if (!layout.positions.empty()) {
        return fmt::format("your list of {} positions", layout.positions.size());
    }
    return std::string(layout.builtin ? layout_name(*layout.builtin) : "auto");
}

}  // namespace evn_mbus
