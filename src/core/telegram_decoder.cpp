#include "evn_mbus/telegram_decoder.hpp"

#include "evn_mbus/data_notification.hpp"
#include "evn_mbus/dsmr_telegram.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/mbus_records.hpp"
#include "evn_mbus/reading_extractor.hpp"

#include <utility>

namespace evn_mbus {

telegram_decoder::telegram_decoder(const decoder_keys& keys, const decoder_options& options) {
    set_keys(keys);
    set_link(options.link);
    layout_ = options.layout;
}

void telegram_decoder::set_layout(const layout_choice& layout) {
    layout_ = layout;
}

void telegram_decoder::set_keys(const decoder_keys& keys) {
    decryptor_.set_keys(keys.key, keys.auth_key);
    oms_.set_key(keys.key);
}

void telegram_decoder::set_link(link_layer link) {
    link_ = link;
    detected_ = is_mbus(link) ? link_layer::mbus : link;
    said_not_answered_ = false;
    assembler_ = mbus_frame_assembler{};
    assembler_.report_short_frames(true);  // an AMIS meter's SND_NKE is answered
    oms_store_.clear();
    oms_spare_.clear();
    hdlc_ = hdlc_frame_assembler{};
    apdus_ = apdu_frame_assembler{};
    tentative_failures_ = 0;
    swallowed_.clear();
    reassembler_.reset();
    hdlc_reassembler_.reset();
    blocks_.reset();
    queue_.clear();
    queue_pos_ = 0;
    ended_ = false;
    fed_ = 0;
    mbus_next_.reset();
    hdlc_next_.reset();
    apdu_next_.reset();
}

bool telegram_decoder::apdu_link_open() const noexcept {
    return link_ == link_layer::apdu ||
           (link_ == link_layer::auto_detect &&
            (detected_ == link_layer::auto_detect || detected_ == link_layer::apdu));
}

void telegram_decoder::feed(std::span<const std::uint8_t> bytes) {
    keep_held_frames();
    fed_ += bytes.size();
    if (link_ == link_layer::auto_detect || is_mbus(link_)) assembler_.feed(bytes);
    if (link_ == link_layer::auto_detect || link_ == link_layer::hdlc) hdlc_.feed(bytes);
    if (apdu_link_open()) apdus_.feed(bytes);
}

void telegram_decoder::keep_held_frames() {
    if (mbus_next_ && mbus_next_->what == mbus_frame_event::kind::frame &&
        mbus_next_->frame.raw.data() != mbus_held_.data()) {
        mbus_frame& f = mbus_next_->frame;
        const auto payload_at = static_cast<std::size_t>(f.payload.data() - f.raw.data());
        mbus_held_.assign(f.raw.begin(), f.raw.end());
        f.raw = mbus_held_;
        f.payload = f.raw.subspan(payload_at, f.payload.size());
    }
    if (hdlc_next_ && hdlc_next_->what == hdlc_frame_event::kind::frame &&
        hdlc_next_->frame.raw.data() != hdlc_held_.data()) {
        hdlc_frame& f = hdlc_next_->frame;
        const auto info_at = static_cast<std::size_t>(f.info.data() - f.raw.data());
        hdlc_held_.assign(f.raw.begin(), f.raw.end());
        f.raw = hdlc_held_;
        f.info = f.raw.subspan(info_at, f.info.size());
    }
    if (apdu_next_ && apdu_next_->what == apdu_frame_event::kind::apdu &&
        apdu_next_->apdu.data() != apdu_held_.data()) {
        apdu_held_.assign(apdu_next_->apdu.begin(), apdu_next_->apdu.end());
        apdu_next_->apdu = apdu_held_;
    }
}

void telegram_decoder::on_idle_gap() {
    keep_held_frames();
    if (link_ == link_layer::auto_detect || is_mbus(link_)) assembler_.on_idle_gap();
    if (link_ == link_layer::auto_detect || link_ == link_layer::hdlc) hdlc_.on_idle_gap();
    if (apdu_link_open()) apdus_.on_idle_gap();
}

void telegram_decoder::end_of_input() {
    on_idle_gap();
    ended_ = true;
}

void telegram_decoder::queue_incomplete_pushes() {
    if (reassembler_.in_progress()) {
        incomplete_raw_.assign(reassembler_.frames_so_far().begin(),
                               reassembler_.frames_so_far().end());
        queued q;
        q.is_error = true;
        q.error = errc::incomplete_push;
        q.raw = incomplete_raw_;
        q.frames = reassembler_.frames();
        q.frames_expected = reassembler_.frames_expected();
        queue_.push_back(q);
        reassembler_.reset();
    }
    if (hdlc_reassembler_.reset()) queue_error(errc::incomplete_push, {});
    if (blocks_.reset()) queue_error(errc::incomplete_push, {});
    if (detected_ == link_layer::auto_detect && swallowed_) queue_error(swallowed_, {});
    swallowed_.clear();
}

link_stats telegram_decoder::mbus_statistics() const noexcept {
    return assembler_.statistics();
}

link_stats telegram_decoder::link_statistics() const noexcept {
    if (detected_ == link_layer::apdu) return apdus_.statistics();
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
                return {kind::error, nullptr, q.error, q.raw, q.frames, q.frames_expected};
            }
            if (q.answer) {
                static constexpr std::uint8_t ack[] = {0xE5};
                decode_event ev;
                ev.what = kind::answer;
                ev.answer = ack;
                return ev;
            }
            if (q.oms) {
                // The buffers go round (store, current, spare): no allocation per telegram.
                std::swap(oms_current_, oms_store_.front());
                oms_spare_.push_back(std::move(oms_store_.front()));
                oms_store_.erase(oms_store_.begin());  // one or two: a deque would allocate
                if (auto ec = decode_oms(q.apdu, reading_)) {
                    ++stats_.errors;
                    return {kind::error, nullptr, ec, q.raw, 0, 0};
                }
                reading_.link = link_layer::mbus;
                ++stats_.readings;
                return {kind::reading, &reading_, {}, q.raw};
            }
            if (auto ec = decode_apdu(q.apdu, reading_)) {
                // In auto mode a lone failed APDU may be a link push read from its middle.
                if (q.tentative && detected_ == link_layer::auto_detect &&
                    ++tentative_failures_ < 2) {
                    swallowed_ = ec;
                    continue;
                }
                ++stats_.errors;
                return {kind::error, nullptr, ec, q.raw};
            }
            if (q.tentative) {
                if (!checked_) {  // unchecked: maybe not a push of its own (above)
                    ++stats_.unchecked_apdus;
                    continue;
                }
                use_link(link_layer::apdu);
            }
            reading_.link = q.link;
            reading_.block_transfer = q.block_transfer;
            ++stats_.readings;
            return {kind::reading, &reading_, {}, q.raw};
        }
        std::error_code link_error;
        if (!pull_frame(link_error)) {
            // An answer queued on the way (a short frame, which goes into no reassembly).
            if (!link_error && queue_pos_ < queue_.size()) continue;
            if (!link_error && ended_) {
                ended_ = false;
                queue_incomplete_pushes();
                if (!queue_.empty()) continue;
            }
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
    // flag and a format byte occur in any data; only a checked HDLC header counts. An APDU
    // header cut off by a pause is no sign of anything (DBh 08h occurs inside link frames).
    if (from == link_layer::apdu) return false;
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
    tentative_failures_ = 0;
    swallowed_.clear();
    if (link_ == link_layer::auto_detect && link != link_layer::apdu) {
        // A link frame came: the APDU framer's candidates are that link's payload from now on.
        apdus_ = apdu_frame_assembler{};
        apdu_next_.reset();
    }
}

