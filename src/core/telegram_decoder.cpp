#include "evn_mbus/telegram_decoder.hpp"

#include "evn_mbus/data_notification.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/reading_extractor.hpp"

namespace evn_mbus {

telegram_decoder::telegram_decoder(const decoder_keys& keys, const decoder_options& options) {
    set_keys(keys);
    set_link(options.link);
}

void telegram_decoder::set_keys(const decoder_keys& keys) {
    decryptor_.set_keys(keys.key, keys.auth_key);
}

void telegram_decoder::set_link(link_layer link) {
    link_ = link;
    detected_ = link;
    assembler_ = mbus_frame_assembler{};
    hdlc_ = hdlc_frame_assembler{};
    reassembler_.reset();
    hdlc_reassembler_.reset();
    blocks_.reset();
    queue_.clear();
    queue_pos_ = 0;
}

void telegram_decoder::feed(std::span<const std::uint8_t> bytes) {
    if (link_ != link_layer::hdlc) assembler_.feed(bytes);
    if (link_ != link_layer::mbus) hdlc_.feed(bytes);
}

void telegram_decoder::on_idle_gap() {
    if (link_ != link_layer::hdlc) assembler_.on_idle_gap();
    if (link_ != link_layer::mbus) hdlc_.on_idle_gap();
}

link_stats telegram_decoder::mbus_statistics() const noexcept {
    const auto& s = assembler_.statistics();
    return {s.frames, s.skipped_bytes, s.control_frames, s.bad_frames};
}

link_stats telegram_decoder::link_statistics() const noexcept {
    return detected_ == link_layer::hdlc ? hdlc_.statistics() : mbus_statistics();
}

decode_event telegram_decoder::next() {
    using kind = decode_event::kind;
    for (;;) {
        if (queue_pos_ < queue_.size()) {
            const queued q = queue_[queue_pos_++];
            if (queue_pos_ == queue_.size()) {
                queue_.clear();
                queue_pos_ = 0;
            }
            if (q.is_error) {
                ++stats_.errors;
                return {kind::error, nullptr, q.error, q.raw};
            }
            if (auto ec = decode_apdu(q.apdu, reading_)) {
                ++stats_.errors;
                return {kind::error, nullptr, ec, q.raw};
            }
            reading_.link = q.link;
            reading_.block_transfer = q.block_transfer;
            ++stats_.readings;
            return {kind::reading, &reading_, {}, q.raw};
        }
        std::error_code link_error;
        if (!pull_frame(link_error)) {
            if (!link_error) return {};
            ++stats_.errors;
            return {kind::error, nullptr, link_error, {}};
        }
    }
}

bool telegram_decoder::reportable(link_layer from, const std::error_code& ec) const noexcept {
    if (link_ != link_layer::auto_detect) return true;
    if (detected_ != link_layer::auto_detect) return from == detected_;
    // Nothing detected yet: "68 L L 68" with a bad checksum is a fair sign of M-Bus, but a
    // flag and a format byte occur in any data; only a checked HDLC header counts.
    return from == link_layer::mbus || (ec != errc::hdlc_bad_hcs && ec != errc::hdlc_bad_format);
}

void telegram_decoder::use_link(link_layer link) {
    if (detected_ == link) return;
    // The meter (or the adapter) changed its framing: what the other link started is gone.
    if (detected_ != link_layer::auto_detect) {
        reassembler_.reset();
        hdlc_reassembler_.reset();
        blocks_.reset();
    }
    detected_ = link;
}

bool telegram_decoder::pull_frame(std::error_code& error) {
    // The detected link first, so that its frames keep their order; then the other one,
    // whose valid frames would mean the meter switched.
    const link_layer first = detected_ == link_layer::hdlc ? link_layer::hdlc : link_layer::mbus;
    for (const link_layer l :
         {first, first == link_layer::mbus ? link_layer::hdlc : link_layer::mbus}) {
        if (link_ != link_layer::auto_detect && l != link_) continue;
        if (l == link_layer::mbus) {
            for (;;) {
                const mbus_frame_event f = assembler_.next();
                if (f.what == mbus_frame_event::kind::need_more) break;
                if (f.what == mbus_frame_event::kind::error) {
                    if (!reportable(l, f.error)) continue;
                    error = f.error;
                    return false;
                }
                use_link(l);
                add_mbus(f.frame);
                return true;
            }
        } else {
            for (;;) {
                const hdlc_frame_event f = hdlc_.next();
                if (f.what == hdlc_frame_event::kind::need_more) break;
                if (f.what == hdlc_frame_event::kind::error) {
                    if (!reportable(l, f.error)) continue;
                    error = f.error;
                    return false;
                }
                use_link(l);
                add_hdlc(f.frame);
                return true;
            }
        }
    }
    return false;
}

void telegram_decoder::queue_error(const std::error_code& ec, std::span<const std::uint8_t> raw) {
    queued q;
    q.is_error = true;
    q.error = ec;
    q.raw = raw;
    queue_.push_back(q);
}

void telegram_decoder::add_mbus(const mbus_frame& frame) {
    add_link_event(reassembler_.add(frame), link_layer::mbus);
}

void telegram_decoder::add_hdlc(const hdlc_frame& frame) {
    add_link_event(hdlc_reassembler_.add(frame), link_layer::hdlc);
}

void telegram_decoder::add_link_event(const reassembly_event& r, link_layer link) {
    if (r.dropped) queue_error(r.dropped, {});
    switch (r.what) {
        case reassembly_event::kind::need_more:
            return;
        case reassembly_event::kind::error:
            queue_error(r.error, r.raw);
            return;
        case reassembly_event::kind::telegram:
            break;
    }
    // A complete link-layer APDU: a general-block-transfer block waits for the others.
    const bool block = !r.apdu.empty() && r.apdu[0] == apdu_tag::general_block_transfer;
    const reassembly_event b = blocks_.add(r.apdu, r.raw);
    if (b.dropped) queue_error(b.dropped, {});
    switch (b.what) {
        case reassembly_event::kind::need_more:
            return;
        case reassembly_event::kind::error:
            queue_error(b.error, b.raw);
            return;
        case reassembly_event::kind::telegram: {
            queued q;
            q.apdu = b.apdu;
            q.raw = b.raw;
            q.link = link;
            q.block_transfer = block;
            queue_.push_back(q);
            return;
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
