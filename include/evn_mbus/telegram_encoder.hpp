// Builds telegrams the way Austrian meters send them: a data-notification, ciphered with
// AES-128-GCM as general-glo-ciphering, split into M-Bus long frames. For the simulator and
// tests; everything it makes is synthetic.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/dlms_security.hpp"
#include "evn_mbus/obis_code.hpp"

namespace evn_mbus {

// One register value of a push: OBIS, raw integer value and scaler/unit.
struct register_value {
    obis_code code;
    std::int64_t raw = 0;
    std::int8_t scaler = 0;
    std::uint8_t unit = 255;
    bool is_signed = false;  // int16/int32 instead of uint16/uint32
    bool wide = true;        // 32-bit (energy, power) instead of 16-bit (U, I, PF)
};

struct kaifa_push {
    std::uint32_t invoke_id = 0;
    cosem_datetime clock;
    std::vector<register_value> registers;
    std::string meter_number;  // sent last, as an octet-string without OBIS, like EVN's Kaifa
};

class telegram_encoder {
  public:
    telegram_encoder();
    ~telegram_encoder();
    telegram_encoder(const telegram_encoder&) = delete;
    telegram_encoder& operator=(const telegram_encoder&) = delete;

    // EVN Kaifa MA309M layout: data-notification with date-time, body = structure {
    // date-time octet-string, (OBIS, value, {scaler, unit})..., meter number }.
    static std::vector<std::uint8_t> encode_kaifa_notification(const kaifa_push& push);

    // General-glo-ciphering of `plaintext` (IEC 62056-5-3 9.2.7.2.4). `control` selects
    // encryption (20h) or authenticated encryption (30h, needs auth_key; the tag is appended).
    std::error_code encrypt(std::span<const std::uint8_t> plaintext, const aes_key& key,
                            const std::optional<aes_key>& auth_key, const system_title& title,
                            std::uint32_t frame_counter, std::uint8_t control,
                            std::vector<std::uint8_t>& apdu);

    // Splits an APDU into complete M-Bus long frames, ready for the wire (68 L L 68 ... CS 16;
    // C=53h, A=FFh, CI = segment | 10h on the last,
    // STSAP 01h, DTSAP 67h), at most `max_chunk` APDU bytes per frame (Kaifa: 245). The
    // segment number has four bits: `max_chunk` is raised so that at most 16 frames result.
    static std::vector<std::vector<std::uint8_t>> segment_mbus(std::span<const std::uint8_t> apdu,
                                                               std::size_t max_chunk = 245);

    // Wraps user data (C A CI ...) into a long frame with L, checksum and stop byte. L is the
    // low byte of the length, so user data longer than 255 bytes reproduces the Sagemcom
    // T210-D's overflowed L field.
    static std::vector<std::uint8_t> mbus_long_frame(std::span<const std::uint8_t> user_data);

  private:
    struct ctx_deleter {
        void operator()(evp_cipher_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<evp_cipher_ctx_st, ctx_deleter> ctx_;
};

}  // namespace evn_mbus
