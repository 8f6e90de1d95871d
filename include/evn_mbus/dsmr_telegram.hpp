// DSMR P1 text telegrams (Netbeheer Nederland, DSMR 5.0.2 P1 Companion Standard, clause 6.12;
// the data lines of IEC 62056-21 mode D), as Energienetze Steiermark's Sagemcom T210-D-R sends
// them as the plaintext of its general-glo-ciphering APDU:
//
//   /EST5\253717584_A          identification (after "/": flag id, baud digit, "\", type)
//                              (an empty line)
//   1-0:1.8.0(014159934*Wh)    OBIS code A-B:C.D.E, then one or more "(value[*unit])"
//   0-0:1.0.0(210929114730S)   time stamp YYMMDDhhmmss, S summer time / W winter time
//   !EEE5                      "!" and the CRC-16 of "/" to "!" as 4 hex digits
//
// The CRC is CRC-16/ARC (polynomial 8005h reflected, initial value 0), clause 6.12. A value
// is read as the register it stands for: digits with an optional decimal point become an
// integer and a scaler (kWh, kW, kvarh, kvar, kVA are turned into Wh, W, varh, var, VA by the
// scaler), the unit a COSEM unit (Blue Book 4.3.2); time stamps become date-times, other text
// stays text (hex-coded ASCII such as the equipment id 0-0:96.1.1 is decoded). Nothing here
// allocates once the reading's buffers are warm, and nothing reads past the input.
#pragma once

#include <cstdint>
#include <span>
#include <system_error>

#include "evn_mbus/reading.hpp"

namespace evn_mbus {

// CRC-16/ARC, as DSMR's "!" line carries it.
std::uint16_t dsmr_crc16(std::span<const std::uint8_t> bytes) noexcept;

// A plaintext that is a DSMR telegram rather than an xDLMS APDU: it starts with "/".
constexpr bool is_dsmr_text(std::span<const std::uint8_t> plaintext) noexcept {
    return !plaintext.empty() && plaintext[0] == '/';
}

// Parses one telegram, "/" to the CRC (a line end after it is allowed), into `out`'s values,
// clock (0-0:1.0.0), meter number (0-0:96.1.0, else 0-0:96.1.1) and device name (the
// identification line). Errors: dsmr_bad_crc, dsmr_malformed. `out` is not cleared first.
// `crc_checked` tells whether the telegram carried a CRC (and so it held).
std::error_code parse_dsmr(std::span<const std::uint8_t> text, reading& out, bool& crc_checked);

}  // namespace evn_mbus
