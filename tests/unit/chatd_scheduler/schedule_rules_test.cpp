#include "scheduler/schedule_rules.hpp"

#include <chat/common/time.hpp>
#include <chat/common/uuid.hpp>

#include <gtest/gtest.h>

#include <set>

namespace {

using chat::proto::schedule_repeat;
namespace sched = chat::chatd::scheduler;

std::int64_t at(std::string_view iso) {
  const auto ms = chat::common::parse_iso8601_ms(iso);
  EXPECT_TRUE(ms.has_value()) << iso;
  return ms.value_or(0);
}

std::string iso(std::int64_t ms) { return chat::common::format_iso8601_ms(ms); }

constexpr std::int64_t rules_hour_ms = 3600LL * 1000;
constexpr std::int64_t rules_day_ms = 24 * rules_hour_ms;

TEST(ScheduleRules, DailyAndWeeklyAreFixedPeriodsInUtc) {
  const auto first = at("2026-03-28T23:30:00.250Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::daily, 0)), "2026-03-28T23:30:00.250Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::daily, 1)), "2026-03-29T23:30:00.250Z");
  // No daylight saving time in UTC: a day is always 24 h.
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::daily, 5)), "2026-04-02T23:30:00.250Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::weekly, 1)), "2026-04-04T23:30:00.250Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::weekly, 52)), "2027-03-27T23:30:00.250Z");
}

TEST(ScheduleRules, MonthlyClampsToTheLastDayAndComesBack) {
  const auto first = at("2027-01-31T09:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::monthly, 1)), "2027-02-28T09:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::monthly, 2)), "2027-03-31T09:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::monthly, 3)), "2027-04-30T09:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::monthly, 11)), "2027-12-31T09:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::monthly, 12)), "2028-01-31T09:00:00.000Z");
  // 2028 is a leap year: February 29.
  EXPECT_EQ(iso(sched::nth_occurrence(first, schedule_repeat::monthly, 13)), "2028-02-29T09:00:00.000Z");
}

TEST(ScheduleRules, MonthlyOnTheThirtiethAndTheTwentyNinth) {
  const auto thirtieth = at("2027-01-30T00:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(thirtieth, schedule_repeat::monthly, 1)), "2027-02-28T00:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(thirtieth, schedule_repeat::monthly, 2)), "2027-03-30T00:00:00.000Z");
  const auto leap_day = at("2028-02-29T12:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(leap_day, schedule_repeat::monthly, 1)), "2028-03-29T12:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(leap_day, schedule_repeat::monthly, 12)), "2029-02-28T12:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(leap_day, schedule_repeat::monthly, 48)), "2032-02-29T12:00:00.000Z");
  // 2100 is not a leap year (divisible by 100, not by 400); 2400 is.
  const auto feb_2099 = at("2099-02-28T00:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(at("2099-01-31T00:00:00.000Z"), schedule_repeat::monthly, 13)),
            "2100-02-28T00:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(feb_2099, schedule_repeat::monthly, 12)), "2100-02-28T00:00:00.000Z");
  EXPECT_EQ(iso(sched::nth_occurrence(at("2399-01-31T00:00:00.000Z"), schedule_repeat::monthly, 13)),
            "2400-02-29T00:00:00.000Z");
}

