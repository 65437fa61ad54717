// The consumers' batch policy against fake store writers: what becomes poison, what is an
// infrastructure failure, and which unread counts go to the cache. The SQL itself is tested
// end to end (tests/integration/test_pipeline_consumers.py).
#include "pipeline/event_fold.hpp"
#include "pipeline/persistence_handler.hpp"
#include "pipeline/receipts_handler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace chat::chatd::pipeline {
namespace {

store::error data_error(std::string sqlstate, std::string message) {
  return {store::errc::rejected, std::move(sqlstate), std::move(message)};
}

store::error lost_connection() {
  return {store::errc::unavailable, {}, "server closed the connection unexpectedly\n\tThis probably means ..."};
}

// Refuses any write that contains a message whose content is in `refused` (as PostgreSQL
// refuses a whole statement), fails every write from the `fail_from`th call on, and knows
// only the rooms in `rooms`. Each call's rows are recorded.
class fake_message_writer final : public store::message_writer {
 public:
  std::set<std::string> refused;
  std::set<std::int64_t> rooms{1, 2};
  std::set<std::int64_t> users{7};
  int fail_from = -1;
  std::vector<std::vector<std::string>> calls;  // contents per call

  std::vector<store::event_target> targets;  // what the fold sees
  std::set<std::string> seen_events;         // messageKeys of room_events rows
  // The progress each call wrote (persist: with its rows; "" marks a record_progress call).
  std::vector<std::pair<std::string, std::vector<store::partition_progress>>> progress_writes;

  store::result<void> record_progress(std::span<const store::partition_progress> progress) override {
    calls.push_back({});
    if (fail_from >= 0 && static_cast<int>(calls.size()) > fail_from) return chat::unexpected(lost_connection());
    progress_writes.emplace_back("", std::vector(progress.begin(), progress.end()));
    return {};
  }

  store::result<store::persisted> persist(std::span<const store::message_row> rows, const store::event_folder& fold,
                                          std::span<const store::partition_progress> progress) override {
    std::vector<std::string> contents;
    for (const auto& r : rows) contents.push_back(r.message->content);
    calls.push_back(contents);
    if (fail_from >= 0 && static_cast<int>(calls.size()) > fail_from) return chat::unexpected(lost_connection());
    for (const auto& r : rows) {
      if (refused.contains(r.message->content)) {
        return chat::unexpected(data_error("23514", "new row violates check constraint\nDETAIL: ..."));
      }
    }
    store::persisted out;
    std::vector<const proto::chat_message*> events;
    std::vector<std::size_t> event_rows;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& m = *rows[i].message;
      if (!rooms.contains(m.room_id)) {
        out.unknown_room.push_back(i);
      } else if (!users.contains(m.sender_id)) {
        out.unknown_sender.push_back(i);
      } else if (m.event != proto::event_kind::message) {
        if (seen_events.insert(m.message_key).second) {
          events.push_back(&m);
          event_rows.push_back(i);
        }
      } else {
        ++out.inserted;
        out.unread.push_back({m.room_id, 8, static_cast<std::int64_t>(out.inserted), 0, m.id});
      }
    }
    if (!events.empty()) {
      out.events_new = events.size();
      for (const auto& d : fold(events, targets).dropped)
        out.events_dropped.push_back({event_rows[d.position], d.reason});
    }
    if (!progress.empty()) progress_writes.emplace_back("persist", std::vector(progress.begin(), progress.end()));
    return out;
  }
};

message_record record(std::size_t index, std::int64_t room, std::string content, std::int64_t sender = 7) {
  message_record r;
  r.index = index;
  r.partition = 0;
  r.offset = static_cast<std::int64_t>(index);
  r.message.id = static_cast<std::int64_t>(100 + index);
  r.message.message_key = "key-" + std::to_string(index);
  r.message.room_id = room;
  r.message.sender_id = sender;
  r.message.content = std::move(content);
  return r;
}

message_record event(std::size_t index, std::int64_t room, proto::event_kind kind, std::int64_t target) {
  auto r = record(index, room, kind == proto::event_kind::edited ? "new text" : "");
  r.message.event = kind;
  r.message.target_id = target;
  return r;
}

// Folds like the consumer (pipeline/event_fold.hpp) with a 48 h edit window.
const store::event_folder fold = [](std::span<const proto::chat_message* const> events,
                                    std::span<const store::event_target> targets) {
  return fold_events(events, targets, std::chrono::hours(48));
};

