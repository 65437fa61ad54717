// The router's answers with and without a CORS policy (no network: a responder that keeps
// the response).
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace {

using namespace chat::http;

struct fixture {
  router r;
  fixture() {
    auto ok = [](const request&, const path_params& p, responder respond) {
      respond(json_response(status::ok, "{\"id\":\"" + std::string(p.get("id")) + "\"}"));
    };
    r.add(verb::get, "/api/rooms/{id}", ok);
    r.add(verb::patch, "/api/rooms/{id}", ok);
    r.add(verb::get, "/api/rooms", ok);
    r.add(verb::post, "/api/rooms", ok);
    r.add(verb::get, "/healthz", ok);
  }

  // Dispatches and returns {pattern, response}.
  std::pair<std::string, response> call(verb method, std::string target,
                                        std::vector<std::pair<bhttp::field, std::string>> headers = {}) {
    request req{method, target, 11};
    for (const auto& [f, v] : headers) req.set(f, v);
    std::optional<response> got;
    const auto pattern = r.dispatch(req, {}, [&](response&& res) { got = std::move(res); });
    EXPECT_TRUE(got.has_value());
    return {std::string(pattern), got ? std::move(*got) : response{}};
  }
};

const std::string origin = "https://chat.example.com";
const auto preflight_headers = std::vector<std::pair<bhttp::field, std::string>>{
    {bhttp::field::origin, origin}, {bhttp::field::access_control_request_method, "PATCH"}};

TEST(Router, ReportsTheMatchedPatternNeverThePath) {
  fixture f;
  EXPECT_EQ(f.call(verb::get, "/api/rooms/42?x=1").first, "/api/rooms/{id}");
  EXPECT_EQ(f.call(verb::get, "/api/rooms/42").second.body(), "{\"id\":\"42\"}");
  EXPECT_EQ(f.call(verb::post, "/api/rooms").first, "/api/rooms");
  const auto [p405, r405] = f.call(verb::delete_, "/api/rooms/42");
  EXPECT_EQ(p405, "/api/rooms/{id}");
  EXPECT_EQ(r405.result(), status::method_not_allowed);
  const auto [p404, r404] = f.call(verb::get, "/api/nothing/here");
  EXPECT_EQ(p404, unmatched_route);
  EXPECT_EQ(r404.result(), status::not_found);
}

TEST(Router, PatternsAreListedOnceInOrder) {
  fixture f;
  const auto p = f.r.patterns();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "/api/rooms/{id}");
  EXPECT_EQ(p[1], "/api/rooms");
  EXPECT_EQ(p[2], "/healthz");
}

TEST(Cors, OffByDefault_OptionsIsAnOrdinaryMethodAndNoHeaders) {
  fixture f;
  const auto [pattern, res] = f.call(verb::options, "/api/rooms/42", preflight_headers);
  EXPECT_EQ(res.result(), status::method_not_allowed);
  EXPECT_EQ(res.find(bhttp::field::access_control_allow_origin), res.end());
  const auto [p2, get] = f.call(verb::get, "/api/rooms/42", {{bhttp::field::origin, origin}});
  EXPECT_EQ(get.result(), status::ok);
  EXPECT_EQ(get.find(bhttp::field::access_control_allow_origin), get.end());
  EXPECT_EQ(get.find(bhttp::field::vary), get.end());
}

TEST(Cors, PreflightFromAnAllowedOriginIs204WithTheAllowHeaders) {
  fixture f;
  f.r.set_cors(cors_policy({origin}));
  const auto [pattern, res] = f.call(verb::options, "/api/rooms/42", preflight_headers);
  EXPECT_EQ(pattern, "/api/rooms/{id}");
  EXPECT_EQ(res.result(), status::no_content);
  EXPECT_EQ(res[bhttp::field::access_control_allow_origin], origin);
  EXPECT_EQ(res[bhttp::field::access_control_allow_methods], "GET, PATCH");
  EXPECT_EQ(res[bhttp::field::access_control_allow_headers], "Authorization, Content-Type");
  EXPECT_EQ(res[bhttp::field::access_control_max_age], "600");
  EXPECT_EQ(res[bhttp::field::vary], "Origin");
  EXPECT_TRUE(res.body().empty());
}

