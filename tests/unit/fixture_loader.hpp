// Loads the real captures in fixtures/vectors.json (copied from shared/vectors, see
// fixtures/README.md) for golden and negative tests.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "evn_mbus/hex.hpp"
#include "evn_mbus/telegram_decoder.hpp"

namespace evn_mbus::test {

using bytes = std::vector<std::uint8_t>;

struct capture {
    std::string id;
    std::string framing;  // "mbus", "hdlc", "hdlc+gbt"
    decoder_keys keys;
    std::vector<bytes> frames;
    bytes plaintext;          // decrypted APDU from an independent decoder
    nlohmann::json expected;  // values the source publishes, or null
    bytes stream;             // stream_hex: the line as the source's test streams it, if given
};

const std::vector<capture>& all_captures();
const capture& capture_by_id(const std::string& id);
// A capture's keys as the command line and the configuration take them (hex digits); the
// authentication key is empty when none was published.
std::string key_hex(const std::string& id);
std::string auth_key_hex(const std::string& id);
// `binary decode --key K [--auth-key A] <fixtures>/<id>.hex`: the reference the end-to-end
// tests compare what reaches the broker with.
std::vector<std::string> decode_argv(const std::string& binary, const std::string& id);
// The M-Bus captures only (HDLC ones are decoded by a later link layer).
std::vector<capture> mbus_captures();

bytes concat(const std::vector<bytes>& frames);
bytes hex(const std::string& text);

struct decoded {
    std::vector<reading> readings;
    std::vector<std::error_code> errors;
};
// Feeds `data` in one piece, then an idle gap, and collects every event.
decoded decode_all(const decoder_keys& keys, const bytes& data);

}  // namespace evn_mbus::test
