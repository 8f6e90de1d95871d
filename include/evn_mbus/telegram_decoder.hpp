// The whole core pipeline, bytes in and readings out, with no I/O:
//   mbus_frame_assembler -> mbus_reassembler --+
//                                              +-> block_transfer_reassembler
//   hdlc_frame_assembler -> hdlc_reassembler --+     -> dlms_decryptor -> data-notification
//                                                        -> A-XDR -> reading_extractor.
//   apdu_frame_assembler (no link layer) ---------------> dlms_decryptor -> data-notification
//                                                        ... or a DSMR text (dsmr_telegram).
//
// Link layer: M-Bus (EN 13757-2) or HDLC (IEC 62056-46), as configured, or detected from the
// bytes. In auto mode both framers see every byte; the first frame whose checksums hold
// decides, and the decoder sticks with that link until a valid frame of the other kind
// arrives. Errors of the framer that does not match the line are not reported (its "frames"
// are just the other link's data), nor, before the first valid frame, an HDLC candidate whose
// header checksum fails (a 7Eh Axh pair turns up in any data).
// Bare APDUs (the P1 port) carry no checksum, and an M-Bus or HDLC push holds one inside its
// frames. So in auto mode the APDU framer looks at the line only until an M-Bus or HDLC frame
// has come (that frame completes before the APDU inside it could), and a bare APDU counts
// only when something checked it: its GCM tag, or the CRC of its DSMR text. (A push read from
// the middle of its first M-Bus frame can decrypt without a tag and parse, with the next
// frame's header bytes in its last value.) Such an APDU sets the link to apdu, and from then
// on bare APDUs are taken as with serial.link: apdu (a DSMR text carries its CRC in every
// push); a valid M-Bus or HDLC frame later still switches away from it.
// The daemon, `evn-mbus decode`, the simulator's self-check, the benchmarks and the fuzzers all
// drive this one class.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "evn_mbus/apdu_frame_assembler.hpp"
#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/block_transfer.hpp"
#include "evn_mbus/dlms_security.hpp"
#include "evn_mbus/hdlc_frame_assembler.hpp"
#include "evn_mbus/hdlc_reassembler.hpp"
#include "evn_mbus/link_layer.hpp"
#include "evn_mbus/mbus_frame_assembler.hpp"
#include "evn_mbus/mbus_reassembler.hpp"
#include "evn_mbus/oms_frame.hpp"
#include "evn_mbus/push_layout.hpp"
#include "evn_mbus/reading.hpp"

namespace evn_mbus {

struct decoder_keys {
    aes_key key{};
    std::optional<aes_key> auth_key;  // only operators that send a GCM tag publish one
};

struct decoder_options {
    // serial.link: mbus, hdlc or apdu to accept only that framing, auto_detect to find it out;
    // amis: M-Bus, answering the meter (so does auto_detect; mbus never answers).
    link_layer link = link_layer::auto_detect;
    // meter.layout: the user's own layout for plain values, or one built-in layout by name.
    layout_choice layout;
};

struct decode_event {
    // answer: write `answer` to the meter now (an AMIS meter waits for E5h after its SND_NKE
    // and after every SND_UD to the reader's address F0h, EN 13757-2 5.7.4); then call next().
    enum class kind { need_more, reading, error, answer };
    kind what = kind::need_more;
    const reading* value = nullptr;  // kind::reading: valid until the next call on the decoder
    std::error_code error;           // kind::error
    // The link frames of the telegram (reading, or decode error of a complete telegram), or
    // the frame that failed reassembly; empty for link-layer errors. Valid like `value`.
    std::span<const std::uint8_t> raw;
    // kind::error incomplete_push of M-Bus: the frames that came, and how many the push needs
    // (estimated from its length; 0 when not known).
    unsigned frames = 0;
    unsigned frames_expected = 0;
    std::span<const std::uint8_t> answer{};  // kind::answer: the bytes to write (static)
};

// The primary address an AMIS meter sends to (EN 13757-2: the reader is its slave).
inline constexpr std::uint8_t amis_reader_address = 0xF0;

class telegram_decoder {
  public:
    struct stats {
        std::uint64_t readings = 0;
        std::uint64_t errors = 0;
        // Auto mode: bare APDUs that decoded but that no tag or CRC checked, so not taken
        // (serial.link: apdu takes them).
        std::uint64_t unchecked_apdus = 0;
    };

