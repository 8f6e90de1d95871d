// mbus_frame_assembler fed arbitrary bytes in arbitrary chunks with idle gaps (see
// fuzz_support.hpp for how the input chooses them). Besides memory errors and undefined
// behaviour, it checks what the header promises:
//  - every frame handed out is a well-formed long frame (68 L L 68 ... CS 16, checksum right);
//  - next() always comes back to need_more, and after an idle gap nothing stays buffered;
//  - the chunking does not matter: the same bytes with the same idle gaps, fed in one piece
//    per gap, give the same frames and errors in the same order;
//  - the counters agree with the events.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "evn_mbus/mbus_frame_assembler.hpp"
#include "fuzz_support.hpp"

namespace {

using evn_mbus::mbus_frame_assembler;

void check_frame(const evn_mbus::mbus_frame& f) {
    const auto raw = f.raw;
    EVN_MBUS_FUZZ_CHECK(raw.size() >= 9 && raw.size() <= mbus_frame_assembler::max_frame_size);
    EVN_MBUS_FUZZ_CHECK(raw[0] == 0x68 && raw[3] == 0x68 && raw[1] == raw[2]);
    EVN_MBUS_FUZZ_CHECK(raw.back() == 0x16);
    unsigned sum = 0;
    for (std::size_t i = 4; i + 2 < raw.size(); ++i)
        sum += raw[i];
    EVN_MBUS_FUZZ_CHECK(static_cast<std::uint8_t>(sum) == raw[raw.size() - 2]);
    EVN_MBUS_FUZZ_CHECK(f.c == raw[4] && f.a == raw[5] && f.ci == raw[6]);
    EVN_MBUS_FUZZ_CHECK(f.payload.data() == raw.data() + 7);
    EVN_MBUS_FUZZ_CHECK(f.payload.size() == raw.size() - 9);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const auto chunks = evn_mbus::fuzz::line_script(input);
    evn_mbus::fuzz::check_chunking_does_not_matter(chunks, [size](const auto& c) {
        return evn_mbus::fuzz::run_framer<mbus_frame_assembler>(c, size, check_frame);
    });
    return 0;
}
