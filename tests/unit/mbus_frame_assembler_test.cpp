// Unit tests for the incremental M-Bus long-frame assembler (evn_mbus/mbus_frame_assembler.hpp)
// and for telegram_encoder::mbus_long_frame, checked against frames built here byte by byte.
#include "evn_mbus/mbus_frame_assembler.hpp"

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
#include "fixture_layout.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;
using evn_mbus::errc;
using evn_mbus::mbus_frame_assembler;
using kind = evn_mbus::mbus_frame_event::kind;
namespace mbus_at = evn_mbus::test::mbus_at;

std::error_code ec_of(errc e) {
    return evn_mbus::make_error_code(e);
}

// Independent of evn_mbus::parse_hex: plain hex digits only.
bytes from_hex(std::string_view text) {
    auto nibble = [](char ch) -> std::uint8_t {
        if (ch >= '0' && ch <= '9') return static_cast<std::uint8_t>(ch - '0');
        if (ch >= 'A' && ch <= 'F') return static_cast<std::uint8_t>(ch - 'A' + 10);
        return static_cast<std::uint8_t>(ch - 'a' + 10);
    };
    bytes out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>((nibble(text[i]) << 4) | nibble(text[i + 1])));
    }
    return out;
}

bytes concat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

// Builds a long frame by hand: 68 L L 68 C A CI payload CS 16. L is the low byte of the
// user-data length, as the Sagemcom T210-D sends it.
// Sized once and filled in place: appending to a vector made from an initializer list gets a
// false -Warray-bounds from GCC 12 at -O3 (it tracks the list's 7 bytes into the insert).
bytes hand_frame(std::uint8_t c, std::uint8_t a, std::uint8_t ci, const bytes& payload) {
    const std::size_t user = 3 + payload.size();
    const auto l = static_cast<std::uint8_t>(user & 0xFF);
    bytes f(4 + user + 2);
    f[0] = 0x68;
    f[1] = l;
    f[2] = l;
    f[3] = 0x68;
    f[4] = c;
    f[5] = a;
    f[6] = ci;
    std::copy(payload.begin(), payload.end(), f.begin() + 7);
    unsigned sum = 0;
    for (std::size_t i = 4; i < 4 + user; ++i)
        sum += f[i];
    f[4 + user] = static_cast<std::uint8_t>(sum & 0xFF);
    f[4 + user + 1] = 0x16;
    return f;
}

bytes pattern(std::size_t n, std::uint8_t seed) {
    bytes v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::uint8_t>(seed + i * 7);
    return v;
}

// The real frame from the task: L=14h, C=53h, A=FFh, CI=11h.
const bytes real_frame = from_hex("6814146853FF110167419A3CFDA44BE438C96F0E38BF83D98316");
const bytes real_payload = from_hex("0167419A3CFDA44BE438C96F0E38BF83D9");

// What the tests keep of an event: the spans are only valid until the next call.
struct event_copy {
    kind what = kind::need_more;
    std::uint8_t c = 0;
    std::uint8_t a = 0;
    std::uint8_t ci = 0;
    bytes payload;
    bytes raw;
    std::error_code error;
};

std::vector<event_copy> drain(mbus_frame_assembler& asm_) {
    std::vector<event_copy> out;
    for (int guard = 0; guard < 100000; ++guard) {
        const evn_mbus::mbus_frame_event ev = asm_.next();
        if (ev.what == kind::need_more) return out;
        event_copy e;
        e.what = ev.what;
        if (ev.what == kind::frame) {
            e.c = ev.frame.c;
            e.a = ev.frame.a;
            e.ci = ev.frame.ci;
            e.payload.assign(ev.frame.payload.begin(), ev.frame.payload.end());
            e.raw.assign(ev.frame.raw.begin(), ev.frame.raw.end());
        } else {
            e.error = ev.error;
        }
        out.push_back(std::move(e));
    }
    ADD_FAILURE() << "next() never returned need_more";
    return out;
}

void feed(mbus_frame_assembler& asm_, const bytes& b) {
    asm_.feed(std::span<const std::uint8_t>(b.data(), b.size()));
}

std::vector<bytes> raw_frames(const std::vector<event_copy>& events) {
    std::vector<bytes> out;
    for (const auto& e : events) {
        if (e.what == kind::frame) out.push_back(e.raw);
    }
    return out;
}

