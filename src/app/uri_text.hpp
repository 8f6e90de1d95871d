// Broker URIs as they may be shown: never with a user name or password. Paho cannot use
// "tcp://user:password@host" anyway (the configuration refuses it), but whatever reaches a
// message, a log line or the effective configuration goes through here first.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace evn_mbus {

// True when the URI holds "user@" or "user:password@" before the host.
bool uri_has_userinfo(std::string_view uri);

// The URI without its userinfo: "tcp://user:pw@host:1883" -> "tcp://host:1883". Everything up
// to the last '@' after the scheme goes, so a password holding '/' or '@' is gone too.
std::string uri_without_userinfo(std::string_view uri);

// Where a broker URI points, for connecting and probing (the MQTT publisher); the
// configuration has checked the URI's form with messages of its own (config_loader.cpp).
struct broker_address {
    std::string host;
    std::string port;  // the scheme's default when the URI names none
    bool tls = false;
};

// tcp:// mqtt:// ws:// plain, ssl:// mqtts:// wss:// TLS (the schemes Paho knows); nullopt
// for another scheme or no host.
std::optional<broker_address> parse_broker_uri(const std::string& uri);

}  // namespace evn_mbus
