#pragma once
// A session's publishes in flight: SENDs (chat messages, read receipts) handed to the
// message log and not yet acknowledged, oldest first, each with the receipt id that its
// RECEIPT (or ERROR) answers. The session settles an entry when the log answers and takes
// it out as failed when its deadline passes first; whichever comes second finds nothing.
//
// Not thread-safe: owned by one session and used on its strand.
#include "gateway/ports.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace chat::gateway {

class publish_tracker {
 public:
  struct settled {
    std::optional<std::string> receipt;
    std::string destination;  // of the SEND: soft errors name it
    std::string message_key;  // a room event's (its RECEIPT carries it); empty for read receipts
    // A message with a client-supplied key (core/message_keys.hpp): its room, else 0.
    std::int64_t claim_room = 0;
  };

  // Tracks publish `seq` (larger than any tracked before) until `deadline`.
  void add(std::uint64_t seq, time_point deadline, std::optional<std::string> receipt, std::string destination = {},
           std::string message_key = {}, std::int64_t claim_room = 0);
  // The log answered `seq`: forgets it. nullopt when it is not tracked (it timed out).
  std::optional<settled> settle(std::uint64_t seq);
  // Forgets and returns the oldest publish when its deadline is at or before `now`.
  std::optional<settled> take_expired(time_point now);

  // The oldest publish's deadline; nullopt when nothing is in flight.
  std::optional<time_point> next_deadline() const;
  bool empty() const noexcept { return pending_.empty(); }
  std::size_t size() const noexcept { return pending_.size(); }

 private:
  struct pending {
    std::uint64_t seq = 0;
    time_point deadline;
    std::optional<std::string> receipt;
    std::string destination;
    std::string message_key;
    std::int64_t claim_room = 0;
  };

  std::deque<pending> pending_;
};

}  // namespace chat::gateway
