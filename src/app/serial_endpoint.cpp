#include "serial_endpoint.hpp"

#include <algorithm>
#include <cctype>

namespace evn_mbus {
namespace {

const std::string forms =
    "serial.device takes a device path (/dev/ttyAMA0), tcp://HOST:PORT (raw bytes) or "
    "rfc2217://HOST:PORT (Telnet with RFC 2217)";

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

bool ipv6_char(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

endpoint_problem problem(std::size_t offset, std::string message) {
    return {offset, std::move(message)};
}

}  // namespace

std::string serial_endpoint::text() const {
    if (transport == serial_transport::device) return path;
    const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return std::string(transport == serial_transport::tcp ? "tcp" : "rfc2217") + "://" +
           shown_host + ":" + std::to_string(port);
}

std::string serial_endpoint::describe() const {
    return (is_network() ? "network bridge " : "serial port ") + text();
}

std::variant<serial_endpoint, endpoint_problem> parse_serial_endpoint(std::string_view text) {
    serial_endpoint e;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        e.path = std::string(text);
        return e;
    }
    std::string scheme(text.substr(0, sep));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme == "tcp") {
        e.transport = serial_transport::tcp;
    } else if (scheme == "rfc2217") {
        e.transport = serial_transport::rfc2217;
    } else if (scheme == "socket") {
        // pyserial's (and so Home Assistant DSMR's) spelling of raw TCP.
        return problem(0, "\"socket://\" is pyserial's name for raw TCP; write tcp://" +
                              std::string(text.substr(sep + 3)));
    } else if (scheme == "telnet") {
        return problem(0,
                       "for a Telnet bridge that takes serial settings (RFC 2217) write "
                       "rfc2217://" +
                           std::string(text.substr(sep + 3)) +
                           "; for one that passes raw bytes, tcp://");
    } else {
        return problem(0, "unknown scheme \"" + scheme + "://\"; " + forms);
    }
    const std::size_t start = sep + 3;
    std::string_view rest = text.substr(start);
    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        return problem(start,
                       "a serial bridge takes no user name or password (\"...@\"); " + forms);
    }
    std::size_t port_at = 0;  // offset of the port's digits in `text`
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            return problem(start,
                           "the IPv6 address has no closing \"]\"; write e.g. "
                           "tcp://[fd00::5]:2001");
        }
        const std::string_view inner = rest.substr(1, close - 1);
        // A zone (fe80::1%eth0, or RFC 6874's fe80::1%25eth0) may follow the address.
        const std::string_view address = inner.substr(0, inner.find('%'));
        if (address.empty() || address.find(':') == std::string_view::npos ||
            !std::all_of(address.begin(), address.end(), ipv6_char)) {
            std::string message(inner);
            message.append(" in brackets is not an IPv6 address");
            return problem(start + 1, std::move(message));
        }
        e.host = std::string(inner);
        if (const auto pct = e.host.find('%'); pct != std::string::npos) {
            // RFC 6874 escapes the zone's '%' as "%25"; the zone is an interface name.
            std::string zone = e.host.substr(pct + 1);
            if (zone.rfind("25", 0) == 0 && zone.size() > 2) zone.erase(0, 2);
            if (zone.empty() || !std::all_of(zone.begin(), zone.end(), name_char)) {
                return problem(start + 1 + pct,
                               "after '%' comes the interface of an IPv6 link-local address, "
                               "e.g. tcp://[fe80::1%eth0]:2001");
            }
            e.host = e.host.substr(0, pct + 1) + zone;
        }
        if (close + 1 >= rest.size() || rest[close + 1] != ':') {
            return problem(start + close + 1, "the bridge's port is missing; write " + scheme +
                                                  "://[" + std::string(inner) + "]:PORT");
        }
        port_at = start + close + 2;
    } else {
        const auto colon = rest.find(':');
        if (colon == std::string_view::npos) {
            return problem(start + rest.size(), "the bridge's port is missing; write " + scheme +
                                                    "://" + std::string(rest) + ":PORT");
        }
        if (rest.find(':', colon + 1) != std::string_view::npos) {
            return problem(start, "an IPv6 address must be written in brackets: " + scheme +
                                      "://[ADDRESS]:PORT");
        }
        const std::string_view name = rest.substr(0, colon);
        if (name.empty()) return problem(start, "the bridge's host name is missing; " + forms);
        if (const auto bad = std::find_if_not(name.begin(), name.end(), name_char);
            bad != name.end()) {
            const std::size_t at = start + static_cast<std::size_t>(bad - name.begin());
            return problem(at, std::string("a host name holds letters, digits, '-' and '.', "
                                           "not '") +
                                   *bad + "'");
        }
        e.host = std::string(name);
        port_at = start + colon + 1;
    }
    const std::string_view digits = text.substr(port_at);
    std::size_t n = 0;
    unsigned long port = 0;
    while (n < digits.size() && std::isdigit(static_cast<unsigned char>(digits[n])) != 0) {
        port = port * 10 + static_cast<unsigned long>(digits[n] - '0');
        if (port > 65535) break;
        ++n;
    }
    if (n == 0) return problem(port_at, "the bridge's port must be a number from 1 to 65535");
    if (port > 65535 || port == 0) {
        return problem(port_at, "the bridge's port must be a number from 1 to 65535");
    }
    if (n < digits.size()) {
        return problem(port_at + n, "nothing may follow the port (\"" +
                                        std::string(digits.substr(n)) + "\"); " + forms);
    }
    e.port = static_cast<std::uint16_t>(port);
    return e;
}

std::string describe_serial_device(std::string_view text) {
    auto parsed = parse_serial_endpoint(text);
    if (const auto* e = std::get_if<serial_endpoint>(&parsed)) return e->describe();
    return "serial port " + std::string(text);
}

}  // namespace evn_mbus
