// The persistence consumer's fold of room events (pipeline/event_fold.hpp): every rule a race
// can change, applied in partition order within a batch and against the stored state across
// batches. The SQL that loads the state and writes the effects is tested end to end
// (tests/integration/test_lifecycle_persist.py).
#include "pipeline/event_fold.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

namespace chat::chatd::pipeline {
namespace {

using proto::event_kind;
using effects = store::event_effects;

constexpr std::int64_t room = 5;
constexpr std::int64_t alice = 7;  // sender of the targets
constexpr std::int64_t bob = 8;
constexpr std::int64_t t0 = 1'800'000'000'000;  // the targets' createdAt
constexpr auto window = std::chrono::hours(48);

store::event_target target(std::int64_t id, std::int64_t sender = alice) {
  store::event_target t;
  t.id = id;
  t.room_id = room;
  t.sender_id = sender;
  t.created_at_ms = t0;
  return t;
}

// A batch of events; ids grow with the position (partition order).
class batch {
 public:
  batch& add(event_kind kind, std::int64_t target_id, std::int64_t sender = alice, std::string text = {},
             std::int64_t at = t0 + 1000) {
    proto::chat_message& m = events_.emplace_back();
    m.id = 1000 + static_cast<std::int64_t>(events_.size());
    m.message_key = "k" + std::to_string(m.id);
    m.room_id = room;
    m.sender_id = sender;
    m.event = kind;
    m.target_id = target_id;
    if (kind == event_kind::edited) m.content = text;
    if (kind == event_kind::reaction_added || kind == event_kind::reaction_removed) m.emoji = text;
    if (kind == event_kind::preview) m.preview = proto::link_preview{"https://example.com/" + text, text, "", "", ""};
    m.created_at_ms = at;
    return *this;
  }
  proto::chat_message& last() { return events_.back(); }
  std::int64_t id(std::size_t position) const { return events_[position].id; }

  effects fold(const std::vector<store::event_target>& targets) const {
    std::vector<const proto::chat_message*> ptrs;
    for (const auto& e : events_) ptrs.push_back(&e);
    return fold_events(ptrs, targets, window);
  }

