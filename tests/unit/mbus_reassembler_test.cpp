// Unit tests for the reassembly of DLMS APDUs from M-Bus segments
// (evn_mbus/mbus_reassembler.hpp), with frames built here byte by byte and, separately,
// with telegram_encoder::segment_mbus and the frame assembler.
#include "evn_mbus/mbus_reassembler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <system_error>
#include <vector>

#include "evn_mbus/error.hpp"
#include "evn_mbus/mbus_frame_assembler.hpp"
#include "evn_mbus/telegram_encoder.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;
using evn_mbus::errc;
using evn_mbus::mbus_frame;
using evn_mbus::mbus_reassembler;
using kind = evn_mbus::reassembly_event::kind;

std::error_code ec_of(errc e) {
    return evn_mbus::make_error_code(e);
}

bytes concat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

bytes slice(const bytes& v, std::size_t from, std::size_t to) {
    return bytes(v.begin() + static_cast<std::ptrdiff_t>(from),
                 v.begin() + static_cast<std::ptrdiff_t>(to));
}

// One link frame, owned: 68 L L 68 C A CI [01 67] chunk CS 16, built by hand.
struct segment {
    bytes raw;
    mbus_frame view() const {
        mbus_frame f;
        f.c = raw[4];
        f.a = raw[5];
        f.ci = raw[6];
        f.payload = std::span<const std::uint8_t>(raw).subspan(7, raw.size() - 9);
        f.raw = std::span<const std::uint8_t>(raw);
        return f;
    }
};

segment make_raw_segment(std::uint8_t ci, const bytes& payload) {
    const std::size_t user = 3 + payload.size();
    const auto l = static_cast<std::uint8_t>(user & 0xFF);
    // Sized once and filled in place: appending to a vector assigned from an initializer list
    // gets a false -Warray-bounds from GCC 12 at -O3.
    segment s;
    s.raw.assign(4 + user + 2, 0);
    const std::uint8_t head[] = {0x68, l, l, 0x68, 0x53, 0xFF, ci};
    std::copy(std::begin(head), std::end(head), s.raw.begin());
    std::copy(payload.begin(), payload.end(), s.raw.begin() + 7);
    unsigned sum = 0;
    for (std::size_t i = 4; i < 4 + user; ++i)
        sum += s.raw[i];
    s.raw[4 + user] = static_cast<std::uint8_t>(sum & 0xFF);
    s.raw[4 + user + 1] = 0x16;
    return s;
}

// A DLMS segment: STSAP 01h, DTSAP 67h, then a piece of the APDU.
segment make_segment(std::uint8_t ci, const bytes& chunk) {
    return make_raw_segment(ci, concat({bytes{0x01, 0x67}, chunk}));
}

const bytes title{0x4B, 0x46, 0x4D, 0x10, 0x20, 0x00, 0x00, 0x01};  // "KFM" + serial

bytes axdr_length(std::size_t n) {
    if (n < 0x80) return {static_cast<std::uint8_t>(n)};
    if (n <= 0xFF) return {0x81, static_cast<std::uint8_t>(n)};
    return {0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n & 0xFF)};
}

bytes content(std::size_t n, std::uint8_t seed = 0x30) {
    bytes v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::uint8_t>(seed + i * 3);
    return v;
}

// DB 08 <system title> <A-XDR length> <content>
bytes ciphered_apdu(std::size_t content_size, std::uint8_t tag = 0xDB) {
    return concat({bytes{tag, 0x08}, title, axdr_length(content_size), content(content_size)});
}

// Splits an APDU into segments at the given cut points; the last one gets the 10h flag.
std::vector<segment> split(const bytes& apdu, const std::vector<std::size_t>& cuts) {
    std::vector<segment> out;
    std::size_t from = 0;
    std::uint8_t number = 0;
    std::vector<std::size_t> ends = cuts;
    ends.push_back(apdu.size());
    for (std::size_t i = 0; i < ends.size(); ++i) {
        const bool last = i + 1 == ends.size();
        const auto ci = static_cast<std::uint8_t>(number | (last ? 0x10 : 0x00));
        out.push_back(make_segment(ci, slice(apdu, from, ends[i])));
        from = ends[i];
        ++number;
    }
    return out;
}