bool telegram_decoder::take_mbus(const mbus_frame_event& f, std::error_code& error) {
    if (f.what == mbus_frame_event::kind::error) {
        if (reportable(link_layer::mbus, f.error)) error = f.error;
        return false;
    }
    if (f.what == mbus_frame_event::kind::control) {
        // SND_NKE (C 40h, FCB and FCV 0) to the reader: the meter looks for its reader.
        if (f.frame.c == 0x40 && f.frame.a == amis_reader_address) {
            if (answers()) {
                queued q;
                q.answer = true;
                queue_.push_back(q);
            } else if (!said_not_answered_) {
                said_not_answered_ = true;  // once: the meter searches every minute
                queue_error(errc::amis_not_answered, {});
            }
        }
        return false;
    }
    use_link(link_layer::mbus);
    add_mbus(f.frame);
    return true;
}

bool telegram_decoder::take_hdlc(const hdlc_frame_event& f, std::error_code& error) {
    if (f.what == hdlc_frame_event::kind::error) {
        if (reportable(link_layer::hdlc, f.error)) error = f.error;
        return false;
    }
    use_link(link_layer::hdlc);
    add_hdlc(f.frame);
    return true;
}

bool telegram_decoder::take_apdu(const apdu_frame_event& f, std::error_code& error) {
    if (f.what == apdu_frame_event::kind::error) {
        if (reportable(link_layer::apdu, f.error)) error = f.error;
        return false;
    }
    apdu_queued_.assign(f.apdu.begin(), f.apdu.end());
    queued q;
    q.apdu = apdu_queued_;
    q.raw = apdu_queued_;
    q.link = link_layer::apdu;
    q.tentative = link_ == link_layer::auto_detect && detected_ != link_layer::apdu;
    queue_.push_back(q);
    return true;
}