TEST(persist_records, one_write_for_the_batch_and_unknown_rooms_and_senders_are_poison) {
  fake_message_writer writer;
  const std::vector<message_record> records{record(0, 1, "a"), record(2, 9, "b"), record(3, 2, "c", 5)};
  const auto report = persist_records(writer, records, fold);
  ASSERT_FALSE(report.infra_error);
  EXPECT_EQ(writer.calls.size(), 1u);
  ASSERT_EQ(report.failures.size(), 2u);
  EXPECT_EQ(report.failures[0].index, 2u);
  EXPECT_EQ(report.failures[0].error_class, "unknown_room");
  EXPECT_EQ(report.failures[0].message, "room 9 does not exist");
  EXPECT_EQ(report.failures[1].index, 3u);
  EXPECT_EQ(report.failures[1].error_class, "unknown_sender");
  EXPECT_EQ(report.failures[1].message, "sender 5 does not exist");
  EXPECT_EQ(report.inserted, 1u);
  ASSERT_EQ(report.unread.size(), 1u);
  EXPECT_EQ(report.unread[0].room_id, 1);
  EXPECT_EQ(report.unread[0].version, 100);
}

TEST(persist_records, a_batch_refused_for_its_data_is_stored_record_by_record) {
  fake_message_writer writer;
  writer.refused = {"bad"};
  const std::vector<message_record> records{record(0, 1, "a"), record(1, 1, "bad"), record(4, 9, "c"),
                                            record(5, 2, "d")};
  const auto report = persist_records(writer, records, fold);
  ASSERT_FALSE(report.infra_error);
  ASSERT_EQ(writer.calls.size(), 5u);  // the batch, then each record alone
  EXPECT_EQ(writer.calls[2], std::vector<std::string>{"bad"});
  ASSERT_EQ(report.failures.size(), 2u);
  EXPECT_EQ(report.failures[0].index, 1u);
  EXPECT_EQ(report.failures[0].kind, failure_kind::poison);
  EXPECT_EQ(report.failures[0].error_class, "sql_23514");
  EXPECT_EQ(report.failures[0].message, "new row violates check constraint");
  EXPECT_EQ(report.failures[1].index, 4u);  // an unknown room found by its own write
  EXPECT_EQ(report.failures[1].error_class, "unknown_room");
  EXPECT_EQ(report.inserted, 2u);
  EXPECT_EQ(report.unread.size(), 2u);
}

TEST(persist_records, a_lost_connection_fails_the_whole_batch) {
  fake_message_writer writer;
  writer.fail_from = 0;
  const auto report = persist_records(writer, {record(0, 1, "a"), record(1, 9, "b")}, fold);
  ASSERT_TRUE(report.infra_error);
  EXPECT_EQ(*report.infra_error, "postgres: server closed the connection unexpectedly");
  EXPECT_TRUE(report.failures.empty());
  EXPECT_TRUE(report.unread.empty());
  EXPECT_EQ(writer.calls.size(), 1u);
}

TEST(persist_records, a_lost_connection_while_storing_one_by_one_drops_what_was_stored) {
  fake_message_writer writer;
  writer.refused = {"bad"};
  writer.fail_from = 2;  // the batch and the first record answer, then the database goes
  const auto report = persist_records(writer, {record(0, 1, "a"), record(1, 1, "bad"), record(2, 1, "c")}, fold);
  ASSERT_TRUE(report.infra_error);
  EXPECT_TRUE(report.failures.empty());
  EXPECT_TRUE(report.unread.empty());  // the loop redelivers the batch; the cache waits for it
  EXPECT_EQ(report.inserted, 0u);
}

TEST(persist_records, dropped_events_are_reported_with_their_batch_position_and_are_not_poison) {
  fake_message_writer writer;
  writer.targets = {{.id = 50, .room_id = 1, .sender_id = 7, .deleted = true, .created_at_ms = 0}};
  auto edit = event(3, 1, proto::event_kind::edited, 50);
  edit.partition = 4;
  edit.offset = 77;
  const std::vector<message_record> records{record(0, 1, "a"), event(2, 1, proto::event_kind::reaction_added, 99),
                                            edit};
  const auto report = persist_records(writer, records, fold);
  ASSERT_FALSE(report.infra_error);
  EXPECT_TRUE(report.failures.empty());
  EXPECT_EQ(report.inserted, 1u);
  EXPECT_EQ(report.events_new, 2u);
  ASSERT_EQ(report.dropped.size(), 2u);
  EXPECT_EQ(report.dropped[0].index, 2u);
  EXPECT_EQ(report.dropped[0].reason, "no_target");
  EXPECT_EQ(report.dropped[1].index, 3u);
  EXPECT_EQ(report.dropped[1].partition, 4);
  EXPECT_EQ(report.dropped[1].offset, 77);
  EXPECT_EQ(report.dropped[1].reason, "deleted");
  EXPECT_EQ(report.unread.size(), 1u);  // only the message counts as unread
}

