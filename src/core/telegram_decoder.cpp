#include "evn_mbus/telegram_decoder.hpp"

#include "evn_mbus/data_notification.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/reading_extractor.hpp"

namespace evn_mbus {

telegram_decoder::telegram_decoder(const decoder_keys& keys) {
    set_keys(keys);
}

void telegram_decoder::set_keys(const decoder_keys& keys) {
    decryptor_.set_keys(keys.key, keys.auth_key);
}

void telegram_decoder::feed(std::span<const std::uint8_t> bytes) {
    assembler_.feed(bytes);
}

void telegram_decoder::on_idle_gap() {
    assembler_.on_idle_gap();
}

decode_event telegram_decoder::next() {
    using kind = decode_event::kind;
    for (;;) {
        reassembly_event r;
        if (pending_) {
            // A telegram completed by the frame whose arrival also dropped an earlier push:
            // the drop was reported first, the telegram now.
            pending_ = false;
            r = pending_event_;
        } else {
            const mbus_frame_event f = assembler_.next();
            if (f.what == mbus_frame_event::kind::need_more) return {};
            if (f.what == mbus_frame_event::kind::error) {
                ++stats_.errors;
                return {kind::error, nullptr, f.error, {}};
            }
            r = reassembler_.add(f.frame);
            if (r.dropped) {
                ++stats_.errors;
                if (r.what != reassembly_event::kind::need_more) {
                    pending_ = true;
                    pending_event_ = r;
                }
                return {kind::error, nullptr, r.dropped, {}};
            }
        }
        switch (r.what) {
            case reassembly_event::kind::need_more:
                continue;
            case reassembly_event::kind::error:
                ++stats_.errors;
                return {kind::error, nullptr, r.error, r.raw};
            case reassembly_event::kind::telegram: {
                if (auto ec = decode_apdu(r.apdu, reading_)) {
                    ++stats_.errors;
                    return {kind::error, nullptr, ec, r.raw};
                }
                ++stats_.readings;
                return {kind::reading, &reading_, {}, r.raw};
            }
        }
    }
}

std::error_code telegram_decoder::decode_apdu(std::span<const std::uint8_t> apdu, reading& out) {
    out.clear();
    if (apdu.empty()) return errc::unsupported_apdu;
    if (apdu[0] == apdu_tag::data_notification) {
        plaintext_.assign(apdu.begin(), apdu.end());
        return decode_plain(plaintext_, out);
    }
    security_header header;
    if (auto ec = parse_security_header(apdu, header)) return ec;
    out.title = header.title;
    out.frame_counter = header.frame_counter;
    out.security_control = header.control;
    out.encrypted = (header.control & security_control::encryption) != 0;
    bool verified = false;
    if (auto ec = decryptor_.decrypt(header, plaintext_, verified)) return ec;
    out.tag_verified = verified;
    auto ec = decode_plain(plaintext_, out);
    // Without a verified tag, garbage out of the decryption is the sign of a wrong key: say
    // that, not which byte of the garbage happened to fail.
    if (ec && out.encrypted && !verified) return errc::not_a_valid_apdu;
    return ec;
}

std::error_code telegram_decoder::decode_plain(std::span<const std::uint8_t> apdu, reading& out) {
    data_notification n;
    if (auto ec = parse_data_notification(apdu, n)) return ec;
    std::size_t consumed = 0;
    if (auto ec = decode_axdr(n.body, nodes_, consumed)) return ec;
    if (consumed != n.body.size()) return errc::trailing_bytes;
    out.invoke_id = n.invoke_id;
    extract_readings(n, n.body, nodes_, out);
    return {};
}

}  // namespace evn_mbus