bool telegram_decoder::pull_frame(std::error_code& error) {
    if (is_mbus(link_)) {
        for (;;) {
            const mbus_frame_event f = assembler_.next();
            if (f.what == mbus_frame_event::kind::need_more) return false;
            if (take_mbus(f, error) || error) return !error;
        }
    }
    if (link_ == link_layer::hdlc) {
        for (;;) {
            const hdlc_frame_event f = hdlc_.next();
            if (f.what == hdlc_frame_event::kind::need_more) return false;
            if (take_hdlc(f, error) || error) return !error;
        }
    }
    if (link_ == link_layer::apdu) {
        for (;;) {
            const apdu_frame_event f = apdus_.next();
            if (f.what == apdu_frame_event::kind::need_more) return false;
            if (take_apdu(f, error) || error) return !error;
        }
    }
    // Auto-detection: both framers see every byte, and their events are taken in the order of
    // the stream, not framer by framer. What an event does depends on what came before it (a
    // valid frame sets the detected link, which decides whether the other link's errors are
    // reported and whether a frame of the other link is a switch), so this order must not
    // depend on how the line chunked the bytes. An event's place is where its framer stood in
    // the stream when it reported it: the first byte it had not finished with (a frame's first
    // byte, the byte after a dropped candidate's start); M-Bus goes first at the same place.
    // An event waits while the other framer is undecided about an earlier byte: a frame's
    // length at most, or until the idle gap, after which both framers have decided everything.
    // The APDU framer takes part the same way while it is open (apdu_link_open), last at the
    // same place.
    constexpr std::uint64_t nowhere = UINT64_MAX;
    for (;;) {
        if (!mbus_next_) {
            const mbus_frame_event f = assembler_.next();
            if (f.what != mbus_frame_event::kind::need_more) {
                mbus_next_ = f;
                mbus_next_at_ = fed_ - assembler_.buffered();
            }
        }
        if (!hdlc_next_) {
            const hdlc_frame_event f = hdlc_.next();
            if (f.what != hdlc_frame_event::kind::need_more) {
                hdlc_next_ = f;
                hdlc_next_at_ = fed_ - hdlc_.buffered();
            }
        }
        const bool apdu_open = apdu_link_open();
        if (apdu_open && !apdu_next_) {
            const apdu_frame_event f = apdus_.next();
            if (f.what != apdu_frame_event::kind::need_more) {
                apdu_next_ = f;
                apdu_next_at_ = fed_ - apdus_.buffered();
            }
        }
        // A framer without an event will report its next one no earlier than where it stands.
        const std::uint64_t m = mbus_next_ ? mbus_next_at_ : fed_ - assembler_.buffered();
        const std::uint64_t h = hdlc_next_ ? hdlc_next_at_ : fed_ - hdlc_.buffered();
        const std::uint64_t a = !apdu_open   ? nowhere
                                : apdu_next_ ? apdu_next_at_
                                             : fed_ - apdus_.buffered();
        if (mbus_next_ && m <= h && m <= a) {
            const mbus_frame_event f = *std::exchange(mbus_next_, std::nullopt);
            if (take_mbus(f, error) || error) return !error;
        } else if (hdlc_next_ && h < m && h <= a) {
            const hdlc_frame_event f = *std::exchange(hdlc_next_, std::nullopt);
            if (take_hdlc(f, error) || error) return !error;
        } else if (apdu_next_ && a < m && a < h) {
            const apdu_frame_event f = *std::exchange(apdu_next_, std::nullopt);
            if (take_apdu(f, error) || error) return !error;
        } else {
            return false;
        }
    }
}

