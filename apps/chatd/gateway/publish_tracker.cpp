#include "gateway/publish_tracker.hpp"

#include <algorithm>

namespace chat::gateway {

void publish_tracker::add(std::uint64_t seq, time_point deadline, std::optional<std::string> receipt,
                          std::string destination, std::string message_key, std::int64_t claim_room) {
  pending_.push_back({seq, deadline, std::move(receipt), std::move(destination), std::move(message_key), claim_room});
}

std::optional<publish_tracker::settled> publish_tracker::settle(std::uint64_t seq) {
  const auto it = std::find_if(pending_.begin(), pending_.end(), [seq](const pending& p) { return p.seq == seq; });
  if (it == pending_.end()) return std::nullopt;
  settled out{std::move(it->receipt), std::move(it->destination), std::move(it->message_key), it->claim_room};
  pending_.erase(it);
  return out;
}

std::optional<publish_tracker::settled> publish_tracker::take_expired(time_point now) {
  // Deadlines grow with the sequence (a fixed timeout after each publish): only the oldest
  // can be the first to expire.
  if (pending_.empty() || now < pending_.front().deadline) return std::nullopt;
  auto& oldest = pending_.front();
  settled out{std::move(oldest.receipt), std::move(oldest.destination), std::move(oldest.message_key),
              oldest.claim_room};
  pending_.pop_front();
  return out;
}

std::optional<time_point> publish_tracker::next_deadline() const {
  if (pending_.empty()) return std::nullopt;
  return pending_.front().deadline;
}

}  // namespace chat::gateway
