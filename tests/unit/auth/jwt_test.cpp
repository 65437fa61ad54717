#include <chat/auth/base64url.hpp>
#include <chat/auth/jwt.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

using chat::auth::base64url_encode;
using chat::auth::bearer_token;
using chat::auth::claims;
using chat::auth::errc;
using chat::auth::max_clock_skew_s;
using chat::auth::sign_jwt;
using chat::auth::verify_jwt;

namespace {

constexpr std::string_view secret = "test-secret-please-change";
constexpr std::int64_t issued = 1'795'262'400;  // 2026-11-21T12:00:00Z

// Computed independently of this library:
//   python3 -c 'import hmac,hashlib,base64,json
//   b=lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
//   h=b(json.dumps({"alg":"HS256","typ":"JWT"},separators=(",",":")).encode())
//   p=b(json.dumps({"sub":"42","email":"alice@example.com","iat":1795262400,
//                   "exp":1795348800,"jti":"tok-1","sid":"sess-1"},separators=(",",":")).encode())
//   s=b(hmac.new(b"test-secret-please-change",(h+"."+p).encode(),hashlib.sha256).digest())
//   print(h+"."+p+"."+s)'
constexpr std::string_view known_token =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiI0MiIsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20iLCJpYXQiOjE3OTUyNjI0MDAsImV4cCI6MTc5NTM0ODgwMCwianRpIjoidG9r"
    "LTEiLCJzaWQiOiJzZXNzLTEifQ.DQixdfnGNQeKOQf-6hxesEsv2ihW3mIPzrZ5yJiba5c";

// The same without "jti" and "sid" (what chatd signed before refresh tokens): refused.
constexpr std::string_view token_without_jti =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiI0MiIsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20iLCJpYXQiOjE3OTUyNjI0MDAsImV4cCI6MTc5NTM0"
    "ODgwMH0.VXmBy-S56HRoYnU0svyqbCbOanPXL_yAkgzPfOPIom8";

// Same recipe with header {"typ": "JWT", "alg": "HS256"} (spaces, other order), payload
// {"email": "bob@example.com", "exp": 2000000000, "sub": "7", "iat": 1700000000,
//  "extra": [1, 2], "jti": "x"} and secret "other-secret": another issuer's formatting must verify too.
constexpr std::string_view foreign_token =
    "eyJ0eXAiOiAiSldUIiwgImFsZyI6ICJIUzI1NiJ9."
    "eyJlbWFpbCI6ICJib2JAZXhhbXBsZS5jb20iLCAiZXhwIjogMjAwMDAwMDAwMCwgInN1YiI6ICI3IiwgImlhdCI6IDE3MDAwMDAwMDAsICJleHRyYS"
    "I6IFsxLCAyXSwgImp0aSI6ICJ4In0.ObksUzoKFC8XfDips_HWdXBd58TIGePe7QTjqQTRdGM";

claims alice() { return {42, "alice@example.com", issued, issued + 86'400, "tok-1", "sess-1"}; }

std::string hmac_b64(std::string_view key, std::string_view data) {
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &length);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), length));
}

// A correctly signed token with arbitrary header and payload text, to reach the checks that
// come after the signature.
std::string forge(std::string_view header_json, std::string_view payload_json, std::string_view key = secret) {
  std::string signing_input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  return signing_input + "." + hmac_b64(key, signing_input);
}

constexpr std::string_view hs256 = R"({"alg":"HS256","typ":"JWT"})";

std::error_code verify(std::string_view token, std::int64_t now = issued + 10) {
  claims out;
  return verify_jwt(token, secret, now, out);
}

}  // namespace

TEST(Jwt, SignMatchesIndependentlyComputedToken) { EXPECT_EQ(sign_jwt(alice(), secret), known_token); }

