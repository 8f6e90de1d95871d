// The RFC 2217 client session without a socket: the bytes it sends are checked against the RFC
// and against what ser2net 4.3.11 (telnet(rfc2217) accepter) really sent, recorded with a probe.
#include "rfc2217_session.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace evn_mbus::test {
namespace {

using bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t iac = 0xFF, sb = 0xFA, se = 0xF0;
constexpr std::uint8_t will = 0xFB, wont = 0xFC, do_ = 0xFD, dont = 0xFE;
constexpr std::uint8_t com_port = 0x2C;

bytes operator+(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
bytes text(const std::string& s) {
    return bytes(s.begin(), s.end());
}
bytes out(const rfc2217_session& s) {
    return {s.outgoing().begin(), s.outgoing().end()};
}
bytes data(const rfc2217_session& s) {
    return {s.data().begin(), s.data().end()};
}
bytes sub(bytes payload) {
    return bytes{iac, sb, com_port} + payload + bytes{iac, se};
}

// ser2net's opening, as received by the probe after our start().
const bytes ser2net_opening{0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0x01, 0xFF, 0xFE,
                            0x01, 0xFF, 0xFD, 0x00, 0xFF, 0xFB, 0x00, 0xFF, 0xFD, 0x2C, 0xFF,
                            0xFA, 0x2C, 0x6B, 0x00, 0xFF, 0xF0, 0xFF, 0xFD, 0x03};
// Its answers to 9600 8E1, no flow control.
const bytes ser2net_answers_9600_8e1 = sub({0x65, 0x00, 0x00, 0x25, 0x80}) + sub({0x66, 0x08}) +
                                       sub({0x67, 0x03}) + sub({0x68, 0x01}) + sub({0x69, 0x01});

const rfc2217_line line_9600_8e1{9600, 8, serial_parity::even, 1};

bytes all_byte_values() {
    bytes b;
    for (unsigned i = 0; i < 256; ++i)
        b.push_back(static_cast<std::uint8_t>(i));
    return b;
}

std::vector<rfc2217_event_kind> kinds(const rfc2217_session& s) {
    std::vector<rfc2217_event_kind> k;
    for (const auto& e : s.events())
        k.push_back(e.kind);
    return k;
}

// A session after start(), its opening negotiation taken.
struct started {
    explicit started(rfc2217_line line = line_9600_8e1) : s(line) {
        s.start();
        s.clear_outgoing();
    }
    rfc2217_session s;
};

TEST(rfc2217_session, start_asks_for_com_port_binary_and_sga) {
    rfc2217_session s(line_9600_8e1);
    EXPECT_TRUE(s.outgoing().empty());
    s.start();
    EXPECT_EQ(out(s), (bytes{iac, will, com_port, iac, will, 0x00, iac, do_, 0x00, iac, will, 0x03,
                             iac, do_, 0x03}));
    EXPECT_TRUE(s.events().empty());
}

TEST(rfc2217_session, do_com_port_sends_the_five_settings_as_rfc_2217_writes_them) {
    started t;
    t.s.receive(bytes{iac, do_, com_port});
    EXPECT_EQ(out(t.s), sub({0x01, 0x00, 0x00, 0x25, 0x80}) + sub({0x02, 0x08}) +
                            sub({0x03, 0x03}) + sub({0x04, 0x01}) + sub({0x05, 0x01}));
    EXPECT_EQ(t.s.unanswered_settings(), "baud rate, data bits, parity, stop bits, flow control");
}

TEST(rfc2217_session, settings_encode_baud_parity_data_and_stop_bits) {
    started t(rfc2217_line{115200, 7, serial_parity::odd, 2});
    t.s.receive(bytes{iac, do_, com_port});
    EXPECT_EQ(out(t.s), sub({0x01, 0x00, 0x01, 0xC2, 0x00}) + sub({0x02, 0x07}) +
                            sub({0x03, 0x02}) + sub({0x04, 0x02}) + sub({0x05, 0x01}));

    started n(rfc2217_line{2400, 8, serial_parity::none, 1});
    n.s.receive(bytes{iac, do_, com_port});
    EXPECT_EQ(out(n.s), sub({0x01, 0x00, 0x00, 0x09, 0x60}) + sub({0x02, 0x08}) +
                            sub({0x03, 0x01}) + sub({0x04, 0x01}) + sub({0x05, 0x01}));
}

TEST(rfc2217_session, an_iac_byte_in_the_baud_rate_is_doubled) {
    started t(rfc2217_line{0x0000FF00, 8, serial_parity::even, 1});
    t.s.receive(bytes{iac, do_, com_port});
    const bytes baud{iac, sb, com_port, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, iac, se};
    ASSERT_GE(t.s.outgoing().size(), baud.size());
    EXPECT_EQ(bytes(t.s.outgoing().begin(), t.s.outgoing().begin() + 11), baud);
}

TEST(rfc2217_session, a_server_that_asks_first_gets_will_then_the_settings) {
    rfc2217_session s(line_9600_8e1);  // no start()
    s.receive(bytes{iac, do_, com_port});
    EXPECT_EQ(out(s), bytes({iac, will, com_port}) + sub({0x01, 0x00, 0x00, 0x25, 0x80}) +
                          sub({0x02, 0x08}) + sub({0x03, 0x03}) + sub({0x04, 0x01}) +
                          sub({0x05, 0x01}));
}

TEST(rfc2217_session, a_server_offering_binary_and_sga_first_gets_them) {
    rfc2217_session s(line_9600_8e1);  // no start()
    s.receive(bytes{iac, will, 0x00, iac, do_, 0x00, iac, will, 0x03, iac, do_, 0x03});
    EXPECT_EQ(out(s), (bytes{iac, do_, 0x00, iac, will, 0x00, iac, do_, 0x03, iac, will, 0x03}));
}

TEST(rfc2217_session, ser2net_negotiation_replayed_confirms_the_line) {
    started t;
    t.s.receive(ser2net_opening);
    // Only WILL ECHO is refused; the settings follow. NOTIFY-MODEMSTATE is ignored.
    EXPECT_EQ(out(t.s), bytes({iac, dont, 0x01}) + sub({0x01, 0x00, 0x00, 0x25, 0x80}) +
                            sub({0x02, 0x08}) + sub({0x03, 0x03}) + sub({0x04, 0x01}) +
                            sub({0x05, 0x01}));
    EXPECT_TRUE(t.s.events().empty());
    EXPECT_TRUE(t.s.data().empty());
    t.s.clear_outgoing();

    const bytes answers = ser2net_answers_9600_8e1;
    t.s.receive(std::span(answers).first(answers.size() - 7));  // all but flow control
    EXPECT_TRUE(t.s.events().empty());
    EXPECT_FALSE(t.s.line_confirmed());
    EXPECT_EQ(t.s.unanswered_settings(), "flow control");

    t.s.receive(std::span(answers).last(7));
    ASSERT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::line_confirmed});
    EXPECT_NE(t.s.events()[0].what.find("9600 8E1"), std::string::npos) << t.s.events()[0].what;
    EXPECT_TRUE(t.s.line_confirmed());
    EXPECT_EQ(t.s.unanswered_settings(), "");
    EXPECT_TRUE(t.s.outgoing().empty());
}

