// `evn-mbus decode`: runs a capture through the core and prints JSON Lines.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

namespace evn_mbus {

struct decode_options {
    std::string key;                      // 32 hex digits, spaces and 0x tolerated
    std::optional<std::string> auth_key;  // same form, only for meters with a GCM tag
};

// Exit status: 0 all telegrams decoded, 1 some failed or none found, 2 unusable options.
int run_decode(const decode_options& options, std::istream& in, std::ostream& out,
               std::ostream& err);

}  // namespace evn_mbus
