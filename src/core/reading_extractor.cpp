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

// Bytes as text: a valid date-time in UTC (returned too), printable text as it is, else hex.
std::optional<std::chrono::sys_seconds> bytes_text(std::span<const std::uint8_t> b,
                                                   std::string& out) {
    const auto dt = cosem_datetime::parse(b);
    const auto utc = dt ? dt->to_utc() : std::nullopt;
    if (utc) {
        format_utc(*utc, out);
    } else if (is_printable(b)) {
        // (char*, size): libstdc++ builds a temporary string for other iterator types.
        out.assign(reinterpret_cast<const char*>(b.data()), b.size());
    } else {
        to_hex(b, out);
    }
    return utc;
}

// ---- push profiles with implied OBIS codes (reading_extractor.hpp) ---------------------------

enum class slot_kind : std::uint8_t {
    push_id,       // 6-byte octet-string equal to `code`: identifies the profile, not a value
    meter_number,  // printable octet- or visible-string, published as 0-0:96.1.0.255
    clock,         // 12-byte date-time (octet-string or date-time), published as 0-0:1.0.0.255
    time_part,     // 4-byte COSEM time: part of the push time stamp, skipped
    date_part,     // 5-byte COSEM date: part of the push time stamp, skipped
    counter,       // double-long-unsigned with the slot's OBIS code, scaler and unit
    long_value,    // long-unsigned (16 bits) with the slot's OBIS code, scaler and unit
    text,          // octet- or visible-string under the slot's OBIS code (left out when empty)
};

struct slot {
    slot_kind kind;
    obis_code code{};
    std::int8_t scaler = 0;
    std::uint8_t unit = 255;
};

struct push_profile {
    value_layout layout;
    std::span<const slot> slots;
};

// COSEM interface classes (IEC 62056-6-2): data, register, extended register, clock, push setup.
constexpr std::uint64_t data_class = 1, register_class = 3, extended_register_class = 4,
                        clock_class = 8, push_setup_class = 40;

constexpr obis_code electricity(std::uint8_t c, std::uint8_t d) {
    return obis_code{{1, 0, c, d, 0, 255}};
}

// COSEM unit enums (Blue Book 4.3.2).
constexpr std::uint8_t unit_degree = 8, unit_w = 27, unit_var = 29, unit_wh = 30, unit_varh = 32,
                       unit_a = 33, unit_v = 35;

constexpr slot a_plus{slot_kind::counter, electricity(1, 8), 0, unit_wh};
constexpr slot a_minus{slot_kind::counter, electricity(2, 8), 0, unit_wh};
constexpr slot r_plus{slot_kind::counter, electricity(3, 8), 0, unit_varh};
constexpr slot r_minus{slot_kind::counter, electricity(4, 8), 0, unit_varh};
constexpr slot p_plus{slot_kind::counter, electricity(1, 7), 0, unit_w};
constexpr slot p_minus{slot_kind::counter, electricity(2, 7), 0, unit_w};
constexpr slot q_plus{slot_kind::counter, electricity(3, 7), 0, unit_var};
constexpr slot q_minus{slot_kind::counter, electricity(4, 7), 0, unit_var};
constexpr slot clock_slot{slot_kind::clock, obis_clock};
constexpr slot number_slot{slot_kind::meter_number, obis_meter_number};

// Wiener Netze (Iskraemeco AM550; community readers, the operator's document is not public
// in machine-readable form): values in Wh, varh, W, var, scaler 0.
constexpr slot wiener_netze_slots[] = {clock_slot, a_plus,  a_minus, r_plus, r_minus,
                                       p_plus,     p_minus, q_plus,  q_minus};
// Wiener Netze Siemens IM350: the same, after the meter number.
constexpr slot wiener_netze_im350_slots[] = {number_slot, clock_slot, a_plus,  a_minus, r_plus,
                                             r_minus,     p_plus,     p_minus, q_plus,  q_minus};
// Kaernten Netz (Iskraemeco AM550): push setup 0-6:25.9.0.255 first; the two strings at the end
// are the consumer message text and code (IEC 62056-6-1 0-0:96.13.0 / 96.13.1).
constexpr slot kaernten_netz_slots[] = {
    {slot_kind::push_id, obis_code{{0, 6, 25, 9, 0, 255}}},
    number_slot,
    {slot_kind::time_part},
    {slot_kind::date_part},
    a_plus,
    a_minus,
    r_plus,
    r_minus,
    p_plus,
    p_minus,
    {slot_kind::text, obis_code{{0, 0, 96, 13, 0, 255}}},
    {slot_kind::text, obis_code{{0, 0, 96, 13, 1, 255}}},
};