TEST(persist_records, dropped_events_found_record_by_record_keep_their_positions) {
  fake_message_writer writer;
  writer.refused = {"bad"};
  const std::vector<message_record> records{record(0, 1, "bad"), event(1, 1, proto::event_kind::pinned, 99)};
  const auto report = persist_records(writer, records, fold);
  ASSERT_FALSE(report.infra_error);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].index, 0u);
  ASSERT_EQ(report.dropped.size(), 1u);
  EXPECT_EQ(report.dropped[0].index, 1u);
  EXPECT_EQ(report.events_new, 1u);
}

// A record's position, as partition_progress_of reads it from a kafka::record.
struct record_position {
  std::int32_t p = 0;
  std::int64_t o = 0;
  std::int32_t partition() const { return p; }
  std::int64_t offset() const { return o; }
};

TEST(partition_progress_of, the_offset_after_the_last_record_of_each_partition) {
  const std::vector<record_position> batch{{3, 10}, {1, 7}, {3, 11}, {1, 8}, {0, 0}, {3, 12}};
  const auto progress = partition_progress_of(batch);
  const std::vector<store::partition_progress> expected{{0, 1}, {1, 9}, {3, 13}};
  EXPECT_EQ(progress, expected);
  EXPECT_TRUE(partition_progress_of(std::vector<record_position>{}).empty());
}

TEST(persist_records, the_progress_is_written_with_the_rows_of_the_batch) {
  fake_message_writer writer;
  const std::vector<store::partition_progress> progress{{0, 6}, {2, 40}};
  // A record of an unknown room is poison, and still counts: the store will never have it.
  const auto report = persist_records(writer, {record(0, 1, "a"), record(5, 9, "b")}, fold, progress);
  ASSERT_FALSE(report.infra_error);
  ASSERT_EQ(writer.calls.size(), 1u);
  ASSERT_EQ(writer.progress_writes.size(), 1u);
  EXPECT_EQ(writer.progress_writes[0].first, "persist");
  EXPECT_EQ(writer.progress_writes[0].second, progress);
}

TEST(persist_records, record_by_record_the_progress_follows_the_last_record) {
  fake_message_writer writer;
  writer.refused = {"bad"};
  const std::vector<store::partition_progress> progress{{0, 3}};
  const auto report =
      persist_records(writer, {record(0, 1, "a"), record(1, 1, "bad"), record(2, 1, "c")}, fold, progress);
  ASSERT_FALSE(report.infra_error);
  // The refused batch wrote nothing; each record alone writes no progress (a later one may
  // still fail); the progress comes last, on its own.
  ASSERT_EQ(writer.calls.size(), 5u);
  ASSERT_EQ(writer.progress_writes.size(), 1u);
  EXPECT_EQ(writer.progress_writes[0].first, "");
  EXPECT_EQ(writer.progress_writes[0].second, progress);
}

TEST(persist_records, progress_that_cannot_be_written_fails_the_batch) {
  fake_message_writer writer;
  writer.refused = {"bad"};
  writer.fail_from = 3;  // the batch, both records, then the progress write fails
  const std::vector<store::partition_progress> progress{{0, 2}};
  const auto report = persist_records(writer, {record(0, 1, "a"), record(1, 1, "bad")}, fold, progress);
  ASSERT_TRUE(report.infra_error);
  EXPECT_TRUE(writer.progress_writes.empty());
  EXPECT_TRUE(report.unread.empty());
}

// Members: (room 1, users 7 and 8). Refuses any write with a mark of `refused_room`.
class fake_read_mark_writer final : public store::read_mark_writer {
 public:
  std::int64_t refused_room = -1;
  bool down = false;
  int calls = 0;
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> stored;  // forwards only, like the store

