// The first byte of an xDLMS APDU names its type: the ASN.1 tags of the XDLMS-APDU CHOICE
// (IEC 62056-5-3:2017, the xDLMS APDUs; Green Book DLMS UA 1000-2 Ed. 10). Only the tags of
// unsolicited pushes are listed: the core decodes nothing else.
#pragma once

#include <cstdint>

namespace evn_mbus::apdu_tag {

inline constexpr std::uint8_t data_notification = 0x0F;       // 8.5 / Green Book 9.3.8
inline constexpr std::uint8_t general_glo_ciphering = 0xDB;   // 9.2.7.2.4
inline constexpr std::uint8_t general_ded_ciphering = 0xDC;   // 9.2.7.2.4
inline constexpr std::uint8_t general_block_transfer = 0xE0;  // GBT, see block_transfer.hpp

// DBh and DCh: the APDU carries a system title and a security header.
constexpr bool is_ciphered(std::uint8_t tag) noexcept {
    return tag == general_glo_ciphering || tag == general_ded_ciphering;
}

}  // namespace evn_mbus::apdu_tag