TEST(ScheduleRules, IndexAtIsTheNewestOccurrenceNotAfterT) {
  const auto first = at("2027-01-31T09:00:00.000Z");
  EXPECT_EQ(sched::occurrence_index_at(first, schedule_repeat::monthly, first - 1), -1);
  EXPECT_EQ(sched::occurrence_index_at(first, schedule_repeat::monthly, first), 0);
  // February's occurrence is the 28th at 09:00: a moment before it is still index 0.
  EXPECT_EQ(sched::occurrence_index_at(first, schedule_repeat::monthly, at("2027-02-28T08:59:59.999Z")), 0);
  EXPECT_EQ(sched::occurrence_index_at(first, schedule_repeat::monthly, at("2027-02-28T09:00:00.000Z")), 1);
  EXPECT_EQ(sched::occurrence_index_at(first, schedule_repeat::monthly, at("2027-03-15T00:00:00.000Z")), 1);
  EXPECT_EQ(sched::occurrence_index_at(first, schedule_repeat::monthly, at("2027-03-31T09:00:00.000Z")), 2);
  const auto daily = at("2026-01-01T00:00:00.000Z");
  EXPECT_EQ(sched::occurrence_index_at(daily, schedule_repeat::daily, daily + rules_day_ms - 1), 0);
  EXPECT_EQ(sched::occurrence_index_at(daily, schedule_repeat::daily, daily + rules_day_ms), 1);
  EXPECT_EQ(sched::occurrence_index_at(daily, schedule_repeat::weekly, daily + 15 * rules_day_ms), 2);
  EXPECT_EQ(sched::occurrence_index_at(daily, schedule_repeat::once, daily + 15 * rules_day_ms), 0);
  // Every occurrence is found at its own time, for years of a month-end series.
  for (std::int64_t n = 0; n < 500; ++n) {
    const auto t = sched::nth_occurrence(first, schedule_repeat::monthly, n);
    ASSERT_EQ(sched::occurrence_index_at(first, schedule_repeat::monthly, t), n) << iso(t);
    ASSERT_EQ(sched::occurrence_index_at(first, schedule_repeat::monthly, t - 1), n - 1) << iso(t);
  }
}

TEST(ScheduleRules, NextOccurrenceAfter) {
  const auto first = at("2026-05-10T10:00:00.000Z");
  EXPECT_EQ(sched::next_occurrence_after(first, schedule_repeat::once, first - 1), first);
  EXPECT_EQ(sched::next_occurrence_after(first, schedule_repeat::once, first), std::nullopt);
  EXPECT_EQ(sched::next_occurrence_after(first, schedule_repeat::daily, first), first + rules_day_ms);
  EXPECT_EQ(sched::next_occurrence_after(first, schedule_repeat::weekly, first + 1), first + 7 * rules_day_ms);
  EXPECT_EQ(iso(*sched::next_occurrence_after(first, schedule_repeat::monthly, at("2026-06-10T10:00:00.000Z"))),
            "2026-07-10T10:00:00.000Z");
}

TEST(ScheduleRules, AOneOffOnTimeIsNotLate) {
  const auto due = at("2026-05-10T10:00:00.000Z");
  const auto plan = sched::plan_occurrence(due, schedule_repeat::once, due, due - rules_hour_ms, due + 800, 5000);
  EXPECT_EQ(plan.occurrence_ms, due);
  EXPECT_EQ(plan.next_at_ms, std::nullopt);
  EXPECT_EQ(plan.skipped, 0);
  EXPECT_FALSE(plan.late);
}

