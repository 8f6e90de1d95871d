// What the log says when a network bridge (serial.device tcp:// or rfc2217://) cannot be
// reached or drops the connection, in words a home owner can act on. Kept apart from the
// socket code (net_reader) so that every case is tested without a network.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "serial_endpoint.hpp"

namespace evn_mbus {

// ser2net (4.x) writes a line of text to a client before it closes the connection when it
// cannot serve it ("Device open failure: ...", "Port already in use", "kicked off, new user is
// coming"). The line, if `text` (what the connection brought) holds one, else empty.
std::string ser2net_complaint(std::span<const std::uint8_t> text);

// No address of the bridge took the connection: `refused` if one refused it (the last error
// otherwise, or only time-outs), `per_address` the time each address had.
std::string describe_connect_failure(const serial_endpoint& bridge, const std::error_code& last,
                                     bool only_timeouts, std::chrono::seconds per_address);

// The bridge's host name could not be resolved (or an address literal could not be used).
std::string describe_resolve_failure(const serial_endpoint& bridge, const std::error_code& ec);

// The connection ended: `held` is false when it ended before it held (net_reader's settle
// time); `start` and `end` are the first and last bytes it brought (ser2net's complaint is in
// one of them). One that ended at once without a byte is a bridge that cannot serve it.
std::string describe_connection_end(const serial_endpoint& bridge, const std::error_code& ec,
                                    bool held, std::span<const std::uint8_t> start,
                                    std::span<const std::uint8_t> end);

}  // namespace evn_mbus
