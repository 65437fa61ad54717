#pragma once
// --mix (docs/chatload.md "Mixed traffic"): what each planned send does. Weights by action, e.g.
// "send=80,edit=5,delete=5,react=10"; the default is send=100 (messages only). A session's
// edit, delete or react targets one of its own recently receipted messages in that room (the
// RECEIPT's message-id header, SPEC §13) over /app/chat.edit, /app/chat.delete, /app/chat.react;
// without one yet, it sends a message instead.
//
// Every planned send g becomes exactly one room event, so the delivery ledger (accounting.hpp)
// checks every event kind for loss and duplicates; it also reports them by kind (event_index).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatload {

enum class action : std::uint8_t { send, edit, remove, react };
inline constexpr std::size_t action_count = 4;
// "send", "edit", "delete", "react": the names --mix uses.
const char* to_string(action a) noexcept;

// The room event a send became, as counted by the ledger.
enum class event_index : std::uint8_t { message, edited, deleted, reaction_added, reaction_removed };
inline constexpr std::size_t event_count = 5;
// The wire names: "message", "message.edited", "message.deleted", "reaction.added", "reaction.removed".
const char* to_string(event_index e) noexcept;

struct mix {
  std::array<std::uint32_t, action_count> weights{100, 0, 0, 0};

  std::uint32_t total() const noexcept;
  bool send_only() const noexcept { return weights[0] == total(); }
  // The action of planned send g: a pseudo-random draw (a hash of g and the run's nonce) by weight,
  // the same on every call.
  action pick(std::uint64_t g, std::uint64_t nonce) const noexcept;
  // "send=80,edit=5,delete=5,react=10" (actions with weight 0 left out).
  std::string text() const;
};

// "send=80,edit=5,delete=5,react=10": names from to_string(action), non-negative integer weights
// (at most 1,000,000 each), each name at most once, at least one positive weight. Missing names
// weigh 0. nullopt and `why` set otherwise.
std::optional<mix> parse_mix(std::string_view text, std::string& why);

// The reactions a mixed run cycles through on one target: the n-th reaction to a message adds
// reaction_emojis[n % 4] for n % 8 < 4 and removes it for n % 8 >= 4, so each one changes the
// message's state.
inline constexpr std::array<std::string_view, 4> reaction_emojis = {"👍", "🎉", "🔥", "🚀"};

// One of a session's own messages in a room that it may still edit, delete or react to.
struct own_message {
  std::int64_t id = 0;
  std::uint32_t reactions = 0;    // reactions sent to it so far
  std::int64_t receipted_ns = 0;  // steady clock: when its RECEIPT arrived
};

// A message becomes a target this long after its RECEIPT. The RECEIPT comes with the broker's
// acknowledgement, and chatd checks an event against the store, which the persistence consumer
// fills a moment later (it waits at most 500 ms for a target not stored yet): people edit and
// react seconds after sending, not within milliseconds.
inline constexpr std::int64_t min_target_age_ns = 1'000'000'000;

// At most this many recent own messages per (session, room); the oldest is forgotten first.
inline constexpr std::size_t own_message_window = 8;

// Remembers a message receipted at now_ns (drops the oldest beyond the window).
void remember_own(std::vector<own_message>& own, std::int64_t id, std::int64_t now_ns = 0);
// The target of planned send g among the messages of `own` receipted at least min_age_ns before
// now_ns (nullptr when there is none).
own_message* pick_target(std::vector<own_message>& own, std::uint64_t g, std::int64_t now_ns = 0,
                         std::int64_t min_age_ns = 0) noexcept;
// Forgets a message (after a delete was sent for it).
void forget_own(std::vector<own_message>& own, std::int64_t id) noexcept;

// The JSON bodies of /app/chat.edit, /app/chat.delete and /app/chat.react, built into `out`
// (its capacity is reused). `payload` goes in the edit's content; `key` is the event's messageKey.
void edit_body(std::string& out, std::int64_t room_id, std::int64_t target_id, std::string_view payload,
               std::string_view key);
void delete_body(std::string& out, std::int64_t room_id, std::int64_t target_id, std::string_view key);
void react_body(std::string& out, std::int64_t room_id, std::int64_t target_id, std::string_view emoji, bool remove,
                std::string_view key);

// A live MESSAGE body's "id" (chatd writes it first: {"id":N,...}) and "messageKey"; nullopt
// when absent.
std::optional<std::int64_t> body_event_id(std::string_view body) noexcept;
std::optional<std::string_view> body_message_key(std::string_view body) noexcept;

}  // namespace chatload
