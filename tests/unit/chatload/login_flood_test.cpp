// --login-flood's threads with a fake login: every attempt is counted once by its answer,
// each thread uses its own login function, and the e-mail addresses are all different.
#include "login_flood.hpp"
#include "scheduler.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>

using namespace chatload;

TEST(LoginFlood, CountsEveryAnswerByStatusAndEndsAtTheWindowsEnd) {
  std::mutex m;
  std::set<std::string> emails;
  std::uint64_t calls = 0;
  std::set<unsigned> made_for;
  login_flood flood(
      3,
      [&](unsigned thread) -> login_fn {
        {
          std::lock_guard lock(m);
          made_for.insert(thread);
        }
        return [&, thread](std::string_view email, std::string_view) {
          std::lock_guard lock(m);
          emails.emplace(email);
          ++calls;
          if (thread == 0) return login_answer{429, {}};
          if (calls % 5 == 0) return login_answer{0, std::make_error_code(std::errc::connection_refused)};
          return login_answer{401, {}};
        };
      },
      0xabc);
  const auto now = steady_now_ns();
  flood.start(now, now + 50'000'000);
  const auto r = flood.join();
  EXPECT_EQ(r.threads, 3u);
  EXPECT_EQ(made_for, (std::set<unsigned>{0, 1, 2}));
  EXPECT_EQ(r.requests, calls);
  EXPECT_GT(r.requests, 3u);
  std::uint64_t sum = 0;
  for (const auto& [k, v] : r.by_status) sum += v;
  EXPECT_EQ(sum, r.requests);
  EXPECT_GT(r.by_status.at("429"), 0u);
  EXPECT_EQ(r.latency.count(), r.requests);
  EXPECT_EQ(emails.size(), r.requests);  // never the same address twice
  EXPECT_TRUE(emails.begin()->starts_with("flood-000000000000abc-"));
  EXPECT_GE(r.seconds, 0.05);
}

TEST(LoginFlood, StopEndsAFloodThatHasNotBegun) {
  login_flood flood(
      2, [](unsigned) -> login_fn { return [](std::string_view, std::string_view) {
                                      return login_answer{401, {}};
                                    }; },
      1);
  const auto now = steady_now_ns();
  flood.start(now + 3'600'000'000'000, now + 7'200'000'000'000);  // an hour from now
  flood.stop();
  const auto r = flood.join();
  EXPECT_EQ(r.requests, 0u);
}

TEST(LoginFlood, AnswerKinds) {
  EXPECT_EQ(answer_kind({401, {}}), "401");
  EXPECT_EQ(answer_kind({0, std::make_error_code(std::errc::timed_out)}),
            "error: " + std::make_error_code(std::errc::timed_out).message());
}