std::vector<std::error_code> errors(const std::vector<event_copy>& events) {
    std::vector<std::error_code> out;
    for (const auto& e : events) {
        if (e.what == kind::error) out.push_back(e.error);
    }
    return out;
}

// ---- the test frames themselves --------------------------------------------------------------

TEST(mbus_test_frames, real_frame_is_consistent) {
    ASSERT_EQ(real_frame.size(), 26u);
    EXPECT_EQ(real_frame[1], 0x14);
    EXPECT_EQ(real_frame.size(), 0x14u + 6u);
    unsigned sum = 0;
    for (std::size_t i = 4; i < 4 + 0x14; ++i)
        sum += real_frame[i];
    EXPECT_EQ(sum & 0xFF, real_frame[24]);
    EXPECT_EQ(hand_frame(0x53, 0xFF, 0x11, real_payload), real_frame);
}

TEST(mbus_long_frame_encoder, matches_hand_built_frames) {
    EXPECT_EQ(evn_mbus::telegram_encoder::mbus_long_frame(
                  concat({bytes{0x53, 0xFF, 0x11}, real_payload})),
              real_frame);
    for (std::size_t payload_size : {0u, 1u, 17u, 100u, 252u}) {
        const bytes payload = pattern(payload_size, 0x21);
        const bytes user = concat({bytes{0x73, 0x01, 0x10}, payload});
        EXPECT_EQ(evn_mbus::telegram_encoder::mbus_long_frame(user),
                  hand_frame(0x73, 0x01, 0x10, payload))
            << payload_size;
    }
}

TEST(mbus_long_frame_encoder, reproduces_sagemcom_length_overflow) {
    for (std::size_t user_size : {256u, 257u, 258u}) {
        const bytes payload = pattern(user_size - 3, 0x05);
        const bytes user = concat({bytes{0x53, 0xFF, 0x10}, payload});
        const bytes frame = evn_mbus::telegram_encoder::mbus_long_frame(user);
        ASSERT_EQ(frame.size(), user_size + 6);
        EXPECT_EQ(frame[1], static_cast<std::uint8_t>(user_size - 256));
        EXPECT_EQ(frame[2], static_cast<std::uint8_t>(user_size - 256));
        EXPECT_EQ(frame, hand_frame(0x53, 0xFF, 0x10, payload)) << user_size;
    }
}

// ---- single frames ---------------------------------------------------------------------------

TEST(mbus_frame_assembler, real_frame) {
    mbus_frame_assembler a;
    feed(a, real_frame);
    const auto events = drain(a);
    ASSERT_EQ(events.size(), 1u);
    const event_copy& e = events[0];
    ASSERT_EQ(e.what, kind::frame);
    EXPECT_EQ(e.c, 0x53);
    EXPECT_EQ(e.a, 0xFF);
    EXPECT_EQ(e.ci, 0x11);
    EXPECT_EQ(e.payload, real_payload);
    EXPECT_EQ(e.raw, real_frame);
    EXPECT_EQ(a.buffered(), 0u);
    EXPECT_EQ(a.statistics().frames, 1u);
    EXPECT_EQ(a.statistics().skipped_bytes, 0u);
    EXPECT_EQ(a.statistics().bad_frames, 0u);
    EXPECT_EQ(a.statistics().control_frames, 0u);
}

TEST(mbus_frame_assembler, spans_point_into_the_frame) {
    mbus_frame_assembler a;
    feed(a, real_frame);
    const evn_mbus::mbus_frame_event ev = a.next();
    ASSERT_EQ(ev.what, kind::frame);
    ASSERT_EQ(ev.frame.raw.size(), real_frame.size());
    EXPECT_EQ(ev.frame.payload.data(), ev.frame.raw.data() + 7);
    EXPECT_EQ(ev.frame.payload.size(), ev.frame.raw.size() - 9);
    EXPECT_EQ(a.next().what, kind::need_more);
}

TEST(mbus_frame_assembler, frame_without_payload) {
    const bytes f = hand_frame(0x53, 0xFF, 0x10, {});
    ASSERT_EQ(f, (bytes{0x68, 0x03, 0x03, 0x68, 0x53, 0xFF, 0x10, 0x62, 0x16}));
    mbus_frame_assembler a;
    feed(a, f);
    const auto events = drain(a);
    ASSERT_EQ(events.size(), 1u);
    ASSERT_EQ(events[0].what, kind::frame);
    EXPECT_EQ(events[0].ci, 0x10);
    EXPECT_TRUE(events[0].payload.empty());
    EXPECT_EQ(events[0].raw, f);
}