struct result {
    kind what = kind::need_more;
    bytes apdu;
    bytes raw;
    std::error_code error;
    std::error_code dropped;
};

result add(mbus_reassembler& r, const segment& s) {
    const evn_mbus::reassembly_event ev = r.add(s.view());
    result out;
    out.what = ev.what;
    out.apdu.assign(ev.apdu.begin(), ev.apdu.end());
    out.raw.assign(ev.raw.begin(), ev.raw.end());
    out.dropped = ev.dropped;
    out.error = ev.error;
    return out;
}

// Feeds all segments; every one but the last must say need_more; returns the last result.
result add_all(mbus_reassembler& r, const std::vector<segment>& segments) {
    result last;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        last = add(r, segments[i]);
        if (i + 1 < segments.size()) {
            EXPECT_EQ(last.what, kind::need_more) << "segment " << i << ": " << last.error;
        }
    }
    return last;
}

bytes raw_of(const std::vector<segment>& segments) {
    bytes out;
    for (const segment& s : segments)
        out.insert(out.end(), s.raw.begin(), s.raw.end());
    return out;
}

// Checks that, after whatever happened, a fresh push decodes.
void expect_fresh_push_decodes(mbus_reassembler& r) {
    const bytes apdu = ciphered_apdu(40);
    const auto segments = split(apdu, {25});
    const result res = add_all(r, segments);
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
    EXPECT_EQ(res.raw, raw_of(segments));
}

// ---- complete telegrams ----------------------------------------------------------------------

TEST(mbus_reassembler, single_segment) {
    const bytes apdu = ciphered_apdu(32);
    ASSERT_EQ(apdu.size(), 43u);
    const segment s = make_segment(0x10, apdu);
    mbus_reassembler r;
    EXPECT_FALSE(r.in_progress());
    const result res = add(r, s);
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);  // without STSAP/DTSAP
    EXPECT_EQ(res.raw, s.raw);
    EXPECT_FALSE(r.in_progress());
}

TEST(mbus_reassembler, two_segments) {
    const bytes apdu = ciphered_apdu(32);
    const auto segments = split(apdu, {20});
    ASSERT_EQ(segments[0].raw[6], 0x00);
    ASSERT_EQ(segments[1].raw[6], 0x11);
    mbus_reassembler r;
    const result first = add(r, segments[0]);
    EXPECT_EQ(first.what, kind::need_more);
    EXPECT_TRUE(r.in_progress());
    const result second = add(r, segments[1]);
    ASSERT_EQ(second.what, kind::telegram) << second.error;
    EXPECT_EQ(second.apdu, apdu);
    EXPECT_EQ(second.raw, raw_of(segments));
    EXPECT_FALSE(r.in_progress());
}

TEST(mbus_reassembler, general_ded_ciphering) {
    const bytes apdu = ciphered_apdu(50, 0xDC);
    const auto segments = split(apdu, {30});
    mbus_reassembler r;
    const result res = add_all(r, segments);
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
}

TEST(mbus_reassembler, complete_when_length_satisfied_even_without_last_flag) {
    const bytes apdu = ciphered_apdu(32);
    mbus_reassembler r;
    const result res = add(r, make_segment(0x00, apdu));
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
}

TEST(mbus_reassembler, header_split_across_many_small_segments) {
    // Three APDU bytes per segment: the system title and length arrive piecemeal.
    const bytes apdu = ciphered_apdu(32);
    std::vector<std::size_t> cuts;
    for (std::size_t c = 3; c < apdu.size(); c += 3)
        cuts.push_back(c);
    const auto segments = split(apdu, cuts);
    ASSERT_EQ(segments.size(), 15u);
    mbus_reassembler r;
    const result res = add_all(r, segments);
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
    EXPECT_EQ(res.raw, raw_of(segments));
}

