// The HTTP API's decisions without sockets: which endpoint a request names, whether its
// credentials are right, and the small texts the server sends (error bodies, SSE events). The
// server never serves a file, so a path is an exact name or a 404: "/../", "%2e%2e" and "//" are
// names like any other.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace evn_mbus {

// The parts of a request that decide its answer. Views into the parser's buffer.
struct http_request_head {
    std::string_view method;         // as sent: "GET", "HEAD", "POST", ...
    std::string_view target;         // "/api/v1/reading?pretty" (origin form)
    std::string_view authorization;  // the Authorization header's value; empty if none
    bool has_body = false;           // Content-Length > 0 or Transfer-Encoding: chunked
};

// Basic auth (RFC 7617) when `username` is non-empty.
struct http_credentials {
    std::string username;
    std::string password;

    bool required() const noexcept { return !username.empty(); }
};

enum class http_endpoint { reading, status, metrics, events };

struct http_route {
    enum class outcome {
        serve,               // `endpoint`, with or without the body (`head`)
        not_found,           // 404
        method_not_allowed,  // 405, Allow: GET, HEAD
        unauthorized,        // 401, WWW-Authenticate
        body_not_allowed,    // 413: no endpoint takes a body; the connection is closed
    };
    outcome what = outcome::not_found;
    http_endpoint endpoint = http_endpoint::reading;
    bool head = false;
    // For unauthorized: credentials were sent but were wrong (not just missing, as a browser's
    // first try is); the server says so in the log.
    bool wrong_credentials = false;
};

// The decision, in this order: a body (413), credentials (401, so that nothing about the
// endpoints is told to a client without them), the method (405), the path (404).
http_route route_request(const http_request_head& request, const http_credentials& credentials);

// The path of an origin-form target: up to the first '?' or '#'.
std::string_view target_path(std::string_view target) noexcept;

// True if `authorization` is "Basic <base64 of user:password>" for exactly these credentials
// (the user-id ends at the first colon, so a username with one never matches).
// Compared in constant time over SHA-256 digests, so neither the content nor the length of the
// secret shows in the time taken.
bool basic_auth_matches(std::string_view authorization, const http_credentials& credentials);

// Strict base64 (RFC 4648, padded, no whitespace); false on anything else.
bool decode_base64(std::string_view text, std::string& out);

// The header values the server sends.
inline constexpr std::string_view http_allow = "GET, HEAD";
inline constexpr std::string_view http_www_authenticate =
    R"(Basic realm="evn-mbus", charset="UTF-8")";
inline constexpr std::string_view http_json_type = "application/json";
inline constexpr std::string_view http_metrics_type = "text/plain; version=0.0.4; charset=utf-8";

// {"error":"<code>","message":"<message>"}: the body of every error answer.
std::string http_error_body(std::string_view code, std::string_view message);

// One server-sent event: "event: <event>\n" and a "data: " line per line of `data` (CR, LF and
// CRLF all end a line in SSE), then the blank line that ends the event.
std::string sse_event(std::string_view event, std::string_view data);

}  // namespace evn_mbus
