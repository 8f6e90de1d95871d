#include "evn_mbus/telegram_encoder.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>

#include "evn_mbus/axdr_writer.hpp"
#include "evn_mbus/dsmr_telegram.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hdlc_frame_assembler.hpp"
#include "evn_mbus/hdlc_reassembler.hpp"
#include "evn_mbus/mbus_frame_assembler.hpp"

namespace evn_mbus {

void telegram_encoder::ctx_deleter::operator()(evp_cipher_ctx_st* ctx) const noexcept {
    EVP_CIPHER_CTX_free(ctx);
}

telegram_encoder::telegram_encoder() : ctx_(EVP_CIPHER_CTX_new()) {}
telegram_encoder::~telegram_encoder() = default;

std::vector<std::uint8_t> telegram_encoder::encode_kaifa_notification(const kaifa_push& push) {
    std::vector<std::uint8_t> out;
    out.push_back(apdu_tag::data_notification);
    for (int i = 3; i >= 0; --i)
        out.push_back(static_cast<std::uint8_t>(push.invoke_id >> (8 * i)));
    out.push_back(12);
    axdr_writer::put_date_time(out, push.clock);
    axdr_writer w(out);
    const std::size_t count = 1 + 3 * push.registers.size() + (push.meter_number.empty() ? 0 : 1);
    w.structure(count).date_time_octets(push.clock);
    for (const auto& r : push.registers) {
        w.obis(r.code);
        if (r.wide) {
            if (r.is_signed) {
                w.int32(static_cast<std::int32_t>(r.raw));
            } else {
                w.uint32(static_cast<std::uint32_t>(r.raw));
            }
        } else if (r.is_signed) {
            w.int16(static_cast<std::int16_t>(r.raw));
        } else {
            w.uint16(static_cast<std::uint16_t>(r.raw));
        }
        w.scaler_unit(r.scaler, r.unit);
    }
    if (!push.meter_number.empty()) w.octet_string_text(push.meter_number);
    return out;
}

std::error_code telegram_encoder::encrypt(std::span<const std::uint8_t> plaintext,
                                          const aes_key& key,
                                          const std::optional<aes_key>& auth_key,
                                          const system_title& title, std::uint32_t frame_counter,
                                          std::uint8_t control, std::vector<std::uint8_t>& apdu) {
    const bool encrypted = (control & security_control::encryption) != 0;
    const bool authenticated = (control & security_control::authentication) != 0;
    if (!ctx_ || !encrypted || (authenticated && !auth_key)) return errc::unsupported_security;
    EVP_CIPHER_CTX* ctx = ctx_.get();
    const gcm_iv iv = make_gcm_iv(title, frame_counter);
    if (EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key.data(), iv.data()) != 1) {
        return errc::crypto_failure;
    }
    int len = 0;
    if (authenticated && (EVP_EncryptUpdate(ctx, nullptr, &len, &control, 1) != 1 ||
                          EVP_EncryptUpdate(ctx, nullptr, &len, auth_key->data(),
                                            static_cast<int>(auth_key->size())) != 1)) {
        return errc::crypto_failure;
    }
    std::vector<std::uint8_t> cipher(plaintext.size());
    if (!plaintext.empty() && EVP_EncryptUpdate(ctx, cipher.data(), &len, plaintext.data(),
                                                static_cast<int>(plaintext.size())) != 1) {
        return errc::crypto_failure;
    }
    std::array<std::uint8_t, 16> tag{};
    std::uint8_t final_block[16];
    if (EVP_EncryptFinal_ex(ctx, final_block, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()), tag.data()) !=
            1) {
        return errc::crypto_failure;
    }

    apdu.clear();
    apdu.push_back(apdu_tag::general_glo_ciphering);
    apdu.push_back(static_cast<std::uint8_t>(title.size()));
    apdu.insert(apdu.end(), title.begin(), title.end());
    const std::size_t length = 1 + 4 + cipher.size() + (authenticated ? gcm_tag_size : 0);
    axdr_writer::put_length(apdu, length);
    apdu.push_back(control);
    for (int i = 3; i >= 0; --i)
        apdu.push_back(static_cast<std::uint8_t>(frame_counter >> (8 * i)));
    apdu.insert(apdu.end(), cipher.begin(), cipher.end());
    if (authenticated) apdu.insert(apdu.end(), tag.begin(), tag.begin() + gcm_tag_size);
    return {};
}

