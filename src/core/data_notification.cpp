#include "evn_mbus/data_notification.hpp"

#include "evn_mbus/apdu_tag.hpp"
#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/byte_reader.hpp"
#include "evn_mbus/error.hpp"

namespace evn_mbus {

std::error_code parse_data_notification(std::span<const std::uint8_t> apdu,
                                        data_notification& out) {
    byte_reader r(apdu);
    std::uint8_t tag = 0;
    if (!r.u8(tag) || tag != apdu_tag::data_notification) return errc::unsupported_apdu;
    // date-time is an OCTET STRING: 0 for "absent", else 12 bytes of COSEM date-time. Some
    // meters (Kaifa MA304H3E) send it as tagged Data instead, 09h (octet-string) then the
    // length; an untagged length is 0 or 12, never 09h, so the two forms cannot be confused.
    std::uint8_t dt_len = 0;
    if (!r.be32(out.invoke_id) || !r.u8(dt_len)) return errc::bad_notification;
    if (dt_len == static_cast<std::uint8_t>(axdr_type::octet_string) && !r.u8(dt_len)) {
        return errc::bad_notification;
    }
    out.date_time.reset();
    if (dt_len != 0) {
        std::span<const std::uint8_t> dt;
        if (dt_len != 12 || !r.bytes(dt_len, dt)) return errc::bad_notification;
        out.date_time = cosem_datetime::parse(dt);
    }
    if (r.at_end()) return errc::bad_notification;  // a body is mandatory
    out.body = r.rest();
    return {};
}

}  // namespace evn_mbus
