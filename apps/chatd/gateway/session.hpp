#pragma once
// The STOMP session core (docs/stomp.md): one per connection, behind both transports. It is fed
// octets, decodes frames, applies the protocol and its limits, and queues outgoing frames;
// it owns no socket (see transport.hpp).
//
// Threading: every member function except deliver()/armed() runs on the session's strand
// (the executor given to the constructor). Blocking work never runs there: database
// lookups go through `directory`, Kafka through `message_log`, and their results are
// posted back to the strand.
//
// Inbound frames are processed strictly in order. A frame that needs a lookup (CONNECT:
// nickname; room actions: membership, unless cached; presence: contacts) suspends the
// processing of later frames until the answer is back, so two SENDs of one session reach
// Kafka in the order they were sent. While frames wait, reading pauses past
// settings.max_pending_frames.
//
// Outbound frames go to a bounded queue (settings.max_outbound_bytes). A fan-out MESSAGE is
// a per-session prefix plus a tail shared by every receiver (fanout_event::tail). A slow
// consumer is a client that does not read: a write in flight for longer than
// settings.write_stall_timeout disconnects it (so does a queue of answers twice the bound).
// A node that falls behind never disconnects a client that reads: a fan-out event that
// finds the queue full is shed (chat_fanout_shed_total) and the client is told how many it
// missed on /user/queue/errors; so is one that finds the backlog that deliver() (any
// thread) posted to the strand past settings.max_pending_fanout_bytes.
//
// Publishes pass the node's admission gate (core/admission_gate.hpp): at its bound the
// session stops processing frames and reading until a slot frees, or refuses the SEND
// with "server overloaded" after settings.admission_timeout.
//
// Blocks (docs/stomp.md "Blocks"): the session holds the set of users its user blocks (loaded
// with CONNECT's lookup, kept current by block_changed() from every node). A room or typing event
// whose blockable_sender is in it is not queued, live nor in a recovery; with an empty set the
// check is one branch. A DIRECT room's gate (room_gate: its other member, whether the pair is
// blocked) is cached with the membership and refuses SENDs that add to the room (403 blocked).
//
// Every SEND with a receipt header gets exactly one answer carrying its receipt id: a
// RECEIPT, a soft error on /user/queue/errors, or an ERROR. Refusals of one SEND
// (rate limited, overloaded, not accepted, shutting down) do not end the session: their
// ERROR frame carries `session-closes:false` when the client has no errors subscription.
#include "core/admission_gate.hpp"
#include "core/log_positions.hpp"
#include "core/message_keys.hpp"
#include "core/message_log.hpp"
#include "gateway/fanout_hub.hpp"
#include "gateway/log_throttle.hpp"
#include "gateway/outbound_queue.hpp"
#include "gateway/ports.hpp"
#include "gateway/publish_tracker.hpp"
#include "gateway/recovery_seam.hpp"
#include "gateway/subscription_table.hpp"
#include "gateway/transport.hpp"
#include "gateway/user_registry.hpp"
#include "tokens/live_tokens.hpp"
#include "tokens/revocations.hpp"

#include <chat/proto/commands.hpp>
#include <chat/proto/names.hpp>
#include <chat/stomp/decoder.hpp>
#include <chat/stomp/frame.hpp>
#include <chat/stomp/negotiation.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chat::metrics {
struct chat_metrics;
}

