// Builds telegrams the way Austrian meters send them: a data-notification, ciphered with
// AES-128-GCM as general-glo-ciphering, split into M-Bus long frames or HDLC frames (optionally
// in general-block-transfer blocks). For the simulator and tests; everything it makes is
// synthetic.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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

// HDLC addresses and control field of a push (IEC 62056-46): each address as sent, with its
// extension bit (1 on the last byte). Defaults as the Iskraemeco AM550 sends them.
struct hdlc_header {
    std::vector<std::uint8_t> destination{0xCF};
    std::vector<std::uint8_t> source{0x02, 0x23};
    std::uint8_t control = 0x13;  // UI frame, poll/final bit set
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

    // One HDLC frame of format type 3, flags included: 7E | A0h+S+length | addresses | control
    // | HCS | info | FCS | 7E, HCS and FCS CRC-16/X.25 least significant byte first (the HCS is
    // left out when `info` is empty). `info` must fit the 11-bit length (about 2030 bytes).
    static std::vector<std::uint8_t> hdlc_frame(std::span<const std::uint8_t> info, bool segmented,
                                                const hdlc_header& header = {});

    // Splits an APDU into complete HDLC frames, ready for the wire: the LLC header E6 E7 00
    // first (unless `llc` is false: a later general-block-transfer block), at most
    // `max_info_len` information bytes per frame (128 is the default of IEC 62056-46), the
    // segmentation bit S on every frame but the last.
    static std::vector<std::vector<std::uint8_t>> segment_hdlc(std::span<const std::uint8_t> apdu,
                                                               std::size_t max_info_len = 128,
                                                               bool llc = true,
                                                               const hdlc_header& header = {});

    // Splits an APDU into general-block-transfer APDUs (IEC 62056-5-3: E0h, block-control with
    // streaming and, on the last, last-block set, block numbers from 1, block-number-ack 0)
    // of at most `block_size` data bytes each.
    static std::vector<std::vector<std::uint8_t>> general_block_transfer(
        std::span<const std::uint8_t> apdu, std::size_t block_size);

    // The Landis+Gyr E450 way: general-block-transfer blocks, each one HDLC information
    // (segmented further if longer than `max_info_len`), the LLC header only before the first.
    static std::vector<std::vector<std::uint8_t>> segment_hdlc_blocks(
        std::span<const std::uint8_t> apdu, std::size_t block_size, std::size_t max_info_len = 128,
        const hdlc_header& header = {});

    // The same push as the DSMR text a P1 port sends (dsmr_text): the DSMR version
    // 1-3:0.2.8(50), the clock 0-0:1.0.0 (local time, S or W from the clock status), the
    // meter number 0-0:96.1.0, then each register as "A-B:C.D.E(value*unit)", the scaler
    // written as decimals ("233.7*V"), energies in Wh as the Sagemcom T210-D-R sends them.
    static std::string encode_dsmr_push(const kaifa_push& push, std::string_view identification);

    // A DSMR P1 telegram as the P1 port's plaintext (dsmr_telegram.hpp): "/" and the
    // identification, an empty line, the data lines ("1-0:1.8.0(000001234*Wh)"), then "!" and
    // the CRC-16 of "/" to "!"; every line ends with CR LF.
    static std::string dsmr_text(std::string_view identification,
                                 std::span<const std::string> lines);

  private:
    struct ctx_deleter {
        void operator()(evp_cipher_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<evp_cipher_ctx_st, ctx_deleter> ctx_;
};

}  // namespace evn_mbus