TEST(mbus_reassembler, long_form_length_81) {
    const bytes apdu = ciphered_apdu(200);
    ASSERT_EQ(apdu[10], 0x81);
    ASSERT_EQ(apdu[11], 200);
    const auto segments = split(apdu, {100});
    mbus_reassembler r;
    const result res = add_all(r, segments);
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
}

TEST(mbus_reassembler, long_form_length_82_split_inside_the_length) {
    const bytes apdu = ciphered_apdu(300);
    ASSERT_EQ(apdu.size(), 313u);
    ASSERT_EQ(apdu[10], 0x82);
    // Cuts after the 82h, after its first length byte, after the second, then in the content.
    const auto segments = split(apdu, {11, 12, 13, 160});
    mbus_reassembler r;
    const result res = add_all(r, segments);
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
    EXPECT_EQ(res.raw, raw_of(segments));
}

TEST(mbus_reassembler, sixteen_segments) {
    // Segment numbers 0..15 use the whole low nibble.
    const bytes apdu = ciphered_apdu(148);  // 81h 94h: 12 header bytes, 160 in all
    ASSERT_EQ(apdu.size(), 160u);
    std::vector<std::size_t> cuts;
    for (std::size_t c = 10; c < apdu.size(); c += 10)
        cuts.push_back(c);
    const auto segments = split(apdu, cuts);
    ASSERT_EQ(segments.size(), 16u);
    ASSERT_EQ(segments.back().raw[6], 0x1F);
    mbus_reassembler r;
    const result res = add_all(r, segments);
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
}

TEST(mbus_reassembler, data_notification_completes_on_last_flag) {
    // Unciphered data-notification: 0F long-invoke-id date-time(absent) body
    const bytes apdu =
        concat({bytes{0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x02, 0x12, 0x00, 0x05, 0x09, 0x03},
                bytes{'A', 'B', 'C'}});
    mbus_reassembler r;
    const result first = add(r, make_segment(0x00, slice(apdu, 0, 7)));
    EXPECT_EQ(first.what, kind::need_more);
    EXPECT_TRUE(r.in_progress());
    const result second = add(r, make_segment(0x01, slice(apdu, 7, 10)));
    EXPECT_EQ(second.what, kind::need_more);
    const result third = add(r, make_segment(0x12, slice(apdu, 10, apdu.size())));
    ASSERT_EQ(third.what, kind::telegram) << third.error;
    EXPECT_EQ(third.apdu, apdu);
    EXPECT_FALSE(r.in_progress());
}

TEST(mbus_reassembler, data_notification_single_segment) {
    const bytes apdu{0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x11, 0x07};
    mbus_reassembler r;
    const result res = add(r, make_segment(0x10, apdu));
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
}

TEST(mbus_reassembler, two_pushes_in_a_row) {
    mbus_reassembler r;
    const bytes a = ciphered_apdu(60);
    const auto sa = split(a, {30});
    const result ra = add_all(r, sa);
    ASSERT_EQ(ra.what, kind::telegram) << ra.error;
    EXPECT_EQ(ra.apdu, a);

    const bytes b = ciphered_apdu(70, 0xDC);
    const auto sb = split(b, {10, 50});
    const result rb = add_all(r, sb);
    ASSERT_EQ(rb.what, kind::telegram) << rb.error;
    EXPECT_EQ(rb.apdu, b);
    EXPECT_EQ(rb.raw, raw_of(sb));  // nothing left over from the first push
}

// ---- with the encoder and the frame assembler ------------------------------------------------

// Runs link frames through the assembler, then the reassembler.
std::vector<result> through_the_stack(const std::vector<bytes>& frames, bytes* raw_stream) {
    evn_mbus::mbus_frame_assembler link;
    mbus_reassembler r;
    std::vector<result> results;
    for (const bytes& f : frames) {
        if (raw_stream) raw_stream->insert(raw_stream->end(), f.begin(), f.end());
        link.feed(f);
        for (;;) {
            const evn_mbus::mbus_frame_event ev = link.next();
            if (ev.what == evn_mbus::mbus_frame_event::kind::need_more) break;
            EXPECT_EQ(ev.what, evn_mbus::mbus_frame_event::kind::frame) << ev.error;
            if (ev.what != evn_mbus::mbus_frame_event::kind::frame) continue;
            const evn_mbus::reassembly_event re = r.add(ev.frame);
            result res;
            res.what = re.what;
            res.apdu.assign(re.apdu.begin(), re.apdu.end());
            res.raw.assign(re.raw.begin(), re.raw.end());
            res.error = re.error;
            results.push_back(std::move(res));
        }
    }
    return results;
}

