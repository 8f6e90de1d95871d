// meter.layout in the configuration (push_layout.hpp): auto, a built-in layout by name, the
// user's own list; each mistake reported at its element with what to write; check-config
// shows it back so that it reads again the same; decode --layout takes the same text.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <tuple>

#include "config_loader.hpp"

namespace evn_mbus {
namespace {

const std::string key_line = "  key: 36C66639E48A8CA4D6BC8B282A793BBB\n";

config_result load_meter(const std::string& layout_lines) {
    return load_config_text("meter:\n" + key_line + layout_lines, "");
}

std::string all_messages(const config_result& r) {
    std::string s;
    for (const auto& p : r.problems)
        s += describe(p, "test.yaml") + "\n";
    return s;
}

TEST(config_layout, auto_a_name_or_a_list) {
    const auto by_default = load_meter("");
    ASSERT_TRUE(by_default.config) << all_messages(by_default);
    EXPECT_EQ(by_default.config->meter.layout, layout_choice{});

    const auto named = load_meter("  layout: Netz-Burgenland\n");
    ASSERT_TRUE(named.config) << all_messages(named);
    EXPECT_EQ(named.config->meter.layout.builtin, value_layout::netz_burgenland);
    EXPECT_TRUE(named.config->meter.layout.positions.empty());

    const auto listed = load_meter(
        "  layout:\n    - skip\n    - 0-0:96.1.0\n    - 1-0:31.7.0 A scaler -2\n"
        "    - \"1-0:1.8.0 Wh\"\n");
    ASSERT_TRUE(listed.config) << all_messages(listed);
    const auto& p = listed.config->meter.layout.positions;
    ASSERT_EQ(p.size(), 4u);
    EXPECT_TRUE(p[0].skip);
    EXPECT_EQ(p[1].code, obis_meter_number);
    EXPECT_EQ(p[2].scaler, -2);
    EXPECT_EQ(p[2].unit, 33);
    EXPECT_EQ(p[3].unit, 30);
    EXPECT_FALSE(listed.config->meter.layout.builtin.has_value());

    const auto flow =
        load_meter("  layout: [skip, 0-0:96.1.0, 1-0:31.7.0 A scaler -2, 1-0:1.8.0 Wh]\n");
    ASSERT_TRUE(flow.config) << all_messages(flow);
    EXPECT_EQ(flow.config->meter.layout, listed.config->meter.layout);
}

TEST(config_layout, mistakes_are_reported_at_their_element) {
    const std::tuple<std::string, int, int, std::string> cases[] = {
        {"  layout: netz-burgenlnd\n", 3, 11, "did you mean \"netz-burgenland\""},
        {"  layout:\n    - skip\n    - 1-0:1.8.0 kWh\n", 5, 7,
         "element 2 (\"1-0:1.8.0 kWh\"): after the OBIS code comes a unit"},
        {"  layout:\n    - A+\n", 4, 7,
         "element 1 (\"A+\"): it does not start with skip or an OBIS code"},
        {"  layout:\n    - [1-0:1.8.0]\n", 4, 7, "element 1 must be a single value, not a list"},
        {"  layout: []\n", 3, 11, "is an empty list"},
        {"  layout: [skip, skip]\n", 3, 11, "skips every element"},
        {"  layout:\n    kind: mine\n", 4, 5, "must be a single value, not a section"},
        {"  layout:\n    - skip\n    -\n    - 1-0:1.8.0\n", 4, 5, "element 2 is empty; write skip"},
        {"  layout: [1-0:1.8.0 Wh, skip, 1-0:1.8.0.255]\n", 3, 32,
         "element 3 (\"1-0:1.8.0.255\") names the same OBIS code as element 1"},
    };
    for (const auto& [yaml, line, column, text] : cases) {
        const auto r = load_meter(yaml);
        ASSERT_FALSE(r.config) << yaml;
        ASSERT_EQ(r.problems.size(), 1u) << all_messages(r);
        const auto& p = r.problems.front();
        EXPECT_EQ(p.key.rfind("meter.layout", 0), 0u) << p.key;  // "meter.layout element 1"
        EXPECT_EQ(p.line, line) << yaml << all_messages(r);
        EXPECT_EQ(p.column, column) << yaml << all_messages(r);
        EXPECT_NE(p.message.find(text), std::string::npos) << yaml << "\n" << p.message;
    }
}

TEST(config_layout, check_config_shows_it_as_it_reads_again) {
    for (const std::string layout :
         {"auto", "eww-wels", "[skip, 0-0:96.1.0, 1-0:31.7.0 A scaler -2, 1-0:81.7.40 deg]"}) {
        const auto first = load_meter("  layout: " + layout + "\n");
        ASSERT_TRUE(first.config) << all_messages(first);
        const std::string shown = effective_config_yaml(*first.config);
        const YAML::Node n = YAML::Load(shown);
        const YAML::Node again_node = n["meter"]["layout"];
        ASSERT_TRUE(again_node.IsDefined()) << shown;
        YAML::Emitter e;
        e << YAML::Flow << again_node;
        const auto again = load_meter(std::string("  layout: ") + e.c_str() + "\n");
        ASSERT_TRUE(again.config) << all_messages(again) << shown;
        EXPECT_EQ(again.config->meter.layout, first.config->meter.layout) << shown;
    }
}

TEST(config_layout, decode_takes_the_same_text) {
    std::string problem;
    const auto name = parse_layout_text("kaernten-netz", problem);
    ASSERT_TRUE(name) << problem;
    EXPECT_EQ(name->builtin, value_layout::kaernten_netz);
    const auto list = parse_layout_text("[skip, 1-0:1.8.0 Wh]", problem);
    ASSERT_TRUE(list) << problem;
    EXPECT_EQ(list->positions.size(), 2u);
    EXPECT_FALSE(parse_layout_text("[skip, 1-0:1.8.0 kWh]", problem));
    EXPECT_NE(problem.find("element 2"), std::string::npos) << problem;
    EXPECT_FALSE(parse_layout_text("[skip", problem));
    EXPECT_NE(problem.find("not a name or a YAML list"), std::string::npos) << problem;
}

}  // namespace
}  // namespace evn_mbus
