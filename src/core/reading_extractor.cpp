#include "evn_mbus/reading_extractor.hpp"

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/hex.hpp"

namespace evn_mbus {
namespace {

bool is_printable(std::span<const std::uint8_t> b) noexcept {
    if (b.empty()) return false;
    for (const std::uint8_t c : b) {
        if (c < 0x20 || c > 0x7E) return false;
    }
    return true;
}

class extractor {
  public:
    extractor(std::span<const std::uint8_t> body, const std::vector<axdr_node>& nodes, reading& out)
        : body_(body), nodes_(nodes), out_(out) {}

    void run(const data_notification& notification) {
        if (!nodes_.empty()) {
            if (nodes_[0].is_container()) {
                walk(0);
            } else {
                unpaired(nodes_[0]);
            }
        }
        // Priority: the clock object, then the push's own time stamp, then an untagged one.
        if (!out_.clock && notification.date_time) out_.clock = notification.date_time->to_utc();
        if (!out_.clock && loose_clock_) out_.clock = loose_clock_;
        if (out_.meter_number.empty() && !loose_number_.empty()) out_.meter_number = loose_number_;
    }

  private:
    std::span<const std::uint8_t> bytes(const axdr_node& n) const {
        return body_.subspan(n.offset, n.length);
    }

    bool is_obis(const axdr_node& n) const {
        return n.type == axdr_type::octet_string && n.length == 6;
    }

    // {integer scaler, enum unit}: Register class 3, attribute 3.
    bool is_scaler_unit(std::size_t i) const {
        const axdr_node& n = nodes_[i];
        return n.type == axdr_type::structure && n.count == 2 && i + 2 < nodes_.size() &&
               nodes_[i + 1].type == axdr_type::integer &&
               nodes_[i + 2].type == axdr_type::enumeration;
    }

    void walk(std::size_t container) {
        const std::uint32_t count = nodes_[container].count;
        // Indices of the direct children.
        std::size_t child = container + 1;
        std::uint32_t k = 0;
        auto advance = [&] {
            child += nodes_[child].subtree;
            ++k;
        };
        while (k < count) {
            const axdr_node& n = nodes_[child];
            if (is_obis(n) && k + 1 < count) {
                const std::size_t value_index = child + n.subtree;
                if (!nodes_[value_index].is_container()) {
                    const obis_code code = *obis_code::from_bytes(bytes(n));
                    advance();  // to the value
                    obis_value& v = add_value(code, nodes_[child]);
                    advance();  // past the value
                    if (k < count && is_scaler_unit(child)) {
                        v.scaler = static_cast<std::int8_t>(nodes_[child + 1].int_value);
                        v.unit = static_cast<std::uint8_t>(nodes_[child + 2].int_value);
                        v.has_scaler_unit = true;
                        advance();
                    }
                    continue;
                }
            }
            if (n.is_container()) {
                walk(child);
            } else {
                unpaired(n);
            }
            advance();
        }
    }

    obis_value& add_value(const obis_code& code, const axdr_node& n) {
        obis_value& v = out_.values.emplace_back();
        v.code = code;
        v.type = n.type;
        if (n.is_unsigned_integer()) {
            v.raw_unsigned = n.uint_value;
        } else if (n.type == axdr_type::float32 || n.type == axdr_type::float64) {
            v.raw_float = n.float_value;
        } else {
            v.raw_signed = n.int_value;
        }
        if (n.is_bytes()) {
            const auto b = bytes(n);
            const auto dt = cosem_datetime::parse(b);
            const auto utc = dt ? dt->to_utc() : std::nullopt;
            if (utc) {
                v.text = format_utc(*utc);
            } else if (is_printable(b)) {
                v.text.assign(b.begin(), b.end());
            } else {
                v.text = to_hex(b);
            }
            if (code == obis_clock && utc) out_.clock = utc;
            if (code == obis_meter_number && is_printable(b)) out_.meter_number = v.text;
            if (code == obis_device_name && is_printable(b)) out_.device_name = v.text;
        }
        return v;
    }

    void unpaired(const axdr_node& n) {
        if (!n.is_bytes()) return;
        const auto b = bytes(n);
        if (const auto dt = cosem_datetime::parse(b)) {
            if (const auto utc = dt->to_utc()) {
                if (!loose_clock_) loose_clock_ = utc;
                return;
            }
        }
        if (loose_number_.empty() && is_printable(b)) loose_number_.assign(b.begin(), b.end());
    }

    std::span<const std::uint8_t> body_;
    const std::vector<axdr_node>& nodes_;
    reading& out_;
    std::optional<std::chrono::sys_seconds> loose_clock_;
    std::string loose_number_;
};

}  // namespace

void extract_readings(const data_notification& notification, std::span<const std::uint8_t> body,
                      const std::vector<axdr_node>& nodes, reading& out) {
    extractor(body, nodes, out).run(notification);
}

}  // namespace evn_mbus
