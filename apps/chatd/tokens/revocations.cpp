#include "tokens/revocations.hpp"

#include <charconv>

namespace chat::chatd::tokens {
namespace {

bool parse_int(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string encode(const revocation& r) {
  std::string out;
  switch (r.kind) {
    case revocation_kind::token: out = "t:"; break;
    case revocation_kind::session: out = "s:"; break;
    case revocation_kind::user: out = "u:"; break;
  }
  out += std::to_string(r.user_id);
  out += ':';
  if (r.kind == revocation_kind::user) {
    out += std::to_string(r.before);
  } else {
    out += r.id;
  }
  out += ':';
  out += std::to_string(r.until);
  return out;
}

std::optional<revocation> decode(std::string_view text) {
  if (text.size() < 2 || text[1] != ':') return std::nullopt;
  revocation r;
  switch (text[0]) {
    case 't': r.kind = revocation_kind::token; break;
    case 's': r.kind = revocation_kind::session; break;
    case 'u': r.kind = revocation_kind::user; break;
    default: return std::nullopt;
  }
  text.remove_prefix(2);
  const auto first = text.find(':');
  const auto last = text.rfind(':');
  if (first == std::string_view::npos || first == last) return std::nullopt;
  if (!parse_int(text.substr(0, first), r.user_id) || r.user_id <= 0) return std::nullopt;
  if (!parse_int(text.substr(last + 1), r.until) || r.until <= 0) return std::nullopt;
  const auto middle = text.substr(first + 1, last - first - 1);
  if (r.kind == revocation_kind::user) {
    if (!parse_int(middle, r.before) || r.before <= 0) return std::nullopt;
  } else {
    if (!valid_id(middle)) return std::nullopt;
    r.id = std::string(middle);
  }
  return r;
}

bool revocation_cache::add(const revocation& r, std::int64_t now_s) {
  if (r.until <= now_s) return false;
  std::unique_lock lock(mutex_);
  if (tokens_.size() + sessions_.size() + users_.size() >= max_entries_) {
    overflowed_ = true;
    return false;
  }
  switch (r.kind) {
    case revocation_kind::token: return tokens_.try_emplace(r.id, timed{r.user_id, r.until}).second;
    case revocation_kind::session: return sessions_.try_emplace(r.id, timed{r.user_id, r.until}).second;
    case revocation_kind::user: {
      auto [it, added] = users_.try_emplace(r.user_id, watermark{r.before, r.until});
      if (added) return true;
      bool changed = false;
      if (r.before > it->second.before) {
        it->second.before = r.before;
        changed = true;
      }
      it->second.until = std::max(it->second.until, r.until);
      return changed;
    }
  }
  return false;
}

revocation_reason revocation_cache::check(const token_ref& t) const {
  std::shared_lock lock(mutex_);
  if (const auto it = users_.find(t.user_id); it != users_.end() && t.issued_at < it->second.before) {
    return revocation_reason::user;
  }
  if (!t.session_id.empty() && sessions_.contains(std::string(t.session_id))) return revocation_reason::session;
  if (tokens_.contains(std::string(t.token_id))) return revocation_reason::token;
  return revocation_reason::none;
}

void revocation_cache::prune(std::int64_t now_s) {
  std::unique_lock lock(mutex_);
  std::erase_if(tokens_, [now_s](const auto& e) { return e.second.until <= now_s; });
  std::erase_if(sessions_, [now_s](const auto& e) { return e.second.until <= now_s; });
  std::erase_if(users_, [now_s](const auto& e) { return e.second.until <= now_s; });
}

void revocation_cache::begin_full_load() noexcept {
  std::unique_lock lock(mutex_);
  overflowed_ = false;
}

std::size_t revocation_cache::size() const {
  std::shared_lock lock(mutex_);
  return tokens_.size() + sessions_.size() + users_.size();
}

void revocation_cache::set_live(bool live) noexcept {
  std::unique_lock lock(mutex_);
  live_ = live;
}

bool revocation_cache::complete() const noexcept {
  std::shared_lock lock(mutex_);
  return live_ && !overflowed_;
}

}  // namespace chat::chatd::tokens
