#include "evn_mbus/oms_frame.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "evn_mbus/error.hpp"

namespace evn_mbus {

std::string oms_header::id_text() const {
    std::string out(8, '0');
    for (int i = 0; i < 8; ++i) {
        const unsigned digit = (id >> (4 * (7 - i))) & 0x0F;
        out[static_cast<std::size_t>(i)] =
            static_cast<char>(digit < 10 ? '0' + digit : 'A' + digit - 10);
    }
    return out;
}

std::string oms_header::manufacturer_text() const {
    std::string out(3, '?');
    for (int i = 0; i < 3; ++i) {
        const unsigned letter = (manufacturer >> (5 * (2 - i))) & 0x1F;
        if (letter >= 1 && letter <= 26)
            out[static_cast<std::size_t>(i)] = static_cast<char>('@' + letter);
    }
    return out;
}

std::error_code parse_oms_header(std::span<const std::uint8_t> user_data, oms_header& out) {
    constexpr std::size_t header_size = 1 + 12;  // CI and the header
    if (user_data.size() < header_size || user_data[0] != ci_oms_long_header) {
        return errc::oms_bad_header;
    }
    const auto h = user_data.subspan(1);
    out.id = static_cast<std::uint32_t>(h[0]) | static_cast<std::uint32_t>(h[1]) << 8 |
             static_cast<std::uint32_t>(h[2]) << 16 | static_cast<std::uint32_t>(h[3]) << 24;
    out.manufacturer = static_cast<std::uint16_t>(h[4] | h[5] << 8);
    out.version = h[6];
    out.device_type = h[7];
    out.access_number = h[8];
    out.status = h[9];
    out.configuration = static_cast<std::uint16_t>(h[10] | h[11] << 8);
    out.iv_source = h.first(8);
    out.payload = user_data.subspan(header_size);
    return {};
}

std::array<std::uint8_t, 16> oms_mode5_iv(std::span<const std::uint8_t, 8> h,
                                          std::uint8_t access_number) noexcept {
    // The header has ID first, then M.
    std::array<std::uint8_t, 16> iv{h[4], h[5], h[0], h[1], h[2], h[3], h[6], h[7]};
    for (std::size_t i = 8; i < iv.size(); ++i)
        iv[i] = access_number;
    return iv;
}

void oms_decryptor::ctx_deleter::operator()(evp_cipher_ctx_st* ctx) const noexcept {
    EVP_CIPHER_CTX_free(ctx);
}

oms_decryptor::oms_decryptor() : ctx_(EVP_CIPHER_CTX_new()) {}

oms_decryptor::~oms_decryptor() {
    OPENSSL_cleanse(key_.data(), key_.size());
}

oms_decryptor::oms_decryptor(oms_decryptor&&) noexcept = default;
oms_decryptor& oms_decryptor::operator=(oms_decryptor&&) noexcept = default;

void oms_decryptor::set_key(const aes_key& key) {
    key_ = key;
}

std::error_code oms_decryptor::decrypt(const oms_header& header, std::vector<std::uint8_t>& out) {
    out.clear();
    const unsigned mode = header.mode();
    if (mode == 0) {
        out.assign(header.payload.begin(), header.payload.end());
        return {};
    }
    if (mode != 5) return errc::oms_unsupported_mode;
    const std::size_t encrypted = std::size_t{header.encrypted_blocks()} * 16;
    if (encrypted == 0 || encrypted > header.payload.size() || header.iv_source.size() != 8) {
        return errc::oms_bad_header;
    }
    if (!ctx_) return errc::crypto_failure;

    const auto iv = oms_mode5_iv(header.iv_source.first<8>(), header.access_number);

    EVP_CIPHER_CTX* ctx = ctx_.get();
    out.resize(encrypted);
    int len = 0;
    int final_len = 0;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), nullptr, key_.data(), iv.data()) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        EVP_DecryptUpdate(ctx, out.data(), &len, header.payload.data(),
                          static_cast<int>(encrypted)) != 1 ||
        EVP_DecryptFinal_ex(ctx, out.data() + len, &final_len) != 1 ||
        static_cast<std::size_t>(len + final_len) != encrypted) {
        out.clear();
        return errc::crypto_failure;
    }
    if (out[0] != 0x2F || out[1] != 0x2F || out[encrypted - 2] != 0x2F ||
        out[encrypted - 1] != 0x2F) {
        OPENSSL_cleanse(out.data(), out.size());
        out.clear();
        return errc::oms_not_decrypted;
    }
    out.insert(out.end(), header.payload.begin() + static_cast<std::ptrdiff_t>(encrypted),
               header.payload.end());
    return {};
}

}  // namespace evn_mbus
