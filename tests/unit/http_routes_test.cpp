// The HTTP API's decisions without a socket: endpoints by exact path, methods, basic auth
// (RFC 7617) and its base64, the order of the checks, error bodies and server-sent events.
#include "http_routes.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace evn_mbus {
namespace {

using outcome = http_route::outcome;

http_route get(std::string_view target, const http_credentials& credentials = {},
               std::string_view authorization = {}) {
    return route_request({"GET", target, authorization, false}, credentials);
}

TEST(http_routes, the_four_endpoints_by_exact_path_with_any_query) {
    EXPECT_EQ(get("/api/v1/reading").what, outcome::serve);
    EXPECT_EQ(get("/api/v1/reading").endpoint, http_endpoint::reading);
    EXPECT_EQ(get("/api/v1/status").endpoint, http_endpoint::status);
    EXPECT_EQ(get("/metrics").endpoint, http_endpoint::metrics);
    EXPECT_EQ(get("/api/v1/events").endpoint, http_endpoint::events);
    EXPECT_EQ(get("/api/v1/reading?pretty=1").endpoint, http_endpoint::reading);
    EXPECT_EQ(get("/metrics?").what, outcome::serve);
    EXPECT_EQ(get("/metrics#x").what, outcome::serve);
    EXPECT_FALSE(get("/metrics").head);
}

TEST(http_routes, traversal_and_near_misses_are_not_found) {
    for (const char* target :
         {"/", "", "*", "/api/v1/reading/", "/api/v1//reading", "//api/v1/reading",
          "/api/v1/../v1/reading", "/api/v1/./reading", "/%2e%2e/etc/passwd", "/api/v1/%72eading",
          "/API/V1/READING", "/metrics/", "/metrics/../metrics", "/../../etc/passwd",
          "http://127.0.0.1/metrics", "/api/v1/reading%00", "/api/v1/reading;x", "/index.html",
          "/api/v1/readingX"}) {
        EXPECT_EQ(get(target).what, outcome::not_found) << target;
    }
}

TEST(http_routes, head_is_get_without_the_body_other_methods_are_405) {
    const http_route head = route_request({"HEAD", "/api/v1/status", {}, false}, {});
    EXPECT_EQ(head.what, outcome::serve);
    EXPECT_TRUE(head.head);
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get"}) {
        EXPECT_EQ(route_request({method, "/api/v1/reading", {}, false}, {}).what,
                  outcome::method_not_allowed)
            << method;
        // Also on a path that does not exist: the method is checked first.
        EXPECT_EQ(route_request({method, "/nothing", {}, false}, {}).what,
                  outcome::method_not_allowed)
            << method;
    }
}

TEST(http_routes, the_method_first_then_a_body_is_413) {
    const http_credentials creds{"user", "pass"};
    // Anything but GET and HEAD is 405, with or without a body or credentials.
    EXPECT_EQ(route_request({"POST", "/nothing", {}, true}, creds).what,
              outcome::method_not_allowed);
    EXPECT_EQ(route_request({"GET", "/api/v1/reading", {}, true}, {}).what,
              outcome::body_not_allowed);
    EXPECT_EQ(route_request({"GET", "/api/v1/reading", {}, true}, creds).what,
              outcome::body_not_allowed);
}

TEST(http_routes, auth_comes_before_the_path) {
    const http_credentials creds{"user", "pass"};
    // "user:pass"
    const std::string good = "Basic dXNlcjpwYXNz";
    EXPECT_EQ(get("/api/v1/reading", creds, good).what, outcome::serve);
    EXPECT_EQ(get("/nothing", creds, good).what, outcome::not_found);
    const http_route missing = get("/nothing", creds);
    EXPECT_EQ(missing.what, outcome::unauthorized);
    EXPECT_FALSE(missing.wrong_credentials);
    EXPECT_EQ(route_request({"DELETE", "/metrics", {}, false}, creds).what,
              outcome::method_not_allowed);
    const http_route wrong = get("/metrics", creds, "Basic dXNlcjpwYXNzMQ==");  // user:pass1
    EXPECT_EQ(wrong.what, outcome::unauthorized);
    EXPECT_TRUE(wrong.wrong_credentials);
    // Without a username nothing is checked, whatever is sent.
    EXPECT_EQ(get("/metrics", {}, "Basic Zm9vOmJhcg==").what, outcome::serve);
}

