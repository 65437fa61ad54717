#pragma once
// The run's STOMP sessions: one per user, each subscribed to the rooms the plan gives that
// user (and, in the chatd dialect, to its error queue). open() connects them at --connect-rate
// and returns once every session is CONNECTED and every SUBSCRIBE receipted; close_all() and
// abort_all() end them; drop_and_reconnect() is --churn (churn.hpp). Frames that are not about
// set-up go to a session_events.
//
// Threads: a session's callbacks, and every touch of its fields once open() was called, run
// on the session's strand (session::strand; each of its clients runs inside it). The pool's
// own functions are called on the runner thread, but drop_and_reconnect (on the strand).
#include "churn.hpp"
#include "destinations.hpp"
#include "histogram.hpp"
#include "intervals.hpp"
#include "mix.hpp"
#include "phases.hpp"
#include "run_counters.hpp"
#include "runner.hpp"
#include "scheduler.hpp"
#include "setup.hpp"

#include <chat/client/stomp_client.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chatload {

// Statistics of one I/O thread; merged after the threads have stopped.
struct worker_stats {
  histogram delivery;
  histogram receipt;
  histogram connect;
  histogram subscribe;
  histogram send_lag;
  histogram reconnect;  // --churn: drop -> CONNECTED again and every room re-subscribed
  interval_series per_second;
  std::vector<phase_stats> phases;  // [phase of the measured window]
};

// The statistics of the calling I/O thread (set by bind_worker_stats when the thread starts).
worker_stats& this_worker_stats() noexcept;
void bind_worker_stats(worker_stats* w) noexcept;

struct subscription {
  std::int64_t room_id = 0;
  std::uint32_t room = 0;  // index in the plan
  std::uint32_t slot = 0;  // this user's member slot in the room
  std::string send_dest;   // generic mode: the expanded --send-dest
  std::string sub_dest;
  std::uint64_t next_seq = 0;    // sessions model: this sender's next sequence in the room
  std::vector<own_message> own;  // --mix: this user's recent receipted messages in the room
  // --churn: the highest room event id received here (the since-id of a re-SUBSCRIBE), and
  // whether that re-SUBSCRIBE is still waiting for its RECEIPT (what comes before it is replayed).
  event_cursor cursor;
  bool recovering = false;
};

// Everything below is touched only on the session's strand once the session runs.
struct session {
  std::uint32_t user = 0;
  // Made once; every client of the session (a new one after each --churn drop) runs inside it,
  // so posting here is safe while `client` is being replaced.
  boost::asio::any_io_executor strand;
  std::shared_ptr<chat::client::stomp_client> client;
  std::vector<subscription> subs;
  std::string session_id;  // CONNECTED "session" header
  std::int64_t connect_started_ns = 0;
  std::int64_t subscribe_started_ns = 0;
  int pending_subscribe_receipts = 0;
  // The last ERROR's message, and whether it said the session stays open: the reason given
  // when the session ends before the shutdown.
  std::string last_error;
  bool last_error_keeps_session = false;
  // Send buffers, reused: no allocation per message once grown.
  std::string payload;
  std::string body;
  // A timer the load model may run on the strand; the pool cancels it (and bumps timer_gen,
  // so a handler already queued sees it is stale) when the session closes.
  std::unique_ptr<boost::asio::steady_timer> timer;
  std::uint64_t timer_gen = 0;
  // Sessions model.
  std::uint64_t sends = 0;
  bool waiting = false;
  bool done = false;
  std::uint64_t inflight_g = 0;
  std::int64_t inflight_planned_ns = 0;
  // --churn. `client_gen` numbers the clients: callbacks of an older one are ignored.
  std::uint64_t client_gen = 0;
  bool dropping = false;      // close() asked by drop_and_reconnect: its on_closed reconnects
  bool reconnecting = false;  // from the drop until every room is re-subscribed
  std::int64_t reconnect_started_ns = 0;
  std::uint64_t issued = 0;    // SENDs with a receipt on the current connection
  std::uint64_t answered = 0;  // of those, answered (RECEIPT, ERROR or soft error)
};

// What happens to a running session beyond set-up; every call on the session's strand.
class session_events {
 public:
  virtual ~session_events() = default;
  virtual void on_message(session& s, chat::stomp::frame& f) = 0;
  // A RECEIPT that is not for one of the set-up SUBSCRIBEs (chatd's carry message-id).
  virtual void on_receipt(session& s, std::string_view receipt_id, const chat::stomp::frame& receipt) = 0;
  // An ERROR frame (after the pool counted it); the session may stay open (see
  // error_keeps_session) or close next.
  virtual void on_error(session& s, const chat::stomp::frame& f) = 0;
  // After the pool counted the close and cancelled the session's timer.
  virtual void on_closed(session& s) = 0;
};

// Whether an ERROR frame says the session stays open (header "session-closes: false"). The
// connection's end, not this header, decides whether a session counts as disconnected.
bool error_keeps_session(const chat::stomp::frame& error) noexcept;

class session_pool {
 public:
  // Builds one session per user with its subscriptions; nothing connects yet.
  session_pool(boost::asio::io_context& ioc, const run_options& options, const plan& p, const setup_result& setup,
               const stomp_dialect& dialect, run_counters& counters);

  // Creates the clients, connects them at --connect-rate and waits (with --setup-timeout) until
  // every session is ready. `events` must outlive the sessions. Throws std::runtime_error when
  // a session closes or the timeout passes first.
  void open(session_events& events);

  // Ends every session (DISCONNECT when connected) and waits up to 10 s for them to close.
  void close_all();
  // Closes every session at once after a failure; does not wait.
  void abort_all();
  // --churn, on s's strand: drops s's connection (no DISCONNECT) and connects a new client that
  // re-subscribes every room with since-id. False (nothing done) while s is not connected, is
  // reconnecting, has a room without any event yet, or the pool is shutting down.
  bool drop_and_reconnect(session& s);
  // True once close_all() or abort_all() was called: a close is no longer a failure.
  bool shutting_down() const noexcept { return shutting_down_; }

  std::size_t size() const noexcept { return sessions_.size(); }
  session& at(std::size_t user) { return *sessions_[user]; }
  session& sender_of(std::uint64_t g) { return at(plan_.user_of(plan_.room_of(g), plan_.sender_slot_of(g))); }
  // Seconds from the first connect() to the last session ready.
  double open_seconds() const noexcept { return open_s_; }

 private:
  void create_client(session& s, session_events& events);
  void subscribe_all(session& s);
  void on_subscribed(session& s, const chat::stomp::frame& receipt);

  boost::asio::io_context& ioc_;
  const run_options& opt_;
  const plan& plan_;
  const setup_result& setup_;
  const stomp_dialect& dialect_;
  run_counters& counters_;
  std::vector<std::unique_ptr<session>> sessions_;
  std::atomic<bool> shutting_down_{false};
  double open_s_ = 0;
};

}  // namespace chatload