void telegram_decoder::queue_error(const std::error_code& ec, std::span<const std::uint8_t> raw) {
    queued q;
    q.is_error = true;
    q.error = ec;
    q.raw = raw;
    queue_.push_back(q);
}

void telegram_decoder::add_mbus(const mbus_frame& frame) {
    // SND_UD (C 53h/73h) to the reader: acknowledged as soon as it is complete and its
    // checksum held, whatever its content (the meter repeats a frame that is not).
    if (answers() && (frame.c == 0x53 || frame.c == 0x73) && frame.a == amis_reader_address) {
        queued q;
        q.answer = true;
        queue_.push_back(q);
    }
    if (frame.ci == ci_oms_long_header) {
        std::vector<std::uint8_t>& keep = oms_store_.emplace_back();
        if (!oms_spare_.empty()) {
            keep = std::move(oms_spare_.back());
            oms_spare_.pop_back();
        }
        keep.clear();
        keep.reserve(1 + frame.payload.size() + frame.raw.size());
        keep.push_back(frame.ci);
        keep.insert(keep.end(), frame.payload.begin(), frame.payload.end());
        keep.insert(keep.end(), frame.raw.begin(), frame.raw.end());
        queued q;
        q.oms = true;
        q.link = link_layer::mbus;
        q.apdu = std::span<const std::uint8_t>(keep).first(1 + frame.payload.size());
        q.raw = std::span<const std::uint8_t>(keep).subspan(1 + frame.payload.size());
        queue_.push_back(q);
        return;
    }
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

std::error_code telegram_decoder::decode_oms(std::span<const std::uint8_t> user_data,
                                             reading& out) {
    out.clear();
    checked_ = false;
    oms_header header;
    if (auto ec = parse_oms_header(user_data, header)) return ec;
    if (auto ec = oms_.decrypt(header, plaintext_)) return ec;
    checked_ = header.mode() != 0;  // the 2F 2F check held
    out.encrypted = header.mode() != 0;
    out.meter_number = header.id_text();
    // A title of the DLMS kind (three letters, then the number): the manufacturer for the
    // log, one identity per meter for the frame counter and plausibility checks.
    const std::string flag = header.manufacturer_text();
    for (std::size_t i = 0; i < 3; ++i)
        out.title[i] = static_cast<std::uint8_t>(flag[i]);
    for (std::size_t i = 0; i < 4; ++i)
        out.title[3 + i] = static_cast<std::uint8_t>(header.id >> (8 * i));
    out.title[7] = header.device_type;
    const std::size_t encrypted =
        header.mode() == 0 ? 0 : std::size_t{header.encrypted_blocks()} * 16;
    if (auto ec = parse_mbus_records(plaintext_, out, header.manufacturer, encrypted)) {
        return header.mode() == 0 ? ec : make_error_code(errc::oms_not_decrypted);
    }
    out.layout = value_layout::mbus_records;
    // An encrypted push is taken only with its clock and a register: that, besides the 2F 2F
    // fillers, tells a right key's plaintext from a wrong key's noise. The clock (one push a
    // second) is also the frame counter for lost, repeated and replayed pushes: the 8-bit
    // access number wraps every few minutes.
    if (out.encrypted && (!out.clock || out.values.size() < 2)) return errc::oms_not_decrypted;
    if (out.clock) {
        out.frame_counter = static_cast<std::uint32_t>(out.clock->time_since_epoch().count());
    } else {
        out.encrypted = false;  // a plain push without a clock: no counter to check
    }
    return {};
}

std::error_code telegram_decoder::decode_bare(std::span<const std::uint8_t> bytes, reading& out) {
    if (bytes.empty() || bytes[0] != apdu_tag::general_block_transfer) {
        return decode_apdu(bytes, out);
    }
    out.clear();
    block_transfer_reassembler blocks;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        if (bytes[pos] != apdu_tag::general_block_transfer) return errc::bad_block_transfer;
        // E0h, block-control, block-number (2), block-number-ack (2), then the block-data's
        // A-XDR length: the block's end.
        std::size_t end = pos + 6;
        std::size_t length = 0;
        if (!read_axdr_length(bytes, end, length) || length > bytes.size() - end) {
            return errc::bad_block_transfer;
        }
        end += length;
        const auto block = bytes.subspan(pos, end - pos);
        const reassembly_event ev = blocks.add(block, block);
        if (ev.dropped) return ev.dropped;  // a transfer started again: not one APDU
        if (ev.what == reassembly_event::kind::error) return ev.error;
        if (ev.what == reassembly_event::kind::telegram) {
            if (end != bytes.size()) return errc::trailing_bytes;
            joined_.assign(ev.apdu.begin(), ev.apdu.end());
            auto ec = decode_apdu(joined_, out);
            out.block_transfer = true;
            return ec;
        }
        pos = end;
    }
    return errc::incomplete_push;
}

