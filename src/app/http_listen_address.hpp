// What http.listen names: the address and port the local HTTP API listens on.
//
//   127.0.0.1:8080     this machine only (the safe default to write)
//   localhost:8080     the same
//   0.0.0.0:8080       every IPv4 address of the machine
//   [::]:8080          every address, IPv6 and IPv4 (RFC 3986, section 3.2.2: brackets)
//   [::1]:8080         IPv6 loopback
//
// Only address literals and "localhost": a name that resolves differently later would make
// the API appear on an address the owner did not choose.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace evn_mbus {

struct listen_problem {
    std::size_t offset = 0;  // where in the text it is wrong (0-based)
    std::string message;
};

std::variant<boost::asio::ip::tcp::endpoint, listen_problem> parse_listen_address(
    std::string_view text);

// Whether a client other than this machine can reach the address (not 127.0.0.0/8 or ::1).
bool reachable_from_network(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace evn_mbus
