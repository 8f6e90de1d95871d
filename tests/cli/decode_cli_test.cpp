// `evn-mbus decode` as a user runs it: real capture files in, JSON Lines out.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "child_process.hpp"
#include "fixture_layout.hpp"
#include "fixture_loader.hpp"
#include "json_lines.hpp"

namespace evn_mbus::test {
namespace {

const std::string binary = EVN_MBUS_BINARY;
const std::string fixtures = EVN_MBUS_FIXTURES_DIR;

std::string key_of(const std::string& id) {
    return to_hex(capture_by_id(id).keys.key);
}

TEST(decode_cli, evn_kaifa_capture_file_gives_the_published_values) {
    const auto& e = capture_by_id("evn_kaifa_ma309_doc").expected;
    const auto r = run_process({binary, "decode", "--key", key_of("evn_kaifa_ma309_doc"),
                                fixtures + "/evn_kaifa_ma309_doc.hex"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const auto lines = parse_json_lines(r.out);
    ASSERT_EQ(lines.size(), 1u);
    const auto& j = lines[0];
    EXPECT_EQ(j.at("meter_number"), e.at("meter_number"));
    EXPECT_EQ(j.at("clock"), "2021-09-27T07:47:15Z");
    EXPECT_EQ(j.at("w_p"), e.at("1.8.0_Wh"));
    EXPECT_TRUE(j.at("w_p").is_number_integer());
    EXPECT_EQ(j.at("w_n"), e.at("2.8.0_Wh"));
    EXPECT_EQ(j.at("p_p"), e.at("1.7.0_W"));
    EXPECT_EQ(j.at("p_n"), e.at("2.7.0_W"));
    // Derived: P+ - P- of the example (both 0 W), an integer as they are.
    EXPECT_EQ(j.at("p_net"), e.at("1.7.0_W").get<int>() - e.at("2.7.0_W").get<int>());
    EXPECT_TRUE(j.at("p_net").is_number_integer());
    EXPECT_DOUBLE_EQ(j.at("u1").get<double>(), e.at("U1_V").get<double>());
    EXPECT_DOUBLE_EQ(j.at("u2").get<double>(), e.at("U2_V").get<double>());
    EXPECT_DOUBLE_EQ(j.at("u3").get<double>(), e.at("U3_V").get<double>());
    EXPECT_DOUBLE_EQ(j.at("i1").get<double>(), e.at("I1_A").get<double>());
    EXPECT_DOUBLE_EQ(j.at("i2").get<double>(), e.at("I2_A").get<double>());
    EXPECT_DOUBLE_EQ(j.at("i3").get<double>(), e.at("I3_A").get<double>());
    EXPECT_DOUBLE_EQ(j.at("phi").get<double>(), e.at("PF").get<double>());
    // The printed text is what users see: 233.7, not 233.70000000000002.
    EXPECT_NE(r.out.find("\"u1\":233.7,"), std::string::npos) << r.out;
    const auto& obis = j.at("obis");
    EXPECT_EQ(obis.at("1-0:1.8.0.255").at("value"), 12937);
    EXPECT_EQ(obis.at("1-0:1.8.0.255").at("unit"), "Wh");
    EXPECT_EQ(obis.at("1-0:32.7.0.255").at("unit"), "V");
    EXPECT_EQ(obis.size(), 11u);
}

TEST(decode_cli, every_mbus_capture_decodes_from_stdin_as_hex_and_as_binary) {
    for (const auto& c : mbus_captures()) {
        std::ifstream f(fixtures + "/" + c.id + ".hex");
        const std::string text{std::istreambuf_iterator<char>(f), {}};
        const auto from_text = run_process({binary, "decode", "--key", key_of(c.id)}, text);
        ASSERT_EQ(from_text.status, 0) << c.id << ": " << from_text.err;
        const bytes raw = concat(c.frames);
        const auto from_binary = run_process({binary, "decode", "--key", key_of(c.id), "-"},
                                             std::string(raw.begin(), raw.end()));
        ASSERT_EQ(from_binary.status, 0) << c.id << ": " << from_binary.err;
        EXPECT_EQ(from_text.out, from_binary.out);
        ASSERT_EQ(parse_json_lines(from_text.out).size(), 1u);
    }
}

TEST(decode_cli, key_with_spaces_and_0x_prefix) {
    const auto r =
        run_process({binary, "decode", "--key", "0x36 C6 66 39 E4 8A 8C A4 D6 BC 8B 28 2A 79 3B BB",
                     fixtures + "/evn_kaifa_ma309_doc.hex"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(parse_json_lines(r.out).size(), 1u);
}

TEST(decode_cli, key_of_the_wrong_length_is_a_clear_error) {
    const auto r = run_process({binary, "decode", "--key", "36C66639E48A8CA4D6BC8B282A793B",
                                fixtures + "/evn_kaifa_ma309_doc.hex"});
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("32 hex digits"), std::string::npos) << r.err;
}

TEST(decode_cli, wrong_key_says_so_and_fails) {
    const auto r = run_process({binary, "decode", "--key", "00112233445566778899AABBCCDDEEFF",
                                fixtures + "/evn_kaifa_ma309_doc.hex"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("key is most likely wrong"), std::string::npos) << r.err;
    // The key never appears in what the tool prints.
    EXPECT_EQ(r.err.find("00112233445566778899"), std::string::npos);
}

TEST(decode_cli, a_bad_telegram_does_not_stop_the_next) {
    const auto& c = capture_by_id("evn_kaifa_ma309_doc");
    std::vector<bytes> damaged = c.frames;
    // After DB 08 title(8) 81 F8 20 counter(4): the fifth ciphertext byte (checksum fails).
    damaged[0][mbus_at::dlms_length + 2 + 1 + 4 + 4] ^= 0x04;
    std::string input = "# good, damaged, good\n";
    for (const std::vector<bytes>* frames : {&c.frames, &std::as_const(damaged), &c.frames}) {
        for (const auto& f : *frames)
            input += to_hex(f) + "\n";
    }
    const auto r = run_process({binary, "decode", "--key", key_of(c.id)}, input);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(parse_json_lines(r.out).size(), 2u);
    EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
}

TEST(decode_cli, input_without_frames) {
    const auto r = run_process({binary, "decode", "--key", key_of("evn_kaifa_ma309_doc")},
                               "# nothing here\n00 11 22\n");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("no M-Bus telegram found"), std::string::npos) << r.err;
}

TEST(decode_cli, missing_file) {
    const auto r = run_process(
        {binary, "decode", "--key", key_of("evn_kaifa_ma309_doc"), "/nonexistent/capture.hex"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("/nonexistent/capture.hex"), std::string::npos) << r.err;
}

// A push no layout fits: its numbers left out, the layout to fill in on stderr (once per shape,
// not per push); the same push with --layout gives named values. The real Netz Burgenland
// capture, with another built-in layout named so that its own does not fit.
TEST(decode_cli, a_push_no_layout_fits_gets_a_layout_to_fill_in_and_layout_names_it) {
    const std::string id = "lgz_e450_netzburgenland_amsreader_gh501_2";
    const std::string file = fixtures + "/" + id + ".hex";
    std::ifstream f(file);
    const std::string once{std::istreambuf_iterator<char>(f), {}};
    const auto r = run_process({binary, "decode", "--key", key_of(id), "--layout", "wiener-netze"},
                               once + "\n" + once);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = parse_json_lines(r.out);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_FALSE(lines[0].contains("w_p")) << r.out;
    const std::string skeleton =
        "layout: [skip, skip, skip, skip, skip, skip, skip, skip, skip, skip, skip, skip, skip, "
        "skip]";
    const auto at = r.err.find(skeleton);
    EXPECT_NE(at, std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(skeleton, at + 1), std::string::npos) << "said twice:\n" << r.err;
    EXPECT_NE(r.err.find("9 double-long-unsigned 31358606"), std::string::npos) << r.err;

    const auto named =
        run_process({binary, "decode", "--key", key_of(id), "--layout",
                     "[1-0:32.7.0 V, 1-0:52.7.0 V, 1-0:72.7.0 V, 1-0:31.7.0 A scaler -2, "
                     "1-0:51.7.0 A scaler -2, 1-0:71.7.0 A scaler -2, 1-0:1.7.0 W, 1-0:2.7.0 W, "
                     "1-0:1.8.0 Wh, 1-0:2.8.0 Wh, skip, skip, skip, 0-0:96.1.0]",
                     file});
    ASSERT_EQ(named.status, 0) << named.err;
    EXPECT_EQ(named.err, "");
    const auto j = parse_json_lines(named.out);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0].at("w_p"), 31358606);
    EXPECT_DOUBLE_EQ(j[0].at("i2").get<double>(), 0.04);
    EXPECT_EQ(j[0].at("meter_number"), "30137181");

    const auto bad = run_process(
        {binary, "decode", "--key", key_of(id), "--layout", "[skip, 1-0:1.8.0 kWh]", file});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("--layout: the layout element 2 (\"1-0:1.8.0 kWh\")"), std::string::npos)
        << bad.err;
    EXPECT_EQ(bad.out, "");
}

TEST(decode_cli, version_and_help) {
    const auto v = run_process({binary, "--version"});
    EXPECT_EQ(v.status, 0);
    EXPECT_EQ(v.out.rfind("evn-mbus ", 0), 0u) << v.out;
    const auto h = run_process({binary, "decode", "--help"});
    EXPECT_EQ(h.status, 0);
    EXPECT_NE(h.out.find("--auth-key"), std::string::npos);
}

}  // namespace
}  // namespace evn_mbus::test