    explicit telegram_decoder(const decoder_keys& keys, const decoder_options& options = {});

    void set_keys(const decoder_keys& keys);
    // Changes the link-layer choice; buffered bytes and partial telegrams are dropped.
    void set_link(link_layer link);
    // Changes the layouts plain values may get (decoder_options::layout); from the next push.
    void set_layout(const layout_choice& layout);
    link_layer configured_link() const noexcept { return link_; }
    // The link of the last valid frame: mbus, hdlc or apdu (an APDU that decoded); auto_detect
    // until one arrived. With a forced link, that link (mbus for amis).
    link_layer detected_link() const noexcept { return detected_; }

    // Bytes from the line, in any chunking. Then call next() until it says need_more.
    void feed(std::span<const std::uint8_t> bytes);
    // The line went idle (see the assemblers' on_idle_gap). Call next() afterwards.
    void on_idle_gap();
    // The input ended for good (a capture's end; not a line's pause): after the last event of
    // what was fed, next() reports a push still waiting for frames as incomplete_push, and a
    // lone bare APDU that failed in auto mode (no link frame came: it was no link's push).
    void end_of_input();
    decode_event next();

    // Decodes one complete APDU (ciphered DBh/DCh or a plain 0Fh data-notification) into
    // `out`. A decryption without a tag whose result does not parse is not_a_valid_apdu.
    std::error_code decode_apdu(std::span<const std::uint8_t> apdu, reading& out);
    // Decodes `bytes` that are one bare APDU and nothing else, as peers' dumps and a meter's
    // documentation give them: what decode_apdu takes, or general-block-transfer blocks (E0h,
    // IEC 62056-5-3) back to back that join into one. Bytes after the APDU or its last block
    // are trailing_bytes; blocks that end before the last one are incomplete_push.
    std::error_code decode_bare(std::span<const std::uint8_t> bytes, reading& out);

    // The plaintext of the last decrypted APDU (for debugging and golden tests).
    std::span<const std::uint8_t> last_plaintext() const noexcept { return plaintext_; }

    const stats& statistics() const noexcept { return stats_; }
    // Frame counters of the detected (or forced) link; M-Bus's before any frame arrived.
    link_stats link_statistics() const noexcept;
    link_stats mbus_statistics() const noexcept;
    const link_stats& hdlc_statistics() const noexcept { return hdlc_.statistics(); }
    const link_stats& apdu_statistics() const noexcept { return apdus_.statistics(); }

  private:
    // What reassembly left to report, in order: a dropped push, then the frame's outcome.
    struct queued {
        bool is_error = false;
        std::error_code error;
        std::span<const std::uint8_t> apdu;  // into a reassembler's buffer
        std::span<const std::uint8_t> raw;
        link_layer link = link_layer::auto_detect;
        bool block_transfer = false;
        bool tentative = false;  // a bare APDU seen in auto mode: it sets the link if it decodes
        unsigned frames = 0;     // incomplete_push: see decode_event
        unsigned frames_expected = 0;
        bool answer = false;  // answer the meter with E5h
        bool oms = false;     // EN 13757-3 user data (CI 5Bh ...) in oms_store_'s front
    };

    // An EN 13757-3 telegram (oms_frame.hpp, mbus_records.hpp) into `out`.
    std::error_code decode_oms(std::span<const std::uint8_t> user_data, reading& out);