TEST(rfc2217_session, parity_answered_differently_is_a_mismatch_naming_parity) {
    started t;
    t.s.receive(bytes{iac, do_, com_port});
    t.s.receive(sub({0x65, 0x00, 0x00, 0x25, 0x80}) + sub({0x66, 0x08}) + sub({0x67, 0x01}) +
                sub({0x68, 0x01}) + sub({0x69, 0x01}));
    ASSERT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::setting_mismatch});
    const rfc2217_event& e = t.s.events()[0];
    EXPECT_EQ(e.setting, rfc2217_setting::parity);
    EXPECT_EQ(e.asked, 3u);
    EXPECT_EQ(e.got, 1u);
    EXPECT_NE(e.what.find("parity none, not parity even"), std::string::npos) << e.what;
    EXPECT_FALSE(t.s.line_confirmed());

    // The same wrong answer again is not logged twice, and never confirms.
    t.s.clear_events();
    t.s.receive(sub({0x67, 0x01}));
    EXPECT_TRUE(t.s.events().empty());
    EXPECT_FALSE(t.s.line_confirmed());
}

TEST(rfc2217_session, a_baud_rate_answered_differently_is_a_mismatch) {
    started t;
    t.s.receive(bytes{iac, do_, com_port});
    t.s.receive(sub({0x65, 0x00, 0x00, 0x09, 0x60}));
    ASSERT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::setting_mismatch});
    EXPECT_EQ(t.s.events()[0].setting, rfc2217_setting::baud);
    EXPECT_EQ(t.s.events()[0].asked, 9600u);
    EXPECT_EQ(t.s.events()[0].got, 2400u);
}

