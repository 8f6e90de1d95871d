// Unit tests for the incremental HDLC frame assembler (evn_mbus/hdlc_frame_assembler.hpp), its
// CRC-16/X.25, and telegram_encoder::hdlc_frame, checked against a real captured frame and
// frames built here byte by byte.
#include "evn_mbus/hdlc_frame_assembler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "evn_mbus/error.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fixture_loader.hpp"

namespace evn_mbus::test {
namespace {

using kind = hdlc_frame_event::kind;

// The CRC computed bit by bit, straight from its definition (ISO/IEC 13239: polynomial
// x^16 + x^12 + x^5 + 1, bits least significant first, preset FFFFh, ones' complement), to check
// the table-driven one.
std::uint16_t crc_by_bits(std::span<const std::uint8_t> data) {
    std::uint16_t crc = 0xFFFF;
    for (const std::uint8_t b : data) {
        for (int i = 0; i < 8; ++i) {
            const bool bit = ((b >> i) & 1) != ((crc & 1) != 0);
            crc = static_cast<std::uint16_t>(crc >> 1);
            if (bit) crc ^= 0x8408;
        }
    }
    return static_cast<std::uint16_t>(~crc);
}

// A frame made by hand: 7E | A0h+S+length | dst | src | control | HCS | info | FCS | 7E.
bytes hand_frame(const bytes& dst, const bytes& src, std::uint8_t control, const bytes& info,
                 bool segmented = false) {
    const std::size_t header = 2 + dst.size() + src.size() + 1;
    const std::size_t length = header + 2 + info.size() + 2;
    bytes f{0x7E, static_cast<std::uint8_t>(0xA0 | (segmented ? 0x08 : 0) | (length >> 8)),
            static_cast<std::uint8_t>(length & 0xFF)};
    f.insert(f.end(), dst.begin(), dst.end());
    f.insert(f.end(), src.begin(), src.end());
    f.push_back(control);
    const std::uint16_t hcs = crc_by_bits(std::span(f).subspan(1));
    f.push_back(static_cast<std::uint8_t>(hcs & 0xFF));
    f.push_back(static_cast<std::uint8_t>(hcs >> 8));
    f.insert(f.end(), info.begin(), info.end());
    const std::uint16_t fcs = crc_by_bits(std::span(f).subspan(1));
    f.push_back(static_cast<std::uint8_t>(fcs & 0xFF));
    f.push_back(static_cast<std::uint8_t>(fcs >> 8));
    f.push_back(0x7E);
    return f;
}

bytes counting(std::size_t n, std::uint8_t first = 0) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i)
        b[i] = static_cast<std::uint8_t>(first + i);
    return b;
}

struct collected {
    std::vector<bytes> infos;
    std::vector<bytes> raws;
    std::vector<std::error_code> errors;
};

void drain(hdlc_frame_assembler& a, collected& out) {
    for (auto ev = a.next(); ev.what != kind::need_more; ev = a.next()) {
        if (ev.what == kind::frame) {
            out.infos.emplace_back(ev.frame.info.begin(), ev.frame.info.end());
            out.raws.emplace_back(ev.frame.raw.begin(), ev.frame.raw.end());
        } else {
            out.errors.push_back(ev.error);
        }
    }
}

collected assemble(const bytes& data, bool idle_gap = true) {
    hdlc_frame_assembler a;
    collected out;
    a.feed(data);
    drain(a, out);
    if (idle_gap) {
        a.on_idle_gap();
        drain(a, out);
    }
    return out;
}

TEST(crc16_x25, check_value_of_the_catalogue) {
    const std::string_view check = "123456789";
    const bytes data(check.begin(), check.end());
    EXPECT_EQ(crc16_x25(data), 0x906E);
    EXPECT_EQ(crc_by_bits(data), 0x906E);
    EXPECT_EQ(crc16_x25({}), 0x0000);
}