TEST(mbus_frame_assembler, largest_normal_frame) {
    const bytes payload = pattern(252, 0x33);  // L = FFh
    const bytes f = hand_frame(0x53, 0xFF, 0x00, payload);
    ASSERT_EQ(f[1], 0xFF);
    mbus_frame_assembler a;
    feed(a, f);
    const auto events = drain(a);
    ASSERT_EQ(events.size(), 1u);
    ASSERT_EQ(events[0].what, kind::frame);
    EXPECT_EQ(events[0].payload, payload);
}

TEST(mbus_frame_assembler, empty_feed_is_harmless) {
    mbus_frame_assembler a;
    a.feed({});
    EXPECT_TRUE(drain(a).empty());
    EXPECT_EQ(a.buffered(), 0u);
}

// ---- several frames, garbage -----------------------------------------------------------------

TEST(mbus_frame_assembler, two_frames_back_to_back) {
    const bytes second = hand_frame(0x53, 0xFF, 0x12, pattern(40, 0x90));
    mbus_frame_assembler a;
    feed(a, concat({real_frame, second}));
    const auto events = drain(a);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame, second}));
    EXPECT_EQ(events[1].ci, 0x12);
    EXPECT_EQ(a.statistics().frames, 2u);
    EXPECT_EQ(a.statistics().skipped_bytes, 0u);
}

TEST(mbus_frame_assembler, garbage_before_and_between_is_skipped_and_counted) {
    const bytes second = hand_frame(0x53, 0xFF, 0x12, pattern(40, 0x90));
    const bytes garbage1{0x00, 0xFF, 0x12, 0x34};
    const bytes garbage2{0x16, 0x99, 0x67};
    mbus_frame_assembler a;
    feed(a, concat({garbage1, real_frame, garbage2, second}));
    const auto events = drain(a);
    EXPECT_TRUE(errors(events).empty());
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame, second}));
    EXPECT_EQ(a.statistics().skipped_bytes, 7u);
    EXPECT_EQ(a.statistics().frames, 2u);
    EXPECT_EQ(a.buffered(), 0u);
}

TEST(mbus_frame_assembler, mismatched_header_is_skipped) {
    // 68 14 15 68: the two L fields differ, so this is not a frame start.
    const bytes fake{0x68, 0x14, 0x15, 0x68};
    // 68 14 14 69: the second start byte is wrong.
    const bytes fake2{0x68, 0x14, 0x14, 0x69};
    mbus_frame_assembler a;
    feed(a, concat({fake, real_frame, fake2, real_frame}));
    const auto events = drain(a);
    EXPECT_TRUE(errors(events).empty());
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame, real_frame}));
    EXPECT_EQ(a.statistics().skipped_bytes, 8u);
}

TEST(mbus_frame_assembler, split_at_every_position) {
    for (std::size_t cut = 0; cut <= real_frame.size(); ++cut) {
        mbus_frame_assembler a;
        feed(a, bytes(real_frame.begin(), real_frame.begin() + static_cast<std::ptrdiff_t>(cut)));
        const auto first = drain(a);
        if (cut < real_frame.size()) {
            EXPECT_TRUE(first.empty()) << "cut " << cut;
        }
        feed(a, bytes(real_frame.begin() + static_cast<std::ptrdiff_t>(cut), real_frame.end()));
        const auto second = drain(a);
        std::vector<event_copy> all = first;
        all.insert(all.end(), second.begin(), second.end());
        ASSERT_EQ(all.size(), 1u) << "cut " << cut;
        EXPECT_EQ(all[0].what, kind::frame) << "cut " << cut;
        EXPECT_EQ(all[0].raw, real_frame) << "cut " << cut;
        EXPECT_EQ(all[0].payload, real_payload) << "cut " << cut;
        EXPECT_EQ(a.buffered(), 0u);
    }
}

