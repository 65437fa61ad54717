#include <chat/auth/base64url.hpp>
#include <chat/auth/jwt.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <limits>

namespace chat::auth {
namespace {

// base64url of {"alg":"HS256","typ":"JWT"}: the only header this library issues.
constexpr std::string_view encoded_header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

using mac = std::array<unsigned char, 32>;

bool hmac_sha256(std::string_view secret, std::string_view data, mac& out) noexcept {
  static constexpr unsigned char empty = 0;
  const auto* key = secret.empty() ? &empty : reinterpret_cast<const unsigned char*>(secret.data());
  const auto* bytes = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
  unsigned int length = 0;
  return HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), bytes, data.size(), out.data(), &length) != nullptr &&
         length == out.size();
}

// A JSON integer that fits std::int64_t (floats, bools and strings are not integers).
bool get_int64(const nlohmann::json& object, const char* name, std::int64_t& out) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) return false;
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(value);
  } else {
    out = it->get<std::int64_t>();
  }
  return true;
}

// "sub" is the user id as a canonical positive decimal: no sign, no leading zero, no overflow.
bool parse_subject(std::string_view text, std::int64_t& out) noexcept {
  if (text.empty() || text.front() == '0') return false;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return false;
  out = value;
  return true;
}

// a > b + skew, without overflow.
bool later_than(std::int64_t a, std::int64_t b, std::int64_t skew) noexcept {
  return static_cast<__int128>(a) > static_cast<__int128>(b) + skew;
}

}  // namespace

bool is_valid_token_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > max_token_id_length) return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string sign_jwt(const claims& c, std::string_view secret) {
  nlohmann::ordered_json payload;
  payload["sub"] = std::to_string(c.user_id);
  payload["email"] = c.email;
  payload["iat"] = c.issued_at;
  payload["exp"] = c.expires_at;
  payload["jti"] = c.token_id;
  if (!c.session_id.empty()) payload["sid"] = c.session_id;

  std::string token(encoded_header);
  token += '.';
  token += base64url_encode(payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  mac signature{};
  if (!hmac_sha256(secret, token, signature)) return {};
  token += '.';
  token += base64url_encode(std::string_view(reinterpret_cast<const char*>(signature.data()), signature.size()));
  return token;
}

std::error_code verify_jwt(std::string_view token, std::string_view secret, std::int64_t now_unix_s, claims& out) {
  if (token.empty() || token.size() > max_token_length) return errc::malformed;
  const std::size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return errc::malformed;
  const std::size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos) return errc::malformed;
  if (token.find('.', second_dot + 1) != std::string_view::npos) return errc::malformed;

  const auto header_text = base64url_decode(token.substr(0, first_dot));
  if (!header_text) return errc::malformed;
  const auto header = nlohmann::json::parse(*header_text, nullptr, false);
  if (!header.is_object()) return errc::malformed;  // also covers a parse failure (discarded)
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256") {
    return errc::bad_algorithm;
  }
  if (header.contains("crit")) return errc::malformed;

  const auto signature = base64url_decode(token.substr(second_dot + 1));
  if (!signature) return errc::malformed;
  mac expected{};
  if (secret.empty() || signature->size() != expected.size() ||
      !hmac_sha256(secret, token.substr(0, second_dot), expected) ||
      CRYPTO_memcmp(expected.data(), signature->data(), expected.size()) != 0) {
    return errc::bad_signature;
  }

  // Authenticated from here on.
  const auto payload_text = base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!payload_text) return errc::malformed;
  const auto payload = nlohmann::json::parse(*payload_text, nullptr, false);
  if (!payload.is_object()) return errc::malformed;

  claims parsed;
  const auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string() || !parse_subject(sub->get_ref<const std::string&>(), parsed.user_id)) {
    return errc::malformed;
  }
  const auto email = payload.find("email");
  if (email == payload.end() || !email->is_string()) return errc::malformed;
  parsed.email = email->get<std::string>();
  if (!get_int64(payload, "iat", parsed.issued_at) || !get_int64(payload, "exp", parsed.expires_at)) {
    return errc::malformed;
  }
  const auto jti = payload.find("jti");
  if (jti == payload.end() || !jti->is_string() || !is_valid_token_id(jti->get_ref<const std::string&>())) {
    return errc::malformed;
  }
  parsed.token_id = jti->get<std::string>();
  if (const auto sid = payload.find("sid"); sid != payload.end()) {
    if (!sid->is_string() || !is_valid_token_id(sid->get_ref<const std::string&>())) return errc::malformed;
    parsed.session_id = sid->get<std::string>();
  }
  std::int64_t not_before = 0;
  const bool has_not_before = payload.contains("nbf");
  if (has_not_before && !get_int64(payload, "nbf", not_before)) return errc::malformed;

  if (now_unix_s >= parsed.expires_at) return errc::expired;
  if (later_than(parsed.issued_at, now_unix_s, max_clock_skew_s) ||
      (has_not_before && later_than(not_before, now_unix_s, max_clock_skew_s))) {
    return errc::not_yet_valid;
  }
  out = std::move(parsed);
  return {};
}

std::optional<std::string_view> bearer_token(std::string_view header) noexcept {
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!header.empty() && is_space(header.front())) header.remove_prefix(1);
  while (!header.empty() && is_space(header.back())) header.remove_suffix(1);

  constexpr std::string_view scheme = "bearer";
  if (header.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return std::nullopt;
  }
  std::string_view rest = header.substr(scheme.size());
  if (!is_space(rest.front())) return std::nullopt;  // "Bearerabc" is another scheme
  while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
  if (rest.empty()) return std::nullopt;
  for (const char c : rest) {
    if (is_space(c) || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return std::nullopt;
  }
  return rest;
}

}  // namespace chat::auth
