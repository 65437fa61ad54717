#pragma once
// Connections that have not finished their handshake, oldest first, with a cap: admitting
// one past the cap unlinks the oldest, which its owner then closes (--max-stomp-handshakes).
// A flood of connections that never send CONNECT thus evicts its own older members, while a
// real client, whose CONNECT follows its connect within milliseconds, leaves the set before
// its turn comes.
//
// Intrusive: each element embeds a pending_hook, so tracking allocates nothing and every
// operation is O(1). Not thread-safe: the owner serialises calls (handshake_gate holds a
// mutex around them).
#include <cstddef>

namespace chat::gateway {

class pending_hook {
 public:
  pending_hook() = default;
  pending_hook(const pending_hook&) = delete;
  pending_hook& operator=(const pending_hook&) = delete;

  // In a pending_set now (read under the set owner's serialisation).
  bool linked() const noexcept { return linked_; }

 private:
  friend class pending_set;
  pending_hook* prev_ = nullptr;  // older
  pending_hook* next_ = nullptr;  // newer
  bool linked_ = false;
};

class pending_set {
 public:
  // `limit` < 1 counts as 1.
  explicit pending_set(std::size_t limit) noexcept : limit_(limit < 1 ? 1 : limit) {}
  pending_set(const pending_set&) = delete;
  pending_set& operator=(const pending_set&) = delete;
  // Elements still linked when the set dies are unlinked (their hooks stay usable).
  ~pending_set() { clear(); }

  // Appends `h` as the newest; `h` must not be linked. When the set then holds more than
  // limit() elements, the oldest is unlinked and returned (the caller evicts it); else null.
  pending_hook* admit(pending_hook& h) noexcept;

  // Unlinks `h` if it is linked (in this set); returns whether it was. Idempotent.
  bool leave(pending_hook& h) noexcept;

  // Unlinks and returns the oldest element, or null when empty.
  pending_hook* pop_oldest() noexcept;

  void clear() noexcept {
    while (pop_oldest() != nullptr) {
    }
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t limit() const noexcept { return limit_; }

 private:
  const std::size_t limit_;
  pending_hook* oldest_ = nullptr;
  pending_hook* newest_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace chat::gateway