std::error_code telegram_decoder::decode_apdu(std::span<const std::uint8_t> apdu, reading& out) {
    out.clear();
    checked_ = false;
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
    // The P1 port's plaintext is a DSMR text telegram, not an xDLMS APDU.
    bool crc_checked = false;
    auto ec = is_dsmr_text(plaintext_) ? parse_dsmr(plaintext_, out, crc_checked)
                                       : decode_plain(plaintext_, out);
    checked_ = !ec && (verified || crc_checked);
    // Without a verified tag, garbage out of the decryption is the sign of a wrong key: say
    // that, not which byte of the garbage happened to fail. A DSMR text whose CRC fails was
    // decrypted with the right key and altered on the way; one whose CRC held was too.
    if (ec && out.encrypted && !verified && ec != errc::dsmr_bad_crc && !crc_checked) {
        return errc::not_a_valid_apdu;
    }
    return ec;
}

std::error_code telegram_decoder::decode_plain(std::span<const std::uint8_t> apdu, reading& out) {
    data_notification n;
    if (auto ec = parse_data_notification(apdu, n)) return ec;
    std::size_t consumed = 0;
    if (auto ec = decode_axdr(n.body, nodes_, consumed)) return ec;
    if (consumed != n.body.size()) return errc::trailing_bytes;
    out.invoke_id = n.invoke_id;
    extract_readings(n, n.body, nodes_, layout_, out);
    return {};
}

}  // namespace evn_mbus