// eww Wels (Siemens IM350; the capture in Noschvie/shrdzm, positions as its reader and the
// Kaernten Netz profile have them): Kaernten Netz's first ten slots, no message strings.
constexpr std::span<const slot> eww_wels_slots{kaernten_netz_slots, 10};

// Netz Burgenland (Landis+Gyr E450; the operator's document as quoted by
// r00tat/smartmeter_homeassistant_burgenland, the current's scaler -2 from amsreader and that
// project): U L1-L3 V, I L1-L3 A, P+ P- W, A+ A- Wh, the angles L1-L3 in degrees, meter number.
constexpr slot volts(std::uint8_t c) {
    return {slot_kind::long_value, electricity(c, 7), 0, unit_v};
}
constexpr slot amperes(std::uint8_t c) {
    return {slot_kind::long_value, electricity(c, 7), -2, unit_a};
}
constexpr slot degrees(std::uint8_t e) {
    return {slot_kind::long_value, obis_code{{1, 0, 81, 7, e, 255}}, 0, unit_degree};
}
constexpr slot netz_burgenland_slots[] = {
    volts(32), volts(52), volts(72), amperes(31), amperes(51), amperes(71), p_plus,
    p_minus,   a_plus,    a_minus,   degrees(40), degrees(51), degrees(62), number_slot,
};

constexpr push_profile push_profiles[] = {
    {value_layout::netz_burgenland, netz_burgenland_slots},
    {value_layout::kaernten_netz, kaernten_netz_slots},
    {value_layout::eww_wels, eww_wels_slots},
    {value_layout::wiener_netze_im350, wiener_netze_im350_slots},
    {value_layout::wiener_netze, wiener_netze_slots},
};

class extractor {
  public:
    extractor(std::span<const std::uint8_t> body, const std::vector<axdr_node>& nodes,
              const layout_choice& layout, reading& out)
        : body_(body), nodes_(nodes), layout_(layout), out_(out) {}

    void run(const data_notification& notification) {
        if (user_layout_fits()) {
            apply_user_layout();
            out_.layout = value_layout::configured;
        } else if (has_capture_list()) {
            apply_capture_list();
            out_.layout = value_layout::capture_list;
        } else if (const push_profile* profile = matching_profile()) {
            apply(*profile);
            out_.layout = profile->layout;
        } else {
            if (!nodes_.empty()) {
                if (nodes_[0].is_container()) {
                    walk(0);
                } else {
                    unpaired(nodes_[0]);
                }
            }
            if (!out_.values.empty()) {
                out_.layout = value_layout::obis_tagged;
            } else if (out_.untagged_values > 0) {
                out_.layout = value_layout::untagged;
                record_shape();
            } else {
                out_.layout = value_layout::empty;
            }
        }
        // Priority: the clock object, then the push's own time stamp, then an untagged one.
        if (!out_.clock && notification.date_time) out_.clock = notification.date_time->to_utc();
        if (!out_.clock && loose_clock_) out_.clock = loose_clock_;
        if (out_.meter_number.empty() && !loose_number_.empty()) out_.meter_number = loose_number_;
    }

  private:
    // The user's layout: as many positions as the top structure has elements, and a plain
    // element (a number, a string, a date-time; not a structure or array) at every position
    // that is not skipped.
    bool user_layout_fits() const {
        const auto& positions = layout_.positions;
        if (positions.empty() || nodes_.empty() || nodes_[0].type != axdr_type::structure ||
            nodes_[0].count != positions.size()) {
            return false;
        }
        // A push that sends its codes is walked, not laid out: two (OBIS, value) pairs say so.
        std::size_t pairs = 0;
        std::size_t child = 1;
        for (std::uint32_t k = 0; k + 1 < nodes_[0].count; ++k) {
            const std::size_t after = child + nodes_[child].subtree;
            if (is_obis(nodes_[child]) && !nodes_[after].is_container()) ++pairs;
            child = after;
        }
        if (pairs >= 2) return false;
        child = 1;
        for (const layout_position& p : positions) {
            if (!p.skip && !fits_position(p, nodes_[child])) return false;
            child += nodes_[child].subtree;
        }
        return true;
    }

    // What a position names must be what stands there: a number where it gives a unit or a
    // scaler, a date-time for the clock, printable text for a meter number.
    bool fits_position(const layout_position& p, const axdr_node& n) const {
        if (n.is_container()) return false;
        if ((p.unit != 255 || p.scaler != 0) && !n.is_number()) return false;
        if (p.code == obis_clock) {
            if (!n.is_bytes()) return false;
            const auto dt = cosem_datetime::parse(bytes(n));
            return dt && dt->to_utc().has_value();
        }
        if (meter_id_rank(p.code) != 0) return n.is_bytes() && is_printable(bytes(n));
        return true;
    }

