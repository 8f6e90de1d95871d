// The A-XDR walker (decode_axdr) and reading extraction, on decrypted APDUs: the input is what
// the decryption hands on (a 0Fh data-notification; seeds are the fixtures' plaintext_hex).
// Checked besides memory errors and undefined behaviour: the flattened tree is consistent
// (subtree sizes, child counts, depth, every string inside the input) and within the limits,
// also with tight limits; and the extractor turns any tree into a reading without reading out
// of bounds.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/data_notification.hpp"
#include "evn_mbus/reading.hpp"
#include "evn_mbus/reading_extractor.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "fuzz_support.hpp"

namespace {

using evn_mbus::axdr_limits;
using evn_mbus::axdr_node;

// Checks the subtree starting at `index`; returns the index after it.
std::size_t check_subtree(const std::vector<axdr_node>& nodes, std::size_t index,
                          std::size_t size) {
    const axdr_node& n = nodes[index];
    EVN_MBUS_FUZZ_CHECK(n.subtree >= 1 && index + n.subtree <= nodes.size());
    if (n.is_bytes() || n.type == evn_mbus::axdr_type::bit_string) {
        EVN_MBUS_FUZZ_CHECK(n.offset <= size && n.length <= size - n.offset);
    }
    if (!n.is_container()) {
        EVN_MBUS_FUZZ_CHECK(n.subtree == 1);
        return index + 1;
    }
    std::size_t child = index + 1;
    for (std::uint32_t k = 0; k < n.count; ++k) {
        EVN_MBUS_FUZZ_CHECK(child < index + n.subtree);
        EVN_MBUS_FUZZ_CHECK(nodes[child].depth == n.depth + 1);
        child = check_subtree(nodes, child, size);
    }
    EVN_MBUS_FUZZ_CHECK(child == index + n.subtree);
    return child;
}

void walk(std::span<const std::uint8_t> in, const axdr_limits& limits) {
    std::vector<axdr_node> nodes;
    std::size_t consumed = 0;
    if (evn_mbus::decode_axdr(in, nodes, consumed, limits)) return;
    EVN_MBUS_FUZZ_CHECK(consumed >= 1 && consumed <= in.size());
    EVN_MBUS_FUZZ_CHECK(!nodes.empty() && nodes.size() <= limits.max_nodes);
    EVN_MBUS_FUZZ_CHECK(check_subtree(nodes, 0, consumed) == nodes.size());
    for (const auto& n : nodes) {
        EVN_MBUS_FUZZ_CHECK(n.depth <= limits.max_depth);
        (void)n.as_double();
    }
    // The extractor on a tree that did not come with a notification header.
    evn_mbus::reading r;
    evn_mbus::extract_readings({}, in.first(consumed), nodes, {}, r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);

    // As the pipeline does it: header, body, tree, reading.
    evn_mbus::telegram_decoder decoder({});
    evn_mbus::reading r;
    if (!decoder.decode_apdu(input, r)) {
        for (const auto& v : r.values) {
            (void)v.scaled();
            (void)v.scaled_integer();
        }
        if (r.clock) (void)evn_mbus::format_utc(*r.clock);
    }

    // The walker alone, on the body (or the whole input), with the default and tight limits.
    evn_mbus::data_notification n;
    const auto body = evn_mbus::parse_data_notification(input, n) ? input : n.body;
    walk(body, {});
    walk(body, {.max_depth = 2, .max_nodes = 8});

    // Dates and times as the extractor meets them.
    if (size >= 12) {
        if (const auto dt = evn_mbus::cosem_datetime::parse(input.first(12))) {
            if (const auto t = dt->to_utc()) (void)evn_mbus::format_utc(*t);
        }
    }
    return 0;
}
