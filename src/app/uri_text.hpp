// Broker URIs as they may be shown: never with a user name or password. Paho cannot use
// "tcp://user:password@host" anyway (the configuration refuses it), but whatever reaches a
// message, a log line or the effective configuration goes through here first.
#pragma once

#include <string>
#include <string_view>

namespace evn_mbus {

// True when the URI holds "user@" or "user:password@" before the host.
bool uri_has_userinfo(std::string_view uri);

// The URI without its userinfo: "tcp://user:pw@host:1883" -> "tcp://host:1883". Everything up
// to the last '@' after the scheme goes, so a password holding '/' or '@' is gone too.
std::string uri_without_userinfo(std::string_view uri);

}  // namespace evn_mbus
