// One scheduler batch against a fake claim and a fake log: what is published, what is recorded as
// sent or cancelled, and that nothing is recorded for an occurrence Kafka did not acknowledge.
#include "scheduler/schedule_rules.hpp"
#include "scheduler/scheduler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

namespace {

namespace sched = chat::chatd::scheduler;
using chat::chatd::publish_result;
using chat::proto::schedule_repeat;

class fake_claim final : public chat::store::due_claim {
 public:
  std::vector<chat::store::due_schedule> rows;
  struct sent_row {
    std::int64_t id, occurrence;
    std::optional<std::int64_t> next;
  };
  std::vector<sent_row> sent_rows;
  std::vector<std::pair<std::int64_t, chat::store::schedule_cancel_reason>> cancelled_rows;
  bool commit_fails = false;
  int commits = 0;

  std::span<const chat::store::due_schedule> schedules() const override { return rows; }
  void sent(std::int64_t id, std::int64_t occurrence_ms, std::optional<std::int64_t> next_at_ms) override {
    sent_rows.push_back({id, occurrence_ms, next_at_ms});
  }
  void cancelled(std::int64_t id, chat::store::schedule_cancel_reason reason) override {
    cancelled_rows.emplace_back(id, reason);
  }
  chat::store::result<void> commit() override {
    ++commits;
    if (commit_fails) return chat::unexpected(chat::store::error{chat::store::errc::unavailable, "08006", "gone"});
    return {};
  }
};

// Answers at once: acknowledged at offset n, unless the room is in `refuse`, or not at all when in
// `silent` (the batch then gives up after its ack timeout).
class fake_log final : public chat::chatd::message_log {
 public:
  std::vector<chat::proto::chat_message> published;
  std::set<std::int64_t> refuse;
  std::set<std::int64_t> silent;

  void publish_message(const chat::proto::chat_message& m, chat::chatd::publish_callback cb) override {
    published.push_back(m);
    if (silent.contains(m.room_id)) {
      held_.push_back(std::move(cb));
      return;
    }
    publish_result r;
    r.ok = !refuse.contains(m.room_id);
    if (!r.ok) r.error = "broker down";
    r.partition = 0;
    r.offset = static_cast<std::int64_t>(published.size());
    cb(r);
  }
  void publish_read_receipt(const chat::proto::read_receipt&, chat::chatd::publish_callback cb) override {
    cb(publish_result{});
  }
  // Late answers after the batch gave up must not reach freed state.
  void answer_held() {
    for (auto& cb : held_) cb(publish_result{true, false, {}, 0, 99});
    held_.clear();
  }