std::vector<std::vector<std::uint8_t>> telegram_encoder::segment_mbus(
    std::span<const std::uint8_t> apdu, std::size_t max_chunk) {
    std::vector<std::vector<std::uint8_t>> frames;
    max_chunk = std::max<std::size_t>({max_chunk, 1, (apdu.size() + 15) / 16});
    std::size_t pos = 0;
    unsigned segment = 0;
    do {
        const std::size_t n = std::min(max_chunk, apdu.size() - pos);
        const bool last = pos + n == apdu.size();
        std::vector<std::uint8_t> user{
            0x53, 0xFF, static_cast<std::uint8_t>((segment & 0x0F) | (last ? 0x10 : 0)), 0x01,
            0x67};
        user.insert(user.end(), apdu.begin() + static_cast<std::ptrdiff_t>(pos),
                    apdu.begin() + static_cast<std::ptrdiff_t>(pos + n));
        frames.push_back(mbus_long_frame(user));
        pos += n;
        ++segment;
    } while (pos < apdu.size());
    return frames;
}

std::vector<std::uint8_t> telegram_encoder::mbus_long_frame(
    std::span<const std::uint8_t> user_data) {
    const auto l = static_cast<std::uint8_t>(user_data.size());
    // Sized once and filled in place: GCC 12 at -O3 takes an insert after a 4-byte
    // initializer list for an out-of-bounds copy (-Warray-bounds, a false positive).
    std::vector<std::uint8_t> f(user_data.size() + 6);
    f[0] = mbus_link::start_long;
    f[1] = l;
    f[2] = l;
    f[3] = mbus_link::start_long;
    std::size_t i = 4;
    for (const std::uint8_t b : user_data)
        f[i++] = b;
    f[i++] = mbus_checksum(user_data);
    f[i] = mbus_link::stop_byte;
    return f;
}

std::vector<std::uint8_t> telegram_encoder::hdlc_frame(std::span<const std::uint8_t> info,
                                                       bool segmented, const hdlc_header& header) {
    const std::size_t head = 2 + header.destination.size() + header.source.size() + 1;
    const std::size_t length = head + (info.empty() ? 0 : 2 + info.size()) + 2;
    std::vector<std::uint8_t> f;
    f.reserve(length + 2);
    f.push_back(hdlc_frame_assembler::flag);
    f.push_back(static_cast<std::uint8_t>(0xA0 | (segmented ? 0x08 : 0) | ((length >> 8) & 0x07)));
    f.push_back(static_cast<std::uint8_t>(length));
    f.insert(f.end(), header.destination.begin(), header.destination.end());
    f.insert(f.end(), header.source.begin(), header.source.end());
    f.push_back(header.control);
    const auto put_crc = [&f] {
        const std::uint16_t crc = crc16_x25(std::span(f).subspan(1));
        f.push_back(static_cast<std::uint8_t>(crc));
        f.push_back(static_cast<std::uint8_t>(crc >> 8));
    };
    if (!info.empty()) {
        put_crc();  // HCS
        f.insert(f.end(), info.begin(), info.end());
    }
    put_crc();  // FCS
    f.push_back(hdlc_frame_assembler::flag);
    return f;
}

