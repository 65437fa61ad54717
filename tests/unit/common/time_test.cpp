#include <chat/common/time.hpp>

#include <gtest/gtest.h>

#include <chrono>

using chat::common::append_iso8601_ms;
using chat::common::format_iso8601_ms;
using chat::common::max_iso8601_unix_ms;
using chat::common::min_iso8601_unix_ms;
using chat::common::now_unix_ms;
using chat::common::parse_iso8601_ms;

namespace {

// 2026-11-21T12:00:00.123Z, computed independently:
// python3 -c "import datetime;print(int(datetime.datetime(2026,11,21,12,0,0,123000,
//             tzinfo=datetime.timezone.utc).timestamp()*1000))"
constexpr std::int64_t spec_example_ms = 1'795'262'400'123;

}  // namespace

TEST(Iso8601, FormatsKnownInstants) {
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(spec_example_ms), "2026-11-21T12:00:00.123Z");
  EXPECT_EQ(format_iso8601_ms(951'782'400'000), "2000-02-29T00:00:00.000Z");  // leap day
  EXPECT_EQ(format_iso8601_ms(1'709'251'199'999), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(-86'400'001), "1969-12-30T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(min_iso8601_unix_ms), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(max_iso8601_unix_ms), "9999-12-31T23:59:59.999Z");
}

TEST(Iso8601, ClampsOutsideTheFourDigitYearRange) {
  EXPECT_EQ(format_iso8601_ms(INT64_MAX), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(INT64_MIN), "0000-01-01T00:00:00.000Z");
}

TEST(Iso8601, AppendAddsToExistingText) {
  std::string out = "at=";
  append_iso8601_ms(spec_example_ms, out);
  EXPECT_EQ(out, "at=2026-11-21T12:00:00.123Z");
}

TEST(Iso8601, ParsesCanonicalForm) {
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T12:00:00.123Z"), spec_example_ms);
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(parse_iso8601_ms("1969-12-31T23:59:59.999Z"), -1);
}

TEST(Iso8601, ParsesRfc3339Variants) {
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T12:00:00Z"), spec_example_ms - 123);
  EXPECT_EQ(parse_iso8601_ms("2026-11-21t12:00:00.123z"), spec_example_ms);
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T12:00:00.1Z"), spec_example_ms - 23);
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T12:00:00.12Z"), spec_example_ms - 3);
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T12:00:00.123999999Z"), spec_example_ms);  // truncated
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T13:30:00.123+01:30"), spec_example_ms);
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T07:00:00.123-05:00"), spec_example_ms);
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T12:00:00.123+00:00"), spec_example_ms);
}

TEST(Iso8601, RoundTripsAcrossTheRange) {
  for (std::int64_t ms : {min_iso8601_unix_ms, std::int64_t{-123'456'789'012}, std::int64_t{-1}, std::int64_t{0},
                          std::int64_t{1}, spec_example_ms, std::int64_t{4'102'444'800'000}, max_iso8601_unix_ms}) {
    EXPECT_EQ(parse_iso8601_ms(format_iso8601_ms(ms)), ms) << ms;
  }
  // Every day over several leap cycles, at an odd time of day.
  for (std::int64_t day = -800; day < 800; ++day) {
    const std::int64_t ms = day * 86'400'000 * 37 + 45'296'789;
    ASSERT_EQ(parse_iso8601_ms(format_iso8601_ms(ms)), ms) << ms;
  }
}

TEST(Iso8601, RejectsMalformedOrImpossible) {
  for (const char* bad : {
           "",
           "2026-11-21",
           "2026-11-21T12:00:00",              // no zone: local time is ambiguous
           "2026-11-21T12:00:00.123",          // no zone
           "2026-11-21 12:00:00.123Z",         // space separator
           "2026-11-21T12:00:00.Z",            // empty fraction
           "2026-11-21T12:00:00.1234567890Z",  // ten fraction digits
           "2026-11-21T12:00:00.123ZZ",        // trailing garbage
           "2026-11-21T12:00:00.123Z ",
           " 2026-11-21T12:00:00.123Z",
           "2026-13-01T00:00:00Z",  // month 13
           "2026-00-01T00:00:00Z",
           "2026-02-29T00:00:00Z",  // not a leap year
           "1900-02-29T00:00:00Z",  // century, not a leap year
           "2026-04-31T00:00:00Z",
           "2026-11-00T00:00:00Z",
           "2026-11-21T24:00:00Z",
           "2026-11-21T12:60:00Z",
           "2026-12-31T23:59:60Z",  // leap second
           "2026-11-21T12:00:00+24:00",
           "2026-11-21T12:00:00+01",
           "2026-11-21T12:00:00+0100",
           "26-11-21T12:00:00Z",
           "2026-1-21T12:00:00Z",
           "+2026-11-21T12:00:00Z",
           "2026-11-21T12:00:00.12a3Z",
           "1795262400123",
       }) {
    EXPECT_FALSE(parse_iso8601_ms(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parse_iso8601_ms("2000-02-29T00:00:00Z").has_value());  // 400-year rule
}

TEST(Iso8601, RejectsEmbeddedNul) {
  EXPECT_FALSE(parse_iso8601_ms(std::string_view("2026-11-21T12:00:00Z\0", 21)).has_value());
}

TEST(Iso8601, NowIsTheSystemClock) {
  const auto before =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::int64_t now = now_unix_ms();
  const auto after =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}