TEST(crc16_x25, table_matches_the_bitwise_definition) {
    std::mt19937 rng(5);
    for (int i = 0; i < 200; ++i) {
        bytes data(rng() % 300);
        for (auto& b : data)
            b = static_cast<std::uint8_t>(rng());
        ASSERT_EQ(crc16_x25(data), crc_by_bits(data)) << i;
    }
}

TEST(crc16_x25, real_frames_check_out) {
    // The LGZ capture's first frame: HCS over the 6 bytes after the flag, FCS over all but
    // the last three bytes.
    const bytes f = capture_by_id("lgz_e450_landis_gyr_e450").frames[0];
    const std::uint16_t hcs = crc16_x25(std::span(f).subspan(1, 6));
    EXPECT_EQ(f[7], hcs & 0xFF);
    EXPECT_EQ(f[8], hcs >> 8);
    const std::uint16_t fcs = crc16_x25(std::span(f).subspan(1, f.size() - 4));
    EXPECT_EQ(f[f.size() - 3], fcs & 0xFF);
    EXPECT_EQ(f[f.size() - 2], fcs >> 8);
}

TEST(hdlc_encoder, rebuilds_a_captured_frame_byte_for_byte) {
    // Iskraemeco AM550: destination CFh, source 02h 23h, control 13h.
    const bytes captured = capture_by_id("iskra_am550_kaerntennetz_amsreader_gh787").frames[0];
    const bytes info(captured.begin() + 9, captured.end() - 3);
    EXPECT_EQ(telegram_encoder::hdlc_frame(info, false), captured);
    EXPECT_EQ(hand_frame({0xCF}, {0x02, 0x23}, 0x13, info), captured);
    // Siemens IM350: a four-byte source address.
    const bytes siemens = capture_by_id("wienernetze_siemens_rddl").frames[0];
    const bytes info2(siemens.begin() + 11, siemens.end() - 3);
    hdlc_header h;
    h.destination = {0xCF};
    h.source = {0x00, 0x02, 0x00, 0x23};
    EXPECT_EQ(telegram_encoder::hdlc_frame(info2, false, h), siemens);
}

TEST(hdlc_frame_assembler, fields_of_a_frame) {
    const bytes info = counting(20, 0x10);
    const bytes f = hand_frame({0xCE, 0xFF}, {0x03}, 0x13, info, true);
    hdlc_frame_assembler a;
    a.feed(f);
    const auto ev = a.next();
    ASSERT_EQ(ev.what, kind::frame);
    EXPECT_TRUE(ev.frame.segmented);
    EXPECT_EQ(ev.frame.destination, 0xCEFFu);
    EXPECT_EQ(ev.frame.destination_size, 2);
    EXPECT_EQ(ev.frame.source, 0x03u);
    EXPECT_EQ(ev.frame.source_size, 1);
    EXPECT_EQ(ev.frame.control, 0x13);
    EXPECT_EQ(bytes(ev.frame.info.begin(), ev.frame.info.end()), info);
    EXPECT_EQ(bytes(ev.frame.raw.begin(), ev.frame.raw.end()), f);
    EXPECT_EQ(a.next().what, kind::need_more);
    EXPECT_EQ(a.statistics().frames, 1u);
}

TEST(hdlc_frame_assembler, every_address_size_from_one_to_four) {
    const std::vector<bytes> addresses = {
        {0x03}, {0x02, 0x23}, {0x00, 0x02, 0x05}, {0x00, 0x02, 0x00, 0x23}};
    for (const auto& dst : addresses) {
        for (const auto& src : addresses) {
            const auto out = assemble(hand_frame(dst, src, 0x13, counting(5)));
            ASSERT_EQ(out.infos.size(), 1u) << dst.size() << "/" << src.size();
            EXPECT_EQ(out.infos[0], counting(5));
            EXPECT_TRUE(out.errors.empty());
        }
    }
}

