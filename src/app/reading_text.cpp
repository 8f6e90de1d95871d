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
    return fmt::format("{} baud {}{}{}, idle gap {} ms", s.baud, s.data_bits,
                       parity_letter(s.parity), s.stop_bits, s.idle_gap.count());
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

std::string meter_label(const reading& r) {
    return r.meter_number.empty() ? "with system title " + to_hex(r.title) : r.meter_number;
}

}  // namespace evn_mbus
