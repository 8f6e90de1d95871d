#include "evn_mbus/data_notification.hpp"

#include "evn_mbus/dlms_security.hpp"
#include "evn_mbus/error.hpp"

namespace evn_mbus {

std::error_code parse_data_notification(std::span<const std::uint8_t> apdu,
                                        data_notification& out) {
    if (apdu.empty() || apdu[0] != apdu_tag::data_notification) return errc::unsupported_apdu;
    if (apdu.size() < 6) return errc::bad_notification;
    out.invoke_id = static_cast<std::uint32_t>(apdu[1]) << 24 |
                    static_cast<std::uint32_t>(apdu[2]) << 16 |
                    static_cast<std::uint32_t>(apdu[3]) << 8 | apdu[4];
    // date-time is an OCTET STRING: 0 for "absent", else 12 bytes of COSEM date-time.
    const std::size_t dt_len = apdu[5];
    std::size_t pos = 6;
    out.date_time.reset();
    if (dt_len != 0) {
        if (dt_len != 12 || apdu.size() < pos + dt_len) return errc::bad_notification;
        out.date_time = cosem_datetime::parse(apdu.subspan(pos, dt_len));
        pos += dt_len;
    }
    if (pos >= apdu.size()) return errc::bad_notification;  // a body is mandatory
    out.body = apdu.subspan(pos);
    return {};
}

}  // namespace evn_mbus