TEST(hdlc_frame_assembler, back_to_back_frames_with_a_shared_flag) {
    const bytes a = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(30, 1));
    const bytes b = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(40, 2));
    const bytes c = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(50, 3));
    // The closing flag of one frame opens the next.
    bytes shared = a;
    shared.insert(shared.end(), b.begin() + 1, b.end());
    shared.insert(shared.end(), c.begin() + 1, c.end());
    hdlc_frame_assembler asm_shared;
    collected out;
    asm_shared.feed(shared);
    drain(asm_shared, out);
    ASSERT_EQ(out.infos.size(), 3u);
    EXPECT_EQ(out.infos[1], counting(40, 2));
    EXPECT_EQ(out.raws[1], b);  // raw runs flag to flag
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(asm_shared.statistics().skipped_bytes, 0u);

    // And with two flags between frames, and runs of fill flags.
    bytes doubled = a;
    doubled.insert(doubled.end(), {0x7E, 0x7E});
    doubled.insert(doubled.end(), b.begin(), b.end());
    doubled.insert(doubled.end(), c.begin(), c.end());
    hdlc_frame_assembler asm_doubled;
    collected out2;
    asm_doubled.feed(doubled);
    asm_doubled.on_idle_gap();
    drain(asm_doubled, out2);
    EXPECT_EQ(out2.infos, out.infos);
    EXPECT_TRUE(out2.errors.empty());
    EXPECT_EQ(asm_doubled.statistics().skipped_bytes, 0u);
    EXPECT_EQ(asm_doubled.buffered(), 0u);
}

TEST(hdlc_frame_assembler, split_at_every_byte_position) {
    const bytes a = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(60, 1), true);
    const bytes b = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(20, 9));
    bytes data = a;
    data.insert(data.end(), b.begin() + 1, b.end());  // shared flag
    for (std::size_t cut = 0; cut <= data.size(); ++cut) {
        hdlc_frame_assembler asm1;
        collected out;
        asm1.feed(std::span(data).first(cut));
        drain(asm1, out);
        asm1.feed(std::span(data).subspan(cut));
        drain(asm1, out);
        ASSERT_EQ(out.infos.size(), 2u) << "cut " << cut;
        EXPECT_EQ(out.infos[0], counting(60, 1));
        EXPECT_EQ(out.infos[1], counting(20, 9));
        EXPECT_TRUE(out.errors.empty()) << "cut " << cut;
    }
}

TEST(hdlc_frame_assembler, byte_by_byte_the_frame_comes_with_its_closing_flag) {
    const bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(33));
    hdlc_frame_assembler a;
    for (std::size_t i = 0; i < f.size(); ++i) {
        a.feed(std::span(f).subspan(i, 1));
        const auto ev = a.next();
        if (i + 1 < f.size()) {
            ASSERT_EQ(ev.what, kind::need_more) << "byte " << i;
        } else {
            ASSERT_EQ(ev.what, kind::frame);  // no idle gap needed
            EXPECT_EQ(bytes(ev.frame.info.begin(), ev.frame.info.end()), counting(33));
        }
    }
}

TEST(hdlc_frame_assembler, header_checksum_error_then_the_next_frame) {
    bytes bad = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(30));
    bad[5] ^= 0x04;  // inside the source address: the HCS no longer matches
    const bytes good = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(31));
    bytes data = bad;
    data.insert(data.end(), good.begin(), good.end());
    const auto out = assemble(data);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::hdlc_bad_hcs);
    ASSERT_EQ(out.infos.size(), 1u);
    EXPECT_EQ(out.infos[0], counting(31));
}

TEST(hdlc_frame_assembler, frame_checksum_error_costs_only_its_frame) {
    bytes bad = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(30));
    bad[20] ^= 0x01;  // inside the information field
    const bytes good = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(31));
    bytes data = good;
    data.insert(data.end(), bad.begin(), bad.end());
    data.insert(data.end(), good.begin(), good.end());
    hdlc_frame_assembler a;
    collected out;
    a.feed(data);
    a.on_idle_gap();
    drain(a, out);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::hdlc_bad_fcs);
    EXPECT_EQ(out.infos.size(), 2u);
    EXPECT_EQ(a.statistics().bad_frames, 1u);
    // The damaged frame's bytes were skipped while looking for the next start.
    EXPECT_GT(a.statistics().skipped_bytes, 0u);
}

