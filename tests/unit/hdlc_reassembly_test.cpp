// HDLC segmentation (S bit, LLC header) and DLMS general block transfer: joining, losses and
// bounds, with synthetic frames from our encoder and blocks of the real Landis+Gyr capture.
#include <gtest/gtest.h>

#include <random>

#include "evn_mbus/block_transfer.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hdlc_reassembler.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

using kind = reassembly_event::kind;

bytes counting(std::size_t n, std::uint8_t first = 0) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i)
        b[i] = static_cast<std::uint8_t>(first + i);
    return b;
}

// Runs frames through the assembler and the HDLC reassembler; collects joined APDUs, errors
// and drops in order.
struct hdlc_outcome {
    std::vector<bytes> apdus;
    std::vector<std::error_code> errors;  // errors and drops, in the order they happened
};

hdlc_outcome reassemble(const std::vector<bytes>& frames) {
    hdlc_frame_assembler a;
    hdlc_reassembler r;
    hdlc_outcome out;
    for (const auto& f : frames)
        a.feed(f);
    a.on_idle_gap();
    for (auto ev = a.next(); ev.what != hdlc_frame_event::kind::need_more; ev = a.next()) {
        if (ev.what == hdlc_frame_event::kind::error) {
            out.errors.push_back(ev.error);
            continue;
        }
        const auto e = r.add(ev.frame);
        if (e.dropped) out.errors.push_back(e.dropped);
        if (e.what == kind::telegram) out.apdus.emplace_back(e.apdu.begin(), e.apdu.end());
        if (e.what == kind::error) out.errors.push_back(e.error);
    }
    return out;
}

TEST(hdlc_segmentation, encoder_sets_the_s_bit_and_the_llc_header_only_first) {
    const bytes apdu = counting(300);
    const auto frames = telegram_encoder::segment_hdlc(apdu, 128);
    ASSERT_EQ(frames.size(), 3u);  // 125 + 128 + 47 APDU bytes
    EXPECT_EQ(frames[0][1] & 0x08, 0x08);
    EXPECT_EQ(frames[1][1] & 0x08, 0x08);
    EXPECT_EQ(frames[2][1] & 0x08, 0x00);
    // Information: after 7E, format (2), CF, 02 23, control, HCS (2).
    EXPECT_EQ(frames[0][9], 0xE6);
    EXPECT_EQ(frames[0][10], 0xE7);
    EXPECT_EQ(frames[0][11], 0x00);
    EXPECT_EQ(frames[1][9], 125);  // the APDU continues, no LLC header
    EXPECT_EQ(frames[0].size(), 9u + 128 + 3);
    const auto out = reassemble(frames);
    EXPECT_TRUE(out.errors.empty());
    ASSERT_EQ(out.apdus.size(), 1u);
    EXPECT_EQ(out.apdus[0], apdu);
}

TEST(hdlc_segmentation, every_segment_size) {
    const bytes apdu = counting(280, 7);
    for (std::size_t max = 4; max <= 300; max += 7) {
        const auto out = reassemble(telegram_encoder::segment_hdlc(apdu, max));
        ASSERT_TRUE(out.errors.empty()) << max;
        ASSERT_EQ(out.apdus.size(), 1u) << max;
        EXPECT_EQ(out.apdus[0], apdu) << max;
    }
}

TEST(hdlc_segmentation, lost_last_segment_shows_when_the_next_push_starts) {
    const bytes one = counting(200, 1);
    const bytes two = counting(200, 2);
    auto frames = telegram_encoder::segment_hdlc(one, 80);
    frames.pop_back();
    const auto next = telegram_encoder::segment_hdlc(two, 80);
    frames.insert(frames.end(), next.begin(), next.end());
    const auto out = reassemble(frames);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::missing_segment);
    ASSERT_EQ(out.apdus.size(), 1u);
    EXPECT_EQ(out.apdus[0], two);
}

TEST(hdlc_segmentation, gap_in_the_send_sequence_of_i_frames) {
    // I frames (control bit 0 clear) number themselves with N(S) in bits 1..3.
    const bytes apdu = counting(90);
    std::vector<bytes> frames;
    for (int i = 0; i < 3; ++i) {
        hdlc_header h;
        h.control = static_cast<std::uint8_t>(0x10 | (i << 1));  // N(S) = i, P/F set
        bytes info;
        if (i == 0) info = {0xE6, 0xE7, 0x00};
        info.insert(info.end(), apdu.begin() + 30 * i, apdu.begin() + 30 * (i + 1));
        frames.push_back(telegram_encoder::hdlc_frame(info, i < 2, h));
    }
    const auto whole = reassemble(frames);
    ASSERT_EQ(whole.apdus.size(), 1u);
    EXPECT_EQ(whole.apdus[0], apdu);
    EXPECT_TRUE(whole.errors.empty());

    const auto lost = reassemble({frames[0], frames[2]});
    EXPECT_TRUE(lost.apdus.empty());
    ASSERT_EQ(lost.errors.size(), 1u);
    EXPECT_EQ(lost.errors[0], errc::missing_segment);
}

