// JSON Lines as tests read them: `evn-mbus decode`'s output and the simulator's --expect file.
#pragma once

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace evn_mbus::test {

// One object per non-empty line.
inline std::vector<nlohmann::json> parse_json_lines(const std::string& text) {
    std::vector<nlohmann::json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
}

inline std::vector<nlohmann::json> read_json_lines(const std::string& path) {
    std::ifstream in(path);
    return parse_json_lines({std::istreambuf_iterator<char>(in), {}});
}

}  // namespace evn_mbus::test
