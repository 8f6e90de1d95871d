// Ports on 127.0.0.1 for the real servers the tests start (Mosquitto, ser2net).
#pragma once

#include <cstdint>

namespace evn_mbus::test {

// A port that was free a moment ago (bound to port 0 and closed again): another process may
// take it before the server binds it, so a server that finds it taken tries another.
std::uint16_t free_port();
// True if something accepts a TCP connection on 127.0.0.1:port (the connection is closed).
bool accepts_connections(std::uint16_t port);
// True if a socket listens on `port` (any address), from /proc/net/tcp and tcp6: a readiness
// check that, unlike a connection, is no client to the server (ser2net opens its serial device
// for each client and would hand it the bytes waiting there).
bool listens_on(std::uint16_t port);

}  // namespace evn_mbus::test
