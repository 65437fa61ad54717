#pragma once
// The link previews a node has made, by message URL: a bounded LRU whose entries expire after a
// TTL (--preview-cache-entries, --preview-cache-ttl). It also remembers that a page gave no
// preview (not HTML, too large, nothing to show), so a URL posted again is not fetched again
// within the TTL; failures that may pass (timeouts, a refused connection) are not remembered.
// Not thread-safe: its owner (previewer) locks. The clock is the caller's (tests pass theirs).
#include <chat/proto/message.hpp>

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

namespace chat::chatd::preview {

class preview_cache {
 public:
  using clock = std::chrono::steady_clock;
  using result = std::optional<proto::link_preview>;  // nullopt: the page gave none

  // capacity 0: remembers nothing.
  preview_cache(std::size_t capacity, std::chrono::milliseconds ttl) : capacity_(capacity), ttl_(ttl) {}

  // The entry of `url` unless absent or expired (an expired one is removed); a hit becomes the
  // most recently used.
  std::optional<result> find(const std::string& url, clock::time_point now);
  // Adds or replaces; past the capacity the least recently used entry goes.
  void put(const std::string& url, result value, clock::time_point now);
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct entry {
    std::string url;
    result value;
    clock::time_point expires;
  };
  std::size_t capacity_;
  std::chrono::milliseconds ttl_;
  std::list<entry> order_;  // most recently used first
  std::unordered_map<std::string, std::list<entry>::iterator> entries_;
};

}  // namespace chat::chatd::preview