TEST(http_routes, basic_auth_accepts_only_the_exact_credentials) {
    const http_credentials creds{"user", "pass"};
    EXPECT_TRUE(basic_auth_matches("Basic dXNlcjpwYXNz", creds));
    EXPECT_TRUE(basic_auth_matches("basic dXNlcjpwYXNz", creds));  // the scheme in any case
    EXPECT_TRUE(basic_auth_matches("BASIC   dXNlcjpwYXNz ", creds));
    EXPECT_FALSE(basic_auth_matches("", creds));
    EXPECT_FALSE(basic_auth_matches("Basic", creds));
    EXPECT_FALSE(basic_auth_matches("Basic ", creds));
    EXPECT_FALSE(basic_auth_matches("Bearer dXNlcjpwYXNz", creds));
    EXPECT_FALSE(basic_auth_matches("BasicdXNlcjpwYXNz", creds));
    EXPECT_FALSE(basic_auth_matches("Basic dXNlcjpwYXN6", creds));  // user:pasz
    EXPECT_FALSE(basic_auth_matches("Basic dXNlcg==", creds));      // user, no colon
    EXPECT_FALSE(basic_auth_matches("Basic dXNlcjpwYXNz==", creds));
    EXPECT_FALSE(basic_auth_matches("Basic dXNlcjpw YXNz", creds));
    EXPECT_FALSE(basic_auth_matches("Basic dXNlcjpwYXNzAA==", creds));  // user:pass\0
    EXPECT_FALSE(basic_auth_matches("Basic OnVzZXI6cGFzcw==", creds));  // :user:pass
}

TEST(http_routes, basic_auth_with_colons_padding_and_utf8) {
    // The first colon splits: the password may hold more.
    EXPECT_TRUE(basic_auth_matches("Basic YTpiOmM=", {"a", "b:c"}));  // a:b:c
    EXPECT_FALSE(basic_auth_matches("Basic YTpiOmM=", {"a:b", "c"}));
    EXPECT_TRUE(basic_auth_matches("Basic YTo=", {"a", ""}));  // a: (one '=')
    EXPECT_TRUE(basic_auth_matches("Basic YWI6Y2Q=", {"ab", "cd"}));
    EXPECT_TRUE(basic_auth_matches("Basic YWI6Y2Rl", {"ab", "cde"}));  // no padding needed
    // "Grüße:pässwörd" in UTF-8, as charset="UTF-8" asks clients to send.
    EXPECT_TRUE(basic_auth_matches("Basic R3LDvMOfZTpww6Rzc3fDtnJk", {"Grüße", "pässwörd"}));
}

TEST(http_routes, base64_is_strict) {
    std::string out;
    EXPECT_TRUE(decode_base64("", out));
    EXPECT_EQ(out, "");
    EXPECT_TRUE(decode_base64("Zg==", out));
    EXPECT_EQ(out, "f");
    EXPECT_TRUE(decode_base64("Zm8=", out));
    EXPECT_EQ(out, "fo");
    EXPECT_TRUE(decode_base64("Zm9v", out));
    EXPECT_EQ(out, "foo");
    EXPECT_TRUE(decode_base64("AAA=", out));
    EXPECT_EQ(out, std::string(2, '\0'));
    for (const char* bad : {"Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v\n", " Zm9v", "Zm9-", "Zm9_",
                            "Z=g=", "====", "Zm9v!"}) {
        EXPECT_FALSE(decode_base64(bad, out)) << bad;
    }
}

TEST(http_routes, error_bodies_are_json) {
    const auto body = nlohmann::json::parse(http_error_body("not_found", "no \"such\" thing"));
    EXPECT_EQ(body["error"], "not_found");
    EXPECT_EQ(body["message"], "no \"such\" thing");
    // Bytes that are not UTF-8 (an exception's text, say) do not throw.
    EXPECT_NO_THROW(nlohmann::json::parse(http_error_body("x", "\xff\xfe")));
}

TEST(http_routes, sse_events_put_every_line_under_data) {
    EXPECT_EQ(sse_event("reading", R"({"a":1})"), "event: reading\ndata: {\"a\":1}\n\n");
    EXPECT_EQ(sse_event("reading", "{\n \"a\": 1\n}"),
              "event: reading\ndata: {\ndata:  \"a\": 1\ndata: }\n\n");
    EXPECT_EQ(sse_event("x", "a\r\nb\rc\n"), "event: x\ndata: a\ndata: b\ndata: c\n\n");
    EXPECT_EQ(sse_event("x", ""), "event: x\ndata: \n\n");
}

TEST(http_routes, target_path_drops_query_and_fragment) {
    EXPECT_EQ(target_path("/a?b#c"), "/a");
    EXPECT_EQ(target_path("/a#c?b"), "/a");
    EXPECT_EQ(target_path("/a"), "/a");
}

}  // namespace
}  // namespace evn_mbus
