#include "evn_mbus/block_transfer.hpp"

#include "evn_mbus/apdu_tag.hpp"
#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/byte_reader.hpp"
#include "evn_mbus/error.hpp"

namespace evn_mbus {
namespace {

constexpr std::uint8_t last_block_bit = 0x80;
constexpr std::uint8_t streaming_bit = 0x40;
constexpr std::uint8_t window_mask = 0x3F;

}  // namespace

std::error_code parse_gbt_block(std::span<const std::uint8_t> apdu, gbt_block& out) {
    byte_reader r(apdu);
    std::uint8_t tag = 0;
    if (!r.u8(tag) || tag != apdu_tag::general_block_transfer) return errc::unsupported_apdu;
    std::uint8_t control = 0;
    std::size_t length = 0;
    if (!r.u8(control) || !r.be16(out.number) || !r.be16(out.number_ack) ||
        !read_axdr_length(r, length) || r.remaining() != length) {
        return errc::bad_block_transfer;
    }
    out.last = (control & last_block_bit) != 0;
    out.streaming = (control & streaming_bit) != 0;
    out.window = static_cast<std::uint8_t>(control & window_mask);
    out.data = r.rest();
    return {};
}

bool block_transfer_reassembler::reset() {
    next_number_ = 1;
    return buf_.reset();
}

reassembly_event block_transfer_reassembler::add(std::span<const std::uint8_t> apdu,
                                                 std::span<const std::uint8_t> raw) {
    if (buf_.done()) reset();
    if (apdu.empty() || apdu[0] != apdu_tag::general_block_transfer) {
        // Not a block: it stands alone, and ends any unfinished transfer.
        const bool dropped = reset();
        reassembly_event ev = reassembly_event::telegram(apdu, raw);
        if (dropped) ev.dropped = errc::missing_segment;
        return ev;
    }
    gbt_block block;
    if (auto ec = parse_gbt_block(apdu, block)) {
        reset();
        return reassembly_event::failed(raw, ec);
    }
    std::error_code dropped;
    if (block.number == 1) {
        // A transfer always starts with block 1: whatever was in progress is lost.
        if (reset()) dropped = errc::missing_segment;
        buf_.start();
    } else if (!buf_.in_progress() || block.number != next_number_) {
        reset();
        return reassembly_event::failed(raw, errc::missing_segment);
    }
    if (!buf_.append(block.data, raw)) {
        reset();
        return reassembly_event::failed(raw, errc::telegram_too_long);
    }
    next_number_ = static_cast<std::uint16_t>(block.number + 1);

    reassembly_event ev = block.last ? buf_.complete() : reassembly_event{};
    ev.dropped = dropped;
    return ev;
}

}  // namespace evn_mbus
