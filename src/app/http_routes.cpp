#include "http_routes.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <nlohmann/json.hpp>

namespace evn_mbus {
namespace {

bool is_base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

using digest = std::array<unsigned char, 32>;

bool sha256(std::string_view text, digest& d) {
    unsigned int size = 0;
    return EVP_Digest(text.data(), text.size(), d.data(), &size, EVP_sha256(), nullptr) == 1 &&
           size == d.size();
}

}  // namespace

std::string_view target_path(std::string_view target) noexcept {
    return target.substr(0, target.find_first_of("?#"));
}

http_route route_request(const http_request_head& request, const http_credentials& credentials) {
    http_route route;
    route.head = request.method == "HEAD";
    // The method first: anything but GET and HEAD is 405, whoever asks (it reveals nothing).
    if (request.method != "GET" && !route.head) {
        route.what = http_route::outcome::method_not_allowed;
        return route;
    }
    if (request.has_body) {
        route.what = http_route::outcome::body_not_allowed;
        return route;
    }
    if (credentials.required() && !basic_auth_matches(request.authorization, credentials)) {
        route.what = http_route::outcome::unauthorized;
        route.wrong_credentials = !request.authorization.empty();
        return route;
    }
    const std::string_view path = target_path(request.target);
    route.what = http_route::outcome::serve;
    if (path == "/api/v1/reading") {
        route.endpoint = http_endpoint::reading;
    } else if (path == "/api/v1/status") {
        route.endpoint = http_endpoint::status;
    } else if (path == "/metrics") {
        route.endpoint = http_endpoint::metrics;
    } else if (path == "/api/v1/events") {
        route.endpoint = http_endpoint::events;
    } else {
        route.what = http_route::outcome::not_found;
    }
    return route;
}

bool decode_base64(std::string_view text, std::string& out) {
    out.clear();
    if (text.size() % 4 != 0) return false;
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '=') {
            // Only the last one or two characters of the text.
            if (i + 2 < text.size()) return false;
            ++padding;
        } else if (padding > 0 || !is_base64_char(c)) {
            return false;
        }
    }
    if (text.empty()) return true;
    std::string decoded(text.size() / 4 * 3, '\0');
    // EVP_DecodeBlock takes no notice of padding: it returns whole groups of 3 bytes, so the
    // bytes that stand for '=' are cut off here.
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0 || static_cast<std::size_t>(n) != decoded.size()) return false;
    decoded.resize(decoded.size() - padding);
    out = std::move(decoded);
    return true;
}

bool basic_auth_matches(std::string_view authorization, const http_credentials& credentials) {
    // "Basic" in any case, then one or more spaces, then the token (RFC 7235's credentials).
    const std::size_t space = authorization.find(' ');
    if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "Basic")) {
        return false;
    }
    std::string_view token = authorization.substr(space);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
    std::string decoded;
    if (!decode_base64(token, decoded)) return false;
    // The user-id ends at the first colon (it cannot hold one); the password may hold more.
    const std::size_t colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    const std::string_view user = std::string_view(decoded).substr(0, colon);
    const std::string_view password = std::string_view(decoded).substr(colon + 1);
    digest sent_user{}, sent_password{}, user_wanted{}, password_wanted{};
    if (!sha256(user, sent_user) || !sha256(password, sent_password) ||
        !sha256(credentials.username, user_wanted) ||
        !sha256(credentials.password, password_wanted)) {
        return false;
    }
    // Both compared, whichever differs: the time tells nothing about which.
    const int user_differs = CRYPTO_memcmp(sent_user.data(), user_wanted.data(), digest{}.size());
    const int password_differs =
        CRYPTO_memcmp(sent_password.data(), password_wanted.data(), digest{}.size());
    return (user_differs | password_differs) == 0;
}

std::string http_error_body(std::string_view code, std::string_view message) {
    nlohmann::json body;
    body["error"] = std::string(code);
    body["message"] = std::string(message);
    // Invalid UTF-8 (from an exception's text, say) is replaced rather than thrown on.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string sse_event(std::string_view event, std::string_view data) {
    std::string out;
    out.reserve(event.size() + data.size() + 16);
    out.append("event: ").append(event).append("\n");
    std::size_t start = 0;
    while (true) {
        const std::size_t end = data.find_first_of("\r\n", start);
        out.append("data: ").append(data.substr(start, end - start)).append("\n");
        if (end == std::string_view::npos) break;
        start = end + 1;
        if (data[end] == '\r' && start < data.size() && data[start] == '\n') ++start;
        if (start == data.size()) break;  // a final line end adds no empty line
    }
    out.append("\n");
    return out;
}

}  // namespace evn_mbus
