// The EN 13757-3 application layer as the AMIS meters of Netz Oberoesterreich send it (Siemens
// TD-3511/3512 over the optical interface): an M-Bus long frame (EN 13757-2) with CI 5Bh and
// the 12-byte header of EN 13757-3:2018 clause 7.5.2, then records encrypted with OMS security
// mode 5 (OMS Vol. 2 clause 9.4.3: AES-128-CBC, no padding).
//
//   68 L L 68 | C | A F0 | CI 5B | ID (4, BCD, LSB first) | M (2) | version | device type |
//   access number | status | configuration word (2, LSB first) | encrypted blocks | CS | 16
//
// Configuration word: bits 8..12 the security mode (0 none, 5 AES-128-CBC), bits 4..7 the
// number of encrypted 16-byte blocks; bytes after them are plain records. Mode 5's IV is
// M || ID || version || device type || the access number eight times. A decryption is taken
// only when its blocks start and end with the filler 2F 2F (a wrong key passes both by chance
// once in 2^32 telegrams; its records and clock must parse too).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "evn_mbus/hex.hpp"

struct evp_cipher_ctx_st;

namespace evn_mbus {

inline constexpr std::uint8_t ci_oms_long_header = 0x5B;  // EN 13757-3 Table 2

struct oms_header {
    std::uint32_t id = 0;            // identification number (BCD digits, as sent)
    std::uint16_t manufacturer = 0;  // EN 13757-3 FLAG code, sent 2D 4C = 4C2Dh = "SAM"
    std::uint8_t version = 0;
    std::uint8_t device_type = 0;    // 02h electricity
    std::uint8_t access_number = 0;  // counts up by one per telegram
    std::uint8_t status = 0;
    std::uint16_t configuration = 0;
    std::span<const std::uint8_t> iv_source;  // ID M version type as sent (the IV's makings)
    std::span<const std::uint8_t> payload;    // the records, encrypted or not

    unsigned mode() const noexcept { return (configuration >> 8) & 0x1F; }
    unsigned encrypted_blocks() const noexcept { return (configuration >> 4) & 0x0F; }
    // The identification number as its eight digits ("12345678"), as printed on the meter.
    std::string id_text() const;
    // The manufacturer's three letters ("SAM").
    std::string manufacturer_text() const;
};

// Mode 5's IV (OMS Vol. 2 9.4.3): M || ID || version || device type || the access number eight
// times, from `id_m_version_type`, the eight header bytes after CI as sent (ID first).
std::array<std::uint8_t, 16> oms_mode5_iv(std::span<const std::uint8_t, 8> id_m_version_type,
                                          std::uint8_t access_number) noexcept;

// Parses the header after CI 5Bh. `user_data` starts at the CI field.
std::error_code parse_oms_header(std::span<const std::uint8_t> user_data, oms_header& out);

// OMS mode 5 (AES-128-CBC) via OpenSSL EVP; one cipher context, reused.
class oms_decryptor {
  public:
    oms_decryptor();
    ~oms_decryptor();
    oms_decryptor(oms_decryptor&&) noexcept;
    oms_decryptor& operator=(oms_decryptor&&) noexcept;
    oms_decryptor(const oms_decryptor&) = delete;
    oms_decryptor& operator=(const oms_decryptor&) = delete;

    void set_key(const aes_key& key);
    // The records in plain: decrypted (mode 5) and checked for 2F 2F, or as sent (mode 0).
    // Errors: oms_unsupported_mode, oms_bad_header, oms_not_decrypted, crypto_failure.
    std::error_code decrypt(const oms_header& header, std::vector<std::uint8_t>& out);

  private:
    struct ctx_deleter {
        void operator()(evp_cipher_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<evp_cipher_ctx_st, ctx_deleter> ctx_;
    aes_key key_{};
};

}  // namespace evn_mbus
