// The whole decode pipeline, telegram_decoder (feed / on_idle_gap / next), as the daemon drives
// it: link layer, reassembly, decryption, data-notification, A-XDR and reading extraction.
//
// Input: byte 0 picks one of the fixtures' key sets (fixtures/vectors.json; all published test
// keys; byte 0 % 9), so that every captured telegram decrypts and the fuzzer starts deep inside,
// and the link setting (byte 0 / 9 % 4: auto, mbus, hdlc, apdu); the rest is a line script
// (fuzz_support.hpp). The P1 capture's DSMR text is reached through its APDU (apdu link or
// auto). Checked besides memory errors and undefined behaviour:
// next() comes back to need_more; every reading's accessors work on whatever was decoded; and
// the chunking does not matter: fed in one piece per idle gap, the same readings come out in
// the same order, and the same errors (in auto link mode the M-Bus and HDLC framers both look
// at every byte, and the order between their errors may follow the chunking).
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/obis_code.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "fixture_keys.hpp"
#include "fuzz_support.hpp"

namespace {

using evn_mbus::decode_event;
using evn_mbus::decoder_keys;
using evn_mbus::fuzz::line_chunk;

// Everything the pipeline said, in a form that can be compared between two runs.
std::string describe(const decode_event& e) {
    std::string s = std::to_string(static_cast<int>(e.what)) + "/" + e.error.message() + "/";
    s.append(e.raw.begin(), e.raw.end());
    if (e.what != decode_event::kind::reading) return s;
    const evn_mbus::reading& r = *e.value;
    s += "/" + std::to_string(r.frame_counter) + "/" + std::to_string(r.security_control) + "/" +
         std::to_string(r.encrypted) + std::to_string(r.tag_verified) + "/" +
         std::to_string(r.invoke_id) + "/" + r.meter_number + "/" + r.device_name + "/" +
         r.manufacturer();
    s.append(r.title.begin(), r.title.end());
    if (r.clock) s += "/" + evn_mbus::format_utc(*r.clock);
    for (const auto& v : r.values) {
        s += "|" + v.code.to_string() + "/" + std::to_string(static_cast<int>(v.type)) + "/" +
             std::to_string(v.raw_signed) + "/" + std::to_string(v.raw_unsigned) + "/" +
             std::to_string(std::bit_cast<std::uint64_t>(v.raw_float)) + "/" + v.text + "/" +
             std::to_string(v.scaler) + "/" + std::to_string(v.unit) +
             std::to_string(v.has_scaler_unit);
        // The accessors the publisher and the JSON schema use, on whatever came out.
        (void)v.is_number();
        (void)v.scaled();
        if (const auto i = v.scaled_integer()) s += "=" + std::to_string(*i);
        if (const auto q = evn_mbus::name_for(v.code)) s += std::string(q->name);
        s += std::string(evn_mbus::unit_symbol(v.unit));
    }
    (void)r.named("w_p");
    (void)r.find(evn_mbus::obis_clock);
    return s;
}

std::vector<std::string> run(const decoder_keys& keys, evn_mbus::link_layer link,
                             const std::vector<line_chunk>& chunks, std::size_t total) {
    evn_mbus::telegram_decoder decoder(keys, {.link = link});
    std::vector<std::string> events;
    std::uint64_t readings = 0;
    for (const auto& chunk : chunks) {
        decoder.feed(chunk.bytes);
        if (chunk.idle_after) decoder.on_idle_gap();
        std::size_t calls = 0;
        for (;;) {
            EVN_MBUS_FUZZ_CHECK(++calls <= evn_mbus::fuzz::max_calls(total));
            const decode_event e = decoder.next();
            if (e.what == decode_event::kind::need_more) break;
            EVN_MBUS_FUZZ_CHECK((e.what == decode_event::kind::reading) == (e.value != nullptr));
            EVN_MBUS_FUZZ_CHECK((e.what == decode_event::kind::error) == bool(e.error));
            if (e.what == decode_event::kind::reading) ++readings;
            events.push_back(describe(e));
        }
    }
    // Readings in order, then the errors sorted.
    std::stable_partition(events.begin(), events.end(),
                          [](const std::string& e) { return e.starts_with("1/"); });
    std::sort(std::find_if(events.begin(), events.end(),
                           [](const std::string& e) { return !e.starts_with("1/"); }),
              events.end());
    EVN_MBUS_FUZZ_CHECK(decoder.statistics().readings == readings);
    return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto& sets = evn_mbus::fuzz::fixture_key_sets;
    const decoder_keys& keys = sets[data[0] % sets.size()].keys;
    const auto link = static_cast<evn_mbus::link_layer>(data[0] / sets.size() % 4);
    const std::span<const std::uint8_t> line(data + 1, size - 1);
    const auto chunks = evn_mbus::fuzz::line_script(line);
    evn_mbus::fuzz::check_chunking_does_not_matter(
        chunks, [&](const auto& c) { return run(keys, link, c, line.size()); });
    // The same bytes as one bare APDU (decode --link auto on an input starting 0Fh or E0h):
    // an error code or a reading, never a crash; a second call gives the same answer.
    evn_mbus::telegram_decoder bare(keys);
    evn_mbus::reading r;
    const auto first = bare.decode_bare(line, r);
    const std::size_t values = r.values.size();
    if (bare.decode_bare(line, r) != first || r.values.size() != values) __builtin_trap();
    return 0;
}