TEST(Cors, PreflightFromAnotherOriginIs403) {
  fixture f;
  f.r.set_cors(cors_policy({origin}));
  const auto [pattern, res] =
      f.call(verb::options, "/api/rooms",
             {{bhttp::field::origin, "https://evil.example"}, {bhttp::field::access_control_request_method, "POST"}});
  EXPECT_EQ(res.result(), status::forbidden);
  EXPECT_NE(res.body().find("\"cors_origin_denied\""), std::string::npos);
  EXPECT_EQ(res.find(bhttp::field::access_control_allow_origin), res.end());
  EXPECT_EQ(res.find(bhttp::field::access_control_allow_methods), res.end());
}

TEST(Cors, PreflightOnAnUnknownPathIs404) {
  fixture f;
  f.r.set_cors(cors_policy({origin}));
  const auto [pattern, res] = f.call(verb::options, "/api/nope", preflight_headers);
  EXPECT_EQ(pattern, unmatched_route);
  EXPECT_EQ(res.result(), status::not_found);
}

TEST(Cors, OptionsWithoutPreflightHeadersStays405) {
  fixture f;
  f.r.set_cors(cors_policy({origin}));
  EXPECT_EQ(f.call(verb::options, "/api/rooms").second.result(), status::method_not_allowed);
}

TEST(Cors, ResponsesToAnAllowedOriginCarryItAndVary) {
  fixture f;
  f.r.set_cors(cors_policy({origin}));
  const auto [p1, allowed] = f.call(verb::get, "/api/rooms/7", {{bhttp::field::origin, origin}});
  EXPECT_EQ(allowed.result(), status::ok);
  EXPECT_EQ(allowed[bhttp::field::access_control_allow_origin], origin);
  EXPECT_EQ(allowed[bhttp::field::vary], "Origin");
  EXPECT_EQ(allowed[bhttp::field::access_control_expose_headers], "Retry-After");
  // Errors too, so a script can read them.
  const auto [p2, missing] = f.call(verb::get, "/api/nope", {{bhttp::field::origin, origin}});
  EXPECT_EQ(missing.result(), status::not_found);
  EXPECT_EQ(missing[bhttp::field::access_control_allow_origin], origin);

  const auto [p3, other] = f.call(verb::get, "/api/rooms/7", {{bhttp::field::origin, "https://evil.example"}});
  EXPECT_EQ(other.result(), status::ok);
  EXPECT_EQ(other.find(bhttp::field::access_control_allow_origin), other.end());
  EXPECT_EQ(other[bhttp::field::vary], "Origin");
  const auto [p4, none] = f.call(verb::get, "/api/rooms/7");
  EXPECT_EQ(none.find(bhttp::field::access_control_allow_origin), none.end());
}

TEST(Cors, StarAllowsAnyOrigin) {
  fixture f;
  f.r.set_cors(cors_policy({"*"}));
  const auto [pattern, res] =
      f.call(verb::options, "/api/rooms",
             {{bhttp::field::origin, "http://localhost:5173"}, {bhttp::field::access_control_request_method, "POST"}});
  EXPECT_EQ(res.result(), status::no_content);
  EXPECT_EQ(res[bhttp::field::access_control_allow_origin], "http://localhost:5173");
  EXPECT_EQ(res[bhttp::field::access_control_allow_methods], "GET, POST");
}

TEST(Cors, TheDecisionOutlivesTheRequest) {
  // A handler that answers later (a database thread) after the request is gone.
  router r;
  responder later;
  r.add(verb::get, "/api/slow", [&](const request&, const path_params&, responder respond) { later = respond; });
  r.set_cors(cors_policy({origin}));
  std::optional<response> got;
  {
    request req{verb::get, "/api/slow", 11};
    req.set(bhttp::field::origin, origin);
    r.dispatch(req, {}, [&](response&& res) { got = std::move(res); });
  }
  ASSERT_TRUE(later);
  later(json_response(status::ok, "{}"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ((*got)[bhttp::field::access_control_allow_origin], origin);
}

}  // namespace