TEST(hdlc_segmentation, bounded_size) {
    // A meter (or noise) that never clears the S bit cannot grow memory without bound.
    std::vector<bytes> frames;
    for (int i = 0; i < 40; ++i) {
        bytes info = counting(120);
        if (i == 0) info.insert(info.begin(), {0xE6, 0xE7, 0x00});
        frames.push_back(telegram_encoder::hdlc_frame(info, true));
    }
    const auto out = reassemble(frames);
    EXPECT_TRUE(out.apdus.empty());
    ASSERT_FALSE(out.errors.empty());
    EXPECT_EQ(out.errors[0], errc::telegram_too_long);
}

TEST(hdlc_segmentation, llc_header_variants) {
    EXPECT_TRUE(has_llc_header(bytes{0xE6, 0xE7, 0x00, 0xDB}));
    EXPECT_TRUE(has_llc_header(bytes{0xE6, 0xE6, 0x00}));
    EXPECT_FALSE(has_llc_header(bytes{0xE6, 0xE7}));
    EXPECT_FALSE(has_llc_header(bytes{0xE6, 0xE7, 0x01}));
    EXPECT_FALSE(has_llc_header(bytes{0xDB, 0x08}));
}

// --- General block transfer. ---

// The three blocks of the Landis+Gyr E450 capture, LLC header removed from the first.
std::vector<bytes> lgz_blocks() {
    const auto out = reassemble(capture_by_id("lgz_e450_landis_gyr_e450").frames);
    EXPECT_TRUE(out.errors.empty());
    return out.apdus;
}

TEST(block_transfer, the_landis_gyr_blocks) {
    const auto blocks = lgz_blocks();
    ASSERT_EQ(blocks.size(), 3u);
    const std::size_t sizes[] = {119, 122, 31};
    for (std::size_t i = 0; i < 3; ++i) {
        gbt_block b;
        ASSERT_FALSE(parse_gbt_block(blocks[i], b)) << i;
        EXPECT_EQ(b.number, i + 1);
        EXPECT_EQ(b.number_ack, 0);
        EXPECT_TRUE(b.streaming);
        EXPECT_EQ(b.last, i == 2);
        EXPECT_EQ(b.window, 0);
        EXPECT_EQ(b.data.size(), sizes[i]);
    }
    block_transfer_reassembler r;
    EXPECT_EQ(r.add(blocks[0], {}).what, kind::need_more);
    EXPECT_EQ(r.add(blocks[1], {}).what, kind::need_more);
    const auto ev = r.add(blocks[2], {});
    ASSERT_EQ(ev.what, kind::telegram);
    EXPECT_EQ(ev.apdu.size(), 272u);
    EXPECT_EQ(ev.apdu[0], 0xDB);  // general-glo-ciphering
}

TEST(block_transfer, missing_block_and_the_next_transfer) {
    const auto blocks = lgz_blocks();
    block_transfer_reassembler r;
    EXPECT_EQ(r.add(blocks[0], {}).what, kind::need_more);
    const auto lost = r.add(blocks[2], {});
    ASSERT_EQ(lost.what, kind::error);
    EXPECT_EQ(lost.error, errc::missing_segment);
    EXPECT_FALSE(r.in_progress());
    // A block without its predecessors.
    const auto orphan = r.add(blocks[1], {});
    ASSERT_EQ(orphan.what, kind::error);
    EXPECT_EQ(orphan.error, errc::missing_segment);
    // The next transfer is complete again.
    for (std::size_t i = 0; i < 2; ++i)
        EXPECT_EQ(r.add(blocks[i], {}).what, kind::need_more);
    EXPECT_EQ(r.add(blocks[2], {}).what, kind::telegram);
}

TEST(block_transfer, a_new_first_block_drops_the_unfinished_transfer) {
    const auto blocks = lgz_blocks();
    block_transfer_reassembler r;
    r.add(blocks[0], {});
    r.add(blocks[1], {});
    const auto restart = r.add(blocks[0], {});
    EXPECT_EQ(restart.dropped, errc::missing_segment);
    EXPECT_EQ(restart.what, kind::need_more);
    r.add(blocks[1], {});
    EXPECT_EQ(r.add(blocks[2], {}).what, kind::telegram);
}

