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

}  // namespace evn_mbus