namespace chat::gateway {

enum class transport_kind { tcp, websocket };

struct session_settings {
  stomp::limits decoder_limits;                // --max-frame-bytes, --max-headers
  std::size_t max_content_chars = 4000;        // --max-content-chars
  std::uint32_t heartbeat_send_ms = 10000;     // --heartbeat (what the server offers: sx)
  std::uint32_t heartbeat_receive_ms = 10000;  //             (what it wants: sy)
  std::size_t max_outbound_bytes = 512 * 1024;
  // Posted fan-out not yet run on the strand; 0 = 4 x max_outbound_bytes.
  std::size_t max_pending_fanout_bytes = 0;
  std::chrono::milliseconds write_stall_timeout{20000};
  std::size_t max_subscriptions = 200;
  std::chrono::milliseconds handshake_timeout{10000};                 // connect -> CONNECTED
  std::chrono::milliseconds idle_timeout{600000};                     // no client heart-beats: silence limit; 0 = none
  std::chrono::milliseconds send_timeout{30000};                      // SEND -> Kafka ack
  std::chrono::milliseconds admission_timeout{5000};                  // waiting for an admission slot
  std::chrono::milliseconds edit_window{chatd::default_edit_window};  // --edit-window
  std::string jwt_secret;
  std::string server_name = "chatd";  // CONNECTED server: header
  int recovery_limit = 1000;          // --recovery-limit: events a SUBSCRIBE with since-id replays at most
  int recovery_memory = 64;           // --recovery-memory: newest room events a room channel remembers

  // Not settings of their own (yet): fixed policy, named here.
  std::chrono::milliseconds membership_cache_ttl{30000};  // positive checks only
  std::chrono::milliseconds contacts_refresh{60000};      // /topic/presence watch list
  std::chrono::milliseconds arm_wait{2000};               // SUBSCRIBE receipt waits this long for the bus
  std::chrono::milliseconds send_grace{2000};             // past send_timeout: the producer never answered
  std::size_t max_pending_frames = 32;                    // decoded, not yet processed: pause reading
  // Recovery (docs/stomp.md "Recovery").
  std::chrono::milliseconds recovery_wait{10000};  // for the store to catch up with the log, then truncated
  std::chrono::milliseconds recovery_poll{50};     // first re-poll of a store that is behind; doubles up to 1 s
  std::size_t recovery_max_held = 10000;           // live events held back per recovering subscription
};

// What the sessions of a node count. An event with a docs/operations.md metric is counted in that
// metric only (chat_websocket_sessions{transport}, chat_messages_sent_total,
// chat_rate_limited_total, chat_slow_consumer_disconnects_total,
// chat_delivery_latency_seconds): one count per event, and /metrics is its one reader. The
// counters below are events without a metric of their own. Thread-safe.
struct gateway_stats {
  // Where the docs/operations.md metrics go; null = nowhere. Cleared before the metrics die.
  std::atomic<metrics::chat_metrics*> metrics{nullptr};

