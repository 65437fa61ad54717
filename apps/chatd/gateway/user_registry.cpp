#include "gateway/user_registry.hpp"

#include <algorithm>

namespace chat::gateway {

double token_bucket::level(time_point now) const noexcept {
  const double elapsed = std::chrono::duration<double>(now - updated_).count();
  return std::min(capacity_, tokens_ + std::max(0.0, elapsed) * rate_);
}

bool token_bucket::take(time_point now) noexcept {
  tokens_ = level(now);
  updated_ = std::max(updated_, now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool token_bucket::full(time_point now) const noexcept { return level(now) >= capacity_; }

user_registry::user_state& user_registry::state_of(std::int64_t user_id, time_point now) {
  auto [it, inserted] = users_.try_emplace(user_id);
  if (inserted) {
    it->second.sends = token_bucket(limits_.rate_per_s, limits_.burst, now);
    it->second.hard =
        token_bucket(limits_.rate_per_s * limits_.disconnect_factor, limits_.burst * limits_.disconnect_factor, now);
  }
  return it->second;
}

bool user_registry::idle(const user_state& s, time_point now) const {
  if (s.sessions > 0 || !s.sends.full(now) || !s.hard.full(now)) return false;
  return std::all_of(s.typing.begin(), s.typing.end(),
                     [&](const auto& entry) { return now - entry.second >= limits_.typing_interval; });
}

bool user_registry::open_session(std::int64_t user_id, time_point now) {
  std::lock_guard lock(mutex_);
  auto& s = state_of(user_id, now);
  if (s.sessions >= limits_.max_sessions) return false;
  ++s.sessions;
  return true;
}

void user_registry::close_session(std::int64_t user_id, time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = users_.find(user_id);
  if (it == users_.end()) return;
  if (it->second.sessions > 0) --it->second.sessions;
  if (idle(it->second, now)) users_.erase(it);
}

int user_registry::sessions_of(std::int64_t user_id) const {
  std::lock_guard lock(mutex_);
  const auto it = users_.find(user_id);
  return it == users_.end() ? 0 : it->second.sessions;
}

send_verdict user_registry::take_send(std::int64_t user_id, time_point now) {
  std::lock_guard lock(mutex_);
  auto& s = state_of(user_id, now);
  if (!s.hard.take(now)) return send_verdict::disconnect;
  if (!s.sends.take(now)) return send_verdict::limited;
  return send_verdict::allowed;
}

bool user_registry::take_typing(std::int64_t user_id, std::int64_t room_id, time_point now) {
  std::lock_guard lock(mutex_);
  auto& s = state_of(user_id, now);
  auto [it, inserted] = s.typing.try_emplace(room_id, now);
  if (inserted) return true;
  if (now - it->second < limits_.typing_interval) return false;
  it->second = now;
  return true;
}

void user_registry::sweep(time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = users_.begin(); it != users_.end();) {
    auto& s = it->second;
    std::erase_if(s.typing, [&](const auto& entry) { return now - entry.second >= limits_.typing_interval; });
    if (idle(s, now)) {
      it = users_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t user_registry::tracked_users() const {
  std::lock_guard lock(mutex_);
  return users_.size();
}

}  // namespace chat::gateway
