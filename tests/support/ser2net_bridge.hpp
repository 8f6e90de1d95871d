// A real serial-to-network bridge for tests: Debian's ser2net (4.x) in front of a serial device
// (a pseudo-terminal the simulator made), listening on a free 127.0.0.1 port, either passing
// raw bytes ("accepter: tcp,...") or speaking Telnet with RFC 2217 ("telnet(rfc2217),tcp,...").
// It can be killed and started again on the same port, as a bridge that loses power.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "child_process.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {

class ser2net_bridge {
  public:
    struct options {
        std::string device;            // the serial side (a pty's path or a symlink to it)
        bool rfc2217 = false;          // Telnet with COM-PORT-OPTION instead of raw TCP
        std::string line = "2400e81";  // ser2net's initial setting of the device
    };

    // Starts ser2net and waits until it accepts connections; throws if it does not.
    explicit ser2net_bridge(options o);
    ~ser2net_bridge();
    ser2net_bridge(const ser2net_bridge&) = delete;
    ser2net_bridge& operator=(const ser2net_bridge&) = delete;

    std::uint16_t port() const { return port_; }
    // What serial.device says for it: tcp://127.0.0.1:PORT or rfc2217://127.0.0.1:PORT.
    std::string uri() const;
    void kill();     // SIGKILL: connections end without a goodbye, as at a power loss
    void restart();  // on the same port
    bool running() const { return child_ != nullptr; }
    std::string log() const;

  private:
    bool start();  // false when the port turned out to be taken

    options options_;
    temp_dir dir_{"evn-mbus-ser2net"};
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> child_;
};

}  // namespace evn_mbus::test
