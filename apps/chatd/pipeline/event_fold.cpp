#include "pipeline/event_fold.hpp"

#include "core/event_rules.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace chat::chatd::pipeline {

namespace {

using proto::event_kind;

// A target as the batch's earlier events left it.
struct working_target {
  store::event_target now;  // deleted, pinned as of the current event
  bool initially_pinned = false;
  bool touched = false;  // content changed or deleted: one message_update
  store::event_effects::message_update update;
  std::optional<store::event_effects::pin> repinned;  // the last pin of the batch that took effect
};

// Net effect on one (target, emoji, user).
struct reaction_state {
  bool removed = false;        // a remove came before the final state: delete the row first
  bool present = false;        // the last event of the batch was an add
  std::int64_t add_event = 0;  // the first add after the last remove
  std::size_t order = 0;       // first seen, for a stable output
};

}  // namespace

store::event_effects fold_events(std::span<const proto::chat_message* const> events,
                                 std::span<const store::event_target> targets, std::chrono::milliseconds edit_window) {
  store::event_effects out;

  std::unordered_map<std::int64_t, working_target> state;
  std::unordered_map<std::int64_t, int> room_pins;  // room -> pinned messages as of the current event
  for (const auto& t : targets) {
    state[t.id] = working_target{t, t.pinned, false, {t.id, {}, std::nullopt, false}, std::nullopt};
    room_pins.try_emplace(t.room_id, t.room_pin_count);
  }
  std::vector<std::int64_t> touched_order;  // message updates in first-touch order
  std::vector<std::int64_t> pin_order;      // targets whose pin changed, first-change order
  std::map<std::tuple<std::int64_t, std::string, std::int64_t>, reaction_state> reactions;
  std::unordered_map<std::int64_t, const proto::link_preview*> previews;  // target -> the batch's last
  std::vector<std::int64_t> preview_order;                                // first-preview order

  auto drop = [&out](std::size_t i, std::string_view why) { out.dropped.push_back({i, why}); };
  auto touch = [&touched_order](working_target& w) {
    if (!w.touched) touched_order.push_back(w.now.id);
    w.touched = true;
  };
  auto note_pin_change = [&pin_order](working_target& w, bool& noted) {
    if (!noted) pin_order.push_back(w.now.id);
    noted = true;
  };
  std::unordered_map<std::int64_t, bool> pin_noted;

  for (std::size_t i = 0; i < events.size(); ++i) {
    const proto::chat_message& e = *events[i];
    const auto it = state.find(e.target_id);
    if (it == state.end()) {
      drop(i, "no_target");
      continue;
    }
    working_target& w = it->second;
    store::event_target& t = w.now;
    if (t.room_id != e.room_id) {
      drop(i, "other_room");
      continue;
    }
    const bool system = t.type == proto::message_type::system;
    switch (e.event) {
      case event_kind::message:       // not an event of room_events; never given
      case event_kind::room_updated:  // administration events: SYSTEM history items or nothing
      case event_kind::member_joined:
      case event_kind::member_left:
      case event_kind::member_removed:
      case event_kind::member_role:
      case event_kind::room_deleted: drop(i, "not_an_event"); break;

      case event_kind::edited:
        if (system) {
          drop(i, "system_message");
        } else if (t.deleted) {
          drop(i, "deleted");
        } else if (e.sender_id != t.sender_id) {
          drop(i, "not_sender");
        } else if (e.created_at_ms - t.created_at_ms > edit_window.count()) {
          drop(i, "edit_window_closed");
        } else {
          touch(w);
          w.update.content = e.content;
          w.update.edited_at_ms = e.created_at_ms;
        }
        break;

      case event_kind::deleted:
        if (system) {
          drop(i, "system_message");
        } else if (!t.deleted) {
          t.deleted = true;
          touch(w);
          w.update.deleted = true;
          w.update.content.clear();
          if (t.pinned) {
            t.pinned = false;
            --room_pins[t.room_id];
          }
          w.repinned.reset();
          note_pin_change(w, pin_noted[t.id]);
        }
        break;

      case event_kind::reaction_added:
      case event_kind::reaction_removed: {
        if (system) {
          drop(i, "system_message");
          break;
        }
        if (t.deleted) {
          drop(i, "deleted");
          break;
        }
        auto [r, fresh] = reactions.try_emplace({t.id, e.emoji, e.sender_id});
        if (fresh) r->second.order = reactions.size();
        if (e.event == event_kind::reaction_added) {
          if (!r->second.present) r->second.add_event = e.id;
          r->second.present = true;
        } else {
          r->second.present = false;
          r->second.removed = true;
        }
        break;
      }

      case event_kind::pinned:
        if (t.deleted) {
          drop(i, "deleted");
        } else if (t.pinned) {
          // pinned already: nothing changes
        } else if (room_pins[t.room_id] >= max_pins_per_room) {
          drop(i, "pin_limit");
        } else {
          t.pinned = true;
          ++room_pins[t.room_id];
          w.repinned = store::event_effects::pin{t.room_id, t.id, e.sender_id, e.created_at_ms};
          note_pin_change(w, pin_noted[t.id]);
        }
        break;

      case event_kind::unpinned:
        if (t.pinned) {
          t.pinned = false;
          --room_pins[t.room_id];
          w.repinned.reset();
          note_pin_change(w, pin_noted[t.id]);
        }
        break;

      case event_kind::preview:
        // The preview role names the message's sender as the event's (docs/events.md).
        if (system) {
          drop(i, "system_message");
        } else if (t.deleted) {
          drop(i, "deleted");
        } else if (e.sender_id != t.sender_id) {
          drop(i, "not_sender");
        } else if (!e.preview) {
          drop(i, "no_preview");  // parse_chat_message requires one: a record produced around it
        } else {
          auto [p, fresh] = previews.try_emplace(t.id, &*e.preview);
          if (fresh) {
            preview_order.push_back(t.id);
          } else {
            p->second = &*e.preview;
          }
        }
        break;
    }
  }

  for (const std::int64_t id : preview_order) {
    if (state[id].now.deleted) continue;  // deleted later in the batch: the tombstone has none
    out.previews.push_back({id, *previews[id]});
  }

  for (const std::int64_t id : touched_order) out.messages.push_back(state[id].update);

  for (const std::int64_t id : pin_order) {
    const working_target& w = state[id];
    // A row there before the batch goes when the target ends unpinned or was pinned anew
    // (then the new row says who pinned it and when).
    if (w.initially_pinned && (!w.now.pinned || w.repinned)) out.unpinned.push_back(id);
    if (w.now.pinned && w.repinned) out.pinned.push_back(*w.repinned);
  }

  std::vector<std::pair<std::size_t, const decltype(reactions)::value_type*>> ordered;
  ordered.reserve(reactions.size());
  for (const auto& entry : reactions) ordered.emplace_back(entry.second.order, &entry);
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, entry] : ordered) {
    const auto& [key, r] = *entry;
    const auto& [message_id, emoji, user_id] = key;
    if (state[message_id].now.deleted) continue;  // the delete removes every reaction of the target
    if (r.removed) out.reactions_removed.push_back({message_id, emoji, user_id, 0});
    if (r.present) out.reactions_added.push_back({message_id, emoji, user_id, r.add_event});
  }
  return out;
}

}  // namespace chat::chatd::pipeline
