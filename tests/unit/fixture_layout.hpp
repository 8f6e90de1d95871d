// Where the fields of the captures' frames sit (fixtures/*.hex names every byte), so that a
// test damaging one byte says which field it hits.
#pragma once

#include <cstddef>

namespace evn_mbus::test {

// An M-Bus long frame (EN 13757-2) as these meters send it: 68 L L 68 C A CI STSAP DTSAP,
// the segment's DLMS bytes, checksum, 16.
namespace mbus_at {
inline constexpr std::size_t start = 0;
inline constexpr std::size_t l_field = 1;
inline constexpr std::size_t c_field = 4;
inline constexpr std::size_t a_field = 5;
inline constexpr std::size_t ci_field = 6;
inline constexpr std::size_t stsap = 7;
inline constexpr std::size_t dtsap = 8;
// A continuation segment (CI 11) carries ciphertext from here on.
inline constexpr std::size_t segment_data = 9;
// The first segment (CI 00): general-glo-ciphering DB, 08, the system title, the A-XDR length.
inline constexpr std::size_t glo_tag = 9;
inline constexpr std::size_t system_title = 11;
inline constexpr std::size_t dlms_length = 19;  // 81 F8 (EVN) or 82 01 09 (TINETZ)
// The checksum follows the L bytes of user data (C onwards), then the stop byte.
constexpr std::size_t checksum(std::size_t l) {
    return c_field + l;
}
}  // namespace mbus_at

}  // namespace evn_mbus::test