TEST(block_transfer, other_apdus_pass_through_and_end_an_unfinished_transfer) {
    const auto blocks = lgz_blocks();
    block_transfer_reassembler r;
    const bytes plain{0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
    const bytes raw{0x7E, 0x7E};
    auto ev = r.add(plain, raw);
    ASSERT_EQ(ev.what, kind::telegram);
    EXPECT_EQ(ev.apdu.data(), plain.data());  // not copied
    EXPECT_EQ(ev.raw.data(), raw.data());
    EXPECT_FALSE(ev.dropped);
    r.add(blocks[0], {});
    ev = r.add(plain, {});
    EXPECT_EQ(ev.what, kind::telegram);
    EXPECT_EQ(ev.dropped, errc::missing_segment);
}

TEST(block_transfer, malformed_blocks) {
    gbt_block b;
    EXPECT_EQ(parse_gbt_block(bytes{0xDB}, b), errc::unsupported_apdu);
    EXPECT_EQ(parse_gbt_block(bytes{0xE0, 0xC0, 0x00, 0x01, 0x00}, b), errc::bad_block_transfer);
    // Length says 5, 4 bytes follow; and 3 with 4 following.
    EXPECT_EQ(parse_gbt_block(bytes{0xE0, 0xC0, 0x00, 0x01, 0x00, 0x00, 0x05, 1, 2, 3, 4}, b),
              errc::bad_block_transfer);
    EXPECT_EQ(parse_gbt_block(bytes{0xE0, 0xC0, 0x00, 0x01, 0x00, 0x00, 0x03, 1, 2, 3, 4}, b),
              errc::bad_block_transfer);
    const bytes good{0xE0, 0xC5, 0x01, 0x02, 0x00, 0x07, 0x02, 9, 8};  // b.data points into it
    ASSERT_FALSE(parse_gbt_block(good, b));
    EXPECT_TRUE(b.last);
    EXPECT_TRUE(b.streaming);
    EXPECT_EQ(b.window, 5);
    EXPECT_EQ(b.number, 0x0102);
    EXPECT_EQ(b.number_ack, 7);
    EXPECT_EQ(bytes(b.data.begin(), b.data.end()), (bytes{9, 8}));

    block_transfer_reassembler r;
    const auto ev = r.add(bytes{0xE0, 0x40, 0x00, 0x01}, {});
    ASSERT_EQ(ev.what, kind::error);
    EXPECT_EQ(ev.error, errc::bad_block_transfer);
}

TEST(block_transfer, encoder_round_trip_and_bounded_size) {
    const bytes apdu = counting(1000, 3);
    for (const std::size_t size : {std::size_t{1}, std::size_t{7}, std::size_t{120},
                                   std::size_t{999}, std::size_t{1000}, std::size_t{5000}}) {
        const auto blocks = telegram_encoder::general_block_transfer(apdu, size);
        EXPECT_EQ(blocks.size(), (apdu.size() + size - 1) / size);
        block_transfer_reassembler r;
        reassembly_event ev;
        for (const auto& b : blocks)
            ev = r.add(b, {});
        ASSERT_EQ(ev.what, kind::telegram) << size;
        EXPECT_EQ(bytes(ev.apdu.begin(), ev.apdu.end()), apdu);
    }
    // More than any meter sends: dropped, not kept.
    const bytes huge = counting(block_transfer_reassembler::max_apdu_size + 1);
    block_transfer_reassembler r;
    std::error_code last;
    for (const auto& b : telegram_encoder::general_block_transfer(huge, 500)) {
        const auto ev = r.add(b, {});
        if (ev.what == kind::error) {
            last = ev.error;
            break;
        }
    }
    EXPECT_EQ(last, errc::telegram_too_long);
}

TEST(block_transfer, hdlc_frames_like_the_landis_gyr) {
    // segment_hdlc_blocks makes the E450's layout: one block per frame, LLC header first.
    const bytes apdu = counting(272);
    const auto frames = telegram_encoder::segment_hdlc_blocks(apdu, 120, 200);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0][9], 0xE6);
    EXPECT_EQ(frames[0][12], 0xE0);
    EXPECT_EQ(frames[1][9], 0xE0);
    EXPECT_EQ(frames[2][10], 0xC0);  // last block, streaming
    const auto out = reassemble(frames);
    ASSERT_EQ(out.apdus.size(), 3u);
    block_transfer_reassembler r;
    reassembly_event ev;
    for (const auto& b : out.apdus)
        ev = r.add(b, {});
    ASSERT_EQ(ev.what, kind::telegram);
    EXPECT_EQ(bytes(ev.apdu.begin(), ev.apdu.end()), apdu);
}

}  // namespace
}  // namespace evn_mbus::test
