// telegram_decoder::decode_bare: one bare APDU as peers' dumps give it; general-block-transfer
// blocks back to back (the real Landis+Gyr E450 push's blocks, taken out of its HDLC frames),
// and what is wrong with blocks that do not make one APDU.
#include <gtest/gtest.h>

#include "evn_mbus/error.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

// The E450 capture's three blocks: after the 9-byte HDLC header (and the LLC E6 E7 00 before
// the first), before the FCS and the closing flag.
bytes e450_blocks() {
    const capture& c = capture_by_id("lgz_e450_landis_gyr_e450");
    bytes out;
    for (std::size_t i = 0; i < c.frames.size(); ++i) {
        const bytes& f = c.frames[i];
        const std::size_t from = i == 0 ? 12 : 9;
        out.insert(out.end(), f.begin() + static_cast<std::ptrdiff_t>(from), f.end() - 3);
    }
    return out;
}

TEST(decode_bare, blocks_back_to_back_decode_as_the_framed_capture) {
    const capture& c = capture_by_id("lgz_e450_landis_gyr_e450");
    const auto framed = decode_all(c.keys, concat(c.frames));
    ASSERT_EQ(framed.readings.size(), 1u);

    telegram_decoder dec(c.keys);
    reading r;
    ASSERT_FALSE(dec.decode_bare(e450_blocks(), r));
    EXPECT_TRUE(r.block_transfer);
    EXPECT_TRUE(r.tag_verified);
    EXPECT_EQ(r.frame_counter, framed.readings[0].frame_counter);
    ASSERT_EQ(r.values.size(), framed.readings[0].values.size());
    EXPECT_EQ(r.named("w_p"), framed.readings[0].named("w_p"));
}

TEST(decode_bare, blocks_that_do_not_make_one_apdu_are_named) {
    const capture& c = capture_by_id("lgz_e450_landis_gyr_e450");
    telegram_decoder dec(c.keys);
    reading r;
    bytes blocks = e450_blocks();
    // The last block missing.
    const bytes two(blocks.begin(), blocks.end() - 38);
    EXPECT_EQ(dec.decode_bare(two, r), make_error_code(errc::incomplete_push));
    // A byte after the last block.
    bytes longer = blocks;
    longer.push_back(0x00);
    EXPECT_EQ(dec.decode_bare(longer, r), make_error_code(errc::trailing_bytes));
    // The last block's data cut: its length runs past the end.
    const bytes cut(blocks.begin(), blocks.end() - 1);
    EXPECT_EQ(dec.decode_bare(cut, r), make_error_code(errc::bad_block_transfer));
    // Only a block header.
    EXPECT_EQ(dec.decode_bare(bytes{0xE0, 0xC0, 0x00, 0x01}, r),
              make_error_code(errc::bad_block_transfer));
    // The second block first: out of order.
    ASSERT_EQ(blocks[126], 0xE0);  // the second block starts there (after 9 + 117 bytes)
    const bytes second_first(blocks.begin() + 126, blocks.end());
    EXPECT_EQ(dec.decode_bare(second_first, r), make_error_code(errc::missing_segment));
    // The first block twice: a transfer started again is not one APDU.
    bytes first_twice(blocks.begin(), blocks.begin() + 126);
    first_twice.insert(first_twice.end(), blocks.begin(), blocks.end());
    EXPECT_EQ(dec.decode_bare(first_twice, r), make_error_code(errc::missing_segment));
    // A DBh APDU after a block: not a block.
    bytes mixed(blocks.begin(), blocks.begin() + 126);
    mixed.push_back(0xDB);
    mixed.insert(mixed.end(), 20, 0x00);
    EXPECT_EQ(dec.decode_bare(mixed, r), make_error_code(errc::bad_block_transfer));
    // And after all of that, the whole still decodes.
    EXPECT_FALSE(dec.decode_bare(blocks, r));
    EXPECT_TRUE(r.tag_verified);
}

TEST(decode_bare, a_plain_notification_is_decode_apdu) {
    const capture& c = capture_by_id("shrdzm_siemens_im350_wels_frame2");
    telegram_decoder dec(decoder_keys{});
    reading a, b;
    ASSERT_FALSE(dec.decode_bare(c.plaintext, a));
    ASSERT_FALSE(dec.decode_apdu(c.plaintext, b));
    EXPECT_EQ(a.values.size(), b.values.size());
    EXPECT_FALSE(a.block_transfer);
    EXPECT_EQ(a.named("w_p"), 3532035.0);
}

}  // namespace
}  // namespace evn_mbus::test
