// A TCP endpoint as a URL or URI writes it: "127.0.0.1:8080", "[::1]:8080" (RFC 3986,
// section 3.2.2: an IPv6 address in brackets). For log lines and messages.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace evn_mbus {

inline std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
    const std::string address = e.address().to_string();
    std::string text;
    if (e.address().is_v6()) {
        text.append("[").append(address).append("]");
    } else {
        text = address;
    }
    return text.append(":").append(std::to_string(e.port()));
}

}  // namespace evn_mbus