TEST(mbus_frame_assembler, stream_split_at_every_position) {
    const bytes second = hand_frame(0x53, 0xFF, 0x12, pattern(40, 0x90));
    const bytes stream =
        concat({bytes{0x01, 0x02}, real_frame, bytes{0xE5}, bytes{0x33}, second, bytes{0x44}});
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        mbus_frame_assembler a;
        feed(a, bytes(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut)));
        auto all = drain(a);
        feed(a, bytes(stream.begin() + static_cast<std::ptrdiff_t>(cut), stream.end()));
        const auto rest = drain(a);
        all.insert(all.end(), rest.begin(), rest.end());
        EXPECT_TRUE(errors(all).empty()) << "cut " << cut;
        EXPECT_EQ(raw_frames(all), (std::vector<bytes>{real_frame, second})) << "cut " << cut;
        EXPECT_EQ(a.statistics().control_frames, 1u) << "cut " << cut;
    }
}

TEST(mbus_frame_assembler, byte_by_byte_frame_appears_with_the_stop_byte) {
    mbus_frame_assembler a;
    for (std::size_t i = 0; i < real_frame.size(); ++i) {
        feed(a, bytes{real_frame[i]});
        const auto events = drain(a);
        if (i + 1 < real_frame.size()) {
            EXPECT_TRUE(events.empty()) << "after byte " << i;
        } else {
            ASSERT_EQ(events.size(), 1u);
            EXPECT_EQ(events[0].what, kind::frame);
            EXPECT_EQ(events[0].raw, real_frame);
        }
    }
}

TEST(mbus_frame_assembler, byte_by_byte_stream) {
    const bytes second = hand_frame(0x53, 0xFF, 0x12, pattern(40, 0x90));
    const bytes stream = concat({bytes{0x00}, real_frame, bytes{0x10, 0x40, 0xFE, 0x3E, 0x16},
                                 bytes{0x7A}, second, real_frame});
    mbus_frame_assembler a;
    std::vector<event_copy> all;
    for (std::uint8_t b : stream) {
        a.feed(std::span<const std::uint8_t>(&b, 1));
        const auto events = drain(a);
        all.insert(all.end(), events.begin(), events.end());
    }
    EXPECT_TRUE(errors(all).empty());
    EXPECT_EQ(raw_frames(all), (std::vector<bytes>{real_frame, second, real_frame}));
    EXPECT_EQ(a.statistics().control_frames, 1u);
    EXPECT_EQ(a.statistics().skipped_bytes, 2u);
    EXPECT_EQ(a.buffered(), 0u);
}

TEST(mbus_frame_assembler, partial_frame_stays_buffered) {
    mbus_frame_assembler a;
    feed(a, concat({real_frame, bytes(real_frame.begin(), real_frame.begin() + 10)}));
    const auto events = drain(a);
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame}));
    EXPECT_EQ(a.buffered(), 10u);
    feed(a, bytes(real_frame.begin() + 10, real_frame.end()));
    EXPECT_EQ(raw_frames(drain(a)), (std::vector<bytes>{real_frame}));
    EXPECT_EQ(a.buffered(), 0u);
}

// ---- bad frames ------------------------------------------------------------------------------

TEST(mbus_frame_assembler, bad_checksum_then_good_frame) {
    bytes bad = real_frame;
    constexpr std::size_t checksum = mbus_at::checksum(0x14);  // real_frame's L
    bad[checksum] = static_cast<std::uint8_t>(bad[checksum] + 1);
    mbus_frame_assembler a;
    feed(a, concat({bad, real_frame}));
    const auto events = drain(a);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].what, kind::error);
    EXPECT_EQ(events[0].error, ec_of(errc::bad_checksum));
    EXPECT_EQ(events[1].what, kind::frame);
    EXPECT_EQ(events[1].raw, real_frame);
    EXPECT_EQ(a.statistics().bad_frames, 1u);
    EXPECT_EQ(a.statistics().frames, 1u);
}

TEST(mbus_frame_assembler, corrupted_data_byte_is_bad_checksum) {
    bytes bad = real_frame;
    bad[mbus_at::segment_data + 3] ^= 0x01;  // the fourth ciphertext byte
    mbus_frame_assembler a;
    feed(a, bad);
    const auto events = drain(a);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].error, ec_of(errc::bad_checksum));
    EXPECT_EQ(a.buffered(), 0u);
    feed(a, real_frame);
    EXPECT_EQ(raw_frames(drain(a)), (std::vector<bytes>{real_frame}));
}

TEST(mbus_frame_assembler, bad_stop_byte_then_good_frame) {
    bytes bad(real_frame.begin(), real_frame.end() - 1);  // not .back() = : GCC 12 -O3 warns
    bad.push_back(0x17);
    mbus_frame_assembler a;
    feed(a, concat({bad, real_frame}));
    const auto events = drain(a);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].what, kind::error);
    EXPECT_EQ(events[0].error, ec_of(errc::bad_stop_byte));
    EXPECT_EQ(events[1].what, kind::frame);
    EXPECT_EQ(events[1].raw, real_frame);
    EXPECT_EQ(a.statistics().bad_frames, 1u);
}