 private:
  std::deque<proto::chat_message> events_;  // stable addresses
};

std::vector<std::pair<std::size_t, std::string>> dropped(const effects& e) {
  std::vector<std::pair<std::size_t, std::string>> out;
  for (const auto& d : e.dropped) out.emplace_back(d.position, std::string(d.reason));
  return out;
}

using drops = std::vector<std::pair<std::size_t, std::string>>;

// ---- edits ----------------------------------------------------------------------------------

TEST(event_fold, an_edit_by_the_sender_within_the_window_changes_content_and_edited_at) {
  batch b;
  b.add(event_kind::edited, 10, alice, "first", t0 + 5).add(event_kind::edited, 10, alice, "second", t0 + 9);
  const auto e = b.fold({target(10)});
  EXPECT_TRUE(e.dropped.empty());
  ASSERT_EQ(e.messages.size(), 1u);  // one row per message: the last edit wins
  EXPECT_EQ(e.messages[0], (effects::message_update{10, "second", t0 + 9, false}));
  EXPECT_TRUE(e.reactions_added.empty() && e.reactions_removed.empty() && e.pinned.empty() && e.unpinned.empty());
}

TEST(event_fold, an_edit_by_someone_else_is_dropped) {
  batch b;
  b.add(event_kind::edited, 10, bob, "mine now");
  const auto e = b.fold({target(10)});
  EXPECT_EQ(dropped(e), (drops{{0, "not_sender"}}));
  EXPECT_TRUE(e.messages.empty());
}

TEST(event_fold, an_edit_after_the_edit_window_is_dropped_at_the_boundary_not_before) {
  const std::int64_t w = std::chrono::milliseconds(window).count();
  batch b;
  b.add(event_kind::edited, 10, alice, "just in time", t0 + w).add(event_kind::edited, 10, alice, "late", t0 + w + 1);
  const auto e = b.fold({target(10)});
  EXPECT_EQ(dropped(e), (drops{{1, "edit_window_closed"}}));
  ASSERT_EQ(e.messages.size(), 1u);
  EXPECT_EQ(e.messages[0].content, "just in time");
}

TEST(event_fold, a_system_message_takes_no_edit_delete_or_reaction_but_may_be_pinned) {
  auto sys = target(10);
  sys.type = proto::message_type::system;
  batch b;
  b.add(event_kind::edited, 10, alice, "x")
      .add(event_kind::deleted, 10)
      .add(event_kind::reaction_added, 10, bob, "👍")
      .add(event_kind::reaction_removed, 10, bob, "👍")
      .add(event_kind::pinned, 10);
  const auto e = b.fold({sys});
  EXPECT_EQ(dropped(e),
            (drops{{0, "system_message"}, {1, "system_message"}, {2, "system_message"}, {3, "system_message"}}));
  EXPECT_TRUE(e.messages.empty());
  ASSERT_EQ(e.pinned.size(), 1u);
}

TEST(event_fold, an_event_without_a_stored_target_or_of_another_room_is_dropped) {
  auto elsewhere = target(11);
  elsewhere.room_id = room + 1;
  batch b;
  b.add(event_kind::edited, 99, alice, "x").add(event_kind::deleted, 11);
  const auto e = b.fold({target(10), elsewhere});
  EXPECT_EQ(dropped(e), (drops{{0, "no_target"}, {1, "other_room"}}));
  EXPECT_TRUE(e.messages.empty());
}

// ---- deletes ----------------------------------------------------------------------------------

TEST(event_fold, delete_then_edit_in_one_batch_leaves_a_tombstone_and_drops_the_edit) {
  batch b;
  b.add(event_kind::deleted, 10).add(event_kind::edited, 10, alice, "too late");
  const auto e = b.fold({target(10)});
  EXPECT_EQ(dropped(e), (drops{{1, "deleted"}}));
  ASSERT_EQ(e.messages.size(), 1u);
  EXPECT_EQ(e.messages[0], (effects::message_update{10, "", std::nullopt, true}));
}

TEST(event_fold, edit_then_delete_in_one_batch_ends_deleted_with_empty_content) {
  batch b;
  b.add(event_kind::edited, 10, alice, "changed").add(event_kind::deleted, 10);
  const auto e = b.fold({target(10)});
  EXPECT_TRUE(e.dropped.empty());
  ASSERT_EQ(e.messages.size(), 1u);
  EXPECT_TRUE(e.messages[0].deleted);
  EXPECT_EQ(e.messages[0].content, "");
}

TEST(event_fold, an_edit_in_a_later_batch_than_the_delete_is_dropped) {
  auto deleted = target(10);
  deleted.deleted = true;  // what the first batch stored
  batch b;
  b.add(event_kind::edited, 10, alice, "too late");
  const auto e = b.fold({deleted});
  EXPECT_EQ(dropped(e), (drops{{0, "deleted"}}));
  EXPECT_TRUE(e.messages.empty());
}

TEST(event_fold, a_delete_is_terminal_reactions_and_pin_go_later_events_are_dropped) {
  auto pinned = target(10);
  pinned.pinned = true;
  pinned.room_pin_count = 1;
  batch b;
  b.add(event_kind::reaction_added, 10, bob, "👍")
      .add(event_kind::deleted, 10, bob)  // an admin's delete: trusted
      .add(event_kind::reaction_added, 10, bob, "🎉")
      .add(event_kind::pinned, 10)
      .add(event_kind::unpinned, 10)  // not pinned any more: nothing
      .add(event_kind::deleted, 10);  // deleting a deleted message: nothing
  const auto e = b.fold({pinned});
  EXPECT_EQ(dropped(e), (drops{{2, "deleted"}, {3, "deleted"}}));
  ASSERT_EQ(e.messages.size(), 1u);
  EXPECT_TRUE(e.messages[0].deleted);
  EXPECT_TRUE(e.reactions_added.empty());  // the writer deletes every reaction of a deleted message
  EXPECT_TRUE(e.reactions_removed.empty());
  EXPECT_EQ(e.unpinned, std::vector<std::int64_t>{10});
  EXPECT_TRUE(e.pinned.empty());
}

TEST(event_fold, deleting_an_already_deleted_message_changes_nothing) {
  auto deleted = target(10);
  deleted.deleted = true;
  batch b;
  b.add(event_kind::deleted, 10);
  const auto e = b.fold({deleted});
  EXPECT_TRUE(e.dropped.empty());
  EXPECT_TRUE(e.messages.empty());
  EXPECT_TRUE(e.unpinned.empty());
}

// ---- reactions --------------------------------------------------------------------------------

TEST(event_fold, reactions_are_net_per_target_emoji_and_user) {
  batch b;
  b.add(event_kind::reaction_added, 10, bob, "👍")     // 0
      .add(event_kind::reaction_added, 10, bob, "👍")  // 1: twice: nothing more
      .add(event_kind::reaction_added, 10, alice, "👍")
      .add(event_kind::reaction_removed, 10, alice, "👍")
      .add(event_kind::reaction_removed, 10, bob, "🎉");  // not there: a no-op delete
  const auto e = b.fold({target(10)});
  EXPECT_TRUE(e.dropped.empty());
  EXPECT_EQ(e.reactions_added, (std::vector<effects::reaction>{{10, "👍", bob, b.id(0)}}));
  EXPECT_EQ(e.reactions_removed, (std::vector<effects::reaction>{{10, "👍", alice, 0}, {10, "🎉", bob, 0}}));
  EXPECT_TRUE(e.messages.empty());
}

TEST(event_fold, reaction_add_remove_add_replaces_the_row_with_the_last_add) {
  batch b;
  b.add(event_kind::reaction_added, 10, bob, "👍")
      .add(event_kind::reaction_removed, 10, bob, "👍")
      .add(event_kind::reaction_added, 10, bob, "👍")
      .add(event_kind::reaction_added, 10, bob, "👍");
  const auto e = b.fold({target(10)});
  // Delete whatever row there was (from an earlier batch), then insert the one added after the remove.
  EXPECT_EQ(e.reactions_removed, (std::vector<effects::reaction>{{10, "👍", bob, 0}}));
  EXPECT_EQ(e.reactions_added, (std::vector<effects::reaction>{{10, "👍", bob, b.id(2)}}));
}

TEST(event_fold, reaction_remove_then_add_of_a_stored_reaction_and_add_remove_of_a_new_one) {
  batch b;
  b.add(event_kind::reaction_added, 10, bob, "🎉").add(event_kind::reaction_removed, 10, bob, "🎉");
  const auto e = b.fold({target(10)});
  EXPECT_TRUE(e.reactions_added.empty());
  EXPECT_EQ(e.reactions_removed, (std::vector<effects::reaction>{{10, "🎉", bob, 0}}));
}

TEST(event_fold, reactions_on_a_deleted_target_are_dropped) {
  auto deleted = target(10);
  deleted.deleted = true;
  batch b;
  b.add(event_kind::reaction_added, 10, bob, "👍").add(event_kind::reaction_removed, 10, bob, "👍");
  const auto e = b.fold({deleted});
  EXPECT_EQ(dropped(e), (drops{{0, "deleted"}, {1, "deleted"}}));
  EXPECT_TRUE(e.reactions_added.empty() && e.reactions_removed.empty());
}

// ---- pins -------------------------------------------------------------------------------------

TEST(event_fold, at_most_three_pins_per_room_counting_the_batch) {
  std::vector<store::event_target> targets;
  for (std::int64_t id : {10, 11, 12, 13, 14}) {
    auto t = target(id);
    t.room_pin_count = 1;  // 14 is pinned already
    t.pinned = id == 14;
    targets.push_back(t);
  }
  batch b;
  b.add(event_kind::pinned, 10)
      .add(event_kind::pinned, 10)  // pinned already: nothing
      .add(event_kind::pinned, 11)  // the third
      .add(event_kind::pinned, 12)  // a fourth: dropped
      .add(event_kind::unpinned, 14)
      .add(event_kind::pinned, 13)     // room again below the limit
      .add(event_kind::unpinned, 12);  // never pinned: nothing
  const auto e = b.fold(targets);
  EXPECT_EQ(dropped(e), (drops{{3, "pin_limit"}}));
  ASSERT_EQ(e.pinned.size(), 3u);
  EXPECT_EQ(e.pinned[0], (effects::pin{room, 10, alice, t0 + 1000}));
  EXPECT_EQ(e.pinned[1].message_id, 11);
  EXPECT_EQ(e.pinned[2].message_id, 13);
  EXPECT_EQ(e.unpinned, std::vector<std::int64_t>{14});
}

TEST(event_fold, the_pin_limit_holds_against_the_stored_count) {
  auto t = target(10);
  t.room_pin_count = 3;
  batch b;
  b.add(event_kind::pinned, 10);
  const auto e = b.fold({t});
  EXPECT_EQ(dropped(e), (drops{{0, "pin_limit"}}));
  EXPECT_TRUE(e.pinned.empty());
}

TEST(event_fold, unpin_then_pin_again_replaces_the_row) {
  auto t = target(10);
  t.pinned = true;
  t.room_pin_count = 3;
  batch b;
  b.add(event_kind::unpinned, 10).add(event_kind::pinned, 10, bob, {}, t0 + 5000);
  const auto e = b.fold({t});
  EXPECT_TRUE(e.dropped.empty());
  EXPECT_EQ(e.unpinned, std::vector<std::int64_t>{10});
  EXPECT_EQ(e.pinned, (std::vector<effects::pin>{{room, 10, bob, t0 + 5000}}));
}

TEST(event_fold, pin_then_unpin_in_one_batch_writes_nothing) {
  batch b;
  b.add(event_kind::pinned, 10).add(event_kind::unpinned, 10);
  const auto e = b.fold({target(10)});
  EXPECT_TRUE(e.pinned.empty());
  EXPECT_TRUE(e.unpinned.empty());
  EXPECT_TRUE(e.dropped.empty());
}

TEST(event_fold, a_deleted_message_frees_its_pin_slot_within_the_batch) {
  std::vector<store::event_target> targets;
  for (std::int64_t id : {10, 11}) {
    auto t = target(id);
    t.room_pin_count = 3;
    t.pinned = id == 10;
    targets.push_back(t);
  }
  batch b;
  b.add(event_kind::deleted, 10).add(event_kind::pinned, 11);
  const auto e = b.fold(targets);
  EXPECT_TRUE(e.dropped.empty());
  EXPECT_EQ(e.unpinned, std::vector<std::int64_t>{10});
  ASSERT_EQ(e.pinned.size(), 1u);
  EXPECT_EQ(e.pinned[0].message_id, 11);
}

TEST(event_fold, pins_of_a_deleted_target_are_dropped_and_nothing_is_written) {
  auto deleted = target(10);
  deleted.deleted = true;
  batch b;
  b.add(event_kind::pinned, 10).add(event_kind::unpinned, 10);
  const auto e = b.fold({deleted});
  EXPECT_EQ(dropped(e), (drops{{0, "deleted"}}));
  EXPECT_TRUE(e.pinned.empty() && e.unpinned.empty());
}

// ---- several targets ----------------------------------------------------------------------------

TEST(event_fold, targets_are_independent_and_updates_come_in_first_touch_order) {
  batch b;
  b.add(event_kind::edited, 11, alice, "b").add(event_kind::deleted, 10).add(event_kind::edited, 11, alice, "c");
  const auto e = b.fold({target(10), target(11)});
  ASSERT_EQ(e.messages.size(), 2u);
  EXPECT_EQ(e.messages[0].id, 11);
  EXPECT_EQ(e.messages[0].content, "c");
  EXPECT_EQ(e.messages[1].id, 10);
  EXPECT_TRUE(e.messages[1].deleted);
}

TEST(event_fold, an_empty_batch_changes_nothing) {
  const auto e = batch{}.fold({});
  EXPECT_TRUE(e.messages.empty() && e.dropped.empty() && e.pinned.empty());
}

// ---- link previews (message.preview) ---------------------------------------------------------

TEST(event_fold, a_preview_of_the_senders_message_is_set_and_the_last_one_of_a_batch_wins) {
  batch b;
  b.add(event_kind::preview, 10, alice, "one")
      .add(event_kind::preview, 11, bob, "two")
      .add(event_kind::preview, 10, alice, "three");
  const auto e = b.fold({target(10), target(11, bob)});
  EXPECT_TRUE(e.dropped.empty());
  ASSERT_EQ(e.previews.size(), 2u);
  EXPECT_EQ(e.previews[0].message_id, 10);
  EXPECT_EQ(e.previews[0].value.title, "three");
  EXPECT_EQ(e.previews[1].message_id, 11);
  EXPECT_EQ(e.previews[1].value.url, "https://example.com/two");
  EXPECT_TRUE(e.messages.empty()) << "a preview changes no content";
}

TEST(event_fold, a_preview_of_a_deleted_system_or_missing_message_or_by_another_sender_is_dropped) {
  auto deleted = target(10);
  deleted.deleted = true;
  auto notice = target(11);
  notice.type = proto::message_type::system;
  batch b;
  b.add(event_kind::preview, 10, alice, "a")
      .add(event_kind::preview, 11, alice, "b")
      .add(event_kind::preview, 12, bob, "c")
      .add(event_kind::preview, 99, alice, "d");
  const auto e = b.fold({deleted, notice, target(12)});
  EXPECT_EQ(dropped(e), (drops{{0, "deleted"}, {1, "system_message"}, {2, "not_sender"}, {3, "no_target"}}));
  EXPECT_TRUE(e.previews.empty());
}

TEST(event_fold, a_message_deleted_after_its_preview_in_the_batch_keeps_none) {
  batch b;
  b.add(event_kind::preview, 10, alice, "a").add(event_kind::deleted, 10);
  const auto e = b.fold({target(10)});
  EXPECT_TRUE(e.dropped.empty());
  EXPECT_TRUE(e.previews.empty());
  ASSERT_EQ(e.messages.size(), 1u);
  EXPECT_TRUE(e.messages[0].deleted);
}

}  // namespace
}  // namespace chat::chatd::pipeline