  std::atomic<std::uint64_t> rate_limit_disconnects{0};
  std::atomic<std::uint64_t> idle_timeouts{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> forbidden{0};
  // "stomp error" and "stomp session aborted" lines: at most 50 a second per node.
  log_throttle session_log{50};
};

class session;
class room_feed;

// The live sessions of this node, for graceful shutdown. Thread-safe.
class session_set {
 public:
  void add(const std::shared_ptr<session>& s);
  void remove(const session* s);
  std::vector<std::shared_ptr<session>> snapshot() const;
  std::size_t size() const;
  // Blocks until no session is left or `deadline` passes; true when empty.
  bool wait_empty(time_point deadline) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable emptied_;
  std::unordered_map<const session*, std::weak_ptr<session>> sessions_;
};

// Everything a session uses besides its transport. The referenced objects must outlive
// every session: `keepalive` owns them (or is empty when the caller guarantees it).
struct session_env {
  session_settings settings;
  const clock_source& clock;
  directory& dir;
  chatd::message_log& log;
  fanout_hub& hub;
  user_registry& users;
  presence_sink& presence;
  typing_sink& typing;
  session_set& sessions;
  gateway_stats& stats;
  chatd::admission_gate& admission;
  std::shared_ptr<void> keepalive;
  // What the node remembers of the newest messages (core/recent_messages.hpp): room events on
  // them are checked without the store when the session knows its membership. May be null.
  const chatd::recent_messages* recent = nullptr;
  // Where chat.messages ends (recovery on SUBSCRIBE with since-id); null: recoveries cannot wait
  // for the store and end recovered:false.
  chatd::log_positions* positions = nullptr;
  // /user/queue/rooms (room_feed.hpp); null: that destination is refused as unknown.
  room_feed* feed = nullptr;
  // Retried messageKeys (core/message_keys.hpp): a message with a client-supplied key is
  // receipted with the id the key got first. Null: with its own record's id.
  chatd::message_keys* keys = nullptr;
  // Revoked access tokens (tokens/revocations.hpp): a CONNECT with one is refused. Null: not
  // checked.
  const chatd::tokens::revocation_cache* revocations = nullptr;
  // Where connected sessions register their token, to get ERROR "token revoked" and close when
  // it is revoked (on any node). Null: they do not.
  chatd::tokens::live_tokens* live_tokens = nullptr;
};

class session final : public fanout_target, public std::enable_shared_from_this<session> {
 public:
  session(boost::asio::any_io_executor strand, std::shared_ptr<const session_env> env, std::string id,
          transport_kind kind = transport_kind::tcp);
  ~session() override;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // ---- transport side (strand) ----
  // Starts the handshake clock. `t` must stay valid until on_transport_closed().
  void start(transport& t);
  // Octets received from the peer, in order.
  void on_bytes(std::string_view bytes);
  // False while frames wait behind a lookup, after DISCONNECT/ERROR, or during shutdown.
  bool wants_bytes() const noexcept;
  bool has_output() const noexcept { return !outbound_.empty(); }
  // Appends the buffers of up to `max_frames` queued frames (in order) to `out` and
  // returns how many frames they hold. The buffers stay valid until on_output_written()
  // and the session lives. Call only when no write is in flight.
  std::size_t collect_output(std::vector<boost::asio::const_buffer>& out, std::size_t max_frames);
  // The first `frames` frames handed out by collect_output() are written.
  void on_output_written(std::size_t frames);
  void on_timer();
  // The connection is gone (or going): release subscriptions, presence, the user slot.
  // No transport call follows. Idempotent.
  void on_transport_closed();

  // ---- gateway side (strand) ----
  // Shutdown phase 1: process no more frames (in-flight SENDs still get their RECEIPT).
  void stop_reading();
  // Shutdown phase 2: ERROR "server shutting down", then close after the queue drained.
  void shut_down();
  // Its token was revoked (logout, logout-all, password change, refresh-token reuse):
  // ERROR "token revoked", then close after the flush.
  void token_revoked();
  // Closes now, dropping what is queued (the shutdown deadline passed).
  void force_close() { abort("server shutting down"); }
  // The transport's cap on connections without CONNECT (--max-stomp-handshakes) picked this
  // one to make room: while it still awaits CONNECT, ERROR "handshake capacity exceeded"
  // and close after the flush; returns true. Once a CONNECT was accepted (or the session
  // closes anyway) it does nothing and returns false.
  bool evict_handshake();

  // ---- fan-out (any thread) ----
  void deliver(std::shared_ptr<const fanout_event> event) override;
  void armed(const channel_key& key) override;
  // Any thread: the nickname stamped on this session's SENDs and typing notices from now on.
  void nickname_changed(std::string nickname) override;
  void block_changed(const proto::block_change& change) override;
  // Any thread: this user's membership of `room_id` ended (chat:membership): the cached membership
  // is forgotten; the subscriptions end with the room event that announces it (room order).
  void membership_revoked(std::int64_t room_id) override;

  const boost::asio::any_io_executor& executor() const noexcept { return strand_; }
  const std::string& id() const noexcept { return id_; }
  bool closed() const noexcept { return phase_ == phase::closed; }

 private:
  enum class phase {
    awaiting_connect,  // transport open, no CONNECT yet
    authenticating,    // CONNECT received, nickname lookup in flight
    connected,
    disconnecting,  // DISCONNECT received: its RECEIPT waits for in-flight SENDs
    closing,        // ERROR sent or DISCONNECT done: flushing, then the transport closes
    closed,
  };