TEST(mbus_frame_assembler, bad_frame_split_byte_by_byte) {
    bytes bad = real_frame;
    constexpr std::size_t checksum = mbus_at::checksum(0x14);  // real_frame's L
    bad[checksum] = static_cast<std::uint8_t>(bad[checksum] ^ 0x40);
    const bytes stream = concat({bad, real_frame});
    mbus_frame_assembler a;
    std::vector<event_copy> all;
    for (std::uint8_t b : stream) {
        a.feed(std::span<const std::uint8_t>(&b, 1));
        const auto events = drain(a);
        all.insert(all.end(), events.begin(), events.end());
    }
    EXPECT_EQ(errors(all), (std::vector<std::error_code>{ec_of(errc::bad_checksum)}));
    EXPECT_EQ(raw_frames(all), (std::vector<bytes>{real_frame}));
}

// ---- idle gap --------------------------------------------------------------------------------

TEST(mbus_frame_assembler, truncated_frame_on_idle_gap_then_good_frame) {
    mbus_frame_assembler a;
    feed(a, bytes(real_frame.begin(), real_frame.begin() + 10));
    EXPECT_TRUE(drain(a).empty());
    a.on_idle_gap();
    const auto events = drain(a);
    EXPECT_EQ(errors(events), (std::vector<std::error_code>{ec_of(errc::truncated_frame)}));
    EXPECT_TRUE(raw_frames(events).empty());
    EXPECT_EQ(a.buffered(), 0u);
    EXPECT_EQ(a.statistics().bad_frames, 1u);

    feed(a, real_frame);
    const auto after = drain(a);
    EXPECT_TRUE(errors(after).empty());
    EXPECT_EQ(raw_frames(after), (std::vector<bytes>{real_frame}));
}

TEST(mbus_frame_assembler, idle_gap_before_draining_then_new_data) {
    // The gap is signalled before next() has looked at the partial frame, and the next push
    // arrives before anyone drains: the partial frame is still dropped, the new one decoded.
    mbus_frame_assembler a;
    feed(a, bytes(real_frame.begin(), real_frame.begin() + 20));
    a.on_idle_gap();
    feed(a, real_frame);
    const auto events = drain(a);
    EXPECT_EQ(errors(events), (std::vector<std::error_code>{ec_of(errc::truncated_frame)}));
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame}));
    EXPECT_EQ(a.buffered(), 0u);
}

TEST(mbus_frame_assembler, idle_gap_with_nothing_buffered) {
    mbus_frame_assembler a;
    a.on_idle_gap();
    EXPECT_TRUE(drain(a).empty());
    feed(a, real_frame);
    a.on_idle_gap();  // complete frame before the gap: not truncated
    const auto events = drain(a);
    EXPECT_TRUE(errors(events).empty());
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame}));
}

TEST(mbus_frame_assembler, idle_gap_after_incomplete_header) {
    mbus_frame_assembler a;
    feed(a, bytes{0x68, 0x14});
    EXPECT_TRUE(drain(a).empty());
    a.on_idle_gap();
    EXPECT_TRUE(raw_frames(drain(a)).empty());
    EXPECT_EQ(a.buffered(), 0u);
    feed(a, real_frame);
    EXPECT_EQ(raw_frames(drain(a)), (std::vector<bytes>{real_frame}));
}

TEST(mbus_frame_assembler, garbage_header_hiding_a_real_frame) {
    // 68 FA FA 68 announces 250 bytes of user data; a real frame follows within them. Once the
    // line goes idle the fake candidate is dropped and the real frame found behind it.
    const bytes fake{0x68, 0xFA, 0xFA, 0x68};
    mbus_frame_assembler a;
    feed(a, concat({fake, real_frame}));
    auto events = drain(a);
    a.on_idle_gap();
    const auto after = drain(a);
    events.insert(events.end(), after.begin(), after.end());
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame}));
    EXPECT_EQ(errors(events), (std::vector<std::error_code>{ec_of(errc::truncated_frame)}));
    EXPECT_EQ(a.buffered(), 0u);

    feed(a, real_frame);  // and the next push decodes normally
    EXPECT_EQ(raw_frames(drain(a)), (std::vector<bytes>{real_frame}));
}

