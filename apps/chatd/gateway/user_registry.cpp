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

void token_bucket::reset(double tokens, time_point now) noexcept {
  tokens_ = std::min(capacity_, tokens);
  updated_ = now;
}

user_registry::user_registry(user_limits limits) : limits_(std::move(limits)) {
  if (limits_.shared) limits_.shared->attach(*this);
}

user_registry::~user_registry() {
  if (limits_.shared) limits_.shared->detach();
}

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
  // Usage or a session count the store has not seen yet (kept while the store is down).
  if (limits_.shared && (s.unsynced_sends > 0 || s.unsynced_attempts > 0 || s.synced_sessions != 0)) return false;
  return std::all_of(s.typing.begin(), s.typing.end(),
                     [&](const auto& entry) { return now - entry.second >= limits_.typing_interval; });
}

bool user_registry::open_session(std::int64_t user_id, time_point now) {
  std::lock_guard lock(mutex_);
  auto& s = state_of(user_id, now);
  const int elsewhere = shared_available() ? s.sessions_elsewhere : 0;
  if (s.sessions + elsewhere >= limits_.max_sessions) return false;
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
  s.unsynced_attempts += 1;
  if (!s.sends.take(now)) return send_verdict::limited;
  s.unsynced_sends += 1;
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

limits_batch user_registry::collect(time_point now, bool everyone, const std::vector<std::int64_t>& also) {
  limits_batch batch;
  batch.sends = {limits_.rate_per_s, limits_.burst};
  batch.hard = {limits_.rate_per_s * limits_.disconnect_factor, limits_.burst * limits_.disconnect_factor};
  std::lock_guard lock(mutex_);
  for (const auto user : also) state_of(user, now).wanted = true;
  for (auto& [user, s] : users_) {
    // Session counts cost the store more than a bucket: only when they can have changed.
    const bool counts =
        s.wanted || s.sessions != s.synced_sessions || (s.sessions > 0 && (everyone || s.sessions_elsewhere > 0));
    if (!counts && s.unsynced_sends == 0 && s.unsynced_attempts == 0) continue;
    batch.users.push_back({user, s.unsynced_sends, s.unsynced_attempts, counts ? s.sessions : -1});
    s.unsynced_sends = 0;
    s.unsynced_attempts = 0;
    s.wanted = false;
  }
  return batch;
}

void user_registry::apply(const limits_batch& sent, const std::optional<std::vector<limits_state>>& states,
                          time_point now) {
  // Usage the store did not take stays per node: the cluster's buckets refill meanwhile, so
  // adding it later would count it against a budget it was never part of.
  const bool ok = states && states->size() == sent.users.size();
  shared_available_.store(ok, std::memory_order_relaxed);
  if (!ok || sent.users.empty()) return;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < sent.users.size(); ++i) {
    const auto& usage = sent.users[i];
    const auto& state = (*states)[i];
    auto& s = state_of(usage.user_id, now);
    // What this node took since the collect is not in the cluster's level yet.
    s.sends.reset(state.sends - s.unsynced_sends, now);
    s.hard.reset(state.hard - s.unsynced_attempts, now);
    if (usage.sessions >= 0 && state.sessions_elsewhere >= 0) {
      s.synced_sessions = usage.sessions;
      s.sessions_elsewhere = state.sessions_elsewhere;
    }
  }
}

}  // namespace chat::gateway