TEST(mbus_reassembler, encoder_segments_have_the_documented_layout) {
    const bytes apdu = ciphered_apdu(300);
    const auto frames = evn_mbus::telegram_encoder::segment_mbus(apdu, 120);
    ASSERT_EQ(frames.size(), 3u);
    bytes joined;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const bytes& f = frames[i];
        ASSERT_GE(f.size(), 11u);
        EXPECT_EQ(f[0], 0x68);
        EXPECT_EQ(f[3], 0x68);
        EXPECT_EQ(f[4], 0x53);
        EXPECT_EQ(f[5], 0xFF);
        const auto expected_ci = static_cast<std::uint8_t>(i | (i + 1 == frames.size() ? 0x10 : 0));
        EXPECT_EQ(f[6], expected_ci);
        EXPECT_EQ(f[7], 0x01);
        EXPECT_EQ(f[8], 0x67);
        EXPECT_EQ(f.back(), 0x16);
        const bytes chunk = slice(f, 9, f.size() - 2);
        EXPECT_LE(chunk.size(), 120u);
        joined.insert(joined.end(), chunk.begin(), chunk.end());
        // Each frame is a valid long frame as built by hand.
        EXPECT_EQ(f, make_segment(expected_ci, chunk).raw);
    }
    EXPECT_EQ(joined, apdu);
}

TEST(mbus_reassembler, encoder_assembler_reassembler_pipeline) {
    const bytes apdu = ciphered_apdu(300);
    const auto frames = evn_mbus::telegram_encoder::segment_mbus(apdu, 120);
    bytes stream;
    const auto results = through_the_stack(frames, &stream);
    ASSERT_EQ(results.size(), frames.size());
    for (std::size_t i = 0; i + 1 < results.size(); ++i) {
        EXPECT_EQ(results[i].what, kind::need_more) << i;
    }
    ASSERT_EQ(results.back().what, kind::telegram) << results.back().error;
    EXPECT_EQ(results.back().apdu, apdu);
    EXPECT_EQ(results.back().raw, stream);
}

TEST(mbus_reassembler, encoder_default_chunk_kaifa_style) {
    const bytes apdu = ciphered_apdu(250);  // 262 bytes: two frames of at most 245
    const auto frames = evn_mbus::telegram_encoder::segment_mbus(apdu);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0][6], 0x00);
    EXPECT_EQ(frames[1][6], 0x11);
    const auto results = through_the_stack(frames, nullptr);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].what, kind::need_more);
    ASSERT_EQ(results[1].what, kind::telegram) << results[1].error;
    EXPECT_EQ(results[1].apdu, apdu);
}

TEST(mbus_reassembler, encoder_single_frame) {
    const bytes apdu = ciphered_apdu(20);
    const auto frames = evn_mbus::telegram_encoder::segment_mbus(apdu);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0][6], 0x10);
    const auto results = through_the_stack(frames, nullptr);
    ASSERT_EQ(results.size(), 1u);
    ASSERT_EQ(results[0].what, kind::telegram) << results[0].error;
    EXPECT_EQ(results[0].apdu, apdu);
}

TEST(mbus_reassembler, sagemcom_sized_single_frame) {
    // 253 APDU bytes in one frame: C A CI 01 67 + 253 = 258 bytes of user data, L = 02h.
    const bytes apdu = ciphered_apdu(253 - 12);
    ASSERT_EQ(apdu.size(), 253u);
    const auto frames = evn_mbus::telegram_encoder::segment_mbus(apdu, 253);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0][1], 0x02);
    const auto results = through_the_stack(frames, nullptr);
    ASSERT_EQ(results.size(), 1u);
    ASSERT_EQ(results[0].what, kind::telegram) << results[0].error;
    EXPECT_EQ(results[0].apdu, apdu);
}

