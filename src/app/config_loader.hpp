// Reads the daemon's YAML configuration (/etc/evn-mbus.yaml) into a daemon_config, checking
// every key: unknown keys (typos), wrong types and out-of-range values are all reported at
// once, with the line and column, so that a home owner can fix the file in one go.
// Nothing here throws or crashes, whatever the input (it is fuzzed).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon_config.hpp"

namespace evn_mbus {

inline constexpr const char* default_config_path = "/etc/evn-mbus.yaml";

struct config_problem {
    std::string key;  // dotted path such as "serial.idle_gap_ms"; empty for the whole file
    int line = 0;     // 1-based; 0 if unknown
    int column = 0;   // 1-based; 0 if unknown
    std::string message;
};

struct config_result {
    std::optional<daemon_config> config;  // set only when there are no problems
    std::vector<config_problem> problems;
    // The file works, but probably not as meant (a password YAML read as a comment, a serial
    // device that does not exist yet): said, and the configuration is used all the same.
    std::vector<config_problem> warnings;
};

// Relative file names in the configuration (meter.key_file, mqtt.password_file, mqtt.tls.*)
// are taken relative to origin_dir (left as they are if origin_dir is empty).
config_result load_config_text(std::string_view yaml, const std::string& origin_dir);

// A meter.layout value given as text (decode --layout): "auto", a built-in layout's name, or a
// YAML list "[skip, 1-0:1.8.0 Wh]". nullopt with `problem` set when it is not one.
std::optional<layout_choice> parse_layout_text(std::string_view text, std::string& problem);

// Reads and checks the file; relative file names in it are relative to its directory. An
// empty mqtt.client_id becomes the default for this host and file (client_id.hpp).
config_result load_config_file(const std::string& path);

// "path:line:column: message", as compilers print it (line and column left out when unknown).
std::string describe(const config_problem& problem, const std::string& path);

// The whole configuration, defaults included, as YAML; keys and passwords are masked.
std::string effective_config_yaml(const daemon_config& config);

}  // namespace evn_mbus