TEST(hdlc_frame_assembler, missing_closing_flag) {
    bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(30));
    f.back() = 0x00;
    const auto out = assemble(f);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::hdlc_missing_flag);
    EXPECT_TRUE(out.infos.empty());
}

TEST(hdlc_frame_assembler, truncated_by_the_idle_gap) {
    const bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(30));
    // Cut after the header checked out: a frame, cut off.
    for (const std::size_t keep : {std::size_t{10}, std::size_t{20}, f.size() - 1}) {
        hdlc_frame_assembler a;
        collected out;
        a.feed(std::span(f).first(keep));
        drain(a, out);
        EXPECT_TRUE(out.errors.empty());
        a.on_idle_gap();
        drain(a, out);
        ASSERT_EQ(out.errors.size(), 1u) << keep;
        EXPECT_EQ(out.errors[0], errc::hdlc_truncated_frame);
        EXPECT_EQ(a.buffered(), 0u);
        // The next frame after the gap decodes.
        a.feed(f);
        drain(a, out);
        EXPECT_EQ(out.infos.size(), 1u);
    }
    // Cut inside the header: noise, not reported.
    const auto out = assemble(bytes(f.begin(), f.begin() + 6));
    EXPECT_TRUE(out.errors.empty());
    EXPECT_TRUE(out.infos.empty());
}

TEST(hdlc_frame_assembler, frame_cut_by_the_gap_is_truncated_not_a_checksum_error) {
    // The first frame lost its tail; the next push's frame follows the idle gap.
    const bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(30));
    hdlc_frame_assembler a;
    collected out;
    a.feed(std::span(f).first(f.size() - 8));
    a.on_idle_gap();
    a.feed(f);
    drain(a, out);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], errc::hdlc_truncated_frame);
    EXPECT_EQ(out.infos.size(), 1u);
}

TEST(hdlc_frame_assembler, garbage_between_frames_is_skipped_and_counted) {
    std::mt19937 rng(3);
    auto noise = [&](std::size_t n) {
        bytes b(n);
        for (auto& x : b) {
            // No flags, and no A0h..AFh: after a closing flag that byte would be a format
            // field, a frame candidate whose failed HCS is rightly reported (tested elsewhere).
            do
                x = static_cast<std::uint8_t>(rng());
            while (x == 0x7E || (x & 0xF0) == 0xA0);
        }
        return b;
    };
    const bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(25));
    bytes data = noise(17);
    for (int i = 0; i < 3; ++i) {
        data.insert(data.end(), f.begin(), f.end());
        const bytes n = noise(9);
        data.insert(data.end(), n.begin(), n.end());
    }
    hdlc_frame_assembler a;
    collected out;
    a.feed(data);
    a.on_idle_gap();
    drain(a, out);
    EXPECT_EQ(out.infos.size(), 3u);
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(a.statistics().skipped_bytes, 17u + 3u * 9u);
}

TEST(hdlc_frame_assembler, frames_without_information_are_skipped_as_control_frames) {
    // A UA-like frame: no information field, hence no HCS; the FCS covers the header.
    const bytes ua = telegram_encoder::hdlc_frame({}, false);
    ASSERT_EQ(ua.size(), 2u + 2 + 1 + 2 + 1 + 2);
    const bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(12));
    bytes data = ua;
    data.insert(data.end(), f.begin(), f.end());
    hdlc_frame_assembler a;
    collected out;
    a.feed(data);
    drain(a, out);
    EXPECT_TRUE(out.errors.empty());
    ASSERT_EQ(out.infos.size(), 1u);
    EXPECT_EQ(a.statistics().control_frames, 1u);
    EXPECT_EQ(a.statistics().frames, 1u);
}

