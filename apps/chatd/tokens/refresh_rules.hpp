#pragma once
// The rules of refresh-token rotation (docs/rest.md "Tokens"), apart from where the state is
// kept (store/tokens.cpp applies them inside its transaction). Pure.
#include <cstdint>

namespace chat::chatd::tokens {

// What the store holds about a presented refresh token.
struct refresh_state {
  bool used = false;            // it was rotated already
  bool family_revoked = false;  // its session ended (logout, reuse, logout-all, password change)
  std::int64_t expires_at = 0;  // Unix s
};

enum class refresh_verdict {
  rotate,   // valid: mark it used, issue the next pair in the same family
  unknown,  // no such token (never issued, or forgotten after it expired)
  revoked,  // its family was revoked
  reused,   // used before: somebody holds a copy. Revoke the whole family (theft detection)
  expired,
};

// The verdict for a presented token that the store knows (`state`) at `now_s`. A used token is
// reuse even past its expiry, but not once its family is revoked (nothing is left to revoke).
constexpr refresh_verdict judge_refresh(const refresh_state& state, std::int64_t now_s) noexcept {
  if (state.family_revoked) return refresh_verdict::revoked;
  if (state.used) return refresh_verdict::reused;
  if (now_s >= state.expires_at) return refresh_verdict::expired;
  return refresh_verdict::rotate;
}

// The "iat" of an access token issued at `now_s` to a user whose tokens issued before
// `watermark` are revoked (logout-all, password change; 0: none): never before the watermark,
// so a login right after a logout-all gets a token the watermark does not revoke. At most one
// second ahead of the clock (the watermark is set to the second after the revocation), which
// verify_jwt's clock-skew allowance accepts.
constexpr std::int64_t access_issued_at(std::int64_t now_s, std::int64_t watermark) noexcept {
  return now_s < watermark ? watermark : now_s;
}

// Revocations live this much longer than the access tokens they name, for the clock
// differences between nodes that verify_jwt tolerates (auth::max_clock_skew_s).
inline constexpr std::int64_t revocation_margin_s = 60;

}  // namespace chat::chatd::tokens
