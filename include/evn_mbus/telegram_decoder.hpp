// The whole core pipeline, bytes in and readings out, with no I/O:
//   mbus_frame_assembler -> telegram_reassembler -> dlms_decryptor -> data-notification
//   -> A-XDR -> reading_extractor.
// The daemon, `evn-mbus decode`, the simulator's self-check, the benchmarks and the fuzzers all
// drive this one class.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "evn_mbus/axdr_decoder.hpp"
#include "evn_mbus/dlms_security.hpp"
#include "evn_mbus/mbus_frame_assembler.hpp"
#include "evn_mbus/reading.hpp"
#include "evn_mbus/telegram_reassembler.hpp"

namespace evn_mbus {

struct decoder_keys {
    aes_key key{};
    std::optional<aes_key> auth_key;  // only operators that send a GCM tag publish one
};

struct decode_event {
    enum class kind { need_more, reading, error };
    kind what = kind::need_more;
    const reading* value = nullptr;  // kind::reading: valid until the next call on the decoder
    std::error_code error;           // kind::error
    // The link frames of the telegram (reading, or decode error of a complete telegram), or
    // the frame that failed reassembly; empty for link-layer errors. Valid like `value`.
    std::span<const std::uint8_t> raw;
};

class telegram_decoder {
  public:
    struct stats {
        std::uint64_t readings = 0;
        std::uint64_t errors = 0;
    };

    explicit telegram_decoder(const decoder_keys& keys);

    void set_keys(const decoder_keys& keys);

    // Bytes from the line, in any chunking. Then call next() until it says need_more.
    void feed(std::span<const std::uint8_t> bytes);
    // The line went idle (see mbus_frame_assembler::on_idle_gap). Call next() afterwards.
    void on_idle_gap();
    decode_event next();

    // Decodes one complete APDU (ciphered DBh/DCh or a plain 0Fh data-notification) into
    // `out`. A decryption without a tag whose result does not parse is not_a_valid_apdu.
    std::error_code decode_apdu(std::span<const std::uint8_t> apdu, reading& out);

    // The plaintext of the last decrypted APDU (for debugging and golden tests).
    std::span<const std::uint8_t> last_plaintext() const noexcept { return plaintext_; }

    const stats& statistics() const noexcept { return stats_; }
    const mbus_frame_assembler::stats& link_statistics() const noexcept {
        return assembler_.statistics();
    }

  private:
    std::error_code decode_plain(std::span<const std::uint8_t> apdu, reading& out);

    mbus_frame_assembler assembler_;
    telegram_reassembler reassembler_;
    dlms_decryptor decryptor_;
    std::vector<std::uint8_t> plaintext_;
    std::vector<axdr_node> nodes_;
    reading reading_;
    stats stats_;
    bool pending_ = false;  // pending_event_ is a telegram still to be decoded
    reassembly_event pending_event_;
};

}  // namespace evn_mbus
