#include "login_flood.hpp"

#include "scheduler.hpp"

#include <chat/client/rest_client.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace chatload {

login_fn_factory rest_login(const chat::client::url& base) {
  return [base](unsigned) -> login_fn {
    auto api = std::make_shared<chat::client::rest_client>(
        base,
        chat::client::rest_options{.timeout = std::chrono::milliseconds(10000), .user_agent = "chatload-login-flood"});
    return [api](std::string_view email, std::string_view password) {
      const auto r = api->login(email, password);
      return login_answer{r.http.status, r.http.status == 0 ? r.http.error : std::error_code{}};
    };
  };
}

std::string answer_kind(const login_answer& a) {
  if (a.status == 0) return "error: " + (a.error ? a.error.message() : std::string("no answer"));
  return std::to_string(a.status);
}

void login_flood::start(std::int64_t start_ns, std::int64_t stop_ns) {
  start_ns_ = start_ns;
  tallies_.resize(threads_);
  running_.reserve(threads_);
  for (unsigned i = 0; i < threads_; ++i)
    running_.emplace_back([this, i, start_ns, stop_ns] { run_thread(i, start_ns, stop_ns); });
}

void login_flood::run_thread(unsigned index, std::int64_t start_ns, std::int64_t stop_ns) {
  auto& t = tallies_[index];
  // Waits in slices so that stop() ends a flood that never began.
  for (auto now = steady_now_ns(); now < start_ns && !stop_; now = steady_now_ns())
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(start_ns - now, 50'000'000)));
  const login_fn login = make_login_(index);
  char email[96];
  for (std::uint64_t n = 0; !stop_ && steady_now_ns() < stop_ns; ++n) {
    std::snprintf(email, sizeof email, "flood-%015llx-%u-%llu@example.com", static_cast<unsigned long long>(nonce_),
                  index, static_cast<unsigned long long>(n));
    const auto before = steady_now_ns();
    const auto answer = login(email, "chatload-flood-password");
    t.latency.record(to_us(steady_now_ns() - before));
    ++t.requests;
    ++t.by_status[answer_kind(answer)];
  }
  t.ended_ns = steady_now_ns();
}

login_flood_result login_flood::join() {
  for (auto& t : running_)
    if (t.joinable()) t.join();
  login_flood_result r;
  r.threads = threads_;
  std::int64_t last = start_ns_;
  for (const auto& t : tallies_) {
    r.requests += t.requests;
    for (const auto& [k, v] : t.by_status) r.by_status[k] += v;
    r.latency.merge(t.latency);
    last = std::max(last, t.ended_ns);
  }
  r.seconds = static_cast<double>(last - start_ns_) / 1e9;
  return r;
}

}  // namespace chatload