// ---- errors ----------------------------------------------------------------------------------

TEST(mbus_reassembler, unsupported_ci) {
    for (std::uint8_t ci : {std::uint8_t{0x20}, std::uint8_t{0x30}, std::uint8_t{0x72},
                            std::uint8_t{0x7A}, std::uint8_t{0xFF}}) {
        mbus_reassembler r;
        const result res = add(r, make_segment(ci, ciphered_apdu(10)));
        EXPECT_EQ(res.what, kind::error) << int{ci};
        EXPECT_EQ(res.error, ec_of(errc::unsupported_ci)) << int{ci};
        EXPECT_FALSE(r.in_progress());
        expect_fresh_push_decodes(r);
    }
}

TEST(mbus_reassembler, unsupported_ci_costs_only_that_frame) {
    // A frame of another kind (say a plain M-Bus 72h frame from a second device) between two
    // segments is reported and ignored: the push in progress still completes.
    const bytes apdu = ciphered_apdu(40);
    const auto segments = split(apdu, {20});
    mbus_reassembler r;
    EXPECT_EQ(add(r, segments[0]).what, kind::need_more);
    const result bad = add(r, make_segment(0x72, bytes{0x00}));
    EXPECT_EQ(bad.what, kind::error);
    EXPECT_EQ(bad.error, ec_of(errc::unsupported_ci));
    EXPECT_TRUE(r.in_progress());
    const result done = add(r, segments[1]);
    ASSERT_EQ(done.what, kind::telegram) << done.error;
    EXPECT_EQ(done.apdu, apdu);
}

TEST(mbus_reassembler, frame_too_short) {
    for (const bytes& payload : {bytes{}, bytes{0x01}}) {
        mbus_reassembler r;
        const result res = add(r, make_raw_segment(0x10, payload));
        EXPECT_EQ(res.what, kind::error) << payload.size();
        EXPECT_EQ(res.error, ec_of(errc::frame_too_short)) << payload.size();
        expect_fresh_push_decodes(r);
    }
}

TEST(mbus_reassembler, continuation_without_start_is_missing_segment) {
    for (std::uint8_t ci : {std::uint8_t{0x01}, std::uint8_t{0x11}, std::uint8_t{0x05}}) {
        mbus_reassembler r;
        const result res = add(r, make_segment(ci, content(20)));
        EXPECT_EQ(res.what, kind::error) << int{ci};
        EXPECT_EQ(res.error, ec_of(errc::missing_segment)) << int{ci};
        EXPECT_FALSE(r.in_progress());
        expect_fresh_push_decodes(r);
    }
}

TEST(mbus_reassembler, skipped_segment_is_missing_segment) {
    const bytes apdu = ciphered_apdu(60);
    mbus_reassembler r;
    EXPECT_EQ(add(r, make_segment(0x00, slice(apdu, 0, 20))).what, kind::need_more);
    const result res = add(r, make_segment(0x02, slice(apdu, 20, 40)));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::missing_segment));
    EXPECT_FALSE(r.in_progress());
    expect_fresh_push_decodes(r);
}

TEST(mbus_reassembler, skipped_last_segment_is_missing_segment) {
    const bytes apdu = ciphered_apdu(60);
    mbus_reassembler r;
    EXPECT_EQ(add(r, make_segment(0x00, slice(apdu, 0, 20))).what, kind::need_more);
    const result res = add(r, make_segment(0x12, slice(apdu, 40, apdu.size())));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::missing_segment));
}

TEST(mbus_reassembler, continuation_after_a_complete_telegram_is_missing_segment) {
    mbus_reassembler r;
    const result done = add(r, make_segment(0x10, ciphered_apdu(10)));
    ASSERT_EQ(done.what, kind::telegram);
    const result res = add(r, make_segment(0x11, content(10)));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::missing_segment));
}

