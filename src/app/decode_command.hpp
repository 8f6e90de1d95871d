// `evn-mbus decode`: runs a capture through the core and prints JSON Lines, each telegram as
// soon as it is complete (a pipe or a pty that stays open is decoded as it comes).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

#include "evn_mbus/link_layer.hpp"
#include "evn_mbus/push_layout.hpp"

namespace evn_mbus {

class input_file;

struct decode_options {
    std::string key;                      // 32 hex digits, spaces and 0x tolerated
    std::optional<std::string> auth_key;  // same form, only for meters with a GCM tag
    std::string key_from = "--key";       // where the key came from, for messages
    std::string auth_key_from = "--auth-key";
    link_layer link = link_layer::auto_detect;  // --link
    layout_choice layout;                       // --layout
    // Input that has made no frame at all for this long is not a capture (/dev/zero, a
    // wrong file): stop there with an error rather than read forever.
    std::size_t max_bytes_without_frame = 1024 * 1024;
};

// Exit status: 0 all telegrams decoded, 1 some failed or none found, 2 unusable options or
// input that cannot be read.
int run_decode(const decode_options& options, input_file& in, std::ostream& out, std::ostream& err);

}  // namespace evn_mbus