TEST(mbus_frame_assembler, garbage_header_hiding_two_frames_split) {
    const bytes second = hand_frame(0x53, 0xFF, 0x12, pattern(30, 0x01));
    const bytes stream = concat({bytes{0x68, 0xC8, 0xC8, 0x68}, real_frame, second});
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        mbus_frame_assembler a;
        feed(a, bytes(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut)));
        auto all = drain(a);
        feed(a, bytes(stream.begin() + static_cast<std::ptrdiff_t>(cut), stream.end()));
        auto more = drain(a);
        all.insert(all.end(), more.begin(), more.end());
        a.on_idle_gap();
        more = drain(a);
        all.insert(all.end(), more.begin(), more.end());
        EXPECT_EQ(raw_frames(all), (std::vector<bytes>{real_frame, second})) << "cut " << cut;
        EXPECT_EQ(a.buffered(), 0u);
    }
}

// ---- control frames --------------------------------------------------------------------------

TEST(mbus_frame_assembler, single_char_and_short_frames_are_skipped_and_counted) {
    // Short frame 10 C A CS 16 with C=40h (SND_NKE), A=FEh: CS = 40h + FEh = 3Eh.
    const bytes short_frame{0x10, 0x40, 0xFE, 0x3E, 0x16};
    mbus_frame_assembler a;
    feed(a, concat({bytes{0xE5}, short_frame, bytes{0xE5}, real_frame, short_frame}));
    const auto events = drain(a);
    EXPECT_TRUE(errors(events).empty());
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame}));
    EXPECT_EQ(a.statistics().control_frames, 4u);
    EXPECT_EQ(a.statistics().frames, 1u);
    EXPECT_EQ(a.buffered(), 0u);
}

TEST(mbus_frame_assembler, short_frame_split_across_feeds) {
    mbus_frame_assembler a;
    feed(a, bytes{0x10, 0x40});
    EXPECT_TRUE(drain(a).empty());
    feed(a, bytes{0xFE, 0x3E, 0x16});
    EXPECT_TRUE(drain(a).empty());
    EXPECT_EQ(a.statistics().control_frames, 1u);
    EXPECT_EQ(a.buffered(), 0u);
}

TEST(mbus_frame_assembler, invalid_short_frame_is_not_a_control_frame) {
    // Wrong checksum: not a short frame, so not counted as one; the real frame still decodes.
    mbus_frame_assembler a;
    feed(a, concat({bytes{0x10, 0x40, 0xFE, 0x00, 0x16}, real_frame}));
    const auto events = drain(a);
    EXPECT_EQ(raw_frames(events), (std::vector<bytes>{real_frame}));
    EXPECT_EQ(a.statistics().control_frames, 0u);
}

// ---- Sagemcom T210-D length overflow ---------------------------------------------------------

TEST(mbus_frame_assembler, overflowed_length_257_bytes_hand_built) {
    // 257 bytes of user data: C A CI + 254 payload; L is sent as 01h.
    const bytes payload = pattern(254, 0x11);
    bytes f{0x68, 0x01, 0x01, 0x68, 0x53, 0xFF, 0x10};
    f.insert(f.end(), payload.begin(), payload.end());
    unsigned sum = 0x53 + 0xFF + 0x10;
    for (std::uint8_t b : payload)
        sum += b;
    f.push_back(static_cast<std::uint8_t>(sum % 256));
    f.push_back(0x16);
    ASSERT_EQ(f.size(), 263u);
    EXPECT_EQ(
        evn_mbus::telegram_encoder::mbus_long_frame(concat({bytes{0x53, 0xFF, 0x10}, payload})), f);

    mbus_frame_assembler a;
    feed(a, concat({f, real_frame}));
    const auto events = drain(a);
    EXPECT_TRUE(errors(events).empty());
    ASSERT_EQ(raw_frames(events), (std::vector<bytes>{f, real_frame}));
    EXPECT_EQ(events[0].ci, 0x10);
    EXPECT_EQ(events[0].payload, payload);
}