std::vector<std::vector<std::uint8_t>> telegram_encoder::segment_hdlc(
    std::span<const std::uint8_t> apdu, std::size_t max_info_len, bool llc,
    const hdlc_header& header) {
    static constexpr std::uint8_t llc_header[] = {llc::destination_lsap, llc::source_lsap_response,
                                                  llc::quality};
    // Room for the LLC header and one byte; within the 11-bit length.
    max_info_len = std::clamp<std::size_t>(max_info_len, llc_header_size + 1, 2000);
    std::vector<std::vector<std::uint8_t>> frames;
    std::vector<std::uint8_t> info;
    std::size_t pos = 0;
    do {
        info.clear();
        if (llc && frames.empty()) info.assign(std::begin(llc_header), std::end(llc_header));
        const std::size_t n = std::min(max_info_len - info.size(), apdu.size() - pos);
        info.insert(info.end(), apdu.begin() + static_cast<std::ptrdiff_t>(pos),
                    apdu.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
        frames.push_back(hdlc_frame(info, pos < apdu.size(), header));
    } while (pos < apdu.size());
    return frames;
}

std::vector<std::vector<std::uint8_t>> telegram_encoder::general_block_transfer(
    std::span<const std::uint8_t> apdu, std::size_t block_size) {
    // Block numbers are 16 bits.
    block_size = std::max<std::size_t>({block_size, 1, (apdu.size() + 0xFFFE) / 0xFFFF});
    std::vector<std::vector<std::uint8_t>> blocks;
    std::size_t pos = 0;
    std::uint16_t number = 1;
    do {
        const std::size_t n = std::min(block_size, apdu.size() - pos);
        const bool last = pos + n == apdu.size();
        std::vector<std::uint8_t> b{apdu_tag::general_block_transfer,
                                    static_cast<std::uint8_t>(0x40 | (last ? 0x80 : 0)),
                                    static_cast<std::uint8_t>(number >> 8),
                                    static_cast<std::uint8_t>(number),
                                    0x00,
                                    0x00};
        axdr_writer::put_length(b, n);
        b.insert(b.end(), apdu.begin() + static_cast<std::ptrdiff_t>(pos),
                 apdu.begin() + static_cast<std::ptrdiff_t>(pos + n));
        blocks.push_back(std::move(b));
        pos += n;
        ++number;
    } while (pos < apdu.size());
    return blocks;
}

std::vector<std::vector<std::uint8_t>> telegram_encoder::segment_hdlc_blocks(
    std::span<const std::uint8_t> apdu, std::size_t block_size, std::size_t max_info_len,
    const hdlc_header& header) {
    std::vector<std::vector<std::uint8_t>> frames;
    const auto blocks = general_block_transfer(apdu, block_size);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        auto f = segment_hdlc(blocks[i], max_info_len, i == 0, header);
        frames.insert(frames.end(), std::make_move_iterator(f.begin()),
                      std::make_move_iterator(f.end()));
    }
    return frames;
}

std::string telegram_encoder::encode_dsmr_push(const kaifa_push& push,
                                               std::string_view identification) {
    std::vector<std::string> lines;
    lines.emplace_back("1-3:0.2.8(50)");
    const cosem_datetime& t = push.clock;
    char buf[96];
    const bool summer = t.status != 0xFF && (t.status & cosem_datetime::status_daylight_saving);
    std::snprintf(buf, sizeof buf, "0-0:1.0.0(%02u%02u%02u%02u%02u%02u%c)",
                  static_cast<unsigned>(t.year % 100), unsigned{t.month}, unsigned{t.day},
                  unsigned{t.hour}, unsigned{t.minute}, unsigned{t.second}, summer ? 'S' : 'W');
    lines.emplace_back(buf);
    if (!push.meter_number.empty()) lines.push_back("0-0:96.1.0(" + push.meter_number + ")");
    for (const register_value& r : push.registers) {
        const auto& c = r.code.bytes;
        std::snprintf(buf, sizeof buf, "%u-%u:%u.%u.%u(", unsigned{c[0]}, unsigned{c[1]},
                      unsigned{c[2]}, unsigned{c[3]}, unsigned{c[4]});
        std::string line = buf;
        // raw x 10^scaler, the scaler as decimals: 2337, -1 -> "233.7"; 5, -2 -> "0.05".
        const std::uint64_t magnitude =
            r.raw < 0 ? 0 - static_cast<std::uint64_t>(r.raw) : static_cast<std::uint64_t>(r.raw);
        std::string digits = std::to_string(magnitude);
        if (r.scaler > 0) digits.append(static_cast<std::size_t>(r.scaler), '0');
        const std::size_t decimals = r.scaler < 0 ? static_cast<std::size_t>(-r.scaler) : 0;
        if (digits.size() <= decimals) digits.insert(0, decimals + 1 - digits.size(), '0');
        if (decimals > 0) digits.insert(digits.size() - decimals, 1, '.');
        if (r.raw < 0) line.push_back('-');
        line.append(digits);
        if (const std::string_view unit = unit_symbol(r.unit); !unit.empty()) {
            line.push_back('*');
            line.append(unit);
        }
        line.push_back(')');
        lines.push_back(std::move(line));
    }
    return dsmr_text(identification, lines);
}

std::string telegram_encoder::dsmr_text(std::string_view identification,
                                        std::span<const std::string> lines) {
    std::string text = "/";
    text.append(identification);
    text.append("\r\n\r\n");
    for (const auto& line : lines) {
        text.append(line);
        text.append("\r\n");
    }
    text.push_back('!');
    const auto crc = dsmr_crc16({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
    char digits[5];
    std::snprintf(digits, sizeof digits, "%04X", static_cast<unsigned>(crc));
    text.append(digits);
    text.append("\r\n");
    return text;
}

}  // namespace evn_mbus