    std::error_code decode_plain(std::span<const std::uint8_t> apdu, reading& out);
    // auto_detect or amis: SND_NKE and SND_UD to F0h get E5h (mbus only listens).
    bool answers() const noexcept {
        return link_ == link_layer::auto_detect || link_ == link_layer::amis;
    }
    // The APDU framer takes part: forced, or auto before an M-Bus or HDLC frame came.
    bool apdu_link_open() const noexcept;
    // Takes one APDU framer event: true when an APDU was queued, false (with `error` set when
    // it is to be reported) for a candidate cut off by an idle gap.
    bool take_apdu(const apdu_frame_event& f, std::error_code& error);
    // Pulls link frames until one went into reassembly (true) or the bytes ran out (false);
    // `error` is set instead when a link error is to be reported.
    bool pull_frame(std::error_code& error);
    // Takes one framer event: true when a frame went into reassembly, false with `error` set
    // for a reportable link error, false without for an error that is not reported.
    bool take_mbus(const mbus_frame_event& f, std::error_code& error);
    bool take_hdlc(const hdlc_frame_event& f, std::error_code& error);
    // A held frame points into its framer's buffer, which feed() reuses: copies it first.
    void keep_held_frames();
    bool reportable(link_layer from, const std::error_code& ec) const noexcept;
    void use_link(link_layer link);
    void add_mbus(const mbus_frame& frame);
    void add_hdlc(const hdlc_frame& frame);
    void add_link_event(const reassembly_event& r, link_layer link);
    void queue_error(const std::error_code& ec, std::span<const std::uint8_t> raw);
    // At the end of input: a push that a reassembler still waits for is incomplete_push.
    void queue_incomplete_pushes();

    link_layer link_ = link_layer::auto_detect;
    bool said_not_answered_ = false;  // amis_not_answered was reported
    layout_choice layout_;
    std::vector<std::uint8_t> joined_;  // decode_bare's joined blocks
    link_layer detected_ = link_layer::auto_detect;
    mbus_frame_assembler assembler_;
    hdlc_frame_assembler hdlc_;
    apdu_frame_assembler apdus_;
    std::vector<std::uint8_t> apdu_queued_;  // a bare APDU's bytes while it waits in queue_
    // Failed bare APDUs in auto mode since the last link frame: the first may be an M-Bus or
    // HDLC push's APDU read from its middle, so only the second is reported.
    unsigned tentative_failures_ = 0;
    std::error_code swallowed_;  // the first of those, reported at the end of the input
    mbus_reassembler reassembler_;
    hdlc_reassembler hdlc_reassembler_;
    block_transfer_reassembler blocks_;
    dlms_decryptor decryptor_;
    std::vector<std::uint8_t> plaintext_;
    bool checked_ = false;  // the last APDU decoded had a verified tag or a DSMR CRC
    std::vector<axdr_node> nodes_;
    reading reading_;
    stats stats_;
    std::vector<queued> queue_;
    // The user data and frame of each queued EN 13757-3 telegram, oldest first; the one being
    // reported is moved to oms_current_ so that its spans stay valid until the next call.
    std::vector<std::vector<std::uint8_t>> oms_store_;
    std::vector<std::uint8_t> oms_current_;
    std::vector<std::vector<std::uint8_t>> oms_spare_;  // emptied buffers, for the next ones
    oms_decryptor oms_;
    std::size_t queue_pos_ = 0;
    bool ended_ = false;  // end_of_input() came: check the reassemblers once the bytes ran out
    std::vector<std::uint8_t> incomplete_raw_;  // the frames of an incomplete push, for `raw`
    // Auto-detection takes both framers' events in the order of the stream (pull_frame): each
    // framer's next event waits here, with where the framer stood in the stream, for its turn.
    std::uint64_t fed_ = 0;  // bytes fed since set_link
    std::optional<mbus_frame_event> mbus_next_;
    std::optional<hdlc_frame_event> hdlc_next_;
    std::optional<apdu_frame_event> apdu_next_;
    std::uint64_t mbus_next_at_ = 0;
    std::uint64_t hdlc_next_at_ = 0;
    std::uint64_t apdu_next_at_ = 0;
    std::vector<std::uint8_t> mbus_held_;  // a waiting frame's bytes, once feed() came between
    std::vector<std::uint8_t> hdlc_held_;
    std::vector<std::uint8_t> apdu_held_;
};

}  // namespace evn_mbus
