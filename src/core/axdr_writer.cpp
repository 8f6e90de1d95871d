#include "evn_mbus/axdr_writer.hpp"

#include <bit>

#include "evn_mbus/axdr_decoder.hpp"

namespace evn_mbus {
namespace {

std::uint8_t tag(axdr_type t) {
    return static_cast<std::uint8_t>(t);
}

}  // namespace

void axdr_writer::put_length(std::vector<std::uint8_t>& out, std::size_t length) {
    if (length < 0x80) {
        out.push_back(static_cast<std::uint8_t>(length));
        return;
    }
    int n = 0;
    for (std::size_t v = length; v != 0; v >>= 8)
        ++n;
    out.push_back(static_cast<std::uint8_t>(0x80 | n));
    for (int i = n - 1; i >= 0; --i)
        out.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
}

void axdr_writer::put_date_time(std::vector<std::uint8_t>& out, const cosem_datetime& dt) {
    const auto dev = static_cast<std::uint16_t>(dt.deviation);
    const std::uint8_t b[12] = {static_cast<std::uint8_t>(dt.year >> 8),
                                static_cast<std::uint8_t>(dt.year),
                                dt.month,
                                dt.day,
                                dt.day_of_week,
                                dt.hour,
                                dt.minute,
                                dt.second,
                                dt.hundredths,
                                static_cast<std::uint8_t>(dev >> 8),
                                static_cast<std::uint8_t>(dev),
                                dt.status};
    out.insert(out.end(), std::begin(b), std::end(b));
}

void axdr_writer::put_be(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i)
        out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

axdr_writer& axdr_writer::structure(std::size_t count) {
    out_.push_back(tag(axdr_type::structure));
    put_length(out_, count);
    return *this;
}

axdr_writer& axdr_writer::array(std::size_t count) {
    out_.push_back(tag(axdr_type::array));
    put_length(out_, count);
    return *this;
}

axdr_writer& axdr_writer::null_data() {
    out_.push_back(tag(axdr_type::null_data));
    return *this;
}

axdr_writer& axdr_writer::boolean(bool v) {
    out_.push_back(tag(axdr_type::boolean));
    out_.push_back(v ? 1 : 0);
    return *this;
}

#define EVN_MBUS_FIXED(method, ctype, type_tag, bytes) \
    axdr_writer& axdr_writer::method(ctype v) {        \
        out_.push_back(tag(type_tag));                 \
        put_be(static_cast<std::uint64_t>(v), bytes);  \
        return *this;                                  \
    }
EVN_MBUS_FIXED(int8, std::int8_t, axdr_type::integer, 1)
EVN_MBUS_FIXED(uint8, std::uint8_t, axdr_type::unsigned8, 1)
EVN_MBUS_FIXED(int16, std::int16_t, axdr_type::long_signed, 2)
EVN_MBUS_FIXED(uint16, std::uint16_t, axdr_type::long_unsigned, 2)
EVN_MBUS_FIXED(int32, std::int32_t, axdr_type::double_long, 4)
EVN_MBUS_FIXED(uint32, std::uint32_t, axdr_type::double_long_unsigned, 4)
EVN_MBUS_FIXED(int64, std::int64_t, axdr_type::long64, 8)
EVN_MBUS_FIXED(uint64, std::uint64_t, axdr_type::long64_unsigned, 8)
EVN_MBUS_FIXED(enumeration, std::uint8_t, axdr_type::enumeration, 1)
#undef EVN_MBUS_FIXED

axdr_writer& axdr_writer::float32(float v) {
    out_.push_back(tag(axdr_type::float32));
    put_be(std::bit_cast<std::uint32_t>(v), 4);
    return *this;
}

axdr_writer& axdr_writer::float64(double v) {
    out_.push_back(tag(axdr_type::float64));
    put_be(std::bit_cast<std::uint64_t>(v), 8);
    return *this;
}

axdr_writer& axdr_writer::octet_string(std::span<const std::uint8_t> bytes) {
    out_.push_back(tag(axdr_type::octet_string));
    put_length(out_, bytes.size());
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return *this;
}

axdr_writer& axdr_writer::visible_string(std::string_view text) {
    out_.push_back(tag(axdr_type::visible_string));
    put_length(out_, text.size());
    out_.insert(out_.end(), text.begin(), text.end());
    return *this;
}

axdr_writer& axdr_writer::octet_string_text(std::string_view text) {
    out_.push_back(tag(axdr_type::octet_string));
    put_length(out_, text.size());
    out_.insert(out_.end(), text.begin(), text.end());
    return *this;
}

axdr_writer& axdr_writer::obis(const obis_code& code) {
    return octet_string(code.bytes);
}

axdr_writer& axdr_writer::date_time_octets(const cosem_datetime& dt) {
    out_.push_back(tag(axdr_type::octet_string));
    out_.push_back(12);
    put_date_time(out_, dt);
    return *this;
}

axdr_writer& axdr_writer::scaler_unit(std::int8_t scaler, std::uint8_t unit) {
    return structure(2).int8(scaler).enumeration(unit);
}

}  // namespace evn_mbus