TEST(Jwt, VerifiesIndependentlyComputedToken) {
  claims out;
  ASSERT_EQ(verify_jwt(known_token, secret, issued, out), std::error_code{});
  EXPECT_EQ(out.user_id, 42);
  EXPECT_EQ(out.email, "alice@example.com");
  EXPECT_EQ(out.issued_at, issued);
  EXPECT_EQ(out.expires_at, issued + 86'400);
  EXPECT_EQ(out.token_id, "tok-1");
  EXPECT_EQ(out.session_id, "sess-1");
}

TEST(Jwt, RefusesATokenWithoutJtiOrWithABadId) {
  claims out;
  EXPECT_EQ(verify_jwt(token_without_jti, secret, issued, out), make_error_code(errc::malformed));
  for (const std::string& bad :
       std::vector<std::string>{"", "has space", "colon:inside", std::string(65, 'a'), "\xC3\xA9"}) {
    claims c = alice();
    c.token_id = bad;
    EXPECT_EQ(verify_jwt(sign_jwt(c, secret), secret, issued, out), make_error_code(errc::malformed)) << bad;
    c = alice();
    c.session_id = bad;
    if (!bad.empty()) {
      EXPECT_EQ(verify_jwt(sign_jwt(c, secret), secret, issued, out), make_error_code(errc::malformed)) << bad;
    }
  }
  claims c = alice();
  c.session_id.clear();  // sid is optional
  ASSERT_EQ(verify_jwt(sign_jwt(c, secret), secret, issued, out), std::error_code{});
  EXPECT_TRUE(out.session_id.empty());
  EXPECT_TRUE(chat::auth::is_valid_token_id(std::string(64, 'Z')));
}

TEST(Jwt, VerifiesOtherIssuersFormatting) {
  claims out;
  ASSERT_EQ(verify_jwt(foreign_token, "other-secret", 1'800'000'000, out), std::error_code{});
  EXPECT_EQ(out.user_id, 7);
  EXPECT_EQ(out.email, "bob@example.com");
  EXPECT_EQ(out.issued_at, 1'700'000'000);
  EXPECT_EQ(out.expires_at, 2'000'000'000);
}

TEST(Jwt, RoundTripsUnusualClaims) {
  const claims c{9'223'372'036'854'775'807, "\"quoted\"\\user\n\xC3\xA9@example.com", 0, 1, "j", ""};
  claims out;
  ASSERT_EQ(verify_jwt(sign_jwt(c, "k"), "k", 0, out), std::error_code{});
  EXPECT_EQ(out.user_id, c.user_id);
  EXPECT_EQ(out.email, c.email);
  EXPECT_EQ(out.issued_at, 0);
  EXPECT_EQ(out.expires_at, 1);
}

TEST(Jwt, SigningNeverThrowsOnInvalidUtf8) {
  claims c = alice();
  c.email = "bad\xFF@example.com";
  claims out;
  ASSERT_EQ(verify_jwt(sign_jwt(c, secret), secret, issued, out), std::error_code{});
  EXPECT_EQ(out.email, "bad\xEF\xBF\xBD@example.com");  // U+FFFD
}

TEST(Jwt, RejectsTamperedPayload) {
  const std::string token = sign_jwt(alice(), secret);
  claims admin = alice();
  admin.user_id = 1;
  const std::string other = sign_jwt(admin, "attacker-secret");
  // alice's header and signature around a payload that says user 1.
  const auto p1 = token.find('.'), p2 = token.rfind('.');
  const auto o1 = other.find('.'), o2 = other.rfind('.');
  const std::string spliced = token.substr(0, p1 + 1) + other.substr(o1 + 1, o2 - o1 - 1) + token.substr(p2);
  EXPECT_EQ(verify(spliced), errc::bad_signature);
}

TEST(Jwt, RejectsTamperedSignature) {
  std::string token = sign_jwt(alice(), secret);
  const auto sig = token.rfind('.') + 1;
  token[sig + 5] = token[sig + 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(token), errc::bad_signature);
  EXPECT_EQ(verify(token.substr(0, token.size() - 3)), errc::bad_signature);  // 30-byte MAC
  const std::string unsigned_token = token.substr(0, sig);
  EXPECT_EQ(verify(unsigned_token), errc::bad_signature);  // empty signature part
}

TEST(Jwt, RejectsWrongOrEmptySecret) {
  const std::string token = sign_jwt(alice(), secret);
  claims out;
  EXPECT_EQ(verify_jwt(token, "another-secret", issued, out), errc::bad_signature);
  EXPECT_EQ(verify_jwt(sign_jwt(alice(), ""), "", issued, out), errc::bad_signature);
  EXPECT_EQ(out.user_id, 0) << "out must stay untouched on failure";
}

TEST(Jwt, RejectsEveryAlgorithmButHs256) {
  const std::string payload = R"({"sub":"42","email":"a@b.c","iat":1795262400,"exp":1795348800,"jti":"j"})";
  // Even when the MAC over the input is right, the header decides.
  EXPECT_EQ(verify(forge(R"({"alg":"none","typ":"JWT"})", payload)), errc::bad_algorithm);
  EXPECT_EQ(verify(forge(R"({"alg":"RS256"})", payload)), errc::bad_algorithm);
  EXPECT_EQ(verify(forge(R"({"alg":"HS512"})", payload)), errc::bad_algorithm);
  EXPECT_EQ(verify(forge(R"({"alg":"hs256"})", payload)), errc::bad_algorithm);
  EXPECT_EQ(verify(forge(R"({"alg":"HS256 "})", payload)), errc::bad_algorithm);
  EXPECT_EQ(verify(forge(R"({"alg":null})", payload)), errc::bad_algorithm);
  EXPECT_EQ(verify(forge(R"({"alg":256})", payload)), errc::bad_algorithm);
  EXPECT_EQ(verify(forge(R"({"typ":"JWT"})", payload)), errc::bad_algorithm);
  EXPECT_EQ(verify(forge(R"({})", payload)), errc::bad_algorithm);
  // The classic "alg":"none" attack: no signature at all.
  const std::string none = base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(payload) + ".";
  EXPECT_EQ(verify(none), errc::bad_algorithm);
  // Sanity: the same payload under HS256 passes.
  EXPECT_EQ(verify(forge(R"({"alg":"HS256"})", payload)), std::error_code{});
}

TEST(Jwt, RejectsCriticalHeaderExtensions) {
  const std::string payload = R"({"sub":"42","email":"a@b.c","iat":1795262400,"exp":1795348800,"jti":"j"})";
  EXPECT_EQ(verify(forge(R"({"alg":"HS256","crit":["exp"]})", payload)), errc::malformed);
}

TEST(Jwt, ExpiresAtExp) {
  const std::string token = sign_jwt(alice(), secret);
  const std::int64_t exp = alice().expires_at;
  EXPECT_EQ(verify(token, exp - 1), std::error_code{});
  EXPECT_EQ(verify(token, exp), errc::expired);
  EXPECT_EQ(verify(token, exp + 1'000'000), errc::expired);
}

TEST(Jwt, ToleratesSmallClockSkewOnly) {
  const std::string token = sign_jwt(alice(), secret);
  EXPECT_EQ(verify(token, issued - max_clock_skew_s), std::error_code{});
  EXPECT_EQ(verify(token, issued - max_clock_skew_s - 1), errc::not_yet_valid);
  const std::string with_nbf =
      forge(hs256, R"({"sub":"42","email":"a@b.c","iat":1795262400,"nbf":1795263400,"exp":1795348800,"jti":"j"})");
  EXPECT_EQ(verify(with_nbf, 1'795'263'400 - max_clock_skew_s), std::error_code{});
  EXPECT_EQ(verify(with_nbf, 1'795'263'400 - max_clock_skew_s - 1), errc::not_yet_valid);
}

TEST(Jwt, ExtremeTimesDoNotOverflow) {
  const std::string far_future =
      forge(hs256, R"({"sub":"1","email":"a@b.c","iat":9223372036854775807,"exp":9223372036854775807,"jti":"j"})");
  EXPECT_EQ(verify(far_future, issued), errc::not_yet_valid);
  const std::string far_past =
      forge(hs256, R"({"sub":"1","email":"a@b.c","iat":-9223372036854775808,"exp":9223372036854775807,"jti":"j"})");
  EXPECT_EQ(verify(far_past, issued), std::error_code{});
}

TEST(Jwt, RejectsMalformedShapes) {
  const std::string token = sign_jwt(alice(), secret);
  const auto p1 = token.find('.');
  for (const std::string& bad : {
           std::string(),
           std::string("."),
           std::string(".."),
           std::string("..."),
           token.substr(0, token.rfind('.')) + "",  // two parts
           token.substr(0, p1),                     // one part
           token + ".",                             // four parts
           token + ".abc",
           "!!!." + token.substr(p1 + 1),                   // garbage header base64
           token.substr(0, token.rfind('.') + 1) + "a+b/",  // standard, not url, base64
           token.substr(0, p1) + "=" + token.substr(p1),    // padding
           std::string(chat::auth::max_token_length + 1, 'a'),
       }) {
    EXPECT_EQ(verify(bad), errc::malformed) << bad;
  }
  // A payload that is not base64url, correctly signed: found after the signature check.
  const std::string garbage_payload = token.substr(0, p1) + ".***";
  EXPECT_EQ(verify(garbage_payload + "." + hmac_b64(secret, garbage_payload)), errc::malformed);
  // Unsigned garbage is refused by the signature check before its payload is looked at.
  EXPECT_EQ(verify(garbage_payload + token.substr(token.rfind('.'))), errc::bad_signature);
  // Removing one dot leaves two parts.
  EXPECT_EQ(verify(token.substr(0, p1) + token.substr(p1 + 1)), errc::malformed);
}

TEST(Jwt, RejectsNonJsonOrNonObjectParts) {
  const std::string payload = R"({"sub":"42","email":"a@b.c","iat":1795262400,"exp":1795348800,"jti":"j"})";
  EXPECT_EQ(verify(forge("not json", payload)), errc::malformed);
  EXPECT_EQ(verify(forge(R"(["alg","HS256"])", payload)), errc::malformed);
  EXPECT_EQ(verify(forge(R"("HS256")", payload)), errc::malformed);
  EXPECT_EQ(verify(forge(hs256, "not json")), errc::malformed);
  EXPECT_EQ(verify(forge(hs256, R"([1,2,3])")), errc::malformed);
  EXPECT_EQ(verify(forge(hs256, "")), errc::malformed);
  EXPECT_EQ(verify(forge(hs256, "{\"sub\":\"42\",\"email\":\"\xFF\",\"iat\":1,\"exp\":1795348800}")),
            errc::malformed);  // invalid UTF-8 inside JSON
}

TEST(Jwt, RequiresWellTypedClaims) {
  const auto with = [](std::string_view sub, std::string_view email = R"("a@b.c")", std::string_view iat = "1795262400",
                       std::string_view exp = "1795348800") {
    std::string payload = "{";
    if (!sub.empty()) payload += "\"sub\":" + std::string(sub) + ",";
    if (!email.empty()) payload += "\"email\":" + std::string(email) + ",";
    if (!iat.empty()) payload += "\"iat\":" + std::string(iat) + ",";
    if (!exp.empty()) payload += "\"exp\":" + std::string(exp) + ",";
    payload += "\"jti\":\"j\"}";
    return verify(forge(hs256, payload));
  };
  EXPECT_EQ(with(R"("42")"), std::error_code{});
  EXPECT_EQ(with("42"), errc::malformed);        // number, not string
  EXPECT_EQ(with(R"("-42")"), errc::malformed);  // negative
  EXPECT_EQ(with(R"("0")"), errc::malformed);    // not positive
  EXPECT_EQ(with(R"("042")"), errc::malformed);  // leading zero
  EXPECT_EQ(with(R"("+42")"), errc::malformed);
  EXPECT_EQ(with(R"("42 ")"), errc::malformed);
  EXPECT_EQ(with(R"("4.2")"), errc::malformed);
  EXPECT_EQ(with(R"("")"), errc::malformed);
  EXPECT_EQ(with(R"("9223372036854775807")"), std::error_code{});
  EXPECT_EQ(with(R"("9223372036854775808")"), errc::malformed);  // overflow
  EXPECT_EQ(with("null"), errc::malformed);
  EXPECT_EQ(with(""), errc::malformed);                                       // missing sub
  EXPECT_EQ(with(R"("42")", "7"), errc::malformed);                           // email not a string
  EXPECT_EQ(with(R"("42")", ""), errc::malformed);                            // missing email
  EXPECT_EQ(with(R"("42")", R"("a@b.c")", "1795262400.5"), errc::malformed);  // float iat
  EXPECT_EQ(with(R"("42")", R"("a@b.c")", R"("1795262400")"), errc::malformed);
  EXPECT_EQ(with(R"("42")", R"("a@b.c")", "true"), errc::malformed);
  EXPECT_EQ(with(R"("42")", R"("a@b.c")", ""), errc::malformed);                // missing iat
  EXPECT_EQ(with(R"("42")", R"("a@b.c")", "1795262400", ""), errc::malformed);  // missing exp
  EXPECT_EQ(with(R"("42")", R"("a@b.c")", "1795262400", "1e10"), errc::malformed);
  EXPECT_EQ(with(R"("42")", R"("a@b.c")", "1795262400", "18446744073709551615"), errc::malformed);
  EXPECT_EQ(verify(forge(hs256, R"({"sub":"42","email":"a@b.c","iat":1795262400,"exp":1795348800,"nbf":"x"})")),
            errc::malformed);
}

TEST(Jwt, ErrorsHaveReadableMessages) {
  const std::error_code ec = errc::bad_signature;
  EXPECT_STREQ(ec.category().name(), "chat.auth");
  EXPECT_EQ(ec.message(), "bad token signature");
  EXPECT_EQ(std::error_code(errc::expired).message(), "token expired");
}

TEST(BearerToken, ExtractsTheToken) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER abc"), "abc");
  EXPECT_EQ(bearer_token("BeArEr abc"), "abc");
  EXPECT_EQ(bearer_token("Bearer   abc"), "abc");
  EXPECT_EQ(bearer_token("  Bearer abc  "), "abc");
  EXPECT_EQ(bearer_token("Bearer\tabc"), "abc");
}

TEST(BearerToken, RejectsEverythingElse) {
  for (const char* bad : {"", "Bearer", "Bearer ", "Bearer    ", "Bearerabc", "Basic abc", "Token abc", "Bear abc",
                          "Bearer a b", "abc", "Bearer a\x01"}) {
    EXPECT_FALSE(bearer_token(bad).has_value()) << bad;
  }
}
