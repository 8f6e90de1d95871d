// Why a connection to the MQTT broker failed, in words a home owner can act on. Paho says only
// "TCP/TLS connect failure"; the probe finds out more: does the host name resolve, does the
// port accept a connection, does the TLS handshake with the same CA file and host name check
// succeed. A CONNACK return code is worded by connack_reason.
#pragma once

#include <functional>
#include <string>

#include "daemon_config.hpp"
#include "uri_text.hpp"

namespace boost::asio {
class io_context;
}

namespace evn_mbus {

struct probe_result {
    std::string reason;
    bool tls_untrusted = false;  // the certificate or host name did not verify
};

// Probes in the background, on io's loop, for at most five seconds, then calls `done` there.
void probe_broker(boost::asio::io_context& io, const broker_address& address, const tls_config& tls,
                  std::function<void(probe_result)> done);

// The reason of an MQTT 3.1.1 CONNACK return code (1 to 5), "" for others.
std::string connack_reason(int rc);

}  // namespace evn_mbus
