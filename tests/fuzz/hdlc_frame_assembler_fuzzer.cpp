// hdlc_frame_assembler (IEC 62056-46 frames) fed arbitrary bytes in arbitrary chunks with idle
// gaps (see fuzz_support.hpp). Besides memory errors and undefined behaviour, it checks what the
// header promises:
//  - every frame handed out is well formed: flags, format type 3, the length field matching the
//    frame, addresses of 1..4 bytes, a non-empty information field, and a right FCS;
//  - next() always comes back to need_more, and after an idle gap nothing stays buffered;
//  - the chunking does not matter: the same bytes with the same idle gaps, fed in one piece
//    per gap, give the same frames and errors in the same order;
//  - the counters agree with the events.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "evn_mbus/hdlc_frame_assembler.hpp"
#include "fuzz_support.hpp"

namespace {

using evn_mbus::hdlc_frame_assembler;

void check_frame(const evn_mbus::hdlc_frame& f) {
    const auto raw = f.raw;
    EVN_MBUS_FUZZ_CHECK(raw.size() >= 9 && raw.size() <= hdlc_frame_assembler::max_frame_size);
    EVN_MBUS_FUZZ_CHECK(raw.front() == 0x7E && raw.back() == 0x7E);
    EVN_MBUS_FUZZ_CHECK((raw[1] & 0xF0) == 0xA0);
    EVN_MBUS_FUZZ_CHECK(f.segmented == ((raw[1] & 0x08) != 0));
    const std::size_t length = static_cast<std::size_t>(raw[1] & 0x07) << 8 | raw[2];
    EVN_MBUS_FUZZ_CHECK(length == raw.size() - 2);
    EVN_MBUS_FUZZ_CHECK(f.destination_size >= 1 && f.destination_size <= 4);
    EVN_MBUS_FUZZ_CHECK(f.source_size >= 1 && f.source_size <= 4);
    EVN_MBUS_FUZZ_CHECK(!f.info.empty());
    EVN_MBUS_FUZZ_CHECK(f.info.data() > raw.data() &&
                        f.info.data() + f.info.size() + 3 == raw.data() + raw.size());
    const std::uint16_t fcs = evn_mbus::crc16_x25(raw.subspan(1, raw.size() - 4));
    EVN_MBUS_FUZZ_CHECK(fcs == (raw[raw.size() - 3] | raw[raw.size() - 2] << 8));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const auto chunks = evn_mbus::fuzz::line_script(input);
    evn_mbus::fuzz::check_chunking_does_not_matter(chunks, [size](const auto& c) {
        return evn_mbus::fuzz::run_framer<hdlc_frame_assembler>(c, size, check_frame);
    });
    return 0;
}
