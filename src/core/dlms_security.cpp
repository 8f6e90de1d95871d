#include "evn_mbus/dlms_security.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "evn_mbus/error.hpp"

namespace evn_mbus {

bool read_axdr_length(std::span<const std::uint8_t> in, std::size_t& pos, std::size_t& length) {
    if (pos >= in.size()) return false;
    const std::uint8_t first = in[pos];
    if (first < 0x80) {
        length = first;
        ++pos;
        return true;
    }
    const std::size_t n = first & 0x7F;
    // Four length bytes are more than any APDU can need; refuse rather than overflow.
    if (n == 0 || n > 4 || pos + 1 + n > in.size()) return false;
    std::size_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v = v << 8 | in[pos + 1 + i];
    length = v;
    pos += 1 + n;
    return true;
}

std::error_code parse_security_header(std::span<const std::uint8_t> apdu, security_header& out) {
    if (apdu.empty()) return errc::bad_security_header;
    if (apdu[0] != apdu_tag::general_glo_ciphering && apdu[0] != apdu_tag::general_ded_ciphering) {
        return errc::unsupported_apdu;
    }
    out.tag = apdu[0];
    // The system title is an octet-string of 8 bytes (Green Book 4.3.4: 3-letter manufacturer
    // flag and a 5-byte serial).
    if (apdu.size() < 2 || apdu[1] != out.title.size() || apdu.size() < 2 + out.title.size()) {
        return errc::bad_security_header;
    }
    std::copy_n(apdu.begin() + 2, out.title.size(), out.title.begin());
    std::size_t pos = 2 + out.title.size();
    std::size_t length = 0;
    if (!read_axdr_length(apdu, pos, length)) return errc::bad_security_header;
    // SC and FC are part of the length; the rest of the APDU must be exactly the length.
    if (length < 5 || apdu.size() - pos != length) return errc::bad_security_header;
    out.control = apdu[pos];
    out.frame_counter = static_cast<std::uint32_t>(apdu[pos + 1]) << 24 |
                        static_cast<std::uint32_t>(apdu[pos + 2]) << 16 |
                        static_cast<std::uint32_t>(apdu[pos + 3]) << 8 | apdu[pos + 4];
    auto content = apdu.subspan(pos + 5);
    out.auth_tag = {};
    if ((out.control & security_control::authentication) != 0) {
        if (content.size() < gcm_tag_size) return errc::bad_security_header;
        out.auth_tag = content.last(gcm_tag_size);
        content = content.first(content.size() - gcm_tag_size);
    }
    out.content = content;
    return {};
}

void dlms_decryptor::ctx_deleter::operator()(evp_cipher_ctx_st* ctx) const noexcept {
    EVP_CIPHER_CTX_free(ctx);
}

dlms_decryptor::dlms_decryptor() : ctx_(EVP_CIPHER_CTX_new()) {}

dlms_decryptor::~dlms_decryptor() {
    OPENSSL_cleanse(key_.data(), key_.size());
    if (auth_key_) OPENSSL_cleanse(auth_key_->data(), auth_key_->size());
}

dlms_decryptor::dlms_decryptor(dlms_decryptor&&) noexcept = default;
dlms_decryptor& dlms_decryptor::operator=(dlms_decryptor&&) noexcept = default;

void dlms_decryptor::set_keys(const aes_key& key, const std::optional<aes_key>& auth_key) {
    key_ = key;
    auth_key_ = auth_key;
    // The key schedule is set once here; each telegram only sets its IV.
    if (ctx_) {
        EVP_DecryptInit_ex(ctx_.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr);
        EVP_DecryptInit_ex(ctx_.get(), nullptr, nullptr, key_.data(), nullptr);
    }
}

std::error_code dlms_decryptor::decrypt(const security_header& header,
                                        std::vector<std::uint8_t>& out, bool& tag_verified) {
    tag_verified = false;
    const std::uint8_t sc = header.control;
    const unsigned suite = sc & security_control::suite_mask;
    const bool encrypted = (sc & security_control::encryption) != 0;
    const bool authenticated = (sc & security_control::authentication) != 0;
    // Suites 0 and 1 use AES-128-GCM; suite 2 is AES-256. Compressed content is not used by
    // any meter we know.
    if (suite > 1 || (sc & security_control::compression) != 0) return errc::unsupported_security;
    if (!encrypted && !authenticated) {
        out.assign(header.content.begin(), header.content.end());
        return {};
    }
    if (!ctx_) return errc::crypto_failure;
    EVP_CIPHER_CTX* ctx = ctx_.get();

    std::array<std::uint8_t, 12> iv{};
    std::copy(header.title.begin(), header.title.end(), iv.begin());
    for (int i = 0; i < 4; ++i) {
        iv[8 + static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(header.frame_counter >> (24 - 8 * i));
    }
    if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1) {
        return errc::crypto_failure;
    }

    const bool verify = authenticated && auth_key_.has_value();
    int len = 0;
    if (verify) {
        // AAD = SC || AK, and for authentication-only the plaintext as well (Green Book
        // 9.2.2.4, table "use of the authenticated data").
        if (EVP_DecryptUpdate(ctx, nullptr, &len, &sc, 1) != 1 ||
            EVP_DecryptUpdate(ctx, nullptr, &len, auth_key_->data(),
                              static_cast<int>(auth_key_->size())) != 1) {
            return errc::crypto_failure;
        }
        if (!encrypted && EVP_DecryptUpdate(ctx, nullptr, &len, header.content.data(),
                                            static_cast<int>(header.content.size())) != 1) {
            return errc::crypto_failure;
        }
    }

    if (encrypted) {
        out.resize(header.content.size());
        if (!header.content.empty() &&
            EVP_DecryptUpdate(ctx, out.data(), &len, header.content.data(),
                              static_cast<int>(header.content.size())) != 1) {
            return errc::crypto_failure;
        }
    } else {
        out.assign(header.content.begin(), header.content.end());
    }

    if (verify) {
        std::array<std::uint8_t, gcm_tag_size> tag{};
        std::copy(header.auth_tag.begin(), header.auth_tag.end(), tag.begin());
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                                tag.data()) != 1) {
            return errc::crypto_failure;
        }
        std::uint8_t final_block[16];
        if (EVP_DecryptFinal_ex(ctx, final_block, &len) != 1) {
            out.clear();
            return errc::tag_mismatch;
        }
        tag_verified = true;
    }
    // Without a tag to check, GCM decryption is plain counter mode: no final step is needed.
    return {};
}

}  // namespace evn_mbus
