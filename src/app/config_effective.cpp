// check-config's effective configuration: every key of the schema with its value, defaults
// included, and its help line as a comment; secrets are shown only as "********" or
// "(not set)".
#include <yaml-cpp/yaml.h>

#include <string>

#include "config_loader.hpp"
#include "config_schema.hpp"

namespace evn_mbus {
namespace {

void show_section(YAML::Emitter& out, const daemon_config& c, const std::string& path) {
    out << YAML::BeginMap;
    for (const setting& s : config_schema().at(path)) {
        out << YAML::Key << std::string(s.name) << YAML::Value;
        if (s.section) {
            // A comment before a nested map would stand on the key's line, where YAML reads
            // it; yaml-cpp puts it there correctly only after a scalar.
            show_section(out, c,
                         path.empty() ? std::string(s.name) : path + "." + std::string(s.name));
        } else {
            s.show(out, c);
            out << YAML::Comment(std::string(s.help));
        }
    }
    out << YAML::EndMap;
}

}  // namespace

std::string effective_config_yaml(const daemon_config& c) {
    try {
        YAML::Emitter out;
        out << YAML::Comment(
            "effective evn-mbus configuration (defaults included, secrets hidden)");
        show_section(out, c, "");
        return std::string(out.c_str()) + "\n";
    } catch (...) {
        return {};
    }
}

}  // namespace evn_mbus
