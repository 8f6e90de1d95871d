// The keys published with the captures in fixtures/ (same order as fixtures/vectors.json), so
// that the fuzzers' seeds decrypt and fuzzing starts deep inside the pipeline. All of them are
// test keys their owners published; none belongs to a meter in service.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "evn_mbus/dlms_security.hpp"
#include "evn_mbus/telegram_decoder.hpp"

namespace evn_mbus::fuzz {

constexpr aes_key key_of(const char (&hex)[33]) {
    aes_key k{};
    auto nibble = [](char c) {
        return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'A' + 10);
    };
    for (std::size_t i = 0; i < k.size(); ++i)
        k[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return k;
}

struct fixture_key_set {
    system_title title;  // as the capture sends it
    decoder_keys keys;
};

inline const std::array<fixture_key_set, 9> fixture_key_sets{{
    // EVN Kaifa MA309, "KFM"
    {{0x4B, 0x46, 0x4D, 0x67, 0x50, 0x00, 0x00, 0x09},
     {key_of("36C66639E48A8CA4D6BC8B282A793BBB"), std::nullopt}},
    // TINETZ Kaifa MA309, "KFM"
    {{0x4B, 0x46, 0x4D, 0x10, 0x10, 0x00, 0x00, 0x23},
     {key_of("101112131415161718191A1B1C1D1E1F"), std::nullopt}},
    // EVN Sagemcom T210-D, "SAG"
    {{0x53, 0x41, 0x47, 0x59, 0x05, 0xED, 0x33, 0x12},
     {key_of("E36344D76C1F6E5DD9F54258B5508866"), std::nullopt}},
    // Landis+Gyr E450, "LGZ": the one capture with a GCM tag
    {{0x4C, 0x47, 0x5A, 0x67, 0x73, 0x70, 0xB1, 0x77},
     {key_of("5C316162209EBB790B52EB0E7FC5B11C"), key_of("92705C5C97286064EABAE38D190F87A4")}},
    // Iskraemeco AM550, "ISK"
    {{0x49, 0x53, 0x4B, 0x69, 0x74, 0xAC, 0x00, 0x8F},
     {key_of("F9897984D43D3108AAFC4DE19DA85713"), std::nullopt}},
    // Siemens IM350, "SMS"
    {{0x53, 0x4D, 0x53, 0x67, 0x75, 0x3E, 0xC6, 0x14},
     {key_of("4F9278B252D90B3F742F5711232AD27A"), std::nullopt}},
    // Siemens IM350 of eww Wels, "SMS"
    {{0x53, 0x4D, 0x53, 0x67, 0x70, 0x02, 0xFD, 0x62},
     {key_of("5A9AFEB2A17E6CF0CBAF98C8300ED9D7"), std::nullopt}},
    // Landis+Gyr E450 of Netz Burgenland, "LGZ", with a GCM tag
    {{0x4C, 0x47, 0x5A, 0x67, 0x72, 0xA9, 0xA1, 0x11},
     {key_of("34743677397A24432646294A404E6352"), key_of("C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF")}},
    // Sagemcom T210-D-R of Energienetze Steiermark (P1 port, DSMR text), "SAG"
    {{0x53, 0x41, 0x47, 0x35, 0x00, 0x00, 0xD2, 0x8F},
     {key_of("953E7F1725EA910F26E053813A639094"), std::nullopt}},
}};

}  // namespace evn_mbus::fuzz
