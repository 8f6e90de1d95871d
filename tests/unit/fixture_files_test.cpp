// The annotated captures (fixtures/*.hex): comments name every field, and the bytes are still
// exactly those of fixtures/vectors.json.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "evn_mbus/hex.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

std::string file_text(const std::string& id) {
    std::ifstream in(std::string(EVN_MBUS_FIXTURES_DIR) + "/" + id + ".hex");
    EXPECT_TRUE(in) << id;
    return {std::istreambuf_iterator<char>(in), {}};
}

TEST(fixture_files, hold_the_frames_of_vectors_json_byte_for_byte) {
    for (const auto& c : all_captures()) {
        bytes parsed;
        ASSERT_FALSE(parse_hex(file_text(c.id), parsed)) << c.id;
        EXPECT_EQ(parsed, concat(c.frames)) << c.id;
    }
}

TEST(fixture_files, every_line_with_bytes_names_its_field) {
    for (const auto& c : all_captures()) {
        std::istringstream in(file_text(c.id));
        std::size_t lines_with_bytes = 0;
        for (std::string line; std::getline(in, line);) {
            const auto hash = line.find('#');
            const std::string bytes_part = line.substr(0, hash);
            if (bytes_part.find_first_not_of(" \t\r") == std::string::npos) continue;
            ++lines_with_bytes;
            ASSERT_NE(hash, std::string::npos) << c.id << ": no comment on '" << line << "'";
            EXPECT_NE(line.find_first_not_of(" #", hash), std::string::npos)
                << c.id << ": " << line;
        }
        // At least the framing fields of each frame, each on its own line.
        EXPECT_GE(lines_with_bytes, 8 * c.frames.size()) << c.id;
    }
}

TEST(fixture_files, comments_and_blank_lines_are_ignored_by_the_hex_reader) {
    bytes out;
    ASSERT_FALSE(parse_hex("# header\n\n68 FA  # start, L\n# between\n16 # stop\n", out));
    EXPECT_EQ(out, (bytes{0x68, 0xFA, 0x16}));
    ASSERT_FALSE(parse_hex("0x68 # 0x16 in a comment is not a byte\n", out));
    EXPECT_EQ(out, (bytes{0x68}));
}

}  // namespace
}  // namespace evn_mbus::test