TEST(mbus_reassembler, new_start_drops_the_old_push_and_begins_the_new_one) {
    const bytes old_apdu = ciphered_apdu(60);
    const bytes new_apdu = ciphered_apdu(50, 0xDC);
    const auto old_segments = split(old_apdu, {30});
    const auto new_segments = split(new_apdu, {25});
    mbus_reassembler r;
    EXPECT_EQ(add(r, old_segments[0]).what, kind::need_more);
    const result restart = add(r, new_segments[0]);
    EXPECT_EQ(restart.what, kind::need_more);
    EXPECT_EQ(restart.dropped, ec_of(errc::missing_segment));
    EXPECT_TRUE(r.in_progress());  // the new push was started
    const result done = add(r, new_segments[1]);
    ASSERT_EQ(done.what, kind::telegram) << done.error;
    EXPECT_EQ(done.apdu, new_apdu);
    EXPECT_EQ(done.raw, raw_of(new_segments));  // nothing of the dropped push
}

TEST(mbus_reassembler, new_start_with_a_data_notification) {
    // The old push is dropped (reported in `dropped`), and the data-notification push that replaced
    // it is not lost: a segment 0 always starts afresh.
    const bytes old_apdu = ciphered_apdu(60);
    mbus_reassembler r;
    EXPECT_EQ(add(r, make_segment(0x00, slice(old_apdu, 0, 30))).what, kind::need_more);
    const bytes data_notification{0x0F, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00};
    const result restart = add(r, make_segment(0x00, data_notification));
    EXPECT_EQ(restart.what, kind::need_more);
    EXPECT_EQ(restart.dropped, ec_of(errc::missing_segment));
    const result done = add(r, make_segment(0x11, bytes{0x11, 0x05}));
    ASSERT_EQ(done.what, kind::telegram) << done.error;
    EXPECT_EQ(done.apdu, concat({data_notification, bytes{0x11, 0x05}}));
}

TEST(mbus_reassembler, truncated_telegram_single_segment) {
    const bytes apdu = ciphered_apdu(32);
    mbus_reassembler r;
    const result res = add(r, make_segment(0x10, slice(apdu, 0, 21)));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::truncated_telegram));
    EXPECT_FALSE(r.in_progress());
    expect_fresh_push_decodes(r);
}

TEST(mbus_reassembler, truncated_telegram_in_last_of_several_segments) {
    const bytes apdu = ciphered_apdu(100);
    mbus_reassembler r;
    EXPECT_EQ(add(r, make_segment(0x00, slice(apdu, 0, 40))).what, kind::need_more);
    const result res = add(r, make_segment(0x11, slice(apdu, 40, 80)));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::truncated_telegram));
    expect_fresh_push_decodes(r);
}

TEST(mbus_reassembler, truncated_telegram_inside_the_header) {
    mbus_reassembler r;
    const result res = add(r, make_segment(0x10, bytes{0xDB, 0x08, 0x4B, 0x46}));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::truncated_telegram));
    expect_fresh_push_decodes(r);
}

TEST(mbus_reassembler, length_mismatch_single_segment) {
    // The length says 5, the segment carries 10 content bytes.
    const bytes apdu = concat({bytes{0xDB, 0x08}, title, bytes{0x05}, content(10)});
    mbus_reassembler r;
    const result res = add(r, make_segment(0x10, apdu));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::length_mismatch));
    EXPECT_FALSE(r.in_progress());
    expect_fresh_push_decodes(r);
}

TEST(mbus_reassembler, length_mismatch_across_segments) {
    // The length says 30; the second segment overshoots by 4 bytes.
    const bytes apdu = concat({bytes{0xDB, 0x08}, title, bytes{0x1E}, content(34)});
    mbus_reassembler r;
    EXPECT_EQ(add(r, make_segment(0x00, slice(apdu, 0, 20))).what, kind::need_more);
    const result res = add(r, make_segment(0x11, slice(apdu, 20, apdu.size())));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::length_mismatch));
    expect_fresh_push_decodes(r);
}