    void apply_user_layout() {
        std::size_t child = 1;
        for (const layout_position& p : layout_.positions) {
            const axdr_node& n = nodes_[child];
            child += n.subtree;
            if (p.skip) continue;
            obis_value& v = add_value(p.code, n);
            if (n.is_number()) {
                v.scaler = p.scaler;
                v.unit = p.unit;
                v.has_scaler_unit = true;
            }
        }
    }

    // {array of N capture-object definitions, value 1, ..., value N-1}: the push setup's own
    // attribute 2 (push_object_list, IEC 62056-6-2 class 40) first, as the object list's first
    // entry says, then one value per further entry. Each definition is {long-unsigned
    // class_id, octet-string(6) logical_name, integer attribute_index, long-unsigned
    // data_index}.
    bool has_capture_list() const {
        if (nodes_.size() < 2 || nodes_[0].type != axdr_type::structure) return false;
        const std::uint32_t count = nodes_[0].count;
        const axdr_node& list = nodes_[1];
        if (count < 2 || list.type != axdr_type::array || list.count != count) return false;
        std::size_t i = 2;
        for (std::uint32_t k = 0; k < list.count; ++k) {
            if (!is_capture_definition(i)) return false;
            i += nodes_[i].subtree;
        }
        // The first entry names the push setup's object list (class 40, attribute 2).
        return nodes_[3].uint_value == push_setup_class && nodes_[5].int_value == 2;
    }

    bool is_capture_definition(std::size_t i) const {
        if (i + 4 >= nodes_.size()) return false;
        const axdr_node& n = nodes_[i];
        return n.type == axdr_type::structure && n.count == 4 && n.subtree == 5 &&
               nodes_[i + 1].type == axdr_type::long_unsigned && is_obis(nodes_[i + 2]) &&
               nodes_[i + 3].type == axdr_type::integer &&
               nodes_[i + 4].type == axdr_type::long_unsigned;
    }

    void apply_capture_list() {
        const axdr_node& list = nodes_[1];
        std::size_t def = 2 + nodes_[2].subtree;  // the first entry is the list itself
        std::size_t value = 1 + list.subtree;
        const std::size_t first_value = out_.values.size();
        for (std::uint32_t k = 1; k < list.count; ++k) {
            const obis_code code = *obis_code::from_bytes(bytes(nodes_[def + 2]));
            const std::int64_t attribute = nodes_[def + 3].int_value;
            const axdr_node& n = nodes_[value];
            const std::uint64_t class_id = nodes_[def + 1].uint_value;
            const bool reg = class_id == register_class || class_id == extended_register_class;
            if (attribute == 2 && !n.is_container() &&
                (class_id == data_class || class_id == clock_class || reg)) {
                add_value(code, n);  // a register's only with its scaler (below)
                if (reg && n.is_number()) unscaled_.push_back(code);
            } else if (attribute == 3 && reg && is_scaler_unit(value)) {
                scaler_units_.push_back({code,
                                         static_cast<std::int8_t>(nodes_[value + 1].int_value),
                                         static_cast<std::uint8_t>(nodes_[value + 2].int_value)});
            } else if (n.is_number()) {
                ++out_.untagged_values;  // an attribute evn-mbus does not publish
            }
            def += nodes_[def].subtree;
            value += n.subtree;
        }
        // A register's scaler and unit, sent as its attribute 3 beside its value; a register
        // value without them is left out (counted), not published unscaled.
        for (const auto& su : scaler_units_) {
            for (std::size_t v = first_value; v < out_.values.size(); ++v) {
                obis_value& o = out_.values[v];
                if (o.code == su.code && o.is_number()) {
                    o.scaler = su.scaler;
                    o.unit = su.unit;
                    o.has_scaler_unit = true;
                }
            }
        }
        for (const obis_code& code : unscaled_) {
            for (std::size_t v = first_value; v < out_.values.size();) {
                if (out_.values[v].code == code && !out_.values[v].has_scaler_unit) {
                    out_.values.erase(out_.values.begin() + static_cast<std::ptrdiff_t>(v));
                    ++out_.untagged_values;
                } else {
                    ++v;
                }
            }
        }
    }