  struct arming_wait {
    channel_key key;
    std::string receipt;
    time_point deadline;
  };

  // A SUBSCRIBE with since-id catching up (docs/stomp.md "Recovery"): armed on the bus ->
  // the log's end H of the room's partition -> the store polled (timers) until its progress
  // reaches H -> its events, then the live ones held meanwhile (recovery_seam) -> RECEIPT.
  struct recovery {
    enum class stage { arming, locating, polling, querying, sending };
    recovery(std::uint64_t serial_, std::int64_t room, std::int64_t since, std::size_t max_held)
        : serial(serial_), room_id(room), seam(room, since, max_held) {}
    std::uint64_t serial;  // callbacks of an earlier subscription with the same id are ignored
    std::int64_t room_id;
    std::optional<std::string> receipt;
    stage at = stage::arming;
    time_point started{};  // the SUBSCRIBE; each stage's end for chat_recovery_seconds{stage}
    time_point stage_started{};
    time_point arm_deadline{};
    time_point store_deadline{};
    time_point next_poll{};
    std::chrono::milliseconds poll_every{0};
    bool located = false;  // the log's end is known: the store can be waited for
    std::int32_t partition = 0;
    std::int64_t stored_through = 0;
    recovery_seam seam;
    std::deque<std::shared_ptr<const fanout_event>> to_send;  // stage sending
    bool recovered = true;
    std::size_t replayed = 0;
  };