TEST(mbus_frame_assembler, overflowed_lengths_256_to_258) {
    for (std::size_t user_size : {256u, 257u, 258u}) {
        const bytes payload = pattern(user_size - 3, 0x42);
        const bytes f =
            evn_mbus::telegram_encoder::mbus_long_frame(concat({bytes{0x53, 0xFF, 0x11}, payload}));
        ASSERT_EQ(f.size(), user_size + 6);
        ASSERT_LE(f.size(), mbus_frame_assembler::max_frame_size);
        mbus_frame_assembler a;
        feed(a, f);
        const auto events = drain(a);
        ASSERT_EQ(events.size(), 1u) << user_size;
        ASSERT_EQ(events[0].what, kind::frame) << user_size;
        EXPECT_EQ(events[0].payload, payload) << user_size;
        EXPECT_EQ(events[0].raw, f) << user_size;
    }
}

TEST(mbus_frame_assembler, overflowed_frame_split_at_every_position) {
    const bytes payload = pattern(254, 0x77);
    const bytes f = hand_frame(0x53, 0xFF, 0x10, payload);
    ASSERT_EQ(f[1], 0x01);
    for (std::size_t cut = 0; cut <= f.size(); ++cut) {
        mbus_frame_assembler a;
        feed(a, bytes(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(cut)));
        auto all = drain(a);
        if (cut < f.size()) {
            EXPECT_TRUE(all.empty()) << "cut " << cut;
        }
        feed(a, bytes(f.begin() + static_cast<std::ptrdiff_t>(cut), f.end()));
        const auto rest = drain(a);
        all.insert(all.end(), rest.begin(), rest.end());
        ASSERT_EQ(all.size(), 1u) << "cut " << cut;
        EXPECT_EQ(all[0].raw, f) << "cut " << cut;
    }
}

TEST(mbus_frame_assembler, overflowed_frame_truncated_on_idle_gap) {
    const bytes f = hand_frame(0x53, 0xFF, 0x10, pattern(254, 0x01));
    mbus_frame_assembler a;
    // The first 255 bytes would be a complete frame if L were taken literally.
    feed(a, bytes(f.begin(), f.begin() + 255));
    EXPECT_TRUE(raw_frames(drain(a)).empty());
    a.on_idle_gap();
    const auto events = drain(a);
    EXPECT_TRUE(raw_frames(events).empty());
    ASSERT_FALSE(errors(events).empty());
    EXPECT_EQ(errors(events).front(), ec_of(errc::truncated_frame));
    EXPECT_EQ(a.buffered(), 0u);
}

// ---- a long noisy stream ---------------------------------------------------------------------

TEST(mbus_frame_assembler, random_stream_in_random_chunks) {
    std::mt19937 rng(12345);
    auto byte_dist = std::uniform_int_distribution<int>(0, 255);
    std::vector<bytes> frames;
    bytes stream;
    std::uint64_t garbage = 0;
    for (int i = 0; i < 60; ++i) {
        const int n_garbage = std::uniform_int_distribution<int>(0, 5)(rng);
        for (int g = 0; g < n_garbage; ++g) {
            std::uint8_t b = 0;
            do {
                b = static_cast<std::uint8_t>(byte_dist(rng));
            } while (b == 0x68 || b == 0x10 || b == 0xE5);
            stream.push_back(b);
            ++garbage;
        }
        const std::size_t payload_size =
            (i % 10 == 9)
                ? 254u
                : static_cast<std::size_t>(std::uniform_int_distribution<int>(0, 252)(rng));
        bytes payload(payload_size);
        for (auto& b : payload)
            b = static_cast<std::uint8_t>(byte_dist(rng));
        frames.push_back(hand_frame(0x53, 0xFF, static_cast<std::uint8_t>(i % 32), payload));
        stream.insert(stream.end(), frames.back().begin(), frames.back().end());
    }

    mbus_frame_assembler a;
    std::vector<event_copy> all;
    std::size_t pos = 0;
    while (pos < stream.size()) {
        const auto chunk = std::min<std::size_t>(
            stream.size() - pos,
            static_cast<std::size_t>(std::uniform_int_distribution<int>(1, 90)(rng)));
        a.feed(std::span<const std::uint8_t>(stream.data() + pos, chunk));
        pos += chunk;
        const auto events = drain(a);
        all.insert(all.end(), events.begin(), events.end());
    }
    EXPECT_TRUE(errors(all).empty());
    EXPECT_EQ(raw_frames(all), frames);
    EXPECT_EQ(a.statistics().frames, frames.size());
    EXPECT_EQ(a.statistics().skipped_bytes, garbage);
    EXPECT_EQ(a.buffered(), 0u);
}

}  // namespace