TEST(rfc2217_session, an_answer_of_the_wrong_length_is_a_protocol_error) {
    started t;
    t.s.receive(bytes{iac, do_, com_port});
    t.s.receive(sub({0x65, 0x25, 0x80}));
    ASSERT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::protocol_error});
    EXPECT_NE(t.s.events()[0].what.find("baud rate"), std::string::npos);
    EXPECT_EQ(t.s.unanswered_settings(), "baud rate, data bits, parity, stop bits, flow control");
}

TEST(rfc2217_session, answers_before_the_settings_were_sent_are_ignored) {
    started t;
    t.s.receive(sub({0x67, 0x01}));
    EXPECT_TRUE(t.s.events().empty());
    EXPECT_EQ(t.s.unanswered_settings(), "baud rate, data bits, parity, stop bits, flow control");
}

TEST(rfc2217_session, unanswered_settings_names_what_ser2net_left_silent) {
    // ser2net does not answer settings it cannot make (seen with 9 data bits, 1.5 stop bits).
    started t;
    t.s.receive(bytes{iac, do_, com_port});
    t.s.receive(sub({0x65, 0x00, 0x00, 0x25, 0x80}) + sub({0x67, 0x03}) + sub({0x69, 0x01}));
    EXPECT_TRUE(t.s.events().empty());
    EXPECT_EQ(t.s.unanswered_settings(), "data bits, stop bits");
}

TEST(rfc2217_session, dont_com_port_is_refused) {
    started t;
    t.s.receive(bytes{iac, dont, com_port});
    ASSERT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::option_refused});
    EXPECT_NE(t.s.events()[0].what.find("plain Telnet server"), std::string::npos);
    EXPECT_NE(t.s.events()[0].what.find("9600 8E1 yourself"), std::string::npos);
    EXPECT_TRUE(t.s.outgoing().empty());  // no settings
}

TEST(rfc2217_session, wont_com_port_is_refused) {
    started t;
    t.s.receive(bytes{iac, wont, com_port});
    EXPECT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::option_refused});
}

TEST(rfc2217_session, ser2net_plain_telnet_accepter_is_refused_once) {
    // ser2net's `telnet` accepter without rfc2217, as recorded.
    started t;
    t.s.receive(bytes{0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0x01, 0xFF, 0xFE,
                      0x01, 0xFF, 0xFD, 0x00, 0xFF, 0xFB, 0x00, 0xFF, 0xFE, 0x2C});
    EXPECT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::option_refused});
    EXPECT_EQ(out(t.s), (bytes{iac, dont, 0x01}));
    t.s.receive(bytes{iac, dont, com_port});
    EXPECT_EQ(t.s.events().size(), 1u);
}

TEST(rfc2217_session, com_port_withdrawn_after_agreement_is_refused_and_settings_go_once) {
    started t;
    t.s.receive(bytes{iac, do_, com_port});
    const std::size_t settings = t.s.outgoing().size();
    t.s.receive(bytes{iac, dont, com_port});
    EXPECT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::option_refused});
    t.s.clear_outgoing();
    t.s.receive(bytes{iac, do_, com_port});
    EXPECT_EQ(out(t.s), (bytes{iac, will, com_port}));  // agreed again, settings not repeated
    EXPECT_GT(settings, 0u);
}

TEST(rfc2217_session, unwanted_server_options_are_refused_without_breaking_data) {
    started t;
    t.s.receive(text("ab") + bytes{iac, do_, 0x01} + text("cd") + bytes{iac, do_, 0x18} +
                text("ef") + bytes{iac, will, 0x01} + text("gh"));
    EXPECT_EQ(out(t.s), (bytes{iac, wont, 0x01, iac, wont, 0x18, iac, dont, 0x01}));
    EXPECT_EQ(data(t.s), text("abcdefgh"));
    EXPECT_TRUE(t.s.events().empty());
}

TEST(rfc2217_session, notify_linestate_and_modemstate_are_ignored) {
    started t;
    t.s.receive(text("x") + sub({0x6B, 0x00}) + text("y"));  // before the settings: ser2net does
    t.s.receive(bytes{iac, do_, com_port});
    t.s.clear_outgoing();
    t.s.receive(sub({0x6A, 0x60}) + text("z") + sub({0x6B, 0x30}) + sub({0x6C}) + text("w"));
    EXPECT_EQ(data(t.s), text("xyzw"));
    EXPECT_TRUE(t.s.events().empty());
    EXPECT_TRUE(t.s.outgoing().empty());
}