  // ---- inbound ----
  void process_inbox();
  void dispatch(stomp::frame& f);
  void handle_connect(stomp::frame& f);
  void on_nickname(lookup_status status, connecting_user_info info);
  // A block of or by this user was made or lifted: the block set, the gates of DIRECT rooms with
  // the other user.
  void apply_block_change(const proto::block_change& change);
  // The event's sender is someone this user blocks: not for this session.
  bool blocked_sender(const fanout_event& event) const noexcept {
    return event.blockable_sender != 0 && !blocks_.empty() &&
           std::binary_search(blocks_.begin(), blocks_.end(), event.blockable_sender);
  }
  // The cached gate says `room_id` is a DIRECT room of a blocked pair.
  bool direct_blocked(std::int64_t room_id) const;
  void handle_subscribe(stomp::frame& f);
  void handle_unsubscribe(stomp::frame& f);
  // Removes subscription `id` (if any) and leaves what it was the last one of.
  void remove_subscription(const std::string& id);
  // The user left `room_id` (their member.left or member.removed arrived, or room.deleted): ends
  // this session's subscriptions of the room and its typing topic, and forgets the cached
  // membership.
  void left_room(std::int64_t room_id);
  // `event` ends this user's membership of its room: room.deleted, or their own member.left /
  // member.removed unless it is older than this session's latest verified membership of the room
  // (they joined again since).
  bool ends_my_membership(const fanout_event& event) const;
  void handle_send(stomp::frame& f);
  void handle_disconnect(stomp::frame& f);
  // Runs `publish` (which owns the slot) once the admission gate admitted `bytes` (now, or after a
  // wait that suspends frame processing and reading); refuses the SEND past the timeout.
  void admit_then(std::size_t bytes, std::optional<std::string> receipt, std::string destination,
                  std::function<void()> publish);
  void on_admitted(std::size_t bytes);
  // The message log's callback for a publish holding an admission slot of `bytes`.
  // `created_at_ms`: the room event's createdAt (chat_stage_latency_seconds{stage="kafka_acked"}); 0: none.
  chatd::publish_callback publish_done(std::uint64_t seq, std::size_t bytes, bool is_event,
                                       std::int64_t created_at_ms = 0);
  // Publishes a room event (a chat message or one of docs/stomp.md "Room events") holding an
  // admission slot of `bytes`; its RECEIPT carries message-id and message-key.
  // `claim`: a message with a client-supplied messageKey; its RECEIPT names the id the key got
  // first (core/message_keys.hpp). The functions below pass it on.
  void publish_event(proto::chat_message event, std::optional<std::string> receipt, std::string destination,
                     std::size_t bytes, bool claim);
  // A room event that needs the store: the context of its target (directory::event_context, which
  // holds back later frames), chatd::check_room_event, an /api/files attachment's metadata, then
  // admission and publish_event. A refusal is one SEND refused (refuse()), the session stays.
  void send_room_event(proto::chat_message event, std::optional<std::string> receipt, std::string destination,
                       bool claim = false);
  void on_event_context(lookup_status status, const chatd::target_context& ctx, proto::chat_message event,
                        std::optional<std::string> receipt, std::string destination, bool claim);
  void with_attachment(proto::chat_message event, std::optional<std::string> receipt, std::string destination,
                       bool claim);
  void admit_event(proto::chat_message event, std::optional<std::string> receipt, std::string destination,
                   bool claim = false);
  // A message whose client-supplied messageKey this node saw acknowledged before: answered with
  // that id without a new record (true), or refused when the key names another room's or
  // sender's message (true). False: not known here, publish it.
  bool answer_known_key(const std::string& key, std::int64_t room_id, const std::optional<std::string>& receipt,
                        std::string_view destination);
  // The RECEIPT of an accepted room event: message-id and message-key.
  void send_event_receipt(const std::string& receipt, std::int64_t id, std::string_view key);
  // The claim of a message's key answered (core/message_keys.hpp): its RECEIPT.
  void on_claimed(const chatd::key_entry& mine, const chatd::key_entry& first,
                  const std::optional<std::string>& receipt, const std::string& key, const std::string& destination);
  // /app/chat.delete with forMe: the target's context, then directory::hide_message; no Kafka.
  void hide_for_me(const proto::delete_request& request, std::optional<std::string> receipt, std::string destination);
  // A lookup that holds back the frames after this one (answered by a shutdown if need be).
  void hold_for_lookup(const std::optional<std::string>& receipt);
  // Its answer arrived: false when the session is no longer connected (frames resumed or dropped).
  bool lookup_answered();
  // The membership (and, for a member, the room's gate) a store answer showed (the membership cache).
  void note_membership(std::int64_t room_id, bool member, room_gate gate = {});
  // The membership cache says this user is a member of `room_id` (as for a plain SEND).
  bool known_member(std::int64_t room_id) const;
  // The context of `event` from memory alone (the membership cache, env.recent) when the rules
  // allow it there; nullopt: the store decides (a refusal, an admin's right, pins, unknown target).
  std::optional<chatd::target_context> remembered_context(const proto::chat_message& event) const;
  // The hub channel of a subscription: rooms and typing topics, and /user/queue/notifications
  // (this user's channel); nullopt for the others.
  std::optional<channel_key> hub_channel(const proto::destination& dest) const noexcept;
  void send_read_receipt(const proto::read_request& request, std::optional<std::string> receipt,
                         std::string destination, std::size_t bytes);
  void send_typing(std::int64_t room_id, std::optional<std::string> receipt);
  void add_subscription(std::string sub_id, subscription sub, std::optional<std::string> receipt,
                        std::optional<std::int64_t> since_id = std::nullopt);
  // ---- recovery ----
  recovery* find_recovery(const std::string& sub_id, std::uint64_t serial);
  void locate_recovery(const std::string& sub_id, recovery& r);
  void query_recovery(const std::string& sub_id, recovery& r, bool final);
  void on_recovery_page(const std::string& sub_id, std::uint64_t serial, lookup_status status, recovery_page page,
                        bool final);
  // `pump`: start sending now (false inside a delivery loop: deliver_event pumps after it).
  void finish_recovery(const std::string& sub_id, recovery& r, std::vector<std::shared_ptr<const fanout_event>> stored,
                       bool stored_truncated, bool store_complete, bool pump = true);
  // Queues what finished recoveries have to send, as far as the outbound bound lets it.
  void pump_recoveries();
  // A live room event for subscription `sub_id`: false when its recovery holds or drops it.
  bool recovery_takes(const std::string& sub_id, const std::shared_ptr<const fanout_event>& event);
  // `is_event`: a room event on chat.messages (its RECEIPT carries message-id and message-key).
  void on_published(std::uint64_t seq, const chatd::publish_result& result, bool is_event, std::int64_t created_at_ms);
  void on_contacts(lookup_status status, std::vector<std::int64_t> contacts, std::optional<std::string> receipt);
  // ERROR "server shutting down" and close (shut_down, once no SEND is in flight).
  void say_goodbye();
  void finish_disconnect_if_ready();

