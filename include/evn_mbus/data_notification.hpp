// DLMS data-notification APDU (IEC 62056-5-3:2017, 8.5 / Green Book 9.3.8):
//   0Fh | long-invoke-id-and-priority (4) | date-time (octet-string: 00h absent, or 0Ch + 12)
//       | notification-body (one A-XDR Data element)
// The date-time is also taken as tagged Data (09h 0Ch + 12), as some Kaifa meters send it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "evn_mbus/cosem_datetime.hpp"

namespace evn_mbus {

struct data_notification {
    std::uint32_t invoke_id = 0;              // long-invoke-id-and-priority
    std::optional<cosem_datetime> date_time;  // push time, if the meter sends one
    std::span<const std::uint8_t> body;       // the A-XDR notification-body, up to the end
};

// Parses the header. Errors: unsupported_apdu (not 0Fh), bad_notification.
std::error_code parse_data_notification(std::span<const std::uint8_t> apdu, data_notification& out);

}  // namespace evn_mbus
