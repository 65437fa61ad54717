#pragma once
// Blocks (SPEC §15, docs/rest.md "Blocks", docs/stomp.md "Blocks"): the GET /api/blocks answer
// and the block changes every chatd node hears on Redis (channel chat:blocks, docs/topics.md).
// Same conventions as rest.hpp: append_json encodes, parse_… validates and never throws;
// unknown members are ignored.
#include <chat/proto/error.hpp>
#include <chat/proto/json.hpp>
#include <chat/proto/message.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

// How many users one user may block (PUT /api/blocks/{userId} beyond it: 409 block_limit). Also
// bounds GET /api/blocks (one page, no cursor) and the set each STOMP session holds.
inline constexpr std::int64_t max_blocks_per_user = 1000;

// What a block hides from the blocker (docs/stomp.md "Blocks"): a room event whose result is
// `sender`'s content -- a message other than a SYSTEM notice, an edit, a link preview. Returns that sender, or
// 0 when the event stays visible to everyone (notices, deletes, reactions, pins: the room's state,
// as history shows it). The fan-out filter and the live room list both ask this.
inline std::int64_t blockable_sender(const chat_message& event) noexcept {
  switch (event.event) {
    case event_kind::message: return event.type != message_type::system ? event.sender_id : 0;
    case event_kind::edited:
    case event_kind::preview: return event.sender_id;  // a preview's sender is its message's
    case event_kind::deleted:
    case event_kind::reaction_added:
    case event_kind::reaction_removed:
    case event_kind::pinned:
    case event_kind::unpinned:
    case event_kind::room_updated:
    case event_kind::member_joined:
    case event_kind::member_left:
    case event_kind::member_removed:
    case event_kind::member_role:
    case event_kind::room_deleted: return 0;  // administration events: SYSTEM notices, the room's state
  }
  return 0;
}

// One entry of GET /api/blocks: {"userId","nickname","blockedAt"}.
struct blocked_user {
  std::int64_t user_id = 0;
  std::string nickname;
  std::int64_t blocked_at_ms = 0;

  friend bool operator==(const blocked_user&, const blocked_user&) = default;
};

void append_json(const blocked_user& value, std::string& out);
void append_json(std::span<const blocked_user> values, std::string& out);
validation_error parse_blocked_user_list(std::string_view json, std::vector<blocked_user>& out);

// A block made or lifted, published after the commit on chat:blocks:
//   {"event":"block.added"|"block.removed","blockerId":…,"blockedId":…}
// Every node hands it to the local sessions of both users (their block set and their DIRECT
// rooms' gate). Not a client-visible event.
inline constexpr std::string_view block_added_event_name = "block.added";
inline constexpr std::string_view block_removed_event_name = "block.removed";

struct block_change {
  std::int64_t blocker_id = 0;
  std::int64_t blocked_id = 0;
  bool blocked = true;  // false: lifted

  friend bool operator==(const block_change&, const block_change&) = default;
};

void append_json(const block_change& value, std::string& out);
// "event" one of the two names; both ids positive and different.
validation_error parse_block_change(std::string_view json, block_change& out);

}  // namespace chat::proto
