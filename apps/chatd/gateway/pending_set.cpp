#include "gateway/pending_set.hpp"

namespace chat::gateway {

pending_hook* pending_set::admit(pending_hook& h) noexcept {
  h.prev_ = newest_;
  h.next_ = nullptr;
  h.linked_ = true;
  if (newest_ != nullptr) {
    newest_->next_ = &h;
  } else {
    oldest_ = &h;
  }
  newest_ = &h;
  ++size_;
  return size_ > limit_ ? pop_oldest() : nullptr;
}

bool pending_set::leave(pending_hook& h) noexcept {
  if (!h.linked_) return false;
  if (h.prev_ != nullptr) {
    h.prev_->next_ = h.next_;
  } else {
    oldest_ = h.next_;
  }
  if (h.next_ != nullptr) {
    h.next_->prev_ = h.prev_;
  } else {
    newest_ = h.prev_;
  }
  h.prev_ = h.next_ = nullptr;
  h.linked_ = false;
  --size_;
  return true;
}

pending_hook* pending_set::pop_oldest() noexcept {
  pending_hook* h = oldest_;
  if (h != nullptr) leave(*h);
  return h;
}

}  // namespace chat::gateway
