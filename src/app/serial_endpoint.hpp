// What serial.device names: the meter's serial port on this machine, or a serial-to-network
// bridge (ser2net, an ESP stream server, an M-Bus/RS-232 to Ethernet gateway) that carries the
// meter's line over TCP, either as raw bytes or as Telnet with COM-PORT-OPTION (RFC 2217), where
// the daemon sets the remote port's baud, data bits, parity and stop bits itself.
//
//   /dev/ttyAMA0            a local device (any path)
//   tcp://bridge:2001       raw TCP (ser2net "accepter: tcp,2001", an ESP stream server)
//   rfc2217://bridge:2002   RFC 2217 (ser2net "accepter: telnet(rfc2217),tcp,2002")
//   tcp://[fd00::5]:2001    an IPv6 literal, in brackets as in RFC 3986, section 3.2.2
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace evn_mbus {

enum class serial_transport { device, tcp, rfc2217 };

struct serial_endpoint {
    serial_transport transport = serial_transport::device;
    std::string path;  // device: the path as given
    std::string host;  // tcp, rfc2217: a name or an address (an IPv6 one without brackets)
    std::uint16_t port = 0;

    bool is_network() const noexcept { return transport != serial_transport::device; }
    // As the user wrote it, normalised: the path, or "tcp://host:port" ("[...]" for IPv6).
    std::string text() const;
    // For messages: "serial port /dev/ttyAMA0" or "network bridge tcp://host:2001".
    std::string describe() const;
};

// What is wrong with a serial.device value, and where (0-based offset into the text).
struct endpoint_problem {
    std::size_t offset = 0;
    std::string message;
};

std::variant<serial_endpoint, endpoint_problem> parse_serial_endpoint(std::string_view text);

// serial_endpoint::describe() of a configured serial.device; the text itself as a device when
// it does not parse.
std::string describe_serial_device(std::string_view text);

}  // namespace evn_mbus
