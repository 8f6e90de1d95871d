// Reads a file of JSON lines (the simulator's --expect file) for the e2e and faults tests.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace evn_mbus::test {

inline std::vector<nlohmann::json> read_json_lines(const std::string& path) {
    std::vector<nlohmann::json> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
}

}  // namespace evn_mbus::test
