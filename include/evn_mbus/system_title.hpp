// The system title identifies a DLMS/COSEM server: 8 bytes, a 3-letter manufacturer flag
// (FLAG id, as M-Bus manufacturer codes) and a 5-byte serial (Green Book DLMS UA 1000-2
// Ed. 10, 4.3.4). Ciphered APDUs carry it (IEC 62056-5-3, 9.2.7.2.4) and it is half of the
// AES-GCM initialisation vector (Green Book 9.2.2.4).
#pragma once

#include <array>
#include <cstdint>

namespace evn_mbus {

using system_title = std::array<std::uint8_t, 8>;

}  // namespace evn_mbus
