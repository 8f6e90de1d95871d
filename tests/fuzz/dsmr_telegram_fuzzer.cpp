// The DSMR P1 text parser (parse_dsmr), on what a P1 port's APDU decrypts to (seeds: the
// Energienetze Steiermark capture's plaintext and synthetic telegrams). Checked besides memory
// errors and undefined behaviour: a telegram is accepted only with its "/" header and "!" end;
// an accepted CRC is the CRC of the text up to its "!"; there are no more values than lines;
// every value's accessors work; the same text gives the same reading twice (also into a
// reading whose buffers hold an earlier one).
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "evn_mbus/dsmr_telegram.hpp"
#include "evn_mbus/obis_code.hpp"
#include "fuzz_support.hpp"

namespace {

std::string describe(const evn_mbus::reading& r) {
    std::string s = r.device_name + "/" + r.meter_number + "/" +
                    (r.clock ? std::to_string(r.clock->time_since_epoch().count()) : "-");
    for (const auto& v : r.values) {
        s += "|" + v.code.to_string() + "/" + std::to_string(static_cast<int>(v.type)) + "/" +
             std::to_string(v.raw_signed) + "/" + std::to_string(v.raw_unsigned) + "/" + v.text +
             "/" + std::to_string(v.scaler) + "/" + std::to_string(v.unit);
        (void)v.scaled();
        if (const auto i = v.scaled_integer()) s += "=" + std::to_string(*i);
        if (const auto q = evn_mbus::name_for(v.code)) s += std::string(q->name);
    }
    (void)r.named("w_p");
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> text(data, size);
    evn_mbus::reading r;
    bool crc_checked = false;
    const auto ec = evn_mbus::parse_dsmr(text, r, crc_checked);
    if (ec) return 0;
    EVN_MBUS_FUZZ_CHECK(size >= 3 && data[0] == '/');
    const std::string_view s(reinterpret_cast<const char*>(data), size);
    const auto bang = s.find("\n!");
    EVN_MBUS_FUZZ_CHECK(bang != std::string_view::npos);
    if (crc_checked) {
        char digits[5];
        std::snprintf(digits, sizeof digits, "%04X",
                      static_cast<unsigned>(evn_mbus::dsmr_crc16(text.first(bang + 2))));
        const std::string_view sent = s.substr(bang + 2, 4);
        EVN_MBUS_FUZZ_CHECK(sent.size() == 4);
        for (std::size_t i = 0; i < 4; ++i)
            EVN_MBUS_FUZZ_CHECK(std::toupper(static_cast<unsigned char>(sent[i])) == digits[i]);
    }
    std::size_t lines = 0;
    for (const char c : s.substr(0, bang + 1))
        lines += c == '\n';
    EVN_MBUS_FUZZ_CHECK(r.values.size() <= lines);
    EVN_MBUS_FUZZ_CHECK(r.layout == (r.values.empty() ? evn_mbus::value_layout::empty
                                                       : evn_mbus::value_layout::dsmr));
    const std::string first = describe(r);
    evn_mbus::reading again = r;  // its buffers hold the first reading's texts
    again.clear();
    bool crc_again = false;
    EVN_MBUS_FUZZ_CHECK(!evn_mbus::parse_dsmr(text, again, crc_again));
    EVN_MBUS_FUZZ_CHECK(crc_again == crc_checked && describe(again) == first);
    return 0;
}
