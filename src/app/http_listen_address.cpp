#include "http_listen_address.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace evn_mbus {

namespace ip = boost::asio::ip;

std::variant<ip::tcp::endpoint, listen_problem> parse_listen_address(std::string_view text) {
    std::string_view host;
    std::size_t port_at = 0;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            return listen_problem{0, "an IPv6 address needs its closing ']', as in [::]:8080"};
        host = text.substr(1, close - 1);
        if (close + 1 >= text.size() || text[close + 1] != ':')
            return listen_problem{close + 1, "a port must follow the address, as in [::]:8080"};
        port_at = close + 2;
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return listen_problem{text.size(),
                                  "write the address and the port, as in 127.0.0.1:8080"};
        host = text.substr(0, colon);
        if (host.find(':') != std::string_view::npos)
            return listen_problem{0, "write an IPv6 address in brackets, as in [::1]:8080"};
        port_at = colon + 1;
    }
    const std::string_view port_text = text.substr(port_at);
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port == 0 || port > 65535)
        return listen_problem{port_at, "the port must be a number from 1 to 65535"};

    ip::address address;
    if (host == "localhost") {
        address = ip::address_v4::loopback();
    } else {
        boost::system::error_code bad;
        address = ip::make_address(std::string(host), bad);
        if (bad || host.empty()) {
            std::string message(1, '"');
            message.append(host).append(
                "\" is not an IP address; write 127.0.0.1 (this machine only), an address of "
                "this machine, 0.0.0.0 or [::] (all)");
            return listen_problem{text.starts_with('[') ? std::size_t{1} : std::size_t{0},
                                  std::move(message)};
        }
    }
    return ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

bool reachable_from_network(const ip::tcp::endpoint& endpoint) {
    const ip::address a = endpoint.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return !ip::make_address_v4(ip::v4_mapped, a.to_v6()).is_loopback();
    return !a.is_loopback();
}

}  // namespace evn_mbus