 private:
  std::vector<chat::chatd::publish_callback> held_;
};

chat::store::due_schedule due(std::int64_t id, std::int64_t room, std::int64_t next_at,
                              schedule_repeat repeat = schedule_repeat::once) {
  chat::store::due_schedule s;
  s.id = id;
  s.room_id = room;
  s.author_id = 7;
  s.author_nickname = "ann";
  s.content = "stand-up in 5";
  s.repeat = repeat;
  s.first_at_ms = next_at;
  s.next_at_ms = next_at;
  s.created_at_ms = next_at - 60'000;
  s.author_is_member = true;
  return s;
}

constexpr std::int64_t batch_now = 1'800'000'000'000;

sched::scheduler_options quick() {
  sched::scheduler_options o;
  o.ack_timeout = std::chrono::milliseconds(50);
  o.late_after = std::chrono::milliseconds(5000);
  return o;
}

TEST(RunBatch, PublishesEachDueOccurrenceAsTheAuthorsMessageAndRecordsIt) {
  fake_claim claim;
  fake_log log;
  claim.rows = {due(1, 10, batch_now - 200), due(2, 11, batch_now - 100, schedule_repeat::daily)};
  chat::metrics::counter sent, late;
  sched::scheduler_counters counters;
  counters.sent = &sent;
  counters.late = &late;
  const auto report = sched::run_batch(claim, log, batch_now, quick(), counters);
  EXPECT_TRUE(report.committed);
  EXPECT_EQ(report.sent, 2u);
  EXPECT_EQ(sent.value(), 2u);
  EXPECT_EQ(late.value(), 0u);
  ASSERT_EQ(log.published.size(), 2u);
  const auto& m = log.published[0];
  EXPECT_EQ(m.event, chat::proto::event_kind::message);
  EXPECT_EQ(m.type, chat::proto::message_type::text);
  EXPECT_EQ(m.room_id, 10);
  EXPECT_EQ(m.sender_id, 7);
  EXPECT_EQ(m.sender_nickname, "ann");
  EXPECT_EQ(m.content, "stand-up in 5");
  EXPECT_EQ(m.created_at_ms, batch_now);
  EXPECT_EQ(m.message_key, sched::occurrence_message_key(1, batch_now - 200));
  EXPECT_EQ(m.scheduled_for_ms, std::nullopt);  // on time
  ASSERT_EQ(claim.sent_rows.size(), 2u);
  EXPECT_EQ(claim.sent_rows[0].id, 1);
  EXPECT_EQ(claim.sent_rows[0].next, std::nullopt);  // a one-off is done
  EXPECT_EQ(claim.sent_rows[1].next, batch_now - 100 + 24LL * 3600 * 1000);
  EXPECT_EQ(claim.commits, 1);
}

TEST(RunBatch, ALateOccurrenceCarriesScheduledFor) {
  fake_claim claim;
  fake_log log;
  claim.rows = {due(3, 10, batch_now - 3'600'000)};
  chat::metrics::counter late;
  sched::scheduler_counters counters;
  counters.late = &late;
  const auto report = sched::run_batch(claim, log, batch_now, quick(), counters);
  EXPECT_EQ(report.late, 1u);
  EXPECT_EQ(late.value(), 1u);
  ASSERT_EQ(log.published.size(), 1u);
  EXPECT_EQ(log.published[0].scheduled_for_ms, batch_now - 3'600'000);
  EXPECT_EQ(log.published[0].created_at_ms, batch_now);
}

TEST(RunBatch, AnAuthorWhoLeftOrABlockedPairIsCancelledNotSent) {
  fake_claim claim;
  fake_log log;
  claim.rows = {due(4, 10, batch_now), due(5, 11, batch_now), due(6, 12, batch_now)};
  claim.rows[0].author_is_member = false;
  claim.rows[1].blocked = true;
  chat::metrics::counter left, blocked;
  sched::scheduler_counters counters;
  counters.cancelled_not_member = &left;
  counters.cancelled_blocked = &blocked;
  const auto report = sched::run_batch(claim, log, batch_now, quick(), counters);
  EXPECT_EQ(report.cancelled, 2u);
  EXPECT_EQ(report.sent, 1u);
  ASSERT_EQ(log.published.size(), 1u);
  EXPECT_EQ(log.published[0].room_id, 12);
  ASSERT_EQ(claim.cancelled_rows.size(), 2u);
  EXPECT_EQ(claim.cancelled_rows[0], std::make_pair(std::int64_t{4}, chat::store::schedule_cancel_reason::not_member));
  EXPECT_EQ(claim.cancelled_rows[1], std::make_pair(std::int64_t{5}, chat::store::schedule_cancel_reason::blocked));
  EXPECT_EQ(left.value(), 1u);
  EXPECT_EQ(blocked.value(), 1u);
}

TEST(RunBatch, AnOccurrenceKafkaRefusedOrNeverAnsweredIsNotRecorded) {
  fake_claim claim;
  fake_log log;
  log.refuse = {10};
  log.silent = {11};
  claim.rows = {due(7, 10, batch_now), due(8, 11, batch_now), due(9, 12, batch_now)};
  chat::metrics::counter failed, sent;
  sched::scheduler_counters counters;
  counters.failed = &failed;
  counters.sent = &sent;
  const auto report = sched::run_batch(claim, log, batch_now, quick(), counters);
  EXPECT_EQ(report.failed, 2u);
  EXPECT_EQ(report.sent, 1u);
  EXPECT_EQ(failed.value(), 2u);
  EXPECT_EQ(sent.value(), 1u);
  ASSERT_EQ(claim.sent_rows.size(), 1u);
  EXPECT_EQ(claim.sent_rows[0].id, 9);
  log.answer_held();  // after the batch gave up: ignored, and nothing freed is touched
}

TEST(RunBatch, AFailedCommitCountsNothingSent) {
  fake_claim claim;
  fake_log log;
  claim.commit_fails = true;
  claim.rows = {due(10, 10, batch_now)};
  chat::metrics::counter sent;
  sched::scheduler_counters counters;
  counters.sent = &sent;
  const auto report = sched::run_batch(claim, log, batch_now, quick(), counters);
  EXPECT_FALSE(report.committed);
  EXPECT_EQ(report.sent, 0u);
  EXPECT_EQ(sent.value(), 0u);
  EXPECT_EQ(log.published.size(), 1u);  // published; the next claimer sends it again, same key
}

TEST(RunBatch, AResentOccurrenceHasTheSameKey) {
  // A node that died after Kafka's acknowledgement and before its commit leaves the row as it was:
  // the next batch (any node) publishes the same occurrence with the same messageKey.
  fake_claim first, second;
  fake_log log;
  first.commit_fails = true;
  first.rows = {due(11, 10, batch_now - 500, schedule_repeat::weekly)};
  second.rows = first.rows;
  sched::run_batch(first, log, batch_now, quick(), {});
  sched::run_batch(second, log, batch_now + 1500, quick(), {});
  ASSERT_EQ(log.published.size(), 2u);
  EXPECT_EQ(log.published[0].message_key, log.published[1].message_key);
}

}  // namespace

namespace {

TEST(RunBatch, AShutdownStopsWaitingForABrokerThatDoesNotAnswer) {
  fake_claim claim;
  fake_log log;
  log.silent = {10};
  claim.rows = {due(12, 10, batch_now), due(13, 11, batch_now)};
  auto options = quick();
  options.ack_timeout = std::chrono::minutes(10);
  const auto started = std::chrono::steady_clock::now();
  const auto report = sched::run_batch(claim, log, batch_now, options, {}, [] { return true; });
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes(1));
  // What was acknowledged is recorded and committed; the rest stays due.
  EXPECT_TRUE(report.committed);
  EXPECT_EQ(report.sent, 1u);
  EXPECT_EQ(report.failed, 1u);
  ASSERT_EQ(claim.sent_rows.size(), 1u);
  EXPECT_EQ(claim.sent_rows[0].id, 13);
  log.answer_held();
}

}  // namespace