  store::result<std::vector<store::unread_change>> apply(std::span<const store::read_mark> marks) override {
    ++calls;
    if (down) return chat::unexpected(lost_connection());
    std::vector<store::unread_change> out;
    for (const auto& m : marks) {
      if (m.room_id == refused_room) return chat::unexpected(data_error("22003", "bigint out of range"));
      if (m.room_id == 1 && (m.user_id == 7 || m.user_id == 8)) {
        auto& mark = stored[{m.room_id, m.user_id}];
        const bool moved = m.last_read_message_id > mark;
        mark = std::max(mark, m.last_read_message_id);
        out.push_back({m.room_id, m.user_id, 0, mark, 5, moved});
      }
    }
    return out;
  }
};

receipt_update update(std::int64_t room, std::int64_t user, std::int64_t last, std::vector<std::size_t> indexes) {
  return {room, user, last, std::move(indexes)};
}

TEST(apply_receipts, non_members_are_poison_and_members_go_to_the_cache_in_order) {
  fake_read_mark_writer writer;
  const auto report = apply_receipts(writer, {update(1, 8, 40, {0, 2}), update(3, 7, 10, {1}), update(1, 7, 41, {3})});
  ASSERT_FALSE(report.infra_error);
  EXPECT_EQ(writer.calls, 1);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].index, 1u);
  EXPECT_EQ(report.failures[0].error_class, "not_a_member");
  EXPECT_EQ(report.failures[0].message, "user 7 is not a member of room 3 (or the room does not exist)");
  ASSERT_EQ(report.unread.size(), 2u);
  EXPECT_EQ(report.unread[0].user_id, 8);
  EXPECT_EQ(report.unread[0].last_read_message_id, 40);
  EXPECT_EQ(report.unread[1].user_id, 7);
}

// Only marks that moved become read events (the live chat-event:read); a repeated or older mark
// still refreshes the cache but publishes nothing.
TEST(apply_receipts, read_events_only_for_marks_that_moved) {
  fake_read_mark_writer writer;
  auto report = apply_receipts(writer, {update(1, 8, 40, {0}), update(3, 7, 10, {1}), update(1, 7, 41, {2})});
  ASSERT_EQ(report.reads.size(), 2u);
  EXPECT_EQ(report.reads[0], (proto::read_event{1, 8, 40}));
  EXPECT_EQ(report.reads[1], (proto::read_event{1, 7, 41}));

  report = apply_receipts(writer, {update(1, 8, 40, {0}), update(1, 7, 30, {1})});
  EXPECT_EQ(report.unread.size(), 2u);
  EXPECT_TRUE(report.reads.empty());
  EXPECT_EQ(report.unread[1].last_read_message_id, 41);

  report = apply_receipts(writer, {update(1, 8, 45, {0}), update(1, 7, 41, {1})});
  ASSERT_EQ(report.reads.size(), 1u);
  EXPECT_EQ(report.reads[0], (proto::read_event{1, 8, 45}));

  writer.down = true;
  report = apply_receipts(writer, {update(1, 8, 50, {0})});
  EXPECT_TRUE(report.reads.empty());
}

TEST(apply_receipts, a_refused_value_poisons_only_its_receipts) {
  fake_read_mark_writer writer;
  writer.refused_room = 6;
  const auto report = apply_receipts(writer, {update(1, 8, 40, {0}), update(6, 7, 10, {1, 2})});
  ASSERT_FALSE(report.infra_error);
  EXPECT_EQ(writer.calls, 3);
  ASSERT_EQ(report.failures.size(), 2u);
  EXPECT_EQ(report.failures[0].index, 1u);
  EXPECT_EQ(report.failures[0].error_class, "sql_error");
  EXPECT_EQ(report.failures[0].message, "bigint out of range");
  EXPECT_EQ(report.failures[1].index, 2u);
  ASSERT_EQ(report.unread.size(), 1u);
  EXPECT_EQ(report.unread[0].room_id, 1);
}

TEST(apply_receipts, an_unreachable_database_fails_the_batch) {
  fake_read_mark_writer writer;
  writer.down = true;
  const auto report = apply_receipts(writer, {update(1, 8, 40, {0})});
  ASSERT_TRUE(report.infra_error);
  EXPECT_EQ(*report.infra_error, "postgres: server closed the connection unexpectedly");
  EXPECT_TRUE(report.failures.empty());
  EXPECT_TRUE(report.unread.empty());
}

}  // namespace
}  // namespace chat::chatd::pipeline
