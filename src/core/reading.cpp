#include "evn_mbus/reading.hpp"

#include <cmath>
#include <utility>

namespace evn_mbus {

std::string_view layout_name(value_layout layout) noexcept {
    switch (layout) {
        case value_layout::empty:
            return "empty";
        case value_layout::obis_tagged:
            return "obis-tagged";
        case value_layout::wiener_netze:
            return "wiener-netze";
        case value_layout::wiener_netze_im350:
            return "wiener-netze-im350";
        case value_layout::kaernten_netz:
            return "kaernten-netz";
        case value_layout::eww_wels:
            return "eww-wels";
        case value_layout::netz_burgenland:
            return "netz-burgenland";
        case value_layout::configured:
            return "configured";
        case value_layout::capture_list:
            return "capture-list";
        case value_layout::mbus_records:
            return "mbus-records";
        case value_layout::untagged:
            return "untagged";
        case value_layout::dsmr:
            return "dsmr";
    }
    return "unknown";
}

std::string_view flag_manufacturer(std::string_view flag_id) noexcept {
    // DLMS UA FLAG ids (shared with the M-Bus manufacturer ids) of meters sold in Austria.
    // "SMS" is registered to Smart Metering Solutions (Changsha); the meters that send it
    // (Wiener Netze's IM350, meter numbers "SMS...") carry the Siemens name.
    struct entry {
        std::string_view id, name;
    };
    static constexpr entry table[] = {
        {"KFM", "Kaifa"},   {"SAG", "Sagemcom"},     {"ISK", "Iskraemeco"}, {"LGZ", "Landis+Gyr"},
        {"SMS", "Siemens"}, {"SIE", "Siemens"},      {"SAM", "Siemens"},    {"HON", "Honeywell"},
        {"ELS", "Elster"},  {"EMH", "EMH metering"},
    };
    for (const auto& e : table) {
        if (e.id == flag_id) return e.name;
    }
    return {};
}

bool obis_value::is_number() const noexcept {
    axdr_node n;
    n.type = type;
    return n.is_number();
}

double obis_value::scaled() const noexcept {
    axdr_node n;
    n.type = type;
    double v = 0.0;
    if (n.is_unsigned_integer()) {
        v = static_cast<double>(raw_unsigned);
    } else if (n.is_signed_integer() || type == axdr_type::enumeration) {
        v = static_cast<double>(raw_signed);
    } else if (type == axdr_type::float32 || type == axdr_type::float64) {
        v = raw_float;
    } else {
        return 0.0;
    }
    // Divide for negative scalers: 2337 / 10 is exactly the double nearest 233.7, whereas
    // 2337 * 0.1 is not.
    if (scaler < 0) return v / std::pow(10.0, -scaler);
    if (scaler > 0) return v * std::pow(10.0, scaler);
    return v;
}

std::optional<std::int64_t> obis_value::scaled_integer() const noexcept {
    axdr_node n;
    n.type = type;
    if (scaler < 0 || scaler > 9) return std::nullopt;
    std::int64_t factor = 1;
    for (int i = 0; i < scaler; ++i)
        factor *= 10;
    if (n.is_unsigned_integer()) {
        if (raw_unsigned >
            static_cast<std::uint64_t>(INT64_MAX) / static_cast<std::uint64_t>(factor)) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(raw_unsigned) * factor;
    }
    if (n.is_signed_integer() || type == axdr_type::enumeration) {
        if (raw_signed > INT64_MAX / factor || raw_signed < INT64_MIN / factor) return std::nullopt;
        return raw_signed * factor;
    }
    return std::nullopt;
}

const obis_value* reading::find(const obis_code& code) const noexcept {
    for (const auto& v : values) {
        if (v.code == code) return &v;
    }
    return nullptr;
}

const obis_value* reading::find_named(std::string_view name) const noexcept {
    for (const auto& v : values) {
        if (!v.is_number()) continue;
        const auto q = name_for(v.code);
        if (q && q->name == name) return &v;
    }
    return nullptr;
}

std::optional<double> reading::named(std::string_view name) const noexcept {
    const obis_value* v = find_named(name);
    if (v == nullptr) return std::nullopt;
    return v->scaled();
}

std::string reading::manufacturer() const {
    std::string m;
    for (int i = 0; i < 3; ++i) {
        const char c = static_cast<char>(title[static_cast<std::size_t>(i)]);
        if (c < 'A' || c > 'Z') return {};
        m.push_back(c);
    }
    return m;
}

std::string reading::manufacturer_label() const {
    const std::string id = manufacturer();
    if (id.empty()) return {};
    const auto name = flag_manufacturer(id);
    if (name.empty()) return id + " (manufacturer id unknown to evn-mbus)";
    return std::string(name) + " (" + id + ")";
}

std::string reading::take_text() noexcept {
    if (spare_texts_.empty()) return {};
    std::string s = std::move(spare_texts_.back());
    spare_texts_.pop_back();
    s.clear();
    return s;
}

void reading::clear() {
    title = {};
    frame_counter = 0;
    security_control = 0;
    encrypted = false;
    tag_verified = false;
    invoke_id = 0;
    clock.reset();
    meter_number.clear();
    device_name.clear();
    for (obis_value& v : values) {
        if (v.text.capacity() > std::string().capacity()) spare_texts_.push_back(std::move(v.text));
    }
    values.clear();
    layout = value_layout::empty;
    untagged_values = 0;
    unnamed_records.clear();
    shape.clear();
    link = link_layer::auto_detect;
    block_transfer = false;
}

}  // namespace evn_mbus
