// A-XDR encoding of COSEM Data (IEC 62056-6-2:2017, 4.1.5): the inverse of decode_axdr, for
// the simulator and for tests that build telegrams. Telegrams made with it are synthetic.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/obis_code.hpp"

namespace evn_mbus {

class axdr_writer {
  public:
    explicit axdr_writer(std::vector<std::uint8_t>& out) : out_(out) {}

    axdr_writer& structure(std::size_t count);
    axdr_writer& array(std::size_t count);
    axdr_writer& null_data();
    axdr_writer& boolean(bool v);
    axdr_writer& int8(std::int8_t v);
    axdr_writer& uint8(std::uint8_t v);
    axdr_writer& int16(std::int16_t v);
    axdr_writer& uint16(std::uint16_t v);
    axdr_writer& int32(std::int32_t v);
    axdr_writer& uint32(std::uint32_t v);
    axdr_writer& int64(std::int64_t v);
    axdr_writer& uint64(std::uint64_t v);
    axdr_writer& enumeration(std::uint8_t v);
    axdr_writer& float32(float v);
    axdr_writer& float64(double v);
    axdr_writer& octet_string(std::span<const std::uint8_t> bytes);
    axdr_writer& visible_string(std::string_view text);
    axdr_writer& octet_string_text(std::string_view text);    // text sent as octet-string
    axdr_writer& obis(const obis_code& code);                 // as a 6-byte octet-string
    axdr_writer& date_time_octets(const cosem_datetime& dt);  // as a 12-byte octet-string
    axdr_writer& scaler_unit(std::int8_t scaler, std::uint8_t unit);

    // A-XDR length: short form below 80h, else 81h/82h/... long forms.
    static void put_length(std::vector<std::uint8_t>& out, std::size_t length);
    static void put_date_time(std::vector<std::uint8_t>& out, const cosem_datetime& dt);

  private:
    void put_be(std::uint64_t v, int bytes);
    std::vector<std::uint8_t>& out_;
};

}  // namespace evn_mbus