TEST(hdlc_frame_assembler, impossible_headers_are_bad_format) {
    // Length 5: too short for any frame.
    EXPECT_EQ(assemble({0x7E, 0xA0, 0x05, 0xCF, 0x03, 0x13, 0x00, 0x00, 0x7E}).errors,
              std::vector<std::error_code>{make_error_code(errc::hdlc_bad_format)});
    // A destination address whose extension bit never ends it (five bytes).
    EXPECT_EQ(assemble({0x7E, 0xA0, 0x20, 0x00, 0x02, 0x04, 0x06, 0x08, 0x03, 0x13}).errors,
              std::vector<std::error_code>{make_error_code(errc::hdlc_bad_format)});
}

TEST(hdlc_frame_assembler, other_frame_format_types_are_not_frames) {
    // Format type 1011b (B0h): not type 3; the flag is taken as fill and the rest skipped.
    bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, counting(10));
    f[1] = static_cast<std::uint8_t>((f[1] & 0x0F) | 0xB0);
    hdlc_frame_assembler a;
    collected out;
    a.feed(f);
    a.on_idle_gap();
    drain(a, out);
    EXPECT_TRUE(out.infos.empty());
    EXPECT_TRUE(out.errors.empty());
}

TEST(hdlc_frame_assembler, longest_frame_the_length_field_allows) {
    // 11-bit length 7FFh: 2047 bytes between the flags.
    const bytes info = counting(2047 - (2 + 1 + 2 + 1) - 4);
    const bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, info);
    ASSERT_EQ(f.size(), hdlc_frame_assembler::max_frame_size);
    ASSERT_EQ(f[1], 0xA7);
    ASSERT_EQ(f[2], 0xFF);
    const auto out = assemble(f);
    ASSERT_EQ(out.infos.size(), 1u);
    EXPECT_EQ(out.infos[0], info);
}

TEST(hdlc_frame_assembler, random_corruption_never_yields_a_wrong_frame) {
    // Flip random bits in a stream of frames: whatever comes out must be one of the frames
    // sent (the CRCs make a false frame practically impossible), and nothing may crash.
    std::mt19937 rng(77);
    std::vector<bytes> sent;
    bytes stream;
    for (int i = 0; i < 40; ++i) {
        sent.push_back(counting(1 + rng() % 100, static_cast<std::uint8_t>(i)));
        const bytes f = hand_frame({0xCF}, {0x02, 0x23}, 0x13, sent.back());
        stream.insert(stream.end(), f.begin(), f.end());
    }
    for (int round = 0; round < 50; ++round) {
        bytes damaged = stream;
        for (int k = 0; k < 5; ++k)
            damaged[rng() % damaged.size()] ^= static_cast<std::uint8_t>(1U << (rng() % 8));
        const auto out = assemble(damaged);
        for (const auto& info : out.infos) {
            EXPECT_NE(std::find(sent.begin(), sent.end(), info), sent.end());
        }
        EXPECT_GE(out.infos.size(), 30u);
    }
}

TEST(hdlc_errors, have_names_and_messages) {
    for (const errc e :
         {errc::hdlc_bad_format, errc::hdlc_bad_hcs, errc::hdlc_bad_fcs, errc::hdlc_missing_flag,
          errc::hdlc_truncated_frame, errc::bad_block_transfer}) {
        const auto ec = make_error_code(e);
        EXPECT_NE(error_name(ec), "unknown");
        EXPECT_NE(ec.message(), "unknown error");
    }
    EXPECT_EQ(error_name(errc::hdlc_bad_fcs), "hdlc_bad_fcs");
    EXPECT_NE(make_error_code(errc::hdlc_bad_fcs).message().find("HDLC"), std::string::npos);
}

}  // namespace
}  // namespace evn_mbus::test