TEST(ScheduleRules, AOneOffSentAfterAnOutageIsLate) {
  const auto due = at("2026-05-10T10:00:00.000Z");
  const auto plan = sched::plan_occurrence(due, schedule_repeat::once, due, due - rules_hour_ms, due + 60'000, 5000);
  EXPECT_EQ(plan.occurrence_ms, due);
  EXPECT_TRUE(plan.late);
  // Exactly at the threshold: not late yet.
  EXPECT_FALSE(sched::plan_occurrence(due, schedule_repeat::once, due, due - 1, due + 5000, 5000).late);
}

TEST(ScheduleRules, ASendAtInThePastWhenCreatedIsNotLate) {
  // Created 20 s after its sendAt (within the grace): sent at once, on time.
  const auto due = at("2026-05-10T10:00:00.000Z");
  const auto plan = sched::plan_occurrence(due, schedule_repeat::once, due, due + 20'000, due + 20'900, 5000);
  EXPECT_FALSE(plan.late);
}

TEST(ScheduleRules, ARepeatThatMissedSeveralSendsOnlyTheNewest) {
  const auto first = at("2026-05-01T08:00:00.000Z");
  // Due on May 3rd; every node was down until May 6th 12:00: the 3rd, 4th and 5th were missed,
  // the 6th (08:00) is the newest due. One is sent (late), three are skipped, next is the 7th.
  const auto next = at("2026-05-03T08:00:00.000Z");
  const auto now = at("2026-05-06T12:00:00.000Z");
  const auto plan = sched::plan_occurrence(first, schedule_repeat::daily, next, first - 1000, now, 5000);
  EXPECT_EQ(iso(plan.occurrence_ms), "2026-05-06T08:00:00.000Z");
  EXPECT_EQ(plan.skipped, 3);
  EXPECT_TRUE(plan.late);
  ASSERT_TRUE(plan.next_at_ms.has_value());
  EXPECT_EQ(iso(*plan.next_at_ms), "2026-05-07T08:00:00.000Z");
}

TEST(ScheduleRules, ARepeatOnTimeMovesToTheNextOccurrence) {
  const auto first = at("2027-01-31T09:00:00.000Z");
  const auto plan = sched::plan_occurrence(first, schedule_repeat::monthly, first, first - 1000, first + 300, 5000);
  EXPECT_EQ(plan.occurrence_ms, first);
  EXPECT_EQ(plan.skipped, 0);
  EXPECT_FALSE(plan.late);
  EXPECT_EQ(iso(*plan.next_at_ms), "2027-02-28T09:00:00.000Z");
  const auto feb =
      sched::plan_occurrence(first, schedule_repeat::monthly, *plan.next_at_ms, first - 1000, *plan.next_at_ms, 5000);
  EXPECT_EQ(iso(*feb.next_at_ms), "2027-03-31T09:00:00.000Z");
}

TEST(ScheduleRules, LateAfterIsFiveSecondsOrThreeTicks) {
  using std::chrono::milliseconds;
  EXPECT_EQ(sched::late_after(milliseconds(200)), milliseconds(5000));
  EXPECT_EQ(sched::late_after(milliseconds(1000)), milliseconds(5000));
  EXPECT_EQ(sched::late_after(milliseconds(10000)), milliseconds(30000));
}

TEST(ScheduleRules, MessageKeyIsAStableVersion8UuidPerOccurrence) {
  const auto due = at("2026-11-21T12:00:00.123Z");
  const auto key = sched::occurrence_message_key(42, due);
  EXPECT_TRUE(chat::common::is_uuid(key)) << key;
  EXPECT_EQ(key, chat::common::normalize_uuid(key));  // lower case, as messageKeys are stored
  EXPECT_EQ(key[14], '8');                            // version 8
  EXPECT_TRUE(key[19] == '8' || key[19] == '9' || key[19] == 'a' || key[19] == 'b');  // variant 10
  EXPECT_EQ(key, sched::occurrence_message_key(42, due));                             // deterministic
  EXPECT_EQ(key.substr(15, 3), "5cd");
  EXPECT_EQ(key.substr(24), "00000000002a");
  const auto back = sched::parse_occurrence_message_key(key);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->schedule_id, 42);
  EXPECT_EQ(back->occurrence_ms, due);
}

TEST(ScheduleRules, MessageKeysDifferPerScheduleAndOccurrence) {
  std::set<std::string> keys;
  const auto first = at("2026-01-31T00:00:00.000Z");
  for (std::int64_t sid : {1LL, 2LL, 1LL << 40, (1LL << 62) - 1}) {
    for (std::int64_t n = 0; n < 24; ++n) {
      const auto occurrence = sched::nth_occurrence(first, schedule_repeat::monthly, n);
      const auto key = sched::occurrence_message_key(sid, occurrence);
      EXPECT_TRUE(keys.insert(key).second) << key;
      EXPECT_EQ(sched::parse_occurrence_message_key(key), (sched::occurrence_ref{sid, occurrence}));
    }
  }
  // A random key is never one of these (version 4, not 8).
  EXPECT_EQ(sched::parse_occurrence_message_key(chat::common::make_uuid_v4()), std::nullopt);
  EXPECT_EQ(sched::parse_occurrence_message_key("not-a-uuid"), std::nullopt);
}

}  // namespace
