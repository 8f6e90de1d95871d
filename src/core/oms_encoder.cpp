#include "evn_mbus/oms_encoder.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <chrono>
#include <utility>

#include "evn_mbus/error.hpp"
#include "evn_mbus/oms_frame.hpp"
#include "evn_mbus/telegram_encoder.hpp"

namespace evn_mbus {
namespace {

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Byte by byte: GCC 12's -Warray-bounds misreads a range insert into a small vector.
void put(std::vector<std::uint8_t>& out, std::initializer_list<std::uint8_t> bytes) {
    for (const std::uint8_t b : bytes)
        out.push_back(b);
}

void put_record(std::vector<std::uint8_t>& out, std::initializer_list<std::uint8_t> dif_vif,
                std::uint32_t v) {
    put(out, dif_vif);
    put32(out, v);
}

// The ISO day of the week (1 Monday .. 7 Sunday) and week number of a date; 0, 0 if invalid.
std::pair<unsigned, unsigned> week_of(const cosem_datetime& t) {
    using namespace std::chrono;
    const year_month_day ymd{year{t.year}, month{t.month}, day{t.day}};
    if (!ymd.ok()) return {0, 0};
    const sys_days d{ymd};
    const unsigned wd = weekday{d}.iso_encoding();
    const sys_days thursday = d + days{4 - static_cast<int>(wd)};
    const sys_days first{year_month_day{thursday}.year() / January / 1};
    return {wd, static_cast<unsigned>((thursday - first).count() / 7 + 1)};
}

}  // namespace

void oms_encoder::ctx_deleter::operator()(evp_cipher_ctx_st* ctx) const noexcept {
    EVP_CIPHER_CTX_free(ctx);
}

oms_encoder::oms_encoder() : ctx_(EVP_CIPHER_CTX_new()) {}
oms_encoder::~oms_encoder() = default;

std::vector<std::uint8_t> oms_encoder::records(const amis_push& p) {
    std::vector<std::uint8_t> out;
    out.reserve(96);
    put(out, {0x2F, 0x2F});
    // Type I date-time: second (with the summer-time bit 6), minute, hour with the day of the
    // week (1 Monday), day with year bits 0-2, month with year bits 3-6, the ISO week.
    const cosem_datetime& t = p.clock;
    const unsigned year = t.year >= 2000 ? (t.year - 2000) & 0x7F : 0;
    const bool summer =
        (t.status & cosem_datetime::status_daylight_saving) != 0 && t.status != 0xFF;
    const auto [weekday, week] = week_of(t);
    put(out, {0x06, 0x6D, static_cast<std::uint8_t>((t.second & 0x3F) | (summer ? 0x40 : 0)),
              static_cast<std::uint8_t>(t.minute & 0x3F),
              static_cast<std::uint8_t>((t.hour & 0x1F) | (weekday << 5)),
              static_cast<std::uint8_t>((t.day & 0x1F) | ((year & 0x07) << 5)),
              static_cast<std::uint8_t>((t.month & 0x0F) | ((year >> 3) << 4)),
              static_cast<std::uint8_t>(week & 0x3F)});
    put_record(out, {0x04, 0x03}, p.w_p);
    put_record(out, {0x04, 0x83, 0x3C}, p.w_n);
    put_record(out, {0x84, 0x10, 0xFB, 0x82, 0x73}, p.r_p);
    put_record(out, {0x84, 0x10, 0xFB, 0x82, 0xF3, 0x3C}, p.r_n);
    put_record(out, {0x04, 0x2B}, p.p_p);
    put_record(out, {0x04, 0xAB, 0x3C}, p.p_n);
    put_record(out, {0x04, 0xFB, 0x14}, p.q_p);
    put_record(out, {0x04, 0xFB, 0x94, 0x3C}, p.q_n);
    put_record(out, {0x04, 0x83, 0xFF, 0x04}, static_cast<std::uint32_t>(p.vendor_register));
    while (out.size() % 16 != 0)
        out.push_back(0x2F);
    return out;
}

std::error_code oms_encoder::encode(const amis_push& p, const aes_key& key,
                                    std::vector<std::uint8_t>& frame) {
    frame.clear();
    std::vector<std::uint8_t> plain = records(p);
    const auto blocks = static_cast<unsigned>(plain.size() / 16);
    std::vector<std::uint8_t> user = {static_cast<std::uint8_t>(p.fcb ? 0x73 : 0x53), 0xF0,
                                      ci_oms_long_header};
    put32(user, p.id);
    user.push_back(static_cast<std::uint8_t>(p.manufacturer));
    user.push_back(static_cast<std::uint8_t>(p.manufacturer >> 8));
    put(user, {p.version, p.device_type, p.access_number, p.status});
    const auto configuration = static_cast<std::uint16_t>((5u << 8) | (blocks << 4));
    user.push_back(static_cast<std::uint8_t>(configuration));
    user.push_back(static_cast<std::uint8_t>(configuration >> 8));

    const auto iv = oms_mode5_iv(std::span(user).subspan<3, 8>(), p.access_number);
    const std::size_t at = user.size();
    user.resize(at + plain.size());
    int len = 0;
    int final_len = 0;
    EVP_CIPHER_CTX* ctx = ctx_.get();
    const bool ok =
        ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), nullptr, key.data(), iv.data()) == 1 &&
        EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
        EVP_EncryptUpdate(ctx, user.data() + at, &len, plain.data(),
                          static_cast<int>(plain.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx, user.data() + at + len, &final_len) == 1 &&
        static_cast<std::size_t>(len + final_len) == plain.size();
    OPENSSL_cleanse(plain.data(), plain.size());
    if (!ok) return errc::crypto_failure;
    frame = telegram_encoder::mbus_long_frame(user);
    return {};
}

}  // namespace evn_mbus
