// HDLC through the command-line tool: `evn-mbus decode` on the real HDLC capture files, and
// `evn-mbus simulate --link-layer hdlc|hdlc-gbt` writing pushes that decode to what it says.
#include <stdlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "child_process.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

const std::string binary = EVN_MBUS_BINARY;
const std::string fixtures = EVN_MBUS_FIXTURES_DIR;
const std::string evn_key = "36C66639E48A8CA4D6BC8B282A793BBB";

std::vector<nlohmann::json> json_lines(const std::string& text) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(nlohmann::json::parse(line));
    return lines;
}

std::vector<std::string> decode_args(const capture& c) {
    std::vector<std::string> args{binary, "decode", "--key", to_hex(c.keys.key)};
    if (c.keys.auth_key) {
        args.push_back("--auth-key");
        args.push_back(to_hex(*c.keys.auth_key));
    }
    args.push_back(fixtures + "/" + c.id + ".hex");
    return args;
}

TEST(hdlc_decode_cli, every_hdlc_capture_file_decodes) {
    for (const std::string id :
         {"lgz_e450_landis_gyr_e450", "iskra_am550_kaerntennetz_amsreader_gh787",
          "wienernetze_siemens_rddl", "shrdzm_siemens_im350_wels_frame2",
          "lgz_e450_netzburgenland_amsreader_gh501_2"}) {
        const auto r = run_process(decode_args(capture_by_id(id)));
        ASSERT_EQ(r.status, 0) << id << ": " << r.err;
        EXPECT_EQ(r.err, "") << id;
        EXPECT_EQ(json_lines(r.out).size(), 1u) << id;
    }
}

TEST(hdlc_decode_cli, landis_gyr_values) {
    const auto r = run_process(decode_args(capture_by_id("lgz_e450_landis_gyr_e450")));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = json_lines(r.out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].at("w_p"), 4408736);
    EXPECT_EQ(lines[0].at("p_p"), 2893);
    EXPECT_EQ(lines[0].at("obis").at("1-0:3.8.0.255").at("value"), 1591784);
}

TEST(hdlc_decode_cli, wrong_authentication_key_says_so) {
    const auto& c = capture_by_id("lgz_e450_landis_gyr_e450");
    auto args = decode_args(c);
    for (auto& a : args) {
        if (a == to_hex(*c.keys.auth_key)) a = "00112233445566778899AABBCCDDEEFF";
    }
    const auto r = run_process(args);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("the key or the authentication key is wrong"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("[tag_mismatch]"), std::string::npos) << r.err;
}

class hdlc_simulate_cli : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = ::testing::TempDir() + "evn-mbus-hdlc-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    // Simulates `count` pushes into a file and decodes that file with `evn-mbus decode`.
    void simulate_and_decode(const std::string& link_layer, int count) {
        const std::string wire = path("wire.bin");
        const std::string expect = path("expect.jsonl");
        const auto sim = run_process({binary, "simulate", "--link-layer", link_layer, "--device",
                                      wire, "--speed", "max", "--count", std::to_string(count),
                                      "--seed", "4", "--key", evn_key, "--expect", expect});
        ASSERT_EQ(sim.status, 0) << sim.err;
        EXPECT_NE(sim.err.find("HDLC"), std::string::npos) << sim.err;
        std::ifstream in(wire, std::ios::binary);
        const std::string data{std::istreambuf_iterator<char>(in), {}};
        ASSERT_GT(data.size(), 3u);
        EXPECT_EQ(static_cast<unsigned char>(data[0]), 0x7E);
        EXPECT_EQ(static_cast<unsigned char>(data[1]) & 0xF0, 0xA0);

        const auto dec = run_process({binary, "decode", "--key", evn_key, wire});
        ASSERT_EQ(dec.status, 0) << dec.err;
        const auto got = json_lines(dec.out);
        std::ifstream ex(expect);
        const std::string expect_text{std::istreambuf_iterator<char>(ex), {}};
        const auto want = json_lines(expect_text);
        ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
        ASSERT_EQ(want.size(), static_cast<std::size_t>(count));
        for (std::size_t i = 0; i < got.size(); ++i)
            EXPECT_EQ(got[i].dump(), want[i].at("reading").dump()) << i;
    }

    std::string dir_;
};

TEST_F(hdlc_simulate_cli, hdlc_frames_decode_to_what_the_expect_file_says) {
    simulate_and_decode("hdlc", 5);
}

TEST_F(hdlc_simulate_cli, general_block_transfer_decodes_to_what_the_expect_file_says) {
    simulate_and_decode("hdlc-gbt", 5);
}

TEST_F(hdlc_simulate_cli, unknown_link_layer_is_refused) {
    const auto r = run_process(
        {binary, "simulate", "--link-layer", "zigbee", "--device", path("x.bin"), "--count", "1"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("link-layer"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace evn_mbus::test
