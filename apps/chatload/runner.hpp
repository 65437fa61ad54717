#pragma once
// One chatload run: set-up (REST sign-up and group rooms, or a --fixture file, or nothing in
// generic mode), one STOMP session per user, the send schedule (open model: fixed arrival
// rate with an optional linear ramp; sessions model: each session sends its next message after
// the RECEIPT of its previous one), delivery accounting, self-monitoring, and the results.
// The options and results of a run; the parts are setup.hpp, session_pool.hpp,
// destinations.hpp (chatd or generic STOMP), traffic.hpp, load_driver.hpp (open_model.hpp,
// sessions_model.hpp) and progress.hpp.
#include "accounting.hpp"
#include "destinations.hpp"
#include "fixture.hpp"
#include "histogram.hpp"
#include "intervals.hpp"
#include "login_flood.hpp"
#include "mix.hpp"
#include "phases.hpp"
#include "selfmon.hpp"
#include "server_stages.hpp"

#include <chat/client/url.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chatload {

enum class load_model {
  open,      // sends at planned times whatever the answers (latency from the planned time)
  sessions,  // closed: a session's next send waits for the previous RECEIPT (+ think time)
};

struct run_options {
  chat::client::url http;   // REST base (unused in generic mode)
  chat::client::url stomp;  // ws:// or tcp://
  std::uint32_t users = 20;
  std::uint32_t rooms = 4;
  std::uint32_t members = 5;
  load_model model = load_model::open;
  double rate = 50;                          // open model: SENDs per second after the ramp
  std::chrono::milliseconds ramp_up{0};      // arrival rate grows linearly from 0 to rate
  std::chrono::milliseconds duration{5000};  // of the measured phase
  // Sending at the full rate before `duration`: those messages are checked for loss,
  // duplicates and order but left out of the latency histograms (per_second shows them).
  // Messages planned during the ramp-up are treated the same way.
  std::chrono::milliseconds warmup{0};
  std::chrono::milliseconds drain{5000};  // longest wait for the last deliveries
  // --server-metrics: chatd /metrics URLs scraped when sending starts and after the drain
  // (server_stages.hpp): the latency anatomy of the run.
  std::vector<std::string> server_metrics;
  std::chrono::milliseconds late_limit{1000};        // open model: a SEND later than this is dropped
  std::chrono::milliseconds think{0};                // sessions model: pause after a RECEIPT
  std::chrono::milliseconds receipt_timeout{10000};  // sessions model: give up waiting, send on
  std::chrono::milliseconds setup_timeout{120000};   // connect + subscribe of every session
  std::size_t message_bytes = 64;                    // content length (at least the payload header)
  double connect_rate = 500;                         // new sessions per second
  unsigned io_threads = 2;
  unsigned setup_threads = 4;  // parallel REST clients during set-up
  std::string password = "chatload-password-1";
  bool progress = true;  // progress on stderr

  // Generic STOMP mode: no REST; destinations from templates ({room} = room id or index,
  // {user} = user index), CONNECT with login/passcode (templates too).
  bool generic = false;
  std::string send_dest = room_destination_template();
  std::string sub_dest = room_destination_template();
  std::string login;
  std::string passcode;
  std::string vhost;  // CONNECT host header; empty = the server's host name

  // --fixture: reuse (when `fixture` is set, already validated against the scenario) or
  // create and write (`fixture_path` set, `fixture` empty).
  std::string fixture_path;
  std::optional<fixture> reuse;

  // Open model rate profile of the measured window (--phases): replaces `rate` and `duration`
  // (rate = the first phase's, duration = their sum; the ramp-up and warm-up run at the first
  // phase's rate). Empty: one phase, `rate` for `duration`.
  std::vector<rate_phase> phases;
  // recovery_s: seconds after the end of the first phase until the per-second delivery p99
  // stays at or under this.
  double recovery_threshold_ms = 100;
  // --login-flood: threads posting logins of unknown users during the measured window.
  unsigned login_flood = 0;

  // --mix: what the planned sends do (default: messages only). Not in generic mode.
  chatload::mix mix;
  // --churn: sessions per second that drop their connection and reconnect, resuming each room
  // with since-id (churn.hpp). 0 = off. Open model, chatd only.
  double churn = 0;

  selfmon_bounds bounds;
  // Sessions model: most sends the ledger can track (storage grows in 64 Ki-send chunks).
  std::uint64_t max_messages = std::uint64_t{1} << 32;
};

struct timeline_point {
  double t = 0;  // seconds since the first planned send
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t receipts = 0;
  double cpu_cores = 0;       // the generator's CPU use over the last interval
  std::uint64_t refused = 0;  // sends answered by an ERROR or soft error with their receipt-id
};

