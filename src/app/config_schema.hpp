// The configuration's schema: one table per section, one row per key. A row says how the key
// is read (kind, range or choices, through config_reader), how check-config shows it (secrets
// masked) and what it means (its help line); the example config/evn-mbus.yaml is checked
// against the table by tests/unit/config_schema_test.cpp. Adding a setting = one row here plus
// its struct field.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon_config.hpp"

namespace evn_mbus {

class config_reader;
struct entry;

struct setting {
    std::string_view name;
    // One line for a person: check-config shows it beside the value, and it stands in the
    // example's comment on the key (tests/unit/config_schema_test.cpp keeps the two together).
    std::string_view help;
    bool section = false;  // a nested section: its rows are under "<path>.<name>"
    bool secret = false;   // never shown: check-config prints "********" or "(not set)"
    std::function<void(config_reader&, const entry&)> read;
    std::function<void(YAML::Emitter&, const daemon_config&)> show;  // the value only
};

// Section path ("" = the top level, "mqtt.tls") -> its rows, in the order they are shown.
const std::map<std::string, std::vector<setting>>& config_schema();

// The spellings of the configuration's enumerations, one table each (link_layer's is in
// evn_mbus/link_layer.hpp).
template <typename E>
using spellings = std::vector<std::pair<std::string_view, E>>;
// The configuration's spelling of `value`; empty if the table has none.
template <typename E, typename V>
std::string_view spelling_of(const spellings<E>& table, const V& value) {
    for (const auto& [name, v] : table) {
        if (v == value) return name;
    }
    return {};
}
const spellings<serial_parity>& parity_spellings();
const spellings<energy_unit>& energy_unit_spellings();
const spellings<log_target>& log_target_spellings();
const spellings<std::string_view>& log_level_spellings();

}  // namespace evn_mbus