TEST(rfc2217_session, iac_in_data_is_doubled_on_send) {
    started t;
    t.s.send(bytes{0x01, 0xFF, 0x02, 0xFF, 0xFF, 0x0D, 0x00, 0x0D, 0x0A});
    EXPECT_EQ(out(t.s),
              (bytes{0x01, 0xFF, 0xFF, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0D, 0x00, 0x0D, 0x0A}));
}

TEST(rfc2217_session, doubled_iac_is_received_as_one_byte_and_cr_nul_unchanged) {
    started t;
    t.s.receive(bytes{0x41, 0xFF, 0xFF, 0x42, 0x0D, 0x00, 0x0D, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF});
    EXPECT_EQ(data(t.s), (bytes{0x41, 0xFF, 0x42, 0x0D, 0x00, 0x0D, 0x0A, 0xFF, 0xFF}));
    t.s.clear_data();
    EXPECT_TRUE(t.s.data().empty());
}

TEST(rfc2217_session, all_256_byte_values_pass_through_send_and_receive) {
    started a, b;
    a.s.send(all_byte_values());
    EXPECT_EQ(a.s.outgoing().size(), 257u);  // 0xFF doubled
    b.s.receive(a.s.outgoing());
    EXPECT_EQ(data(b.s), all_byte_values());
    EXPECT_TRUE(b.s.outgoing().empty());
    EXPECT_TRUE(b.s.events().empty());
}

struct result {
    bytes data, outgoing;
    std::vector<std::string> events;
    bool operator==(const result&) const = default;
};

result run(const std::vector<std::span<const std::uint8_t>>& chunks) {
    started t;
    for (auto c : chunks)
        t.s.receive(c);
    result r{data(t.s), out(t.s), {}};
    for (const auto& e : t.s.events())
        r.events.push_back(e.what);
    return r;
}

TEST(rfc2217_session, a_stream_split_anywhere_gives_the_same_result) {
    // Negotiation, subnegotiations, data with IAC IAC and CR NUL, a mismatch and an unwanted
    // option: every kind of split (IAC alone at the end, FF FF and SB bodies cut) is in here.
    const bytes stream = ser2net_opening + text("A\r") + bytes{0x00, 0xFF, 0xFF, 0x0D, 0x0A} +
                         sub({0x65, 0x00, 0x00, 0x25, 0x80}) + bytes{0xFF, 0xFF} +
                         sub({0x66, 0x08}) + sub({0x67, 0x01}) + text("B") + bytes{iac, do_, 0x18} +
                         sub({0x68, 0x01}) + sub({0x6A, 0xFF, 0xFF}) + sub({0x69, 0x01}) +
                         bytes{0xFF, 0xFF, 0x01};
    const std::span<const std::uint8_t> all(stream);
    const result whole = run({all});
    EXPECT_EQ(whole.data, (bytes{0x41, 0x0D, 0x00, 0xFF, 0x0D, 0x0A, 0xFF, 0x42, 0xFF, 0x01}));
    ASSERT_EQ(whole.events.size(), 1u);  // the parity mismatch
    EXPECT_NE(whole.events[0].find("parity"), std::string::npos);

    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        EXPECT_EQ(run({all.first(cut), all.subspan(cut)}), whole) << "cut at " << cut;
    }
    std::vector<std::span<const std::uint8_t>> single;
    for (std::size_t i = 0; i < stream.size(); ++i)
        single.push_back(all.subspan(i, 1));
    EXPECT_EQ(run(single), whole);
}

TEST(rfc2217_session, a_telnet_protocol_error_is_reported) {
    started t;
    t.s.receive(bytes{iac, sb, com_port, 0x65, iac, 0x41});  // IAC inside SB, then not SE
    ASSERT_FALSE(t.s.events().empty());
    EXPECT_EQ(t.s.events()[0].kind, rfc2217_event_kind::protocol_error);
    EXPECT_NE(t.s.events()[0].what.find("Telnet protocol"), std::string::npos);
}

TEST(rfc2217_session, compression_the_server_switches_on_is_reported) {
    started t;
    t.s.receive(bytes{iac, sb, 0x56, iac, se});  // MCCP2 start, never agreed
    EXPECT_EQ(kinds(t.s), std::vector{rfc2217_event_kind::protocol_error});
}

}  // namespace
}  // namespace evn_mbus::test
