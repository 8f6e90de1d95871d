#include "bridge_messages.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace evn_mbus {
namespace {

std::string where(const serial_endpoint& bridge) {
    return "the network bridge " + bridge.text();
}

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

bool is_address_literal(const std::string& host) {
    std::array<unsigned char, 16> buf{};
    const std::string plain = host.substr(0, host.find('%'));
    return ::inet_pton(AF_INET, plain.c_str(), buf.data()) == 1 ||
           ::inet_pton(AF_INET6, plain.c_str(), buf.data()) == 1;
}

}  // namespace

std::string ser2net_complaint(std::span<const std::uint8_t> text) {
    // ser2net 4.3's texts to a client it will not serve (gensio's ser2net/dataxfer.c).
    static constexpr std::array<std::string_view, 5> known = {
        "Device open failure", "Port already in use", "Port's device already in use",
        "kicked off, new user is coming", "Port is disabled"};
    const std::string_view s(reinterpret_cast<const char*>(text.data()), text.size());
    for (const std::string_view k : known) {
        const auto at = s.find(k);
        if (at == std::string_view::npos) continue;
        std::string line;
        for (std::size_t i = at; i < s.size() && line.size() < 160; ++i) {
            const char c = s[i];
            if (c == '\r' || c == '\n') break;
            if (c >= 0x20 && c < 0x7F) line.push_back(c);
        }
        return line;
    }
    return {};
}

std::string describe_connect_failure(const serial_endpoint& bridge, const std::error_code& last,
                                     bool only_timeouts, std::chrono::seconds per_address) {
    if (last == std::errc::connection_refused) {
        return where(bridge) + " refused the connection: nothing listens on port " +
               std::to_string(bridge.port) + " of " + bridge.host +
               ". Check that the bridge (ser2net, the ESP's stream server) runs and that the port "
               "in serial.device is its port; retrying";
    }
    if (only_timeouts || last == std::errc::timed_out) {
        return "no answer from " + where(bridge) + " within " +
               std::to_string(per_address.count()) +
               " s: check that the bridge is powered and on the network, and the address in "
               "serial.device; retrying";
    }
    return "cannot connect to " + where(bridge) + ": " + last.message() +
           "; check that the bridge is on the network; retrying";
}

std::string describe_resolve_failure(const serial_endpoint& bridge, const std::error_code& ec) {
    const std::string reason = ec ? ec.message() : std::string("no address");
    if (is_address_literal(bridge.host)) {
        return "cannot use the address " + bridge.host + " of " + where(bridge) + " (" + reason +
               "): this machine may have no network of that kind (an IPv6 address needs IPv6 "
               "on this machine); check serial.device; retrying";
    }
    return "cannot find the host \"" + bridge.host + "\" of " + where(bridge) + " (" + reason +
           "): check the name in serial.device and that this machine's DNS knows it (or use "
           "the bridge's IP address); retrying";
}

std::string describe_connection_end(const serial_endpoint& bridge, const std::error_code& ec,
                                    bool held, std::span<const std::uint8_t> start,
                                    std::span<const std::uint8_t> end) {
    std::string said = ser2net_complaint(start);
    if (said.empty()) said = ser2net_complaint(end);
    if (!said.empty()) {
        const std::string quoted = " (it said \"" + said + "\")";
        if (contains(said, "Device open failure")) {
            return where(bridge) + " cannot open its serial device" + quoted +
                   ": check the adapter on the bridge and the device in its configuration "
                   "(ser2net.yaml: connector: serialdev,/dev/...); retrying";
        }
        if (contains(said, "already in use")) {
            return where(bridge) +
                   " is serving another client, or another of its ports uses "
                   "the same device" +
                   quoted +
                   ": stop the other client, or set kickolduser: true in ser2net.yaml; retrying";
        }
        if (contains(said, "kicked off")) {
            return "another client connected to " + where(bridge) + " and took its port" + quoted +
                   ": is a second evn-mbus (or another reader) using this bridge? "
                   "reconnecting";
        }
        return where(bridge) + " closed the connection" + quoted + "; retrying";
    }
    if (ec == std::errc::connection_reset || ec.value() == 0 || ec == std::errc::broken_pipe) {
        if (!held && start.empty()) {
            return where(bridge) +
                   " accepted the connection and closed it at once: its serial "
                   "device may be missing or taken (see the bridge's own log); "
                   "retrying";
        }
        return where(bridge) +
               " closed the connection (it restarted, or another client took it); reconnecting";
    }
    return "the connection to " + where(bridge) + " failed (" + ec.message() + "); reconnecting";
}

}  // namespace evn_mbus
