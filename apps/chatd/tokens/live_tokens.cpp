#include "tokens/live_tokens.hpp"

namespace chat::chatd::tokens {

live_tokens::handle live_tokens::add(holder h) {
  std::lock_guard lock(mutex_);
  const handle id = next_++;
  users_of_.emplace(id, h.user_id);
  by_user_[h.user_id].push_back({id, std::move(h)});
  return id;
}

void live_tokens::remove(handle h) {
  std::lock_guard lock(mutex_);
  const auto it = users_of_.find(h);
  if (it == users_of_.end()) return;
  const auto user = by_user_.find(it->second);
  users_of_.erase(it);
  if (user == by_user_.end()) return;
  std::erase_if(user->second, [h](const entry& e) { return e.id == h; });
  if (user->second.empty()) by_user_.erase(user);
}

std::size_t live_tokens::sweep(const revocation_cache& cache, std::optional<std::int64_t> user_id) {
  std::vector<std::function<void()>> told;
  {
    std::lock_guard lock(mutex_);
    auto visit = [&](std::vector<entry>& entries) {
      std::erase_if(entries, [&](entry& e) {
        if (!cache.is_revoked({e.h.user_id, e.h.token_id, e.h.session_id, e.h.issued_at})) return false;
        users_of_.erase(e.id);
        told.push_back(std::move(e.h.revoked));
        return true;
      });
    };
    if (user_id) {
      if (const auto it = by_user_.find(*user_id); it != by_user_.end()) {
        visit(it->second);
        if (it->second.empty()) by_user_.erase(it);
      }
    } else {
      for (auto it = by_user_.begin(); it != by_user_.end();) {
        visit(it->second);
        it = it->second.empty() ? by_user_.erase(it) : std::next(it);
      }
    }
  }
  for (auto& f : told) {
    if (f) f();
  }
  return told.size();
}

std::size_t live_tokens::size() const {
  std::lock_guard lock(mutex_);
  return users_of_.size();
}

}  // namespace chat::chatd::tokens
