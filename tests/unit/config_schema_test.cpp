// The documented example config/evn-mbus.yaml and the schema table (config_schema.cpp) are
// one list of settings: every key of the example is a row of the table and every row is in
// the example, and the example shows each key with its default value, as its first comment
// line promises. A setting added to the table but not documented fails here.
#include "config_schema.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config_loader.hpp"

namespace evn_mbus::test {
namespace {

const std::string example_path = std::string(EVN_MBUS_FIXTURES_DIR) + "/../config/evn-mbus.yaml";

std::string read_example() {
    std::ifstream in(example_path, std::ios::binary);
    EXPECT_TRUE(in) << example_path;
    return {std::istreambuf_iterator<char>(in), {}};
}

// Lower-case words separated by single spaces: a comment's line breaks, "#"s and the capital
// that starts a sentence are the file's layout.
std::string words(const std::string& text) {
    std::istringstream in(text);
    std::string out;
    for (std::string w; in >> w;) {
        if (w == "#") continue;
        if (!out.empty()) out.push_back(' ');
        out.append(w);
    }
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// (append, not `" " + text`: GCC 12 at -O3 warns falsely about that with -Wrestrict.)
void append_words(std::string& to, const std::string& text) {
    to.push_back(' ');
    to.append(text);
}

// The example's comment on each key, by dotted path: the comment lines right above the key,
// the comment on its line, and the comment-only lines below it that are indented past the
// key's name (the continuation of a comment in the right-hand column).
std::map<std::string, std::string> example_comments(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    std::map<std::string, std::string> out;
    std::vector<std::pair<std::size_t, std::string>> parents;  // indentation, name
    std::string above;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        const auto first = l.find_first_not_of(' ');
        if (first == std::string::npos) {
            above.clear();
            continue;
        }
        if (l[first] == '#') {
            append_words(above, l.substr(first + 1));
            continue;
        }
        const auto colon = l.find(':', first);
        if (colon == std::string::npos) continue;
        while (!parents.empty() && parents.back().first >= first)
            parents.pop_back();
        std::string path;
        for (const auto& p : parents)
            path += p.second + ".";
        const std::string name = l.substr(first, colon - first);
        path += name;
        std::string comment = above;
        above.clear();
        if (const auto hash = l.find(" #", colon); hash != std::string::npos) {
            append_words(comment, l.substr(hash + 2));
        }
        for (std::size_t j = i + 1; j < lines.size(); ++j) {
            const auto at = lines[j].find_first_not_of(' ');
            if (at == std::string::npos || lines[j][at] != '#' || at <= first + name.size()) break;
            append_words(comment, lines[j].substr(at + 1));
            i = j;
        }
        out[path] = words(comment);
        parents.emplace_back(first, name);
    }
    return out;
}

// "serial.baud", "mqtt.tls.ca_file", ...: the dotted path of every key that holds a value.
void collect_keys(const YAML::Node& map, const std::string& prefix, std::set<std::string>& out) {
    for (const auto& kv : map) {
        const std::string path = prefix + kv.first.as<std::string>();
        if (kv.second.IsMap()) {
            collect_keys(kv.second, path + ".", out);
        } else {
            out.insert(path);
        }
    }
}

std::set<std::string> schema_keys() {
    std::set<std::string> out;
    for (const auto& [section, rows] : config_schema()) {
        for (const setting& s : rows) {
            if (s.section) continue;
            out.insert(section.empty() ? std::string(s.name) : section + "." + std::string(s.name));
        }
    }
    return out;
}

TEST(config_schema, the_example_documents_every_row_and_nothing_else) {
    std::set<std::string> example;
    collect_keys(YAML::Load(read_example()), "", example);
    const auto table = schema_keys();
    for (const auto& k : table)
        EXPECT_TRUE(example.count(k)) << k << " is not in " << example_path;
    for (const auto& k : example)
        EXPECT_TRUE(table.count(k)) << k << " is not in the schema";
    EXPECT_GT(table.size(), 30u);  // the table was read at all
}

TEST(config_schema, the_example_shows_every_default) {
    std::string text = read_example();
    const std::string placeholder = "REPLACE_WITH_YOUR_32_HEX_DIGIT_KEY";
    const auto at = text.find(placeholder);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, placeholder.size(), "000102030405060708090A0B0C0D0E0F");
    const auto r = load_config_text(text, "");
    ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems.front().message);
    daemon_config shown = *r.config;
    ASSERT_TRUE(shown.meter.key);
    shown.meter.key.reset();  // the one value the user must change
    EXPECT_EQ(effective_config_yaml(shown), effective_config_yaml(daemon_config{}));
    EXPECT_TRUE(shown == daemon_config{});
}

// Each row's help line (shown by check-config) is what the example says of that key, so the
// two cannot drift apart.
TEST(config_schema, every_row_has_a_help_line_and_the_example_says_it) {
    const auto comments = example_comments(read_example());
    std::size_t rows = 0;
    for (const auto& [section, table] : config_schema()) {
        for (const setting& s : table) {
            const std::string path =
                section.empty() ? std::string(s.name) : section + "." + std::string(s.name);
            ++rows;
            EXPECT_FALSE(s.help.empty()) << path << " has no help line";
            const auto c = comments.find(path);
            ASSERT_NE(c, comments.end()) << path << " is not in " << example_path;
            EXPECT_NE(c->second.find(words(std::string(s.help))), std::string::npos)
                << path << ": the help line \"" << s.help
                << "\" is not in the example's comment on it: \"" << c->second << "\"";
        }
    }
    EXPECT_GT(rows, 35u);
}

// check-config prints each value with its help line beside it.
TEST(config_schema, the_effective_configuration_carries_the_help_lines) {
    const std::string shown = effective_config_yaml(daemon_config{});
    for (const auto& [section, table] : config_schema()) {
        for (const setting& s : table) {
            if (s.section) continue;
            EXPECT_NE(shown.find("# " + std::string(s.help)), std::string::npos)
                << s.name << "'s help line is not in:\n"
                << shown;
        }
    }
    const YAML::Node n = YAML::Load(shown);  // still YAML, with the same values
    EXPECT_EQ(n["serial"]["baud"].as<int>(), 2400);
    EXPECT_EQ(n["mqtt"]["tls"]["verify"].as<bool>(), true);
}

}  // namespace
}  // namespace evn_mbus::test
