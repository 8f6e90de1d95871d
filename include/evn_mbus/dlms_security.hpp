// DLMS/COSEM ciphered APDUs: general-glo-ciphering (DBh) and general-ded-ciphering (DCh),
// IEC 62056-5-3:2017, 9.2.7.2.4 and Green Book (DLMS UA 1000-2 Ed. 10), 9.2.
//
//   DB | len(system-title)=08 | system-title(8) | A-XDR length | SC | FC(4) | ciphertext | [T(12)]
//
// SC, the security control byte: bits 0..3 security suite (0 and 1: AES-128-GCM), bit 4
// authentication, bit 5 encryption, bit 6 key set, bit 7 compression. The IV is
// system-title || frame counter (Green Book 9.2.2.4). With authentication, the AAD is
// SC || authentication key and the tag is 12 bytes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "evn_mbus/apdu_tag.hpp"
#include "evn_mbus/axdr_decoder.hpp"  // read_axdr_length
#include "evn_mbus/hex.hpp"
#include "evn_mbus/system_title.hpp"

struct evp_cipher_ctx_st;

namespace evn_mbus {

namespace security_control {
inline constexpr std::uint8_t suite_mask = 0x0F;
inline constexpr std::uint8_t authentication = 0x10;
inline constexpr std::uint8_t encryption = 0x20;
inline constexpr std::uint8_t key_set = 0x40;
inline constexpr std::uint8_t compression = 0x80;
}  // namespace security_control

inline constexpr std::size_t gcm_tag_size = 12;

// The 96-bit GCM initialisation vector: system title || frame counter, big-endian (Green Book
// 9.2.2.4). The same for decrypting and encrypting.
using gcm_iv = std::array<std::uint8_t, 12>;
constexpr gcm_iv make_gcm_iv(const system_title& title, std::uint32_t frame_counter) noexcept {
    gcm_iv iv{};
    for (std::size_t i = 0; i < title.size(); ++i)
        iv[i] = title[i];
    for (std::size_t i = 0; i < 4; ++i)
        iv[title.size() + i] = static_cast<std::uint8_t>(frame_counter >> (24 - 8 * i));
    return iv;
}

struct security_header {
    std::uint8_t tag = 0;                    // DBh or DCh
    system_title title{};                    // manufacturer flag (3 letters) + serial
    std::uint8_t control = 0;                // SC
    std::uint32_t frame_counter = 0;         // FC, increases with every push
    std::span<const std::uint8_t> content;   // ciphertext, or plaintext when not encrypted
    std::span<const std::uint8_t> auth_tag;  // empty without authentication
};

// Parses the header of a ciphered APDU. The A-XDR length must cover exactly the rest of the
// input: a lying length is errc::bad_security_header, never an over-read.
std::error_code parse_security_header(std::span<const std::uint8_t> apdu, security_header& out);

// AES-128-GCM via OpenSSL EVP. Holds one cipher context, reused for every telegram.
class dlms_decryptor {
  public:
    dlms_decryptor();
    ~dlms_decryptor();
    dlms_decryptor(dlms_decryptor&&) noexcept;
    dlms_decryptor& operator=(dlms_decryptor&&) noexcept;
    dlms_decryptor(const dlms_decryptor&) = delete;
    dlms_decryptor& operator=(const dlms_decryptor&) = delete;

    // The authentication key is optional: without it a tag is present but not checked.
    void set_keys(const aes_key& key, const std::optional<aes_key>& auth_key);

    // Decrypts (and, with an authentication key and a tag, verifies) the content into `out`.
    // `tag_verified` tells whether a tag was checked. Errors: unsupported_security,
    // tag_mismatch, crypto_failure.
    std::error_code decrypt(const security_header& header, std::vector<std::uint8_t>& out,
                            bool& tag_verified);

  private:
    struct ctx_deleter {
        void operator()(evp_cipher_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<evp_cipher_ctx_st, ctx_deleter> ctx_;
    aes_key key_{};
    std::optional<aes_key> auth_key_;
};

}  // namespace evn_mbus