TEST(mbus_reassembler, length_mismatch_without_last_flag) {
    const bytes apdu = concat({bytes{0xDB, 0x08}, title, bytes{0x05}, content(10)});
    mbus_reassembler r;
    const result res = add(r, make_segment(0x00, apdu));
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::length_mismatch));
    expect_fresh_push_decodes(r);
}

TEST(mbus_reassembler, lying_length_is_telegram_too_long) {
    for (const bytes& length :
         {bytes{0x82, 0xFF, 0xFF}, bytes{0x82, 0x10, 0x00}, bytes{0x83, 0x01, 0x00, 0x00}}) {
        const bytes head = concat({bytes{0xDB, 0x08}, title, length, content(40)});
        mbus_reassembler r;
        const result res = add(r, make_segment(0x00, head));
        EXPECT_EQ(res.what, kind::error) << ::testing::PrintToString(length);
        EXPECT_EQ(res.error, ec_of(errc::telegram_too_long)) << ::testing::PrintToString(length);
        EXPECT_FALSE(r.in_progress());
        expect_fresh_push_decodes(r);
    }
}

TEST(mbus_reassembler, largest_allowed_length_is_accepted) {
    // DB 08 title 82 0F F3 + 4083 bytes = 4096 = max_apdu_size.
    const std::size_t content_size = mbus_reassembler::max_apdu_size - 13;
    const bytes apdu = ciphered_apdu(content_size);
    ASSERT_EQ(apdu.size(), mbus_reassembler::max_apdu_size);
    std::vector<std::size_t> cuts;
    for (std::size_t c = 300; c < apdu.size(); c += 300)
        cuts.push_back(c);
    ASSERT_LE(cuts.size() + 1, 16u);
    const auto segments = split(apdu, cuts);
    mbus_reassembler r;
    const result res = add_all(r, segments);
    ASSERT_EQ(res.what, kind::telegram) << res.error;
    EXPECT_EQ(res.apdu, apdu);
}

TEST(mbus_reassembler, unbounded_data_notification_is_telegram_too_long) {
    // A 0F APDU has no length of its own; segments without the last flag keep coming.
    mbus_reassembler r;
    bool too_long = false;
    for (std::uint8_t n = 0; n < 15 && !too_long; ++n) {
        bytes chunk = content(1000, n);
        if (n == 0) chunk[0] = 0x0F;
        const result res = add(r, make_segment(n, chunk));
        ASSERT_NE(res.what, kind::telegram);
        if (res.what == kind::error) {
            EXPECT_EQ(res.error, ec_of(errc::telegram_too_long));
            too_long = true;
            // No more than max_apdu_size bytes may have been accepted.
            EXPECT_GT((static_cast<std::size_t>(n) + 1) * 1000,
                      mbus_reassembler::max_apdu_size);
        }
    }
    EXPECT_TRUE(too_long);
    EXPECT_FALSE(r.in_progress());
    expect_fresh_push_decodes(r);
}

// ---- reset -----------------------------------------------------------------------------------

TEST(mbus_reassembler, reset_drops_the_partial_telegram) {
    const bytes apdu = ciphered_apdu(40);
    const auto segments = split(apdu, {20});
    mbus_reassembler r;
    EXPECT_FALSE(r.reset());
    EXPECT_EQ(add(r, segments[0]).what, kind::need_more);
    EXPECT_TRUE(r.in_progress());
    EXPECT_TRUE(r.reset());
    EXPECT_FALSE(r.in_progress());
    EXPECT_FALSE(r.reset());
    const result res = add(r, segments[1]);
    EXPECT_EQ(res.what, kind::error);
    EXPECT_EQ(res.error, ec_of(errc::missing_segment));
    expect_fresh_push_decodes(r);
}

TEST(mbus_reassembler, reset_after_a_complete_telegram_drops_nothing) {
    mbus_reassembler r;
    ASSERT_EQ(add(r, make_segment(0x10, ciphered_apdu(10))).what, kind::telegram);
    EXPECT_FALSE(r.reset());
}

}  // namespace
