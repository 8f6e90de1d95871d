#include "uri_text.hpp"

namespace evn_mbus {
namespace {

// Where the authority starts: after "scheme://", or at the start when there is no scheme.
std::size_t authority_start(std::string_view uri) {
    const auto sep = uri.find("://");
    return sep == std::string_view::npos ? 0 : sep + 3;
}

}  // namespace

bool uri_has_userinfo(std::string_view uri) {
    return uri.find('@', authority_start(uri)) != std::string_view::npos;
}

std::string uri_without_userinfo(std::string_view uri) {
    const std::size_t start = authority_start(uri);
    const auto at = uri.rfind('@');
    if (at == std::string_view::npos || at < start) return std::string(uri);
    return std::string(uri.substr(0, start)) + std::string(uri.substr(at + 1));
}

std::optional<broker_address> parse_broker_uri(const std::string& uri) {
    const auto sep = uri.find("://");
    if (sep == std::string::npos) return std::nullopt;
    const std::string scheme = uri.substr(0, sep);
    broker_address a;
    if (scheme == "tcp" || scheme == "mqtt") {
        a.port = "1883";
    } else if (scheme == "ssl" || scheme == "mqtts") {
        a.port = "8883";
        a.tls = true;
    } else if (scheme == "ws") {
        a.port = "80";
    } else if (scheme == "wss") {
        a.port = "443";
        a.tls = true;
    } else {
        return std::nullopt;
    }
    std::string rest = uri.substr(sep + 3);
    if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
    if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
        const auto close = rest.find(']');
        if (close == std::string::npos) return std::nullopt;
        a.host = rest.substr(1, close - 1);
        if (close + 1 < rest.size() && rest[close + 1] == ':') a.port = rest.substr(close + 2);
    } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        a.host = rest.substr(0, colon);
        a.port = rest.substr(colon + 1);
    } else {
        a.host = rest;
    }
    if (a.host.empty()) return std::nullopt;
    return a;
}

}  // namespace evn_mbus
