#pragma once
// One chatload run: REST set-up (users, group rooms), one STOMP session per user, the
// open-model send schedule, delivery accounting, and the collected results.
#include "histogram.hpp"

#include <chat/client/url.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace chatload {

struct run_options {
  chat::client::url http;   // REST base
  chat::client::url stomp;  // ws:// or tcp://
  std::uint32_t users = 20;
  std::uint32_t rooms = 4;
  std::uint32_t members = 5;
  double rate = 50;                                 // SENDs per second, all rooms together
  std::chrono::milliseconds duration{5000};         // of the send schedule
  // Sending at the full rate before `duration`: those messages are checked for loss,
  // duplicates and order but left out of the latency histograms (per_second shows them).
  std::chrono::milliseconds warmup{0};
  std::chrono::milliseconds drain{5000};            // longest wait for the last deliveries
  std::chrono::milliseconds late_limit{1000};       // a SEND later than this is dropped
  std::chrono::milliseconds setup_timeout{120000};  // connect + subscribe of every session
  std::size_t message_bytes = 64;                   // content length
  double connect_rate = 500;                        // new sessions per second
  unsigned io_threads = 2;
  unsigned setup_threads = 4;  // parallel REST clients during set-up
  std::string password = "chatload-password-1";
  bool progress = true;  // a line per second on stderr
};

struct timeline_point {
  double t = 0;  // seconds since the first planned send
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t receipts = 0;
};

// Deliveries of the messages planned in one second of the schedule (by planned send time, so
// a stall shows up in the second whose messages it delayed).
struct second_stats {
  std::uint64_t delivered = 0;
  std::uint64_t over_50ms = 0;  // deliveries later than 50 ms after their planned time
  std::uint64_t max_us = 0;
};

struct run_result {
  double elapsed_s = 0;  // first planned send → end of drain
  std::uint64_t sessions = 0;
  std::uint64_t planned = 0;
  std::uint64_t sent = 0;
  std::uint64_t dropped_sends = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t receipts = 0;
  std::uint64_t expected = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t errors = 0;  // sum of errors_by_kind
  std::map<std::string, std::uint64_t> errors_by_kind;
  histogram delivery;  // µs, planned send → MESSAGE received
  histogram receipt;   // µs, planned send → RECEIPT received
  histogram connect;   // µs, connect() → CONNECTED
  std::vector<timeline_point> timeline;
  std::vector<second_stats> per_second;  // [second of the schedule]
};

// Runs the whole scenario. Throws std::runtime_error when set-up fails (REST errors, sessions
// that do not connect or subscribe in time).
run_result run(const run_options& options);

}  // namespace chatload
