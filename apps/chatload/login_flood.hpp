#pragma once
// --login-flood N: N threads that post logins of unknown users (POST /api/auth/login) one
// after the other during the measured window, beside the chat load, to see whether
// unauthenticated work slows the authenticated kind. Each answer is counted by HTTP status
// ("401", "429", or "error: <why>" without an answer) and timed.
//
// Threads: start(), stop() and join() on one (the runner) thread; each flood thread owns its
// own client and tally, merged by join().
#include "histogram.hpp"

#include <chat/client/url.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace chatload {

struct login_flood_result {
  unsigned threads = 0;
  double seconds = 0;  // from the window's start to the last thread's end
  std::uint64_t requests = 0;
  std::map<std::string, std::uint64_t> by_status;
  histogram latency;  // µs, request → answer (or failure)
};

// One login attempt's answer: an HTTP status, or none (error set).
struct login_answer {
  unsigned status = 0;
  std::error_code error;
};
// One flood thread's way of logging in; called on that thread only.
using login_fn = std::function<login_answer(std::string_view email, std::string_view password)>;
// Makes each thread's login_fn (on that thread).
using login_fn_factory = std::function<login_fn(unsigned thread)>;

// Logins against chatd's REST API at `base`, one keep-alive connection per thread.
login_fn_factory rest_login(const chat::client::url& base);

// "401", "503", "error: <message>": how an answer is counted.
std::string answer_kind(const login_answer& a);

class login_flood {
 public:
  // `nonce` makes the e-mail addresses of one run unlike any account's.
  login_flood(unsigned threads, login_fn_factory make_login, std::uint64_t nonce)
      : threads_(threads), make_login_(std::move(make_login)), nonce_(nonce) {}
  login_flood(const login_flood&) = delete;
  login_flood& operator=(const login_flood&) = delete;
  ~login_flood() {
    stop();
    for (auto& t : running_)
      if (t.joinable()) t.join();
  }

  // Starts the threads; each logs in one request after the other from start_ns until stop_ns
  // (steady clock ns), a request in flight at stop_ns finishing first.
  void start(std::int64_t start_ns, std::int64_t stop_ns);
  // Asks the threads to end after their current request.
  void stop() noexcept { stop_ = true; }
  // Waits for every thread and merges their tallies.
  login_flood_result join();

 private:
  struct tally {
    std::uint64_t requests = 0;
    std::map<std::string, std::uint64_t> by_status;
    histogram latency;
    std::int64_t ended_ns = 0;
  };
  void run_thread(unsigned index, std::int64_t start_ns, std::int64_t stop_ns);

  unsigned threads_;
  login_fn_factory make_login_;
  std::uint64_t nonce_;
  std::atomic<bool> stop_{false};
  std::int64_t start_ns_ = 0;
  std::vector<tally> tallies_;  // [thread], each written by its thread only
  std::vector<std::thread> running_;
};

}  // namespace chatload