    // The top structure's elements, for the log's ready-to-paste layout (reading::shape).
    void record_shape() {
        if (nodes_.empty() || nodes_[0].type != axdr_type::structure) return;
        std::size_t child = 1;
        for (std::uint32_t k = 0; k < nodes_[0].count; ++k) {
            const axdr_node& n = nodes_[child];
            shape_element& e = out_.shape.emplace_back();
            e.type = n.type;
            if (n.is_container()) {
                e.preview = std::to_string(n.count) + " elements";
            } else if (n.is_bytes()) {
                bytes_text(bytes(n), e.preview);
            } else if (n.is_unsigned_integer()) {
                e.preview = std::to_string(n.uint_value);
            } else if (n.type == axdr_type::float32 || n.type == axdr_type::float64) {
                e.preview = std::to_string(n.float_value);
            } else {
                e.preview = std::to_string(n.int_value);
            }
            child += n.subtree;
        }
    }

    // The profile whose every slot the top structure's elements fit, or null.
    const push_profile* matching_profile() const {
        if (nodes_.empty() || nodes_[0].type != axdr_type::structure) return nullptr;
        for (const push_profile& p : push_profiles) {
            if (layout_.builtin && *layout_.builtin != p.layout) continue;
            if (nodes_[0].count != p.slots.size()) continue;
            bool all = true;
            std::size_t child = 1;
            for (const slot& s : p.slots) {
                if (!fits(s, nodes_[child])) {
                    all = false;
                    break;
                }
                child += nodes_[child].subtree;
            }
            if (all) return &p;
        }
        return nullptr;
    }

    bool fits(const slot& s, const axdr_node& n) const {
        const bool text = n.type == axdr_type::octet_string || n.type == axdr_type::visible_string;
        switch (s.kind) {
            case slot_kind::push_id:
                return n.type == axdr_type::octet_string &&
                       obis_code::from_bytes(bytes(n)) == s.code;
            case slot_kind::meter_number:
                return text && is_printable(bytes(n));
            case slot_kind::clock: {
                if (n.type != axdr_type::octet_string && n.type != axdr_type::date_time) {
                    return false;
                }
                const auto dt = cosem_datetime::parse(bytes(n));  // 12 bytes, a valid instant
                return dt && dt->to_utc().has_value();
            }
            case slot_kind::time_part:
                return (n.type == axdr_type::octet_string || n.type == axdr_type::time) &&
                       n.length == 4;
            case slot_kind::date_part:
                return (n.type == axdr_type::octet_string || n.type == axdr_type::date) &&
                       n.length == 5;
            case slot_kind::counter:
                return n.type == axdr_type::double_long_unsigned;
            case slot_kind::long_value:
                return n.type == axdr_type::long_unsigned;
            case slot_kind::text:
                return text;
        }
        return false;
    }

    void apply(const push_profile& p) {
        std::size_t child = 1;
        for (const slot& s : p.slots) {
            const axdr_node& n = nodes_[child];
            child += n.subtree;
            switch (s.kind) {
                case slot_kind::push_id:
                case slot_kind::time_part:
                case slot_kind::date_part:
                    break;
                case slot_kind::text:
                    if (n.length > 0) add_value(s.code, n);
                    break;
                case slot_kind::meter_number:
                case slot_kind::clock:
                    add_value(s.code, n);
                    break;
                case slot_kind::counter:
                case slot_kind::long_value: {
                    obis_value& v = add_value(s.code, n);
                    v.scaler = s.scaler;
                    v.unit = s.unit;
                    v.has_scaler_unit = true;
                    break;
                }
            }
        }
    }

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
                // {class, OBIS, attribute, index} names an object; its integer is no value.
                if (!is_capture_definition(child)) walk(child);
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
            v.text = out_.take_text();
            const auto utc = bytes_text(b, v.text);
            if (code == obis_clock && utc) out_.clock = utc;
            if (const int rank = meter_id_rank(code);
                rank != 0 && rank < number_rank_ && is_printable(b)) {
                out_.meter_number = v.text;
                number_rank_ = rank;
            }
            if (code == obis_device_name && is_printable(b)) out_.device_name = v.text;
        }
        return v;
    }

    void unpaired(const axdr_node& n) {
        if (n.is_number()) ++out_.untagged_values;
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
    const layout_choice& layout_;
    reading& out_;
    struct scaler_unit {
        obis_code code;
        std::int8_t scaler;
        std::uint8_t unit;
    };
    std::vector<scaler_unit> scaler_units_;
    std::vector<obis_code> unscaled_;  // register values of a capture list
    std::optional<std::chrono::sys_seconds> loose_clock_;
    std::string loose_number_;
    int number_rank_ = untagged_meter_id_rank;  // of out_.meter_number (meter_id_rank)
};

}  // namespace

void extract_readings(const data_notification& notification, std::span<const std::uint8_t> body,
                      const std::vector<axdr_node>& nodes, const layout_choice& layout,
                      reading& out) {
    extractor(body, nodes, layout, out).run(notification);
}

}  // namespace evn_mbus
