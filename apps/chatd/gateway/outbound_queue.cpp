#include "gateway/outbound_queue.hpp"

namespace chat::gateway {

bool outbound_queue::push(outbound_item item) {
  const auto size = item.size();
  if (bytes_ + size > max_bytes_) return false;
  bytes_ += size;
  items_.push_back(std::move(item));
  return true;
}

bool outbound_queue::push_answer(outbound_item item) {
  const auto size = item.size();
  if (bytes_ + size > 2 * max_bytes_) return false;
  bytes_ += size;
  items_.push_back(std::move(item));
  return true;
}

std::size_t outbound_queue::collect(std::vector<boost::asio::const_buffer>& out, std::size_t max_frames) const {
  std::size_t n = 0;
  for (auto it = items_.begin(); it != items_.end() && n < max_frames; ++it, ++n) {
    out.push_back(boost::asio::buffer(it->head));
    if (it->shared) out.push_back(boost::asio::buffer(*it->shared));
  }
  return n;
}

bool outbound_queue::start_write_clock(time_point now) {
  if (writing_since_) return false;
  writing_since_ = now;
  return true;
}

}  // namespace chat::gateway
