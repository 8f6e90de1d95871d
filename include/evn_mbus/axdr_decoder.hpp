// A-XDR decoding of COSEM "Data" (IEC 62056-6-2:2017, 4.1.5 and Blue Book DLMS UA 1000-1,
// 4.1.5: the Data CHOICE tags), as meters send it in data-notification bodies.
//
// The decoder walks the tree once, bounds-checking every read, and flattens it in pre-order into
// a caller-owned vector (reused between telegrams, so no allocation after warm-up). Nesting
// depth and node count are bounded; a length or count that points past the end is an error,
// never an over-read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "evn_mbus/byte_reader.hpp"

namespace evn_mbus {

// Reads an A-XDR length (IEC 62056-6-2, 4.1.5 / Green Book 9.2.7.2: short form < 80h; long
// forms 81h xx, 82h xx xx, ...). Returns false, the reader unmoved, when the input ends or the
// length does not fit: four length bytes are more than any APDU can need, so more are refused
// rather than overflowed.
inline bool read_axdr_length(byte_reader& in, std::size_t& length) noexcept {
    std::uint8_t first = 0;
    if (!in.peek(first)) return false;
    if (first < 0x80) {
        length = first;
        return in.skip(1);
    }
    const std::size_t n = first & 0x7F;
    if (n == 0 || n > 4 || in.remaining() < 1 + n) return false;
    std::uint64_t v = 0;
    in.skip(1);
    in.be(n, v);
    length = static_cast<std::size_t>(v);
    return true;
}

// The same at `pos` of `in`, advancing `pos` only on success.
inline bool read_axdr_length(std::span<const std::uint8_t> in, std::size_t& pos,
                             std::size_t& length) noexcept {
    if (pos > in.size()) return false;
    byte_reader r(in.subspan(pos));
    if (!read_axdr_length(r, length)) return false;
    pos += r.position();
    return true;
}

enum class axdr_type : std::uint8_t {
    null_data = 0x00,
    array = 0x01,
    structure = 0x02,
    boolean = 0x03,
    bit_string = 0x04,
    double_long = 0x05,           // int32
    double_long_unsigned = 0x06,  // uint32
    octet_string = 0x09,
    visible_string = 0x0A,
    utf8_string = 0x0C,
    bcd = 0x0D,
    integer = 0x0F,        // int8
    long_signed = 0x10,    // int16
    unsigned8 = 0x11,      // uint8
    long_unsigned = 0x12,  // uint16
    long64 = 0x14,
    long64_unsigned = 0x15,
    enumeration = 0x16,
    float32 = 0x17,
    float64 = 0x18,
    date_time = 0x19,  // 12 bytes, see cosem_datetime
    date = 0x1A,       // 5 bytes
    time = 0x1B,       // 4 bytes
};

// The type's name in the Blue Book's words: "double-long-unsigned", "octet-string", ...
std::string_view axdr_type_name(axdr_type type) noexcept;

// One element of the flattened tree. Children of a container follow it directly; `subtree`
// counts the node itself and all its descendants, so the next sibling is at index + subtree.
struct axdr_node {
    axdr_type type = axdr_type::null_data;
    std::uint8_t depth = 0;
    std::uint32_t count = 0;       // containers: number of children
    std::uint32_t subtree = 1;     // nodes in this subtree, including this one
    std::int64_t int_value = 0;    // signed integers, enum, boolean, bcd
    std::uint64_t uint_value = 0;  // unsigned integers
    double float_value = 0.0;      // float32/float64
    std::size_t offset = 0;        // strings, bit-strings, dates: offset of the contents
    std::size_t length = 0;        // ... and their length in bytes (bit-string: bytes used)

    bool is_container() const noexcept {
        return type == axdr_type::array || type == axdr_type::structure;
    }
    bool is_signed_integer() const noexcept;
    bool is_unsigned_integer() const noexcept;
    bool is_number() const noexcept;
    bool is_bytes() const noexcept;  // octet-, visible-, utf8-string, date-time, date, time
    // Numeric value as double (integers, floats, enum); 0 for anything else.
    double as_double() const noexcept;
};

struct axdr_limits {
    std::size_t max_depth = 16;
    std::size_t max_nodes = 1024;
};

// Decodes one Data element from the start of `in` into `nodes` (cleared first). `consumed`
// receives the bytes it took. Errors: axdr_truncated, axdr_unknown_type, axdr_too_deep,
// axdr_too_many_nodes.
std::error_code decode_axdr(std::span<const std::uint8_t> in, std::vector<axdr_node>& nodes,
                            std::size_t& consumed, const axdr_limits& limits = {});

}  // namespace evn_mbus
