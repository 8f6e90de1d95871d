#include "reading_json.hpp"

#include "evn_mbus/cosem_datetime.hpp"

namespace evn_mbus {

nlohmann::json value_json(const obis_value& v) {
    if (v.type == axdr_type::boolean) return v.raw_signed != 0;
    if (v.type == axdr_type::null_data) return nullptr;
    if (!v.is_number()) return v.text;
    if (const auto i = v.scaled_integer()) return *i;
    return v.scaled();
}

nlohmann::json derived_json(const derived_value& d) {
    if (d.integer) return *d.integer;
    return d.value;
}

nlohmann::json to_json(const reading& r) {
    nlohmann::json j = nlohmann::json::object();
    if (!r.meter_number.empty()) j["meter_number"] = r.meter_number;
    if (!r.device_name.empty()) j["device_name"] = r.device_name;
    if (r.clock) j["clock"] = format_utc(*r.clock);
    nlohmann::json obis = nlohmann::json::object();
    for (const auto& v : r.values) {
        nlohmann::json value = value_json(v);
        if (v.is_number()) {
            if (const auto q = name_for(v.code)) j[std::string(q->name)] = value;
        }
        nlohmann::json entry = {{"value", std::move(value)}};
        const auto unit = unit_symbol(v.unit);
        if (v.has_scaler_unit && !unit.empty()) entry["unit"] = unit;
        obis[v.code.to_string()] = std::move(entry);
    }
    for (const auto& d : derived_values(r))
        j[std::string(d.name)] = derived_json(d);
    j["obis"] = std::move(obis);
    // EN 13757-3 records evn-mbus does not name, by their DIF/VIF header, as sent.
    if (!r.unnamed_records.empty()) {
        nlohmann::json records = nlohmann::json::object();
        for (const auto& u : r.unnamed_records)
            records[u.header] = value_json(u.value);
        j["mbus_records"] = std::move(records);
    }
    return j;
}

}  // namespace evn_mbus
