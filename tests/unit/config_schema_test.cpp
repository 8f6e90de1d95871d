// The documented example config/evn-mbus.yaml and the schema table (config_schema.cpp) are
// one list of settings: every key of the example is a row of the table and every row is in
// the example, and the example shows each key with its default value, as its first comment
// line promises. A setting added to the table but not documented fails here.
#include "config_schema.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "config_loader.hpp"

namespace evn_mbus::test {
namespace {

const std::string example_path = std::string(EVN_MBUS_FIXTURES_DIR) + "/../config/evn-mbus.yaml";

std::string read_example() {
    std::ifstream in(example_path, std::ios::binary);
    EXPECT_TRUE(in) << example_path;
    return {std::istreambuf_iterator<char>(in), {}};
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

}  // namespace
}  // namespace evn_mbus::test
