#include <chat/auth/base64url.hpp>
#include "sodium.hpp"
#include <chat/auth/refresh_token.hpp>

#include <openssl/sha.h>
#include <sodium.h>

#include <array>

namespace chat::auth {
namespace {

std::string random_base64url(std::size_t bytes) {
  if (!detail::sodium_ready()) return {};
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  auto out = base64url_encode(raw);
  sodium_memzero(raw.data(), raw.size());
  return out;
}

bool is_base64url_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::string make_refresh_token() {
  auto body = random_base64url(32);
  if (body.empty()) return {};
  return std::string(refresh_token_prefix) + body;
}

std::string make_token_id() { return random_base64url(16); }

bool is_refresh_token_shaped(std::string_view token) noexcept {
  if (token.size() != refresh_token_length || !token.starts_with(refresh_token_prefix)) return false;
  for (const char c : token.substr(refresh_token_prefix.size())) {
    if (!is_base64url_char(c)) return false;
  }
  return true;
}

std::string refresh_token_hash(std::string_view token) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (const unsigned char b : digest) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

}  // namespace chat::auth
