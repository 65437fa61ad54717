#pragma once
// A session's write queue: frames waiting for the transport, in order, bounded in bytes
// (settings.max_outbound_bytes), and the clock of the write in flight.
//
// Two kinds of frames (docs/stomp.md "Slow consumers"):
// - fan-out (MESSAGE of a subscription): push() refuses one that would pass the bound, and
//   the session sheds it (counted, and the client is told on /user/queue/errors). A full
//   queue alone says only that this node has more to write than the socket took so far,
//   which is also true of a healthy client of a node that fell behind.
// - answers (RECEIPT, ERROR, CONNECTED, heart-beats): push_answer() queues them past the
//   bound, since dropping one would leave a client waiting for ever, up to twice the bound
//   (a client that sends but never reads); past that it refuses and the session disconnects.
// A client that does not read is recognised by its socket: a write in flight for longer
// than the stall timeout (writing_since()) disconnects it as a slow consumer.
//
// A fan-out MESSAGE is a per-session head plus a tail shared by every receiver
// (fanout_event::tail), so the frame body is built once per event, not once per session.
//
// Not thread-safe: owned by one session and used on its strand.
#include "gateway/ports.hpp"

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chat::gateway {

struct outbound_item {
  std::string head;                           // this session's octets
  std::shared_ptr<const std::string> shared;  // octets shared with other sessions, or null
  std::int64_t sent_at_ms = 0;                // a chat message's createdAt: delivery latency
  std::size_t size() const noexcept { return head.size() + (shared ? shared->size() : 0); }
};

class outbound_queue {
 public:
  explicit outbound_queue(std::size_t max_bytes) noexcept : max_bytes_(max_bytes) {}

  // Queues a fan-out frame unless that would pass the bound; false = refused (shed it).
  [[nodiscard]] bool push(outbound_item item);
  // Queues an answer unless that would pass twice the bound; false = a client that does
  // not read (disconnect it).
  [[nodiscard]] bool push_answer(outbound_item item);
  std::size_t max_bytes() const noexcept { return max_bytes_; }

  bool empty() const noexcept { return items_.empty(); }
  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t frames() const noexcept { return items_.size(); }

  // Appends the buffers of up to `max_frames` queued frames (in order) to `out` and returns
  // how many frames they hold. The buffers stay valid until pop_written() drops the frames.
  std::size_t collect(std::vector<boost::asio::const_buffer>& out, std::size_t max_frames) const;

  // A write starts at `now`; true when the clock was not running (no write in flight).
  bool start_write_clock(time_point now);
  // When the write in flight started; nullopt when none is.
  std::optional<time_point> writing_since() const noexcept { return writing_since_; }

  // The first `frames` frames are written: each is shown to `each(const outbound_item&)`,
  // then dropped; the write clock stops.
  template <class F>
  void pop_written(std::size_t frames, F&& each) {
    for (std::size_t i = 0; i < frames && !items_.empty(); ++i) {
      each(items_.front());
      bytes_ -= items_.front().size();
      items_.pop_front();
    }
    writing_since_.reset();
  }

 private:
  const std::size_t max_bytes_;
  std::deque<outbound_item> items_;
  std::size_t bytes_ = 0;
  std::optional<time_point> writing_since_;
};

}  // namespace chat::gateway
