// HDLC and the P1 port's bare APDU through the command-line tool: `evn-mbus decode` on the
// real capture files and on bare APDUs (0Fh, E0h blocks), and `evn-mbus simulate --link-layer
// hdlc|hdlc-gbt|apdu` writing pushes that decode to what it says.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "fixture_loader.hpp"
#include "json_lines.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

const std::string binary = EVN_MBUS_BINARY;
const std::string fixtures = EVN_MBUS_FIXTURES_DIR;
const std::string evn_key = "36C66639E48A8CA4D6BC8B282A793BBB";

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
        EXPECT_EQ(parse_json_lines(r.out).size(), 1u) << id;
    }
}

TEST(hdlc_decode_cli, landis_gyr_values) {
    const auto r = run_process(decode_args(capture_by_id("lgz_e450_landis_gyr_e450")));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = parse_json_lines(r.out);
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

// ---- the P1 port: Energienetze Steiermark's real capture ------------------------------------

TEST(p1_decode_cli, the_steiermark_capture_gives_every_dsmr_value) {
    const auto r = run_process(decode_args(capture_by_id("shrdzm_sagemcom_steiermark")));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const auto lines = parse_json_lines(r.out);
    ASSERT_EQ(lines.size(), 1u);
    const auto& j = lines[0];
    EXPECT_EQ(j.at("w_p"), 14159934);
    EXPECT_EQ(j.at("w_n"), 7086646);
    EXPECT_EQ(j.at("p_p"), 544);
    EXPECT_EQ(j.at("p_n"), 1803);
    EXPECT_EQ(j.at("p_net"), 544 - 1803);  // feeding in: negative
    EXPECT_EQ(j.at("r_n_t1"), 12529385);
    EXPECT_EQ(j.at("q_n"), 1659);
    EXPECT_EQ(j.at("clock"), "2021-09-29T09:47:30Z");
    EXPECT_EQ(j.at("obis").at("1-0:1.8.2.255").at("value"), 5639012);
    EXPECT_EQ(j.at("obis").at("1-0:1.8.2.255").at("unit"), "Wh");
}

// A one-push P1 capture with the wrong key says so, and gives no --link hint.
TEST(p1_decode_cli, a_wrong_key_is_said_for_a_single_push) {
    const auto r = run_process({binary, "decode", "--key", "00112233445566778899AABBCCDDEEFF",
                                fixtures + "/shrdzm_sagemcom_steiermark.hex"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("[not_a_valid_apdu]"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("--link apdu"), std::string::npos) << r.err;
}

// A bare APDU without a tag is taken by --link apdu only: auto-detection wants a tag or a
// DSMR checksum to have checked it (a link push read from its middle could decrypt too).
// An input that is one bare APDU without any framing, as peers' dumps and the operators'
// documents give them: a plain data-notification (0Fh), or general-block-transfer blocks
// (E0h) back to back. They decode to what the framed capture decodes to.
TEST(bare_apdu_decode_cli, a_plain_data_notification_decodes_as_its_capture_does) {
    const capture& c = capture_by_id("shrdzm_siemens_im350_wels_frame2");
    const auto framed = run_process(decode_args(c));
    ASSERT_EQ(framed.status, 0) << framed.err;
    const auto framed_json = parse_json_lines(framed.out).at(0);
    // The capture's plaintext: the same push, without HDLC and without encryption.
    const auto bare =
        run_process({binary, "decode", "--key", to_hex(c.keys.key)}, to_hex(c.plaintext) + "\n");
    ASSERT_EQ(bare.status, 0) << bare.err;
    EXPECT_EQ(bare.err, "");
    auto bare_json = parse_json_lines(bare.out).at(0);
    EXPECT_EQ(bare_json.at("w_p"), 3532035);
    // Only what encryption adds differs: the system title and frame counter.
    for (const auto& [k, v] : framed_json.items()) {
        if (k == "system_title" || k == "frame_counter" || k == "security") continue;
        EXPECT_EQ(bare_json[k], v) << k;
    }
    // --link apdu takes it too; --link hdlc does not look for it.
    EXPECT_EQ(run_process({binary, "decode", "--key", to_hex(c.keys.key), "--link", "apdu"},
                          to_hex(c.plaintext))
                  .status,
              0);
    const auto hdlc = run_process({binary, "decode", "--key", to_hex(c.keys.key), "--link", "hdlc"},
                                  to_hex(c.plaintext));
    EXPECT_EQ(hdlc.status, 1);
    EXPECT_EQ(hdlc.out, "");
    // One byte more than the notification: said, not decoded.
    const auto longer =
        run_process({binary, "decode", "--key", to_hex(c.keys.key)}, to_hex(c.plaintext) + "00");
    EXPECT_EQ(longer.status, 1);
    EXPECT_NE(longer.err.find("[trailing_bytes]"), std::string::npos) << longer.err;
}

// The real Landis+Gyr E450 push's three blocks, taken out of their HDLC frames (header of
// 9 bytes, the LLC E6 E7 00 before the first block; FCS and flag at the end).
TEST(bare_apdu_decode_cli, general_block_transfer_blocks_decode_as_their_capture_does) {
    const capture& c = capture_by_id("lgz_e450_landis_gyr_e450");
    ASSERT_EQ(c.frames.size(), 3u);
    std::string blocks;
    for (std::size_t i = 0; i < c.frames.size(); ++i) {
        const bytes& f = c.frames[i];
        const std::size_t from = i == 0 ? 12 : 9;
        ASSERT_EQ(f[from], 0xE0) << "frame " << i;
        blocks += to_hex(std::span<const std::uint8_t>(f).subspan(from, f.size() - from - 3));
    }
    const auto framed = run_process(decode_args(c));
    ASSERT_EQ(framed.status, 0) << framed.err;
    std::vector<std::string> args{
        binary, "decode", "--key", to_hex(c.keys.key), "--auth-key", to_hex(*c.keys.auth_key)};
    const auto bare = run_process(args, blocks);
    ASSERT_EQ(bare.status, 0) << bare.err;
    EXPECT_EQ(bare.err, "");
    EXPECT_EQ(parse_json_lines(bare.out).at(0), parse_json_lines(framed.out).at(0));

    // The last block missing: the push is incomplete, and said so.
    const auto cut = run_process(args, blocks.substr(0, blocks.rfind("E0C0")));
    EXPECT_EQ(cut.status, 1);
    EXPECT_NE(cut.err.find("[incomplete_push]"), std::string::npos) << cut.err;
    EXPECT_EQ(cut.out, "");
}

TEST(p1_decode_cli, an_unchecked_bare_apdu_needs_link_apdu) {
    temp_dir dir;
    const auto sim =
        run_process({binary, "simulate", "--link-layer", "mbus", "--device", dir.file("wire.bin"),
                     "--speed", "max", "--count", "1", "--seed", "9", "--key", evn_key});
    ASSERT_EQ(sim.status, 0) << sim.err;
    // The APDU of that M-Bus push, without its link layer: the frames' DLMS segments.
    std::ifstream in(dir.file("wire.bin"), std::ios::binary);
    const bytes wire{std::istreambuf_iterator<char>(in), {}};
    ASSERT_GT(wire.size(), 256u + 9u);
    bytes apdu(wire.begin() + 9, wire.begin() + 256 - 2);             // 1st: 68 L L 68 C A CI 01 67
    apdu.insert(apdu.end(), wire.begin() + 256 + 9, wire.end() - 2);  // 2nd frame's segment
    ASSERT_EQ(apdu[0], 0xDB);
    const std::string path = dir.file("apdu.hex");
    std::ofstream(path) << to_hex(apdu) << "\n";
    const auto automatic = run_process({binary, "decode", "--key", evn_key, path});
    EXPECT_EQ(automatic.status, 1);
    EXPECT_NE(automatic.err.find("give --link apdu"), std::string::npos) << automatic.err;
    const auto forced = run_process({binary, "decode", "--link", "apdu", "--key", evn_key, path});
    ASSERT_EQ(forced.status, 0) << forced.err;
    EXPECT_EQ(parse_json_lines(forced.out).size(), 1u);
    const auto wrong = run_process({binary, "decode", "--link", "zigbee", "--key", evn_key, path});
    EXPECT_NE(wrong.status, 0);
    EXPECT_NE(wrong.err.find("--link"), std::string::npos) << wrong.err;
}

// ---- the simulator's link layers ------------------------------------------------------------

class simulate_link_cli : public ::testing::Test {
  protected:
    // Simulates `count` pushes into a file and decodes that file with `evn-mbus decode`.
    void simulate_and_decode(const std::string& link_layer, int count) {
        const std::string wire = dir_.file("wire.bin");
        const std::string expect = dir_.file("expect.jsonl");
        const auto sim = run_process({binary, "simulate", "--link-layer", link_layer, "--device",
                                      wire, "--speed", "max", "--count", std::to_string(count),
                                      "--seed", "4", "--key", evn_key, "--expect", expect});
        ASSERT_EQ(sim.status, 0) << sim.err;
        std::ifstream in(wire, std::ios::binary);
        const std::string data{std::istreambuf_iterator<char>(in), {}};
        ASSERT_GT(data.size(), 3u);
        if (link_layer == "apdu") {
            EXPECT_NE(sim.err.find("bare APDUs"), std::string::npos) << sim.err;
            EXPECT_EQ(static_cast<unsigned char>(data[0]), 0xDB);
            EXPECT_EQ(static_cast<unsigned char>(data[1]), 0x08);
        } else {
            EXPECT_NE(sim.err.find("HDLC"), std::string::npos) << sim.err;
            EXPECT_EQ(static_cast<unsigned char>(data[0]), 0x7E);
            EXPECT_EQ(static_cast<unsigned char>(data[1]) & 0xF0, 0xA0);
        }

        const auto dec = run_process({binary, "decode", "--key", evn_key, wire});
        ASSERT_EQ(dec.status, 0) << dec.err;
        const auto got = parse_json_lines(dec.out);
        const auto want = read_json_lines(expect);
        ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
        ASSERT_EQ(want.size(), static_cast<std::size_t>(count));
        for (std::size_t i = 0; i < got.size(); ++i)
            EXPECT_EQ(got[i].dump(), want[i].at("reading").dump()) << i;
    }

    temp_dir dir_;
};

TEST_F(simulate_link_cli, hdlc_frames_decode_to_what_the_expect_file_says) {
    simulate_and_decode("hdlc", 5);
}

TEST_F(simulate_link_cli, general_block_transfer_decodes_to_what_the_expect_file_says) {
    simulate_and_decode("hdlc-gbt", 5);
}

TEST_F(simulate_link_cli, p1_dsmr_apdus_decode_to_what_the_expect_file_says) {
    simulate_and_decode("apdu", 5);
}

TEST_F(simulate_link_cli, unknown_link_layer_is_refused) {
    const auto r = run_process({binary, "simulate", "--link-layer", "zigbee", "--device",
                                dir_.file("x.bin"), "--count", "1"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("link-layer"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace evn_mbus::test
