#include "evn_mbus/dlms_security.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "evn_mbus/byte_reader.hpp"
#include "evn_mbus/error.hpp"

namespace evn_mbus {

std::error_code parse_security_header(std::span<const std::uint8_t> apdu, security_header& out) {
    byte_reader r(apdu);
    std::uint8_t tag = 0;
    if (!r.u8(tag)) return errc::bad_security_header;
    if (!apdu_tag::is_ciphered(tag)) return errc::unsupported_apdu;
    out.tag = tag;
    // The system title is an octet-string of 8 bytes (Green Book 4.3.4: 3-letter manufacturer
    // flag and a 5-byte serial).
    std::uint8_t title_size = 0;
    if (!r.u8(title_size) || title_size != out.title.size() || !r.copy(out.title)) {
        return errc::bad_security_header;
    }
    std::size_t length = 0;
    if (!read_axdr_length(r, length)) return errc::bad_security_header;
    // SC and FC are part of the length; the rest of the APDU must be exactly the length.
    if (length < 5 || r.remaining() != length) return errc::bad_security_header;
    r.u8(out.control);
    r.be32(out.frame_counter);
    auto content = r.rest();
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

    const gcm_iv iv = make_gcm_iv(header.title, header.frame_counter);
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