  // Runs `then` once `room_id` is known to have this user as a member (now when cached,
  // else after a lookup that suspends frame processing). Non-members get ERROR forbidden.
  void with_membership(std::int64_t room_id, const std::optional<std::string>& receipt, std::function<void()> then);
  // Suspends frame processing until resume() is called on the strand.
  void suspend() noexcept { suspended_ = true; }
  void resume();
  template <class F>
  auto on_strand(F&& f);

  // ---- outbound ----
  bool enqueue(outbound_item item);
  void send_frame(const stomp::frame& f);
  void send_receipt(std::string_view receipt_id);
  void send_error(std::string_view message, std::string_view detail, const std::optional<std::string>& receipt = {});
  void send_soft_error(std::string_view code, std::string_view message, std::string_view destination,
                       const std::optional<std::string>& receipt);
  // One SEND was not accepted; the session stays open. A soft error when the client
  // subscribes /user/queue/errors, else ERROR with session-closes:false.
  void refuse(std::string_view code, std::string_view message, std::string_view detail, std::string_view destination,
              const std::optional<std::string>& receipt);
  // Answers the SENDs with a receipt among frames dropped unprocessed (shutdown).
  void refuse_unprocessed(std::string_view code, std::string_view message, std::string_view detail);
  // Queues a fan-out frame, or sheds it when the queue is full.
  bool enqueue_fanout(outbound_item item);
  void shed(std::size_t events);
  void begin_close();
  void abort(std::string_view why);
  // Counts chat_slow_consumer_disconnects_total and aborts.
  void disconnect_slow_consumer(std::string_view why);
  // chat_websocket_sessions{transport} of this session's transport moves by `delta`.
  void count_open_session(int delta);
  metrics::chat_metrics* attached_metrics() const noexcept {
    return env_->stats.metrics.load(std::memory_order_acquire);
  }
  // Every phase change but the final one goes through here: leaving awaiting_connect is
  // reported to the transport (transport::handshake_finished()), once.
  void set_phase(phase next);
  // `backlog_drained`: no other fan-out is posted to the strand behind this event.
  void deliver_on_strand(const std::shared_ptr<const fanout_event>& event, bool backlog_drained);
  void deliver_event(const std::shared_ptr<const fanout_event>& event);
  // Tells the client (/user/queue/errors) how many events it missed, once its queue has room.
  void tell_shed_if_room();
  void schedule_next();

  bool escaping() const noexcept { return version_ != stomp::version::v1_0; }
  std::optional<std::string> receipt_of(const stomp::frame& f) const;
  time_point now() const { return env_->clock.now(); }
  double seconds_since(time_point t) const { return std::chrono::duration<double>(now() - t).count(); }
  std::int64_t seconds_now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }

  const boost::asio::any_io_executor strand_;
  const std::shared_ptr<const session_env> env_;
  const std::string id_;
  const transport_kind kind_;
  transport* transport_ = nullptr;
  phase phase_ = phase::awaiting_connect;
  bool reading_stopped_ = false;  // shutdown phase 1
  bool released_ = false;         // on_transport_closed() ran

