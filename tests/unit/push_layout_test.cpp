// The user's own push layouts (meter.layout, push_layout.hpp): the text of a position, the
// match on the real Netz Burgenland capture as if its layout were not built in, synthetic
// shapes no built-in layout knows (labelled "synthetic"), and the shape a push that fits no
// layout leaves for the log's ready-to-paste line.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "evn_mbus/axdr_writer.hpp"
#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/push_layout.hpp"
#include "fixture_loader.hpp"
#include "reading_text.hpp"

namespace evn_mbus::test {
namespace {

obis_code electricity(std::uint8_t c, std::uint8_t d, std::uint8_t e = 0) {
    return obis_code{{1, 0, c, d, e, 255}};
}

layout_position parsed(std::string_view text) {
    layout_text_problem problem;
    const auto p = parse_layout_position(text, problem);
    EXPECT_TRUE(p.has_value()) << text << ": " << problem.what;
    return p.value_or(layout_position{});
}

std::string problem_of(std::string_view text) {
    layout_text_problem problem;
    const auto p = parse_layout_position(text, problem);
    EXPECT_FALSE(p.has_value()) << text << " was read as " << (p ? to_string(*p) : "");
    return std::string(problem.what);
}

layout_choice own(std::initializer_list<std::string_view> texts) {
    layout_choice c;
    for (const auto t : texts)
        c.positions.push_back(parsed(t));
    return c;
}

reading decode_with(const bytes& apdu, const layout_choice& layout) {
    telegram_decoder dec(decoder_keys{}, decoder_options{link_layer::auto_detect, layout});
    reading r;
    const auto ec = dec.decode_apdu(apdu, r);
    EXPECT_FALSE(ec) << ec.message();
    return r;
}

// A plain data-notification (0Fh, invoke id 1, no date-time) around `body`.
bytes notification(const std::function<void(axdr_writer&)>& body) {
    bytes apdu{0x0F, 0x00, 0x00, 0x00, 0x01, 0x00};
    axdr_writer w(apdu);
    body(w);
    return apdu;
}

double value_of(const reading& r, const obis_code& code) {
    const auto* v = r.find(code);
    return v ? v->scaled() : -1.0;
}

std::string unit_of(const reading& r, const obis_code& code) {
    const auto* v = r.find(code);
    return v && v->has_scaler_unit ? std::string(unit_symbol(v->unit)) : "<none>";
}

TEST(layout_position_text, every_form_reads_and_reads_back) {
    EXPECT_TRUE(parsed("skip").skip);
    const auto code = parsed("1-0:1.8.0");
    EXPECT_FALSE(code.skip);
    EXPECT_EQ(code.code, electricity(1, 8));
    EXPECT_EQ(code.unit, 255);
    EXPECT_EQ(code.scaler, 0);
    const auto full = parsed("  1-0:31.7.0   A  scaler -2 ");
    EXPECT_EQ(full.code, electricity(31, 7));
    EXPECT_EQ(full.unit, 33);
    EXPECT_EQ(full.scaler, -2);
    EXPECT_EQ(parsed("1-0:81.7.40 deg").unit, 8);
    EXPECT_EQ(parsed("1-0:81.7.40 °").unit, 8);
    EXPECT_EQ(parsed("0-0:96.1.0.255").code, obis_meter_number);
    EXPECT_EQ(parsed("0-0:96.1.0*255").code, obis_meter_number);
    EXPECT_EQ(parsed("1-0:1.8.0 scaler 3").scaler, 3);
    for (const char* text :
         {"skip", "1-0:1.8.0", "1-0:1.8.0 Wh", "1-0:31.7.0 A scaler -2", "1-0:81.7.40 deg",
          "1-0:14.7.0 Hz scaler -1", "0-1:24.2.1 m3", "1-0:1.8.0 scaler 3", "1-0:1.8.0.1"}) {
        EXPECT_EQ(to_string(parsed(text)), text);
    }
}

TEST(layout_position_text, mistakes_are_named) {
    EXPECT_NE(problem_of("").find("empty"), std::string::npos);
    EXPECT_NE(problem_of("skip 1-0:1.8.0").find("nothing may follow skip"), std::string::npos);
    EXPECT_NE(problem_of("1.8.0").find("OBIS code"), std::string::npos);
    EXPECT_NE(problem_of("1-0:1.8.256").find("OBIS code"), std::string::npos);
    EXPECT_NE(problem_of("A+").find("OBIS code"), std::string::npos);
    EXPECT_NE(problem_of("1-0:1.8.0 kWh").find("unit"), std::string::npos);
    EXPECT_NE(problem_of("1-0:1.8.0 wh").find("unit"), std::string::npos);  // case matters
    EXPECT_NE(problem_of("1-0:1.8.0 Wh scaler").find("scaler takes"), std::string::npos);
    EXPECT_NE(problem_of("1-0:1.8.0 Wh scaler -10").find("scaler takes"), std::string::npos);
    EXPECT_NE(problem_of("1-0:1.8.0 Wh scaler 1x").find("scaler takes"), std::string::npos);
    EXPECT_NE(problem_of("1-0:1.8.0 Wh scaler 1 extra").find("more than"), std::string::npos);
    EXPECT_NE(problem_of("1-0:1.8.0 Wh W").find("more than"), std::string::npos);
}

// The real Netz Burgenland push, decoded as if its layout were not built in: the user named
// another built-in layout, so none fits and every number is left out; the shape is kept for
// the log. Then the user's own layout, written from the operator's description, names them.
TEST(user_layout, netz_burgenland_capture_through_a_user_layout) {
    const bytes apdu = capture_by_id("lgz_e450_netzburgenland_amsreader_gh501_2").plaintext;

    layout_choice other;
    other.builtin = value_layout::wiener_netze;
    const reading left_out = decode_with(apdu, other);
    EXPECT_EQ(left_out.layout, value_layout::untagged);
    EXPECT_EQ(left_out.untagged_values, 13u);  // the meter number is a string
    EXPECT_TRUE(left_out.values.empty());
    ASSERT_EQ(left_out.shape.size(), 14u);
    EXPECT_EQ(left_out.shape[0].type, axdr_type::long_unsigned);
    EXPECT_EQ(left_out.shape[0].preview, "236");
    EXPECT_EQ(left_out.shape[8].type, axdr_type::double_long_unsigned);
    EXPECT_EQ(left_out.shape[8].preview, "31358606");
    EXPECT_EQ(left_out.shape[13].preview, "30137181");
    const std::string advice = layout_advice(left_out, layout_setting_text(other));
    EXPECT_NE(advice.find("13 numbers"), std::string::npos) << advice;
    EXPECT_NE(advice.find("meter.layout is wiener-netze"), std::string::npos) << advice;
    EXPECT_NE(advice.find("1 long-unsigned 236, 2 long-unsigned 237"), std::string::npos) << advice;
    EXPECT_NE(advice.find("layout: [skip, skip, skip, skip, skip, skip, skip, skip, skip, skip, "
                          "skip, skip, skip, skip]"),
              std::string::npos)
        << advice;

    const layout_choice mine =
        own({"1-0:32.7.0 V", "1-0:52.7.0 V", "1-0:72.7.0 V", "1-0:31.7.0 A scaler -2",
             "1-0:51.7.0 A scaler -2", "1-0:71.7.0 A scaler -2", "1-0:1.7.0 W", "1-0:2.7.0 W",
             "1-0:1.8.0 Wh", "1-0:2.8.0 Wh", "skip", "skip", "skip", "0-0:96.1.0"});
    const reading r = decode_with(apdu, mine);
    EXPECT_EQ(r.layout, value_layout::configured);
    EXPECT_EQ(layout_name(r.layout), "configured");
    EXPECT_EQ(r.untagged_values, 0u);
    EXPECT_TRUE(r.shape.empty());
    EXPECT_EQ(r.values.size(), 11u);  // three angles skipped
    EXPECT_EQ(r.meter_number, "30137181");
    EXPECT_EQ(value_of(r, electricity(52, 7)), 237.0);
    EXPECT_EQ(unit_of(r, electricity(52, 7)), "V");
    EXPECT_DOUBLE_EQ(value_of(r, electricity(51, 7)), 0.04);  // 0004, scaler -2
    EXPECT_EQ(unit_of(r, electricity(51, 7)), "A");
    EXPECT_EQ(r.named("w_p"), 31358606.0);
    EXPECT_EQ(r.named("w_n"), 7619.0);
    EXPECT_EQ(r.named("p_p"), 29.0);
    EXPECT_EQ(r.find(electricity(81, 7, 40)), nullptr);

    // The user's layout comes before the built-in one that fits too.
    EXPECT_EQ(decode_with(apdu, layout_choice{}).layout, value_layout::netz_burgenland);
    EXPECT_EQ(decode_with(apdu, mine).layout, value_layout::configured);
}

TEST(user_layout, synthetic_shape_no_built_in_layout_knows) {
    // Synthetic: meter number, clock, A+ in kWh x 10, P+ in W, a frequency.
    const cosem_datetime t{2026, 12, 7, 1, 10, 0, 0, 0, -60, 0x00};
    const bytes apdu = notification([&](axdr_writer& w) {
        w.structure(5)
            .visible_string("9876543210")
            .date_time_octets(t)
            .uint32(123456)
            .int32(-1500)
            .uint16(4998);
    });
    const reading none = decode_with(apdu, {});
    EXPECT_EQ(none.layout, value_layout::untagged);
    EXPECT_EQ(none.untagged_values, 3u);
    ASSERT_EQ(none.shape.size(), 5u);
    EXPECT_EQ(none.shape[0].preview, "9876543210");
    EXPECT_EQ(none.shape[1].preview, "2026-12-07T09:00:00Z");
    EXPECT_EQ(none.shape[3].preview, "-1500");

    const reading r = decode_with(apdu, own({"0-0:96.1.0", "0-0:1.0.0", "1-0:1.8.0 Wh scaler 1",
                                             "1-0:16.7.0 W", "1-0:14.7.0 Hz scaler -2"}));
    EXPECT_EQ(r.layout, value_layout::configured);
    EXPECT_EQ(r.meter_number, "9876543210");
    ASSERT_TRUE(r.clock.has_value());
    EXPECT_EQ(format_utc(*r.clock), "2026-12-07T09:00:00Z");
    EXPECT_EQ(r.named("w_p"), 1234560.0);
    EXPECT_EQ(value_of(r, electricity(16, 7)), -1500.0);
    EXPECT_DOUBLE_EQ(*r.named("f"), 49.98);
}

TEST(user_layout, synthetic_wrong_count_or_a_structure_where_a_value_is_named_does_not_fit) {
    const bytes apdu = notification([](axdr_writer& w) {
        w.structure(3).uint32(1).uint32(2);
        w.structure(2).uint8(3).uint8(4);
    });
    // One position too many, one too few: no match, nothing guessed.
    for (const auto& layout : {own({"1-0:1.8.0 Wh", "1-0:2.8.0 Wh", "skip", "skip"}),
                               own({"1-0:1.8.0 Wh", "1-0:2.8.0 Wh"})}) {
        const reading r = decode_with(apdu, layout);
        EXPECT_EQ(r.layout, value_layout::untagged);
        EXPECT_TRUE(r.values.empty());
        EXPECT_EQ(r.untagged_values, 4u);
        EXPECT_EQ(r.shape.size(), 3u);
        EXPECT_EQ(r.shape[2].preview, "2 elements");
    }
    // A value named where a structure stands: no match.
    EXPECT_EQ(decode_with(apdu, own({"1-0:1.8.0 Wh", "1-0:2.8.0 Wh", "1-0:3.8.0 varh"})).layout,
              value_layout::untagged);
    // The structure skipped: a match.
    const reading r = decode_with(apdu, own({"1-0:1.8.0 Wh", "1-0:2.8.0 Wh", "skip"}));
    EXPECT_EQ(r.layout, value_layout::configured);
    EXPECT_EQ(r.named("w_n"), 2.0);
    EXPECT_EQ(r.values.size(), 2u);
}

TEST(user_layout, synthetic_what_a_position_names_must_stand_there) {
    // A string where the layout gives a unit; text where it names the clock or the meter
    // number with a number there: no match, nothing published under those codes.
    const bytes text =
        notification([](axdr_writer& w) { w.structure(2).visible_string("12.5").uint32(7); });
    EXPECT_EQ(decode_with(text, own({"1-0:1.8.0 Wh", "1-0:2.8.0 Wh"})).layout,
              value_layout::untagged);
    EXPECT_EQ(decode_with(text, own({"0-0:1.0.0", "1-0:2.8.0 Wh"})).layout, value_layout::untagged);
    const bytes number_first =
        notification([](axdr_writer& w) { w.structure(2).uint32(5).uint32(7); });
    EXPECT_EQ(decode_with(number_first, own({"0-0:96.1.0", "1-0:2.8.0 Wh"})).layout,
              value_layout::untagged);
    // The same positions where they fit.
    const reading r = decode_with(text, own({"1-0:96.50.0", "1-0:2.8.0 Wh"}));
    EXPECT_EQ(r.layout, value_layout::configured);
    EXPECT_EQ(r.find(obis_code{{1, 0, 96, 50, 0, 255}})->text, "12.5");
}

TEST(user_layout, synthetic_a_push_that_sends_its_codes_is_never_laid_out) {
    // {OBIS, value, OBIS, value}: four plain elements, as many as the layout has positions.
    const bytes tagged = notification([](axdr_writer& w) {
        w.structure(4).obis(electricity(1, 8)).uint32(1000).obis(electricity(2, 8)).uint32(20);
    });
    const reading r =
        decode_with(tagged, own({"1-0:99.1.0", "1-0:99.2.0", "1-0:99.3.0", "1-0:99.4.0"}));
    EXPECT_EQ(r.layout, value_layout::obis_tagged);
    EXPECT_EQ(r.named("w_p"), 1000.0);
    EXPECT_EQ(r.named("w_n"), 20.0);
    EXPECT_EQ(r.find(obis_code{{1, 0, 99, 1, 0, 255}}), nullptr);
}

TEST(user_layout, an_obis_tagged_push_is_walked_as_before) {
    // The EVN capture sends its codes; a user layout of any length does not change it.
    const bytes apdu = capture_by_id("evn_kaifa_ma309_doc").plaintext;
    const reading before = decode_with(apdu, {});
    const reading after = decode_with(apdu, own({"1-0:1.8.0 Wh", "skip"}));
    EXPECT_EQ(after.layout, value_layout::obis_tagged);
    EXPECT_EQ(after.values.size(), before.values.size());
    EXPECT_EQ(after.named("w_p"), before.named("w_p"));
    EXPECT_TRUE(after.shape.empty());
}

// ---- pushes with their own capture-object list (Stadtwerke Klagenfurt's E450; synthetic:
// no capture with its key is published) ------------------------------------------------------

// {class, OBIS, attribute, data index}, as the push setup's object list has them.
void definition(axdr_writer& w, std::uint16_t class_id, const obis_code& code, std::int8_t attr) {
    w.structure(4).uint16(class_id).obis(code).int8(attr).uint16(0);
}

const obis_code push_setup{{0, 0, 25, 9, 0, 255}};

bytes capture_list_push(std::uint16_t first_class) {
    const cosem_datetime t{2026, 12, 7, 1, 10, 0, 0, 0, -60, 0x00};
    return notification([&](axdr_writer& w) {
        w.structure(7).array(7);
        definition(w, first_class, push_setup, 2);
        definition(w, 8, obis_clock, 2);
        definition(w, 1, obis_meter_number, 2);
        definition(w, 3, electricity(1, 8), 2);
        definition(w, 3, electricity(1, 8), 3);
        definition(w, 3, electricity(31, 7), 2);
        definition(w, 3, electricity(31, 7), 3);
        w.date_time_octets(t).octet_string_text("1LGZ0012345678").uint32(4567890);
        w.scaler_unit(0, 30).uint16(123).scaler_unit(-2, 33);
    });
}

TEST(capture_list, synthetic_values_are_named_by_the_push_s_own_list) {
    const reading r = decode_with(capture_list_push(40), {});
    EXPECT_EQ(r.layout, value_layout::capture_list);
    EXPECT_EQ(layout_name(r.layout), "capture-list");
    EXPECT_EQ(r.untagged_values, 0u);
    EXPECT_EQ(r.meter_number, "1LGZ0012345678");
    ASSERT_TRUE(r.clock.has_value());
    EXPECT_EQ(format_utc(*r.clock), "2026-12-07T09:00:00Z");
    EXPECT_EQ(r.named("w_p"), 4567890.0);
    EXPECT_EQ(unit_of(r, electricity(1, 8)), "Wh");
    EXPECT_DOUBLE_EQ(*r.named("i1"), 1.23);  // 123, scaler -2 from its attribute 3
    EXPECT_EQ(r.values.size(), 4u);          // clock, meter number, A+, I1
}

TEST(capture_list, synthetic_a_register_without_its_scaler_is_left_out) {
    // A+ as a register (class 3) without its attribute 3, and a demand register (class 5):
    // published neither unscaled nor under a guessed scaler; the data object is.
    const bytes apdu = notification([&](axdr_writer& w) {
        w.structure(4).array(4);
        definition(w, 40, push_setup, 2);
        definition(w, 3, electricity(1, 8), 2);
        definition(w, 5, electricity(1, 4), 2);
        definition(w, 1, obis_meter_number, 2);
        w.uint32(4567890).uint32(1234).octet_string_text("1LGZ0012345678");
    });
    const reading r = decode_with(apdu, {});
    EXPECT_EQ(r.layout, value_layout::capture_list);
    EXPECT_EQ(r.find(electricity(1, 8)), nullptr);
    EXPECT_EQ(r.find(electricity(1, 4)), nullptr);
    EXPECT_EQ(r.untagged_values, 2u);
    EXPECT_EQ(r.meter_number, "1LGZ0012345678");
}

TEST(capture_list, synthetic_object_definitions_are_never_taken_for_values) {
    // The same push, but its list does not start with the push setup: not a capture list.
    // The definitions {3, 1-0:1.8.0, 2, 0} must not make A+ = 2.
    const reading r = decode_with(capture_list_push(1), {});
    EXPECT_NE(r.layout, value_layout::capture_list);
    EXPECT_EQ(r.find(electricity(1, 8)), nullptr) << r.values.size();
    EXPECT_EQ(r.find(electricity(31, 7)), nullptr);
}

}  // namespace
}  // namespace evn_mbus::test
