#include "preview/preview_cache.hpp"

namespace chat::chatd::preview {

std::optional<preview_cache::result> preview_cache::find(const std::string& url, clock::time_point now) {
  const auto it = entries_.find(url);
  if (it == entries_.end()) return std::nullopt;
  if (it->second->expires <= now) {
    order_.erase(it->second);
    entries_.erase(it);
    return std::nullopt;
  }
  order_.splice(order_.begin(), order_, it->second);
  return it->second->value;
}

void preview_cache::put(const std::string& url, result value, clock::time_point now) {
  if (capacity_ == 0) return;
  if (const auto it = entries_.find(url); it != entries_.end()) {
    it->second->value = std::move(value);
    it->second->expires = now + ttl_;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.push_front(entry{url, std::move(value), now + ttl_});
  entries_.emplace(url, order_.begin());
  while (entries_.size() > capacity_) {
    entries_.erase(order_.back().url);
    order_.pop_back();
  }
}

}  // namespace chat::chatd::preview
