#pragma once
// The seam of one recovering room subscription (SUBSCRIBE with since-id, docs/stomp.md
// "Recovery"): live events that arrive while the store is read are held back (bounded), then
// the stored events go out, then the held ones with larger ids, then live again — each id
// once, in id order (a room's ids grow in its order), none missing:
//
//   [marker][stored > since …][marker][held > last …] then live > last
//
// A marker (`recovery.truncated`, make_truncation_marker) says "events before fromId are
// missing: reload history": first when the store had more than the limit, at the seam when the
// store could not be caught up with (timed out, unavailable, too many live events held).
//
// Pure: no I/O, no clock, no locking; the session drives it on its strand.
#include "gateway/fanout_hub.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace chat::gateway {

// The MESSAGE tail and ids of the truncation marker of room `room_id`: JSON
// {"event":"recovery.truncated","roomId":R,"fromId":F}, chat-event recovery.truncated,
// message-id t<R>-<F>.
std::shared_ptr<const fanout_event> make_truncation_marker(std::int64_t room_id, std::int64_t from_id);

class recovery_seam {
 public:
  using event_ptr = std::shared_ptr<const fanout_event>;

  // Replays the room's events with id > since_id; holds at most `max_held` live events.
  recovery_seam(std::int64_t room_id, std::int64_t since_id, std::size_t max_held);

  // A live event of the subscription before finish(). False when `max_held` are held already:
  // it is not kept, and the recovery must finish now, without the store
  // (finish({}, false, false)), so that nothing after it is lost.
  [[nodiscard]] bool hold(event_ptr event);
  std::size_t held() const noexcept { return held_.size(); }

  struct outcome {
    std::vector<event_ptr> frames;  // in order, markers included
    std::size_t replayed = 0;       // of them, stored events
    bool recovered = true;          // no marker: every event after since_id is in `frames` or follows live
  };
  // `stored`: the store's events with id > since_id, oldest first; `stored_truncated`: the store
  // had more (the oldest left out); `store_complete`: the store held every event of the room
  // before the first held one (false: timed out, unavailable, or held too many).
  outcome finish(std::vector<event_ptr> stored, bool stored_truncated, bool store_complete);

  // After finish(): whether a live event goes out (its id is past what went out; an event
  // without an id always does).
  bool admit(const fanout_event& event);
  std::int64_t last_id() const noexcept { return last_; }
  std::int64_t since_id() const noexcept { return since_; }

 private:
  std::int64_t room_id_;
  std::int64_t since_;
  std::size_t max_held_;
  std::int64_t last_;
  std::vector<event_ptr> held_;
};

}  // namespace chat::gateway