  // protocol
  stomp::decoder decoder_;
  std::error_code decode_error_;
  std::deque<stomp::frame> inbox_;
  bool suspended_ = false;
  bool reading_paused_ = false;
  stomp::version version_ = stomp::version::v1_2;
  stomp::heart_beat_plan heart_beat_{0, 0};
  std::int64_t user_id_ = 0;
  // The CONNECT token's jti, sid and iat, for the revocation checks.
  std::string token_id_;
  std::string token_session_;
  std::int64_t token_issued_at_ = 0;
  chatd::tokens::live_tokens::handle live_token_ = 0;  // registered in env.live_tokens; 0: not
  std::string nickname_;
  bool user_slot_ = false;        // counted in user_registry
  bool presence_opened_ = false;  // told presence_sink
  bool user_registered_ = false;  // in fanout_hub::add_user_session (profile and block changes)

  // subscriptions
  subscription_table subs_;
  std::vector<std::int64_t> watched_;  // contacts watched for /topic/presence
  time_point contacts_loaded_{};
  bool contacts_loading_ = false;
  std::vector<arming_wait> arming_;
  std::unordered_map<std::string, std::unique_ptr<recovery>> recoveries_;  // by subscription id
  // Subscriptions whose recovery ended: the last id it delivered (later live copies of older
  // events, from a broadcast consumer behind the store, are dropped).
  std::unordered_map<std::string, std::int64_t> recovered_through_;
  std::uint64_t next_recovery_ = 1;
  bool pumping_ = false;
  std::unordered_map<std::int64_t, time_point> member_cache_;          // room -> verified at
  std::unordered_map<std::int64_t, std::int64_t> member_verified_ms_;  // room -> wall clock of the latest verification
  // The gates of the DIRECT rooms in member_cache_ (group rooms have none): valid while their
  // membership is.
  std::unordered_map<std::int64_t, room_gate> direct_rooms_;
  // The users this user blocks, ascending (at most proto::max_blocks_per_user).
  std::vector<std::int64_t> blocks_;
  // Block changes heard while CONNECT's lookup was in flight: applied after its answer.
  std::vector<proto::block_change> early_block_changes_;

  // The receipt of the frame waiting for a membership lookup (a shutdown answers it).
  std::optional<std::string> lookup_receipt_;

  // A SEND waiting for an admission slot (at most one: frame processing is suspended).
  struct admission_wait {
    chatd::admission_gate::ticket ticket = 0;
    time_point deadline;
    std::optional<std::string> receipt;
    std::string destination;
    std::function<void()> publish;
  };
  std::optional<admission_wait> admission_wait_;

  // Fan-out events shed since the client was last told (/user/queue/errors).
  std::uint64_t shed_untold_ = 0;

  // SENDs in flight to Kafka. One sequence numbers them and the soft errors' message ids.
  publish_tracker pending_sends_;
  // Acknowledged messages whose key claims (core/message_keys.hpp) have not answered: their
  // RECEIPTs come first, before a DISCONNECT's.
  std::size_t claims_in_flight_ = 0;
  std::uint64_t next_seq_ = 1;
  std::optional<std::string> disconnect_receipt_;
  bool shutdown_requested_ = false;  // shut_down() ran: the goodbye ERROR follows pending SENDs

  // fan-out posted to the strand and not yet run (written by any thread in deliver())
  std::atomic<std::size_t> posted_fanout_bytes_{0};
  std::atomic<std::uint64_t> shed_posted_{0};  // dropped by deliver(): told on the strand

  outbound_queue outbound_;

  // clocks
  time_point opened_at_{};
  time_point last_input_{};
  time_point last_output_{};
};

// Builds the session id "<node>-<n>" for the n-th session of this process.
std::string make_session_id(std::string_view node_id, std::uint64_t n);

}  // namespace chat::gateway
