#pragma once
// One user's room list as the room feed keeps it in memory (docs/stomp.md "The live room
// list"): loaded once from the store (the rows of GET /api/rooms), then changed by what the
// node's fan-out brings -- the room events of the user's rooms, the user's own read marks,
// rooms added and removed -- without a database query per event.
//
// unreadCount follows the store's rule (store/message_writer.cpp): a `message` event of someone
// else with an id above the user's read mark counts. Live messages at or below the newest id the
// list has seen of the room were counted already (the store's list lags the live stream, never
// leads it) and are ignored. A read mark M recounts exactly when the list knows the ids of the
// unread messages M covers: those counted live (the newest max_tracked_unread per room), and all
// of them once M reaches the newest message seen; unread messages that came with the store's list
// and lie below M are otherwise kept (the store recounts them; the next load shows it).
//
// Blocks (docs/stomp.md "Blocks"): the messages of users this user blocks (proto::blockable_sender)
// neither become lastMessage nor count as unread, as in the store's list. A block made or lifted
// later asks the store for the list again (block_refresh): the rows whose lastMessage the change
// concerns are replaced.
//
// Pure bookkeeping, not thread-safe (the feed holds it under its lock).
#include <chat/proto/message.hpp>
#include <chat/proto/rest.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

namespace chat::gateway {

class room_list {
 public:
  static constexpr std::size_t max_tracked_unread = 256;

  explicit room_list(std::int64_t user_id) : user_id_(user_id) {}

  std::int64_t user_id() const noexcept { return user_id_; }

  // The store's list, most recent activity first (GET /api/rooms); replaces what was there.
  void load(std::vector<proto::room_summary> rooms);
  // A room the user was added to, as the store shows it now. `now_ms` orders it among the
  // others when it has no message yet. Replaces an entry of the same id.
  void add(proto::room_summary room, std::int64_t now_ms);
  // True when the room was in the list.
  bool remove(std::int64_t room_id);
  bool contains(std::int64_t room_id) const { return rooms_.contains(room_id); }
  std::size_t size() const noexcept { return rooms_.size(); }
  std::vector<std::int64_t> room_ids() const;

  // A room event (docs/events.md) of one of the rooms. Returns the room's summary when what the
  // list shows of it changed (lastMessage, unreadCount, memberCount, name), else null. Events kept
  // as SYSTEM history items count as the store counts them (a message of their sender). The pointer is
  // valid until the next change of the list.
  const proto::room_summary* apply(const proto::chat_message& event);
  // The user's own read mark of `room_id` moved to `last_read`. Returns the summary when its
  // unreadCount changed, else null.
  const proto::room_summary* read(std::int64_t room_id, std::int64_t last_read);

  // The store's row of a room, read after the room's channel was armed: when its lastMessage is
  // newer than what the list has seen (a message broadcast between the list's load and the
  // arming), the row replaces the entry (it counts everything up to that message) and the
  // summary is returned; otherwise the list is ahead or equal (live events) and nothing changes.
  const proto::room_summary* catch_up(proto::room_summary stored);

  // The users this user blocks (any order).
  void set_blocks(std::vector<std::int64_t> blocks);
  // This user blocked (`blocked`) or unblocked `other`: the block set follows.
  void block_changed(std::int64_t other, bool blocked);
  // The store's row of a room, read after this user blocked or unblocked `other`. A block: when
  // the list's lastMessage is `other`'s, the stored row's (the newest one not theirs) replaces it.
  // A lift: when the stored lastMessage is `other`'s and newer than the list's, it replaces it.
  // Returns the summary when it changed. unreadCount stays (the store counts at write time).
  const proto::room_summary* block_refresh(const proto::room_summary& stored, std::int64_t other, bool blocked);

  const proto::room_summary* find(std::int64_t room_id) const;
  // The whole list, most recent activity first (the order of GET /api/rooms).
  std::vector<proto::room_summary> snapshot() const;

 private:
  struct entry {
    proto::room_summary summary;
    std::int64_t newest_id = -1;          // of the messages seen: live ones at or below are counted
    std::int64_t base_unread = 0;         // unread messages of unknown ids: all older than unread_ids
    std::deque<std::int64_t> unread_ids;  // others' messages counted live, ascending
    std::int64_t activity_ms = 0;         // newest message's createdAt (or when added)
    std::uint64_t order = 0;              // ties: the store's order, then arrival
  };

  void recount(entry& e);
  // A new history item of the entry's room (a message, or an administration event's SYSTEM item
  // `item` of `event`): lastMessage, unreadCount, memberCount. Null when seen already.
  const proto::room_summary* add_item(entry& e, const proto::chat_message& item, const proto::chat_message& event);

  bool blocks(std::int64_t sender) const noexcept {
    return sender != 0 && !blocks_.empty() && std::binary_search(blocks_.begin(), blocks_.end(), sender);
  }

  std::int64_t user_id_;
  std::vector<std::int64_t> blocks_;  // ascending
  std::unordered_map<std::int64_t, entry> rooms_;
  std::uint64_t next_order_ = 0;
};

}  // namespace chat::gateway