// The phases of the measured window: `phases`, or one phase of `rate` for `duration`.
std::vector<rate_phase> measured_phases(const run_options& o);

// One phase of the measured window (by planned send time).
struct phase_result {
  rate_phase phase;
  double start_s = 0;  // offset of the phase in the schedule (after ramp-up and warm-up)
  std::uint64_t planned = 0;
  phase_stats stats;
  std::optional<double> recovery_s;  // after this phase's end (not for the last phase)
};

// What became of the issued sends (ledger::totals restricted to the answers) and the sessions.
struct answer_result {
  std::uint64_t outcomes[send_outcome_count] = {};  // by send_outcome; [pending] = unanswered
  std::uint64_t answered_twice = 0;
  std::uint64_t after_drain = 0;
  std::map<std::string, std::uint64_t> refusals_by_message;
  std::uint64_t receipted_expected = 0;
  std::uint64_t receipted_delivered = 0;
  std::uint64_t receipted_lost = 0;
  std::uint64_t receipted_duplicated = 0;
  std::uint64_t receipted_reordered = 0;
  std::uint64_t refused_but_delivered = 0;
  std::uint64_t count(send_outcome o) const noexcept { return outcomes[static_cast<std::size_t>(o)]; }
};

// --mix: the room events of the run by kind (event_index), and the edits, deletes and reactions
// that became messages because their session had no receipted message of its own in the room yet.
struct event_result {
  ledger::totals::kind_totals by_kind[event_count] = {};
  std::uint64_t fallbacks = 0;
  std::uint64_t receipts_without_id = 0;  // RECEIPTs of messages without a message-id header
  std::uint64_t read_events = 0;          // chat-event:read MESSAGEs (members' read marks): not in the ledger
};

// --churn: what the drops and reconnects came to (churn.hpp churn_counters).
struct churn_result {
  double rate = 0;  // drops per second asked for (0: no churn)
  std::uint64_t drops = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t failed = 0;
  std::uint64_t skipped = 0;
  std::uint64_t recovered = 0;      // re-SUBSCRIBEs answered recovered:true
  std::uint64_t not_recovered = 0;  // recovered:false or no header
  std::uint64_t no_header = 0;      // of those, without the header (a server without recovery)
  std::uint64_t recovered_events = 0;
  std::uint64_t truncations = 0;
  std::uint64_t unsent = 0;
  std::uint64_t orphaned = 0;
  histogram reconnect;  // µs, drop -> every room re-subscribed
};

struct run_result {
  std::string setup_source;  // "created", "fixture" or "none" (generic without fixture)
  double setup_s = 0;        // REST set-up (or fixture check) time
  double sessions_s = 0;     // first connect() → every session CONNECTED and subscribed
  double elapsed_s = 0;      // first planned send → end of drain
  std::uint64_t sessions = 0;
  std::uint64_t planned = 0;  // open model: rate schedule; sessions model: = sent + send_errors
  std::uint64_t sent = 0;
  std::uint64_t dropped_sends = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t receipts = 0;
  std::uint64_t receipt_timeouts = 0;
  std::uint64_t expected = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t errors = 0;  // sum of errors_by_kind
  std::map<std::string, std::uint64_t> errors_by_kind;
  histogram delivery;   // µs, planned send → MESSAGE received (measured phase)
  histogram receipt;    // µs, planned send → RECEIPT received (measured phase)
  histogram connect;    // µs, connect() → CONNECTED
  histogram subscribe;  // µs, SUBSCRIBE → its RECEIPT
  std::vector<timeline_point> timeline;
  interval_series per_second;  // [second of the schedule]
  answer_result answers;
  std::uint64_t sessions_disconnected = 0;  // ended before the shutdown
  std::map<std::string, std::uint64_t> disconnected_by_reason;
  std::vector<phase_result> phases;  // of the measured window
  std::optional<double> recovery_s;  // phases[0].recovery_s
  std::optional<login_flood_result> login_flood;
  // --server-metrics: chat_stage_latency_seconds over the run, summed over the nodes (the whole
  // sending phase, warm-up included); server_stages_error says why it is missing.
  std::vector<stage_summary> server_stages;
  std::string server_stages_error;
  event_result events;
  churn_result churn;
  generator_stats generator;
  validity valid;
};

// Runs the whole scenario. Throws std::runtime_error when set-up fails (REST errors, sessions
// that do not connect or subscribe in time, a fixture the server does not know); an exception
// of the load model or of a session's handler ends the run and is thrown as well, after every
// thread of the run has stopped.
run_result run(const run_options& options);

}  // namespace chatload
