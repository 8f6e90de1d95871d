// EN 13757-3:2018 data records (clause 6): DIF, DIFEs, VIF, VIFEs, data, little-endian, as the
// AMIS meters of Netz Oberoesterreich send them after decryption (oms_frame.hpp).
//
// DIF: bit 7 a DIFE follows, bit 6 storage number LSB, bits 4-5 function (0 instantaneous),
// bits 0-3 the data field (1-4, 6, 7: signed integers of 1-4, 6, 8 bytes; 5 real; 9-C, E:
// BCD of 2-8, 12 digits; D variable length). DIFE: bits 0-3 storage, 4-5 tariff, 6 subunit.
// 2Fh is a filler, 0Fh/1Fh start manufacturer data that runs to the end.
//
// The records evn-mbus names (the same OBIS codes and readings as the DLMS meters):
//   VIF 0000 0nnn  active energy, Wh x 10^(nnn-3)          1-0:1.8.T  (backward: 2.8.T)
//   VIF 0010 1nnn  active power, W x 10^(nnn-3)            1-0:1.7.T  (backward: 2.7.T)
//   FBh 0000 001n  reactive energy, kvarh x 10^n           1-0:3.8.T  (backward: 4.8.T)
//   FBh 0001 01nn  reactive power, kvar x 10^(nn-3)        1-0:3.7.T  (backward: 4.7.T)
//   VIF 6Dh        date-time, type I (6 bytes) or F (4 bytes), local time with the summer-time
//                  bit: the meter's clock 0-0:1.0.0, in UTC
//   energy with VIFE FFh 04h, nothing after (Siemens AMIS, "SAM"): 1-0:1.128.0
// T is the tariff from the DIFEs; VIFE 3Ch means backward flow, VIFE 0111 0nnn multiplies by
// 10^(nnn-6). Records in other units, with a storage number, subunit or function other than
// instantaneous are left out and counted (reading::untagged_values), never given a guessed
// code; they pass through by their DIF/VIF header (reading::unnamed_records), as sent.
#pragma once

#include <cstdint>
#include <span>
#include <system_error>

#include "evn_mbus/reading.hpp"

namespace evn_mbus {

// Adds the records of `plain` to `out` (values, clock). `manufacturer` is the header's M field
// (1-0:1.128.0 only for Siemens AMIS, "SAM"); the first `encrypted` bytes were decrypted, and
// manufacturer data starting inside them is refused. Errors: mbus_bad_record.
std::error_code parse_mbus_records(std::span<const std::uint8_t> plain, reading& out,
                                   std::uint16_t manufacturer = 0, std::size_t encrypted = 0);

}  // namespace evn_mbus
