#include "gateway/session.hpp"

#include "gateway/room_feed.hpp"
#include "metrics/chat_metrics.hpp"

#include <chat/auth/jwt.hpp>
#include <chat/common/uuid.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/commands.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/json.hpp>
#include <chat/stomp/encoder.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

namespace chat::gateway {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

std::string decimal(std::uint64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  return std::string(digits, end);
}

// The per-session prefix of a fan-out MESSAGE; the shared tail (make_json_tail) completes it.
void write_message_head(std::string& out, std::string_view sub_id, std::string_view message_id, bool with_ack,
                        bool escape) {
  out.reserve(48 + sub_id.size() + 2 * message_id.size());
  stomp::frame_writer w(out, stomp::command::message, {.escape = escape});
  w.header("subscription", sub_id).header("message-id", message_id);
  if (with_ack) w.header("ack", message_id);
}

}  // namespace

// ---- session_set ----------------------------------------------------------------------------

void session_set::add(const std::shared_ptr<session>& s) {
  std::lock_guard lock(mutex_);
  sessions_.insert_or_assign(s.get(), s);
}

void session_set::remove(const session* s) {
  std::lock_guard lock(mutex_);
  sessions_.erase(s);
  if (sessions_.empty()) emptied_.notify_all();
}

bool session_set::wait_empty(time_point deadline) const {
  std::unique_lock lock(mutex_);
  return emptied_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
}

std::vector<std::shared_ptr<session>> session_set::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<session>> out;
  out.reserve(sessions_.size());
  for (const auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

std::size_t session_set::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::string make_session_id(std::string_view node_id, std::uint64_t n) {
  std::string out(node_id);
  out.push_back('-');
  out.append(decimal(n));
  return out;
}

// ---- life cycle -----------------------------------------------------------------------------

session::session(net::any_io_executor strand, std::shared_ptr<const session_env> env, std::string id,
                 transport_kind kind)
    : strand_(std::move(strand)),
      env_(std::move(env)),
      id_(std::move(id)),
      kind_(kind),
      decoder_(env_->settings.decoder_limits),
      outbound_(env_->settings.max_outbound_bytes) {}

session::~session() { on_transport_closed(); }

// Wraps `f(session&, args...)` into a callback that may run on any thread: it posts to the
// strand, and does nothing when the session is gone by then.
template <class F>
auto session::on_strand(F&& f) {
  return [weak = weak_from_this(), strand = strand_, f = std::forward<F>(f)]<class... A>(A&&... args) {
    net::post(strand, [weak, f, ... args = std::decay_t<A>(std::forward<A>(args))]() mutable {
      if (auto self = weak.lock()) f(*self, std::move(args)...);
    });
  };
}

void session::start(transport& t) {
  transport_ = &t;
  opened_at_ = last_input_ = last_output_ = now();
  env_->sessions.add(shared_from_this());
  schedule_next();
}

void session::on_transport_closed() {
  if (released_) return;
  released_ = true;
  // Not set_phase(): the transport is gone or going (this also runs in ~session), so it
  // hears nothing more; it stopped tracking the handshake itself when it closed.
  phase_ = phase::closed;
  transport_ = nullptr;
  auto& env = *env_;
  for (const auto& key : subs_.channels()) env.hub.leave(key, this);
  if (!subs_.notifications().empty()) env.hub.leave(channel_key{channel_kind::user, user_id_}, this);
  if (!subs_.room_list().empty() && env.feed != nullptr) env.feed->unwatch(user_id_, this);
  subs_.clear();
  if (!watched_.empty()) env.hub.unwatch(watched_, this);
  watched_.clear();
  if (live_token_ != 0 && env.live_tokens != nullptr) env.live_tokens->remove(live_token_);
  live_token_ = 0;
  if (user_registered_) env.hub.remove_user_session(user_id_, this);
  user_registered_ = false;
  if (presence_opened_) env.presence.session_closed(user_id_);
  presence_opened_ = false;
  if (user_slot_) {
    env.users.close_session(user_id_, env.clock.now());
    count_open_session(-1);
  }
  user_slot_ = false;
  env.sessions.remove(this);
  // A grant already on its way releases its slot itself (on_admitted finds no wait).
  if (admission_wait_) env.admission.cancel(admission_wait_->ticket);
  admission_wait_.reset();
  inbox_.clear();
  arming_.clear();
  recoveries_.clear();
  recovered_through_.clear();
  // outbound_ stays: a write may still reference it; it goes with the session.
}

bool session::wants_bytes() const noexcept {
  if (reading_stopped_ || reading_paused_ || decode_error_) return false;
  return phase_ == phase::awaiting_connect || phase_ == phase::authenticating || phase_ == phase::connected;
}

void session::stop_reading() {
  reading_stopped_ = true;
  refuse_unprocessed("shutting_down", "server shutting down",
                     "chatd is shutting down; this frame was not processed: send it again to another node");
}

void session::refuse_unprocessed(std::string_view code, std::string_view message, std::string_view detail) {
  for (const auto& f : inbox_) {
    if (f.cmd != stomp::command::send) continue;
    if (const auto receipt = receipt_of(f)) {
      refuse(code, message, detail, f.get("destination").value_or(std::string_view{}), receipt);
    }
  }
  inbox_.clear();
}

bool session::evict_handshake() {
  if (phase_ != phase::awaiting_connect) return false;
  // Not send_error(), which logs every ERROR: a flood evicts thousands, and the listener
  // logs them in aggregate.
  send_frame(stomp::frame{stomp::command::error,
                          {{"message", "handshake capacity exceeded"}, {"content-type", "text/plain"}},
                          "too many connections are waiting for their CONNECT; this one was the oldest"});
  begin_close();
  return true;
}

void session::shut_down() {
  if (phase_ == phase::closing || phase_ == phase::closed) return;
  shutdown_requested_ = true;
  if (phase_ != phase::connected && phase_ != phase::disconnecting) return say_goodbye();
  // A SEND handed to the log before the goodbye still gets its RECEIPT (or ERROR) first: the
  // producer flush may have returned before a SEND that was waiting for its membership lookup
  // (or was already read) was published. One still waiting for its lookup is dropped unsent.
  set_phase(phase::disconnecting);
  refuse_unprocessed("shutting_down", "server shutting down",
                     "chatd is shutting down; this frame was not processed: send it again to another node");
  if (lookup_receipt_) {
    // A frame waiting for its membership lookup is not processed: it is answered now.
    refuse("shutting_down", "server shutting down",
           "chatd is shutting down; this frame was not processed: send it again to another node", "",
           std::exchange(lookup_receipt_, std::nullopt));
  }
  if (admission_wait_ && env_->admission.cancel(admission_wait_->ticket)) {
    auto wait = std::move(*admission_wait_);
    admission_wait_.reset();
    refuse("shutting_down", "server shutting down",
           "chatd is shutting down; the message was not accepted: send it again to another node", wait.destination,
           wait.receipt);
  }
  finish_disconnect_if_ready();
}

void session::token_revoked() {
  live_token_ = 0;  // the sweep forgot it
  if (phase_ == phase::closing || phase_ == phase::closed) return;
  send_error("token revoked",
             "the access token of this session was revoked (logout, logout-all, a password change or a reused "
             "refresh token): log in again");
}

void session::say_goodbye() {
  send_error("server shutting down", "chatd is shutting down; reconnect to another node or retry shortly");
}

// ---- inbound --------------------------------------------------------------------------------

void session::on_bytes(std::string_view bytes) {
  if (reading_stopped_ || decode_error_ ||
      (phase_ != phase::awaiting_connect && phase_ != phase::authenticating && phase_ != phase::connected)) {
    return;  // discarded: after ERROR, DISCONNECT or during shutdown
  }
  last_input_ = now();
  const auto ec = decoder_.feed(
      bytes, [this](stomp::frame&& f) { inbox_.push_back(std::move(f)); }, [] {});
  if (ec) decode_error_ = ec;
  process_inbox();
  // Frames wait behind a lookup: stop reading until they are processed.
  if (inbox_.size() >= env_->settings.max_pending_frames) reading_paused_ = true;
}

void session::process_inbox() {
  while (!suspended_ && !inbox_.empty()) {
    if (reading_stopped_ || (phase_ != phase::awaiting_connect && phase_ != phase::connected)) {
      inbox_.clear();
      break;
    }
    stomp::frame f = std::move(inbox_.front());
    inbox_.pop_front();
    dispatch(f);
  }
  if (suspended_) return;
  if (decode_error_ && !reading_stopped_ && (phase_ == phase::awaiting_connect || phase_ == phase::connected)) {
    send_error(decode_error_.message(), "malformed frame: " + decode_error_.message());
    return;
  }
  if (reading_paused_ && inbox_.empty()) {
    reading_paused_ = false;
    // The client's silence is counted from here: what it sent meanwhile waits unread.
    last_input_ = std::max(last_input_, now());
    if (transport_ != nullptr && wants_bytes()) transport_->resume_reading();
  }
}

void session::resume() {
  suspended_ = false;
  process_inbox();
}

std::optional<std::string> session::receipt_of(const stomp::frame& f) const {
  if (const auto r = f.get("receipt")) return std::string(*r);
  return std::nullopt;
}

void session::dispatch(stomp::frame& f) {
  if (f.cmd == stomp::command::connect || f.cmd == stomp::command::stomp) {
    if (phase_ == phase::awaiting_connect) return handle_connect(f);
    return send_error("already connected", "CONNECT may only be sent once", receipt_of(f));
  }
  if (phase_ == phase::awaiting_connect) {
    return send_error("not connected", "the first frame must be CONNECT or STOMP");
  }
  switch (f.cmd) {
    case stomp::command::send: return handle_send(f);
    case stomp::command::subscribe: return handle_subscribe(f);
    case stomp::command::unsubscribe: return handle_unsubscribe(f);
    case stomp::command::ack:
    case stomp::command::nack:
      // Accepted; delivery is at most once, there is nothing to acknowledge.
      if (const auto r = receipt_of(f)) send_receipt(*r);
      return;
    case stomp::command::disconnect: return handle_disconnect(f);
    case stomp::command::begin:
    case stomp::command::commit:
    case stomp::command::abort:
      return send_error("transactions are not supported", "BEGIN, COMMIT and ABORT are not supported", receipt_of(f));
    case stomp::command::connected:
    case stomp::command::message:
    case stomp::command::receipt:
    case stomp::command::error:
      return send_error("unexpected frame", std::string(stomp::to_string(f.cmd)) + " is a server frame", receipt_of(f));
    case stomp::command::connect:
    case stomp::command::stomp: return;  // handled above
  }
}

void session::handle_connect(stomp::frame& f) {
  const auto version = stomp::negotiate_version(f.get("accept-version"));
  if (!version) {
    stomp::frame e{
        stomp::command::error,
        {{"version", "1.0,1.1,1.2"}, {"message", "unsupported protocol version"}, {"content-type", "text/plain"}},
        "Supported protocol versions are 1.0, 1.1 and 1.2"};
    send_frame(e);
    return begin_close();
  }
  version_ = *version;
  stomp::heart_beat client_hb{0, 0};
  if (version_ != stomp::version::v1_0) {
    if (const auto hb = f.get("heart-beat")) {
      const auto parsed = stomp::parse_heart_beat(*hb);
      if (!parsed) {
        return send_error("invalid heart-beat header", "heart-beat must be two integers, e.g. 10000,10000");
      }
      client_hb = *parsed;
    }
  } else {
    decoder_.set_escaping(false);  // STOMP 1.0: header values are literal
  }
  const auto& settings = env_->settings;
  heart_beat_ = stomp::negotiate_heart_beat(client_hb, {settings.heartbeat_send_ms, settings.heartbeat_receive_ms});

  std::optional<std::string_view> token;
  for (const std::string_view name : {"Authorization", "authorization"}) {
    if (const auto value = f.get(name)) {
      token = auth::bearer_token(*value);
      break;
    }
  }
  if (!token) {
    if (const auto passcode = f.get("passcode")) {
      const auto bearer = auth::bearer_token(*passcode);
      token = bearer ? *bearer : *passcode;
    }
  }
  auth::claims claims;
  if (!token || token->empty() || auth::verify_jwt(*token, settings.jwt_secret, env_->clock.unix_ms() / 1000, claims)) {
    env_->stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
    return send_error("unauthorized", "a valid token is required: header Authorization: Bearer <jwt>, or passcode");
  }
  if (env_->revocations != nullptr &&
      env_->revocations->is_revoked({claims.user_id, claims.token_id, claims.session_id, claims.issued_at})) {
    env_->stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
    return send_error("unauthorized", "the token was revoked (logout, logout-all or a password change): log in again");
  }
  user_id_ = claims.user_id;
  token_id_ = std::move(claims.token_id);
  token_session_ = std::move(claims.session_id);
  token_issued_at_ = claims.issued_at;
  set_phase(phase::authenticating);
  suspend();
  // Block changes from now on reach this session (kept until the lookup below answers): the
  // block set it loads plus what changed meanwhile is current. So do nickname changes (applied
  // once connected: one made between the lookup and CONNECTED is missed, a database round trip).
  env_->hub.add_user_session(user_id_, shared_from_this());
  user_registered_ = true;
  env_->dir.connecting_user(user_id_, on_strand([](session& s, lookup_status status, connecting_user_info info) {
                              s.on_nickname(status, std::move(info));
                            }));
}

void session::on_nickname(lookup_status status, connecting_user_info info) {
  if (phase_ != phase::authenticating) return;
  switch (status) {
    case lookup_status::found: break;
    case lookup_status::not_found:
      env_->stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
      return send_error("unauthorized", "the token's user does not exist");
    case lookup_status::unavailable:
      return send_error("service unavailable", "the user directory cannot be reached; retry shortly");
  }
  nickname_ = std::move(info.nickname);
  // Verified just now, as a SUBSCRIBE's lookup would: the client's SUBSCRIBEs to these rooms
  // (a reconnect's many) need no lookup each.
  for (const auto& room : info.rooms) note_membership(room.room_id, true, room.gate);
  blocks_ = std::move(info.blocks);
  std::sort(blocks_.begin(), blocks_.end());
  blocks_.erase(std::unique(blocks_.begin(), blocks_.end()), blocks_.end());
  for (const auto& change : std::exchange(early_block_changes_, {})) apply_block_change(change);
  if (!env_->users.open_session(user_id_, now())) {
    return send_error("too many sessions",
                      "this user has too many open sessions (--max-sessions-per-user, counted across nodes)");
  }
  user_slot_ = true;
  count_open_session(1);
  set_phase(phase::connected);
  if (env_->live_tokens != nullptr) {
    // Registered before CONNECTED goes out; a revocation that raced the CONNECT's check is
    // caught by the next sweep (--revocation-sync) at the latest.
    live_token_ = env_->live_tokens->add(
        {user_id_, token_id_, token_session_, token_issued_at_, on_strand([](session& s) { s.token_revoked(); })});
  }

  const auto& settings = env_->settings;
  stomp::frame connected{stomp::command::connected, {}, {}};
  connected.headers.push_back({"version", std::string(stomp::to_string(version_))});
  connected.headers.push_back(
      {"heart-beat", decimal(settings.heartbeat_send_ms) + "," + decimal(settings.heartbeat_receive_ms)});
  connected.headers.push_back({"server", settings.server_name});
  connected.headers.push_back({"session", id_});
  connected.headers.push_back({"user-name", decimal(static_cast<std::uint64_t>(user_id_))});
  send_frame(connected);

  env_->presence.session_opened(user_id_);
  presence_opened_ = true;
  last_input_ = now();
  log::debug("stomp session connected", {{"session", id_},
                                         {"user", user_id_},
                                         {"version", stomp::to_string(version_)},
                                         {"hb_send_ms", heart_beat_.send_every_ms},
                                         {"hb_expect_ms", heart_beat_.expect_every_ms}});
  schedule_next();
  resume();
}

void session::with_membership(std::int64_t room_id, const std::optional<std::string>& receipt,
                              std::function<void()> then) {
  const auto cached = member_cache_.find(room_id);
  if (cached != member_cache_.end() && now() - cached->second < env_->settings.membership_cache_ttl) {
    return then();
  }
  suspend();
  lookup_receipt_ = receipt;
  env_->dir.membership(
      room_id, user_id_,
      on_strand([room_id, receipt, then = std::move(then)](session& s, lookup_status status, room_gate gate) {
        s.lookup_receipt_.reset();
        if (s.phase_ != phase::connected) return s.resume();  // a shutdown answered it (shut_down)
        s.suspended_ = false;                                 // the lookup is answered
        switch (status) {
          case lookup_status::found:
            s.note_membership(room_id, true, gate);
            then();
            break;
          case lookup_status::not_found:
            s.note_membership(room_id, false);
            s.env_->stats.forbidden.fetch_add(1, std::memory_order_relaxed);
            s.send_error("forbidden", "not a member of room " + decimal(static_cast<std::uint64_t>(room_id)), receipt);
            break;
          case lookup_status::unavailable:
            // A membership this session verified before is trusted while the database is down.
            if (s.member_cache_.contains(room_id)) {
              then();
            } else {
              s.send_error("service unavailable", "membership cannot be checked right now; retry shortly", receipt);
            }
            break;
        }
        // `then` may have suspended again (waiting for admission): frames stay behind it.
        if (!s.suspended_) s.resume();
      }));
}

void session::handle_subscribe(stomp::frame& f) {
  auto receipt = receipt_of(f);
  const auto dest_text = f.get("destination");
  if (!dest_text) {
    return send_error("missing destination", "SUBSCRIBE requires a destination header", receipt);
  }
  std::string sub_id;
  if (const auto id = f.get("id")) {
    sub_id = std::string(*id);
  } else if (version_ == stomp::version::v1_0) {
    sub_id = std::string(*dest_text);
  } else {
    return send_error("missing id", "SUBSCRIBE requires an id header", receipt);
  }
  if (subs_.contains(sub_id)) {
    return send_error("subscription id in use", "subscription " + sub_id + " already exists", receipt);
  }
  if (subs_.size() >= env_->settings.max_subscriptions) {
    return send_error("too many subscriptions",
                      "at most " + decimal(env_->settings.max_subscriptions) + " subscriptions per session", receipt);
  }
  subscription sub;
  if (const auto ack = f.get("ack")) {
    if (*ack == "auto") {
      sub.ack = ack_mode::auto_;
    } else if (*ack == "client") {
      sub.ack = ack_mode::client;
    } else if (*ack == "client-individual") {
      sub.ack = ack_mode::client_individual;
    } else {
      return send_error("invalid ack mode", "ack must be auto, client or client-individual", receipt);
    }
  }
  const auto dest = proto::parse_destination(*dest_text);
  if (!dest) {
    return send_error("unknown destination", "cannot subscribe to " + std::string(*dest_text), receipt);
  }
  sub.dest = *dest;
  // Recovery (docs/stomp.md "Recovery"): a canonical non-negative decimal, room destinations only.
  std::optional<std::int64_t> since_id;
  if (const auto since = f.get("since-id")) {
    std::int64_t value = -1;
    const auto* end = since->data() + since->size();
    const auto parsed = std::from_chars(since->data(), end, value);
    if (since->empty() || parsed.ec != std::errc{} || parsed.ptr != end || value < 0 ||
        (since->size() > 1 && since->front() == '0')) {
      return send_error("invalid since-id", "since-id must be a message id: a non-negative decimal", receipt);
    }
    if (dest->kind != proto::destination_kind::room) {
      return send_error("invalid since-id", "since-id is only for /topic/room.{id}", receipt);
    }
    since_id = value;
  }
  switch (dest->kind) {
    case proto::destination_kind::room:
    case proto::destination_kind::room_typing:
      return with_membership(dest->room_id, receipt,
                             [this, sub_id = std::move(sub_id), sub, receipt, since_id]() mutable {
                               add_subscription(std::move(sub_id), sub, std::move(receipt), since_id);
                             });
    case proto::destination_kind::user_rooms:
      if (env_->feed == nullptr) {
        return send_error("unknown destination", "cannot subscribe to " + std::string(*dest_text), receipt);
      }
      return add_subscription(std::move(sub_id), sub, std::move(receipt));
    case proto::destination_kind::presence:
    case proto::destination_kind::user_errors:
    case proto::destination_kind::user_notifications:
      return add_subscription(std::move(sub_id), sub, std::move(receipt));
    case proto::destination_kind::app_send:
    case proto::destination_kind::app_read:
    case proto::destination_kind::app_typing:
    case proto::destination_kind::app_edit:
    case proto::destination_kind::app_delete:
    case proto::destination_kind::app_react:
      return send_error("unknown destination", "cannot subscribe to " + std::string(*dest_text), receipt);
  }
}

void session::add_subscription(std::string sub_id, subscription sub, std::optional<std::string> receipt,
                               std::optional<std::int64_t> since_id) {
  if (phase_ != phase::connected) return;
  if (since_id) {
    // Live events of this subscription are held from now on; its RECEIPT follows the replay.
    const auto key = *hub_channel(sub.dest);
    subs_.add(sub_id, sub);
    auto r =
        std::make_unique<recovery>(next_recovery_++, sub.dest.room_id, *since_id, env_->settings.recovery_max_held);
    r->receipt = std::move(receipt);
    r->started = r->stage_started = now();
    r->arm_deadline = now() + env_->settings.arm_wait;
    recoveries_.insert_or_assign(sub_id, std::move(r));
    // Joined (again, when another subscription of the room has it already): armed() comes once
    // the bus confirms, at once when it did before.
    env_->hub.join(key, shared_from_this());
    schedule_next();
    return;
  }
  const auto members = subs_.add(std::move(sub_id), sub);
  if (const auto key = hub_channel(sub.dest)) {
    const bool waiting = std::any_of(arming_.begin(), arming_.end(), [&](const auto& a) { return a.key == *key; });
    if (members == 1 || waiting) {
      // The RECEIPT says "live delivery is on": it waits (bounded) for the bus to confirm.
      if (receipt) arming_.push_back({*key, std::move(*receipt), now() + env_->settings.arm_wait});
      if (members == 1) env_->hub.join(*key, shared_from_this());
      schedule_next();
    } else if (receipt) {
      send_receipt(*receipt);
    }
    return;
  }
  switch (sub.dest.kind) {
    case proto::destination_kind::presence:
      if (members == 1 && !contacts_loading_) {
        contacts_loading_ = true;
        env_->dir.contacts(user_id_,
                           on_strand([receipt](session& s, lookup_status status, std::vector<std::int64_t> ids) {
                             s.on_contacts(status, std::move(ids), receipt);
                           }));
      } else if (receipt) {
        send_receipt(*receipt);
      }
      return;
    case proto::destination_kind::user_errors:
      if (receipt) send_receipt(*receipt);
      return;
    case proto::destination_kind::user_rooms: {
      // The RECEIPT waits (bounded) for the user's room list to be live (room_feed::watch).
      const channel_key key{channel_kind::room_list, user_id_};
      const bool waiting = std::any_of(arming_.begin(), arming_.end(), [&](const auto& a) { return a.key == key; });
      if (members == 1 || waiting) {
        if (receipt) arming_.push_back({key, std::move(*receipt), now() + env_->settings.arm_wait});
        if (members == 1) env_->feed->watch(user_id_, shared_from_this());
        schedule_next();
      } else if (receipt) {
        send_receipt(*receipt);
      }
      return;
    }
    case proto::destination_kind::room:
    case proto::destination_kind::room_typing:  // channels, above
    case proto::destination_kind::user_notifications:
    case proto::destination_kind::app_send:
    case proto::destination_kind::app_read:
    case proto::destination_kind::app_typing:
    case proto::destination_kind::app_edit:
    case proto::destination_kind::app_delete:
    case proto::destination_kind::app_react: return;  // refused by handle_subscribe
  }
}

// ---- recovery -------------------------------------------------------------------------------

session::recovery* session::find_recovery(const std::string& sub_id, std::uint64_t serial) {
  if (phase_ != phase::connected && phase_ != phase::disconnecting) return nullptr;
  const auto it = recoveries_.find(sub_id);
  if (it == recoveries_.end() || it->second->serial != serial) return nullptr;
  return it->second.get();
}

void session::locate_recovery(const std::string& sub_id, recovery& r) {
  // Armed (or the bus did not confirm in time: what it brings later still comes): every record
  // at or past the log's end from now on arrives live.
  r.at = recovery::stage::locating;
  if (auto* m = attached_metrics()) m->recovery_arm.observe(seconds_since(r.stage_started));
  r.stage_started = now();
  // This node has had the room's channel since before since-id, and remembers everything after
  // it: no store, no log position (what is published from now on comes live, as it did).
  if (auto events = env_->hub.replay_since(r.room_id, r.seam.since_id(),
                                           static_cast<std::size_t>(env_->settings.recovery_limit))) {
    if (auto* m = attached_metrics()) m->recoveries_from_memory.inc();
    finish_recovery(sub_id, r, std::move(*events), false, true, /*pump=*/false);
    // Not from here: the caller may be walking recoveries_, which pumping erases from.
    net::post(strand_, [self = shared_from_this()] { self->pump_recoveries(); });
    return;
  }
  r.store_deadline = now() + env_->settings.recovery_wait;
  r.poll_every = env_->settings.recovery_poll;
  if (env_->positions == nullptr) return query_recovery(sub_id, r, true);
  env_->positions->room_log_end(r.room_id, on_strand([sub_id, serial = r.serial](session& s, chatd::log_end end) {
                                  auto* rec = s.find_recovery(sub_id, serial);
                                  if (rec == nullptr || rec->at != recovery::stage::locating) return;
                                  if (!end.ok) {
                                    log::warn("recovery: the log's end is unknown; replaying what the store has",
                                              {{"session", s.id_}, {"room", rec->room_id}, {"error", end.error}});
                                    return s.query_recovery(sub_id, *rec, true);
                                  }
                                  if (auto* m = s.attached_metrics())
                                    m->recovery_locate.observe(s.seconds_since(rec->stage_started));
                                  rec->stage_started = s.now();
                                  rec->located = true;
                                  rec->partition = end.partition;
                                  rec->stored_through = end.high_watermark;
                                  s.query_recovery(sub_id, *rec, false);
                                }));
}

void session::query_recovery(const std::string& sub_id, recovery& r, bool final) {
  // Final: whatever the store has now (the wait is over, or there is nothing to wait for).
  r.at = recovery::stage::querying;
  const bool wait = r.located && !final;
  env_->dir.recovery(
      r.room_id, user_id_, r.seam.since_id(), r.partition, wait ? r.stored_through : 0, env_->settings.recovery_limit,
      on_strand([sub_id, serial = r.serial, final = !wait](session& s, lookup_status status, recovery_page page) {
        s.on_recovery_page(sub_id, serial, status, std::move(page), final);
      }));
}

void session::on_recovery_page(const std::string& sub_id, std::uint64_t serial, lookup_status status,
                               recovery_page page, bool final) {
  auto* r = find_recovery(sub_id, serial);
  if (r == nullptr || r->at != recovery::stage::querying) return;
  if (status == lookup_status::found && page.ready) {
    if (auto* m = attached_metrics()) m->recovery_store.observe(seconds_since(r->stage_started));
    return finish_recovery(sub_id, *r, std::move(page.events), page.truncated, r->located && !final);
  }
  if (final || (status != lookup_status::found && now() >= r->store_deadline)) {
    // The store cannot answer: nothing replayed, the client reloads history.
    return finish_recovery(sub_id, *r, {}, false, false);
  }
  // The store is behind the log (or unreachable for now): ask again later, the last time once
  // the wait is over.
  if (auto* m = attached_metrics()) m->recovery_store_polls.inc();
  r->at = recovery::stage::polling;
  r->next_poll = std::min(now() + r->poll_every, std::max(now(), r->store_deadline));
  r->poll_every = std::min<std::chrono::milliseconds>(2 * r->poll_every, 1000ms);
  schedule_next();
}

void session::finish_recovery(const std::string& sub_id, recovery& r,
                              std::vector<std::shared_ptr<const fanout_event>> stored, bool stored_truncated,
                              bool store_complete, bool pump) {
  auto out = r.seam.finish(std::move(stored), stored_truncated, store_complete);
  r.at = recovery::stage::sending;
  r.recovered = out.recovered;
  r.replayed = out.replayed;
  r.to_send.insert(r.to_send.end(), std::make_move_iterator(out.frames.begin()),
                   std::make_move_iterator(out.frames.end()));
  if (!out.recovered) {
    log::info("recovery truncated", {{"session", id_},
                                     {"subscription", sub_id},
                                     {"user", user_id_},
                                     {"room", r.room_id},
                                     {"since_id", r.seam.since_id()},
                                     {"replayed", static_cast<std::int64_t>(out.replayed)},
                                     {"store_complete", store_complete},
                                     {"limit_reached", stored_truncated}});
  }
  if (pump) pump_recoveries();
}

bool session::recovery_takes(const std::string& sub_id, const std::shared_ptr<const fanout_event>& event) {
  if (const auto through = recovered_through_.find(sub_id); through != recovered_through_.end()) {
    return event->id < 0 || event->id > through->second;
  }
  const auto it = recoveries_.find(sub_id);
  if (it == recoveries_.end()) return true;
  auto& r = *it->second;
  if (r.at != recovery::stage::sending) {
    if (r.seam.hold(event)) return false;
    // Too many live events while the store is read: end now, without the store, so that
    // nothing after this one is lost (the marker tells the client to reload history).
    finish_recovery(sub_id, r, {}, false, false, /*pump=*/false);
  }
  if (!r.seam.admit(*event)) return false;
  // Behind the replay still queued: in order, bounded like a full outbound queue.
  if (r.to_send.size() >= static_cast<std::size_t>(env_->settings.recovery_limit) + env_->settings.recovery_max_held) {
    shed(1);
    return false;
  }
  r.to_send.push_back(event);
  return false;
}

void session::pump_recoveries() {
  if (pumping_ || transport_ == nullptr || phase_ == phase::closing || phase_ == phase::closed) return;
  pumping_ = true;
  const bool escape = escaping();
  std::vector<std::string> finished;
  std::optional<std::int64_t> departed_room;
  for (auto& [sub_id, r] : recoveries_) {
    if (r->at != recovery::stage::sending) continue;
    const auto* sub = subs_.find(sub_id);
    while (!r->to_send.empty() && sub != nullptr) {
      const auto& event = *r->to_send.front();
      if (blocked_sender(event)) {  // docs/stomp.md "Blocks": replays skip them as live delivery does
        r->to_send.pop_front();
        continue;
      }
      outbound_item item;
      write_message_head(item.head, sub_id, event.message_id, sub->ack != ack_mode::auto_, escape);
      item.shared = event.tail;
      // sent_at_ms stays 0: a replayed or held-back event's age is no delivery latency.
      if (!outbound_.empty() && outbound_.bytes() + item.size() > outbound_.max_bytes()) break;  // more once written
      const bool queued = outbound_.empty() ? outbound_.push_answer(std::move(item)) : outbound_.push(std::move(item));
      if (!queued) break;
      if (ends_my_membership(event)) departed_room = event.room_id;
      r->to_send.pop_front();
      last_output_ = now();
      transport_->output_ready();
      if (transport_ == nullptr || phase_ == phase::closed) break;
    }
    if (r->to_send.empty()) finished.push_back(sub_id);
  }
  for (const auto& sub_id : finished) {
    const auto it = recoveries_.find(sub_id);
    if (it == recoveries_.end()) continue;
    auto& r = *it->second;
    if (auto* m = attached_metrics()) {
      m->recoveries.inc();
      m->recovery_events.inc(r.replayed);
      if (!r.recovered) m->recovery_truncations.inc();
      m->recovery_total.observe(seconds_since(r.started));
    }
    if (r.receipt) {
      send_frame(stomp::frame{
          stomp::command::receipt, {{"receipt-id", *r.receipt}, {"recovered", r.recovered ? "true" : "false"}}, {}});
    }
    recovered_through_[sub_id] = r.seam.last_id();
    recoveries_.erase(it);
  }
  pumping_ = false;
  if (departed_room) left_room(*departed_room);
}

void session::on_contacts(lookup_status status, std::vector<std::int64_t> contacts,
                          std::optional<std::string> receipt) {
  contacts_loading_ = false;
  if (phase_ != phase::connected && phase_ != phase::disconnecting) return;
  const auto& settings = env_->settings;
  if (status == lookup_status::unavailable) {
    // Keep what we have; try again in a few seconds.
    contacts_loaded_ =
        now() - settings.contacts_refresh + std::min<std::chrono::milliseconds>(5s, settings.contacts_refresh);
    log::warn("presence contacts unavailable", {{"session", id_}, {"user", user_id_}});
  } else if (!subs_.presence().empty()) {
    std::sort(contacts.begin(), contacts.end());
    contacts.erase(std::unique(contacts.begin(), contacts.end()), contacts.end());
    std::vector<std::int64_t> gone;
    std::vector<std::int64_t> added;
    std::set_difference(watched_.begin(), watched_.end(), contacts.begin(), contacts.end(), std::back_inserter(gone));
    std::set_difference(contacts.begin(), contacts.end(), watched_.begin(), watched_.end(), std::back_inserter(added));
    if (!gone.empty()) env_->hub.unwatch(gone, this);
    if (!added.empty()) env_->hub.watch(added, shared_from_this());
    watched_ = std::move(contacts);
    contacts_loaded_ = now();
  }
  if (receipt) send_receipt(*receipt);
  schedule_next();
}

void session::handle_unsubscribe(stomp::frame& f) {
  const auto receipt = receipt_of(f);
  std::optional<std::string_view> id = f.get("id");
  if (!id && version_ == stomp::version::v1_0) id = f.get("destination");
  if (!id) {
    return send_error("missing id", "UNSUBSCRIBE requires an id header", receipt);
  }
  remove_subscription(std::string(*id));
  if (receipt) send_receipt(*receipt);
}

void session::remove_subscription(const std::string& id) {
  recoveries_.erase(id);
  recovered_through_.erase(id);
  const auto removed = subs_.remove(id);
  if (!removed || !removed->group_emptied) return;
  if (const auto key = hub_channel(removed->sub.dest)) {
    env_->hub.leave(*key, this);
    std::erase_if(arming_, [&](const arming_wait& a) { return a.key == *key; });
  } else if (removed->sub.dest.kind == proto::destination_kind::presence && !watched_.empty()) {
    env_->hub.unwatch(watched_, this);
    watched_.clear();
  } else if (removed->sub.dest.kind == proto::destination_kind::user_rooms && env_->feed != nullptr) {
    env_->feed->unwatch(user_id_, this);
  }
}

void session::left_room(std::int64_t room_id) {
  member_cache_.erase(room_id);
  member_verified_ms_.erase(room_id);
  direct_rooms_.erase(room_id);
  for (const auto& id : subs_.ids_of_room(room_id)) remove_subscription(id);
  log::info("left room: its subscriptions ended", {{"session", id_}, {"user", user_id_}, {"room", room_id}});
}

void session::handle_send(stomp::frame& f) {
  auto receipt = receipt_of(f);
  const auto dest_text = f.get("destination");
  if (!dest_text) {
    return send_error("missing destination", "SEND requires a destination header", receipt);
  }
  if (f.get("transaction")) {
    return send_error("transactions are not supported", "SEND with a transaction header", receipt);
  }
  const auto dest = proto::parse_destination(*dest_text);
  if (!dest) return send_error("unknown destination", "cannot send to " + std::string(*dest_text), receipt);
  const std::string destination(*dest_text);

  const auto invalid = [&](const proto::validation_error& error) {
    if (!subs_.errors().empty()) {
      return send_soft_error(error.wire_code(), error.message, destination, receipt);
    }
    send_error("invalid message", error.message, receipt);
  };

  switch (dest->kind) {
    case proto::destination_kind::presence:
    case proto::destination_kind::user_errors:
    case proto::destination_kind::user_notifications:
    case proto::destination_kind::user_rooms:
    case proto::destination_kind::room_typing:
      return send_error("unknown destination", "cannot send to " + destination, receipt);
    case proto::destination_kind::app_typing: {
      proto::typing_request request;
      if (auto error = proto::parse_typing_request(f.body, request)) return invalid(error);
      return with_membership(request.room_id, receipt, [this, room = request.room_id, receipt, destination] {
        // The other member of a blocked DIRECT room does not see typing either.
        if (direct_blocked(room)) {
          const auto refusal = chatd::blocked_refusal();
          if (receipt) refuse(refusal.code, "blocked", refusal.message, destination, receipt);
          return;
        }
        send_typing(room, receipt);
      });
    }
    case proto::destination_kind::app_send:
    case proto::destination_kind::room:
    case proto::destination_kind::app_read:
    case proto::destination_kind::app_edit:
    case proto::destination_kind::app_delete:
    case proto::destination_kind::app_react: break;
  }

  switch (env_->users.take_send(user_id_, now())) {
    case send_verdict::allowed: break;
    case send_verdict::limited:
      if (auto* m = attached_metrics()) m->rate_limited.inc();
      // Without a receipt and an errors subscription nobody waits for an answer: dropped quietly.
      if (!receipt && subs_.errors().empty()) return;
      return refuse("rate_limited", "rate limited", "too many messages; this one was not delivered", destination,
                    receipt);
    case send_verdict::disconnect:
      if (auto* m = attached_metrics()) m->rate_limited.inc();
      env_->stats.rate_limit_disconnects.fetch_add(1, std::memory_order_relaxed);
      log::info("rate limit: disconnecting", {{"session", id_}, {"user", user_id_}});
      return send_error("rate limit exceeded", "far too many messages; disconnected", receipt);
  }

  const std::size_t max_chars = env_->settings.max_content_chars;
  switch (dest->kind) {
    case proto::destination_kind::app_send:
    case proto::destination_kind::room: {
      proto::send_request request;
      const auto error = dest->kind == proto::destination_kind::room
                             ? proto::parse_room_send_body(f.body, dest->room_id, request, max_chars)
                             : proto::parse_send_request(f.body, request, max_chars);
      if (error) return invalid(error);
      // A client-supplied key may be a retry: answered with the id it got first.
      const bool claim = request.message_key.has_value() && env_->keys != nullptr;
      if (claim && answer_known_key(*request.message_key, request.room_id, receipt, destination)) return;
      proto::chat_message message;
      message.message_key = request.message_key ? std::move(*request.message_key) : common::make_uuid_v4();
      message.room_id = request.room_id;
      message.content = std::move(request.content);
      message.type = request.type;
      message.reply_to_id = request.reply_to_id;
      message.attachment = std::move(request.attachment);
      // A reply needs its target, an uploaded file its metadata: both from the store.
      const bool uploaded = message.attachment && proto::attachment_file_id(message.attachment->url);
      if (message.reply_to_id > 0 || uploaded) {
        return send_room_event(std::move(message), std::move(receipt), destination, claim);
      }
      const auto room = message.room_id;
      return with_membership(room, receipt,
                             [this, message = std::move(message), receipt, destination, claim]() mutable {
                               if (direct_blocked(message.room_id)) {
                                 const auto refusal = chatd::blocked_refusal();
                                 return refuse(refusal.code, "blocked", refusal.message, destination, receipt);
                               }
                               admit_event(std::move(message), std::move(receipt), std::move(destination), claim);
                             });
    }
    case proto::destination_kind::app_edit: {
      proto::edit_request request;
      if (auto error = proto::parse_edit_request(f.body, request, max_chars)) return invalid(error);
      proto::chat_message event;
      event.event = proto::event_kind::edited;
      event.message_key = request.message_key ? std::move(*request.message_key) : common::make_uuid_v4();
      event.room_id = request.room_id;
      event.target_id = request.target_id;
      event.content = std::move(request.content);
      return send_room_event(std::move(event), std::move(receipt), destination);
    }
    case proto::destination_kind::app_delete: {
      proto::delete_request request;
      if (auto error = proto::parse_delete_request(f.body, request)) return invalid(error);
      if (request.for_me) return hide_for_me(request, std::move(receipt), destination);
      proto::chat_message event;
      event.event = proto::event_kind::deleted;
      event.message_key = request.message_key ? std::move(*request.message_key) : common::make_uuid_v4();
      event.room_id = request.room_id;
      event.target_id = request.target_id;
      return send_room_event(std::move(event), std::move(receipt), destination);
    }
    case proto::destination_kind::app_react: {
      proto::react_request request;
      if (auto error = proto::parse_react_request(f.body, request)) return invalid(error);
      proto::chat_message event;
      event.event = request.remove ? proto::event_kind::reaction_removed : proto::event_kind::reaction_added;
      event.message_key = request.message_key ? std::move(*request.message_key) : common::make_uuid_v4();
      event.room_id = request.room_id;
      event.target_id = request.target_id;
      event.emoji = std::move(request.emoji);
      return send_room_event(std::move(event), std::move(receipt), destination);
    }
    case proto::destination_kind::app_read: {
      proto::read_request request;
      if (auto error = proto::parse_read_request(f.body, request)) return invalid(error);
      return with_membership(request.room_id, receipt, [this, request, receipt, destination] {
        constexpr std::size_t bytes = 128;
        admit_then(bytes, receipt, destination,
                   [this, request, receipt, destination] { send_read_receipt(request, receipt, destination, bytes); });
      });
    }
    case proto::destination_kind::presence:
    case proto::destination_kind::user_errors:
    case proto::destination_kind::user_notifications:
    case proto::destination_kind::user_rooms:
    case proto::destination_kind::room_typing:
    case proto::destination_kind::app_typing: return;  // handled above
  }
}

void session::admit_then(std::size_t bytes, std::optional<std::string> receipt, std::string destination,
                         std::function<void()> publish) {
  auto& gate = env_->admission;
  if (gate.try_admit(bytes)) return publish();
  // Under rate control (the node is behind downstream) a SEND waits at most about one
  // steering interval: a longer wait would only move the backlog into the client's socket,
  // where its age is invisible here and becomes latency. Refused at once beyond that.
  if (gate.refuse_hopeless(
          std::min<std::chrono::milliseconds>(env_->settings.admission_timeout, chatd::admission_gate::adjust_every))) {
    // The node admits too little to reach this one in time: say so now, not after the wait.
    return refuse("overloaded", "server overloaded",
                  "the server is overloaded: the message was not accepted and is not stored; retry later", destination,
                  receipt);
  }
  // Wait for a slot: no further frame is processed and the socket is not read, so the
  // client feels TCP backpressure instead of a queue growing here.
  suspend();
  reading_paused_ = true;
  admission_wait_ = admission_wait{0, now() + env_->settings.admission_timeout, std::move(receipt),
                                   std::move(destination), std::move(publish)};
  admission_wait_->ticket = gate.wait(bytes, [weak = weak_from_this(), strand = strand_, &gate, bytes] {
    net::post(strand, [weak, &gate, bytes] {
      if (auto self = weak.lock()) return self->on_admitted(bytes);
      gate.release(bytes);
    });
  });
  schedule_next();
}

void session::on_admitted(std::size_t bytes) {
  if (!admission_wait_) return env_->admission.release(bytes);  // withdrawn meanwhile
  auto wait = std::move(*admission_wait_);
  admission_wait_.reset();
  if (phase_ == phase::connected) {
    wait.publish();
  } else {
    env_->admission.release(bytes);
    if (phase_ == phase::disconnecting) {
      refuse("shutting_down", "server shutting down",
             "chatd is shutting down; the message was not accepted: send it again to another node", wait.destination,
             wait.receipt);
      finish_disconnect_if_ready();
    }
  }
  resume();
}

chatd::publish_callback session::publish_done(std::uint64_t seq, std::size_t bytes, bool is_event,
                                              std::int64_t created_at_ms) {
  return [&gate = env_->admission, bytes,
          then = on_strand([seq, is_event, created_at_ms](session& s, const chatd::publish_result& result) {
            s.on_published(seq, result, is_event, created_at_ms);
          })](const chatd::publish_result& result) {
    // The slot frees when the log answers, whether or not the session still waits.
    gate.release(bytes);
    then(result);
  };
}

void session::publish_event(proto::chat_message event, std::optional<std::string> receipt, std::string destination,
                            std::size_t bytes, bool claim) {
  event.sender_id = user_id_;
  event.sender_nickname = nickname_;
  event.created_at_ms = env_->clock.unix_ms();
  const auto seq = next_seq_++;
  pending_sends_.add(seq, now() + env_->settings.send_timeout + env_->settings.send_grace, std::move(receipt),
                     std::move(destination), event.message_key, claim ? event.room_id : 0);
  const auto created_at = event.created_at_ms;
  env_->log.publish_message(event, publish_done(seq, bytes, true, created_at));
  schedule_next();
}

void session::admit_event(proto::chat_message event, std::optional<std::string> receipt, std::string destination,
                          bool claim) {
  // What the record costs the producer: the content and the JSON around it.
  std::size_t bytes = event.content.size() + event.emoji.size() + 256;
  if (event.attachment) bytes += event.attachment->url.size() + event.attachment->name.size() + 64;
  admit_then(bytes, receipt, destination,
             [this, event = std::move(event), receipt, destination, bytes, claim]() mutable {
               publish_event(std::move(event), std::move(receipt), std::move(destination), bytes, claim);
             });
}

void session::hold_for_lookup(const std::optional<std::string>& receipt) {
  suspend();
  lookup_receipt_ = receipt;
}

bool session::lookup_answered() {
  lookup_receipt_.reset();
  if (phase_ != phase::connected) {
    resume();  // a shutdown answered it (shut_down)
    return false;
  }
  suspended_ = false;
  return true;
}

void session::note_membership(std::int64_t room_id, bool member, room_gate gate) {
  if (member) {
    member_cache_[room_id] = now();
    member_verified_ms_[room_id] = env_->clock.unix_ms();
    if (gate.direct_peer != 0) {
      direct_rooms_[room_id] = gate;
    } else {
      direct_rooms_.erase(room_id);
    }
  } else {
    member_cache_.erase(room_id);
    direct_rooms_.erase(room_id);
  }
}

bool session::direct_blocked(std::int64_t room_id) const {
  const auto it = direct_rooms_.find(room_id);
  return it != direct_rooms_.end() && it->second.blocked;
}

void session::membership_revoked(std::int64_t room_id) {
  net::post(strand_, [self = shared_from_this(), room_id] {
    self->member_cache_.erase(room_id);
    self->direct_rooms_.erase(room_id);
  });
}

void session::block_changed(const proto::block_change& change) {
  // Not deliver(): a block change is never shed.
  net::post(strand_, [self = shared_from_this(), change] {
    switch (self->phase_) {
      case phase::awaiting_connect: return;
      case phase::authenticating:
        // Bounded: at most this many changes can matter to a set of that size.
        if (self->early_block_changes_.size() < 2 * static_cast<std::size_t>(proto::max_blocks_per_user)) {
          self->early_block_changes_.push_back(change);
        }
        return;
      case phase::connected:
      case phase::disconnecting: return self->apply_block_change(change);
      case phase::closing:
      case phase::closed: return;
    }
  });
}

void session::apply_block_change(const proto::block_change& change) {
  if (change.blocker_id == user_id_) {
    const auto it = std::lower_bound(blocks_.begin(), blocks_.end(), change.blocked_id);
    const bool known = it != blocks_.end() && *it == change.blocked_id;
    if (change.blocked && !known && blocks_.size() < static_cast<std::size_t>(proto::max_blocks_per_user)) {
      blocks_.insert(it, change.blocked_id);
    } else if (!change.blocked && known) {
      blocks_.erase(it);
    }
  }
  // The DIRECT rooms with the other user: blocked now; after an unblock the other direction may
  // still stand, so the store decides at the next SEND.
  const auto other = change.blocker_id == user_id_ ? change.blocked_id : change.blocker_id;
  for (auto it = direct_rooms_.begin(); it != direct_rooms_.end();) {
    if (it->second.direct_peer != other) {
      ++it;
    } else if (change.blocked) {
      it->second.blocked = true;
      ++it;
    } else {
      member_cache_.erase(it->first);
      it = direct_rooms_.erase(it);
    }
  }
  log::debug("block change applied", {{"session", id_},
                                      {"user", user_id_},
                                      {"blocker", change.blocker_id},
                                      {"blocked", change.blocked_id},
                                      {"now_blocked", change.blocked}});
}

std::optional<channel_key> session::hub_channel(const proto::destination& dest) const noexcept {
  if (dest.kind == proto::destination_kind::user_notifications) return channel_key{channel_kind::user, user_id_};
  return channel_of(dest);
}

namespace {

// The ERROR `message` of a refused room event: its code in words ("edit_window_closed" ->
// "edit window closed"), like "rate limited" for rate_limited.
std::string in_words(std::string_view code) {
  std::string out(code);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

}  // namespace

bool session::known_member(std::int64_t room_id) const {
  const auto cached = member_cache_.find(room_id);
  return cached != member_cache_.end() && now() - cached->second < env_->settings.membership_cache_ttl;
}

std::optional<chatd::target_context> session::remembered_context(const proto::chat_message& event) const {
  using proto::event_kind;
  // Pins need the room's admins and pin count: only the store has those.
  if (env_->recent == nullptr || event.event == event_kind::pinned || event.event == event_kind::unpinned) {
    return std::nullopt;
  }
  if (!known_member(event.room_id)) return std::nullopt;
  chatd::target_context ctx;
  ctx.room_exists = true;
  ctx.member = true;
  if (const auto gate = direct_rooms_.find(event.room_id); gate != direct_rooms_.end()) {
    ctx.direct_peer = gate->second.direct_peer;
    ctx.blocked = gate->second.blocked;
  }
  const bool needs_target = event.event != event_kind::message || event.reply_to_id > 0;
  if (needs_target) {
    const auto target = event.event == event_kind::message ? event.reply_to_id : event.target_id;
    ctx.target = env_->recent->find(event.room_id, target);
    if (!ctx.target) return std::nullopt;
  }
  // admin stays false: a delete that only an admin may make is refused here and asks the store.
  if (chatd::check_room_event(event, ctx, env_->clock.unix_ms(), env_->settings.edit_window)) return std::nullopt;
  return ctx;
}

void session::send_room_event(proto::chat_message event, std::optional<std::string> receipt, std::string destination,
                              bool claim) {
  event.sender_id = user_id_;
  if (const auto ctx = remembered_context(event)) {
    // Allowed from memory: no store round trip, no frames held back (as for a plain SEND).
    if (event.event == proto::event_kind::message && event.reply_to_id > 0) {
      event.thread_root_id = chatd::thread_root_of(*ctx->target);
    }
    return with_attachment(std::move(event), std::move(receipt), std::move(destination), claim);
  }
  const auto room = event.room_id;
  const auto target = event.event == proto::event_kind::message ? event.reply_to_id : event.target_id;
  hold_for_lookup(receipt);
  env_->dir.event_context(
      room, user_id_, target,
      on_strand([event = std::move(event), receipt = std::move(receipt), destination = std::move(destination), claim](
                    session& s, lookup_status status, chatd::target_context ctx) mutable {
        s.on_event_context(status, ctx, std::move(event), std::move(receipt), std::move(destination), claim);
      }));
}

void session::on_event_context(lookup_status status, const chatd::target_context& ctx, proto::chat_message event,
                               std::optional<std::string> receipt, std::string destination, bool claim) {
  if (!lookup_answered()) return;
  if (status != lookup_status::found) {
    refuse("unavailable", "service unavailable", "the database cannot check this right now; retry shortly", destination,
           receipt);
    return resume();
  }
  if (ctx.room_exists) note_membership(event.room_id, ctx.member, room_gate{ctx.direct_peer, ctx.blocked});
  event.sender_id = user_id_;
  if (const auto refusal = chatd::check_room_event(event, ctx, env_->clock.unix_ms(), env_->settings.edit_window)) {
    if (refusal->code == "not_a_member") env_->stats.forbidden.fetch_add(1, std::memory_order_relaxed);
    refuse(refusal->code, in_words(refusal->code), refusal->message, destination, receipt);
    return resume();
  }
  if (event.event == proto::event_kind::message && event.reply_to_id > 0 && ctx.target) {
    event.thread_root_id = chatd::thread_root_of(*ctx.target);
  }
  with_attachment(std::move(event), std::move(receipt), std::move(destination), claim);
  // Waiting for a file lookup or an admission slot holds the frames after this one.
  if (!suspended_) resume();
}

void session::with_attachment(proto::chat_message event, std::optional<std::string> receipt, std::string destination,
                              bool claim) {
  const auto file_id =
      event.attachment ? proto::attachment_file_id(event.attachment->url) : std::optional<std::string>{};
  if (!file_id) return admit_event(std::move(event), std::move(receipt), std::move(destination), claim);
  hold_for_lookup(receipt);
  env_->dir.attachable_file(
      *file_id, user_id_,
      on_strand([event = std::move(event), receipt = std::move(receipt), destination = std::move(destination), claim](
                    session& s, lookup_status status, proto::file_attachment meta) mutable {
        if (!s.lookup_answered()) return;
        switch (status) {
          case lookup_status::found:
            // The upload's own metadata, whatever the client said (SPEC §16): the url stays.
            event.attachment->name = std::move(meta.name);
            event.attachment->size = meta.size;
            event.attachment->mime_type = std::move(meta.mime_type);
            event.attachment->width = meta.width;
            event.attachment->height = meta.height;
            s.admit_event(std::move(event), std::move(receipt), std::move(destination), claim);
            break;
          case lookup_status::not_found:
            s.refuse("file_not_found", "file not found", "no such file, or it is not yours to share", destination,
                     receipt);
            break;
          case lookup_status::unavailable:
            s.refuse("unavailable", "service unavailable", "the database cannot check this right now; retry shortly",
                     destination, receipt);
            break;
        }
        if (!s.suspended_) s.resume();
      }));
}

void session::hide_for_me(const proto::delete_request& request, std::optional<std::string> receipt,
                          std::string destination) {
  hold_for_lookup(receipt);
  env_->dir.event_context(
      request.room_id, user_id_, request.target_id,
      on_strand([room = request.room_id, target = request.target_id, receipt = std::move(receipt),
                 destination = std::move(destination)](session& s, lookup_status status,
                                                       chatd::target_context ctx) mutable {
        if (!s.lookup_answered()) return;
        std::optional<chatd::event_refusal> refusal;
        if (status != lookup_status::found) {
          refusal = chatd::event_refusal{503, "unavailable", "the database cannot check this right now; retry shortly"};
        } else if (!ctx.room_exists) {
          refusal = chatd::event_refusal{404, "room_not_found", "no such room"};
        } else if (!ctx.member) {
          refusal = chatd::event_refusal{403, "not_a_member", "you are not a member of this room"};
        } else if (!ctx.target) {
          refusal = chatd::event_refusal{404, "message_not_found", "no such message in this room"};
        }
        if (status == lookup_status::found && ctx.room_exists) {
          s.note_membership(room, ctx.member, room_gate{ctx.direct_peer, ctx.blocked});
        }
        if (refusal) {
          s.refuse(refusal->code, refusal->code == "unavailable" ? "service unavailable" : in_words(refusal->code),
                   refusal->message, destination, receipt);
          return s.resume();
        }
        // Still in order: the frames after this one wait for the hide to be stored.
        s.hold_for_lookup(receipt);
        s.env_->dir.hide_message(
            s.user_id_, room, target, s.on_strand([receipt, destination](session& s2, lookup_status hidden) {
              if (!s2.lookup_answered()) return;
              if (hidden == lookup_status::found) {
                if (receipt) s2.send_receipt(*receipt);
              } else {
                s2.refuse("unavailable", "service unavailable",
                          "the database cannot store this right now; retry shortly", destination, receipt);
              }
              s2.resume();
            }));
      }));
}

void session::send_read_receipt(const proto::read_request& request, std::optional<std::string> receipt,
                                std::string destination, std::size_t bytes) {
  const proto::read_receipt rr{request.room_id, user_id_, request.last_read_message_id, env_->clock.unix_ms()};
  const auto seq = next_seq_++;
  pending_sends_.add(seq, now() + env_->settings.send_timeout + env_->settings.send_grace, std::move(receipt),
                     std::move(destination));
  env_->log.publish_read_receipt(rr, publish_done(seq, bytes, false));
  schedule_next();
}

void session::send_typing(std::int64_t room_id, std::optional<std::string> receipt) {
  if (env_->users.take_typing(user_id_, room_id, now())) {
    env_->typing.publish_typing(proto::typing_event{room_id, user_id_, nickname_, env_->clock.unix_ms()});
  }
  if (receipt) send_receipt(*receipt);
}

void session::on_published(std::uint64_t seq, const chatd::publish_result& result, bool is_event,
                           std::int64_t created_at_ms) {
  auto settled = pending_sends_.settle(seq);
  if (!settled) return;  // timed out already
  const auto receipt = std::move(settled->receipt);
  if (phase_ != phase::connected && phase_ != phase::disconnecting) return;
  if (result.ok) {
    if (auto* m = attached_metrics(); m != nullptr && is_event) {
      m->messages_sent.inc();
      if (created_at_ms > 0) {
        const auto acked = std::max<std::int64_t>(0, env_->clock.unix_ms() - created_at_ms);
        m->stage_kafka_acked.observe(static_cast<double>(acked) / 1000.0);
      }
    }
    const bool has_id = is_event && proto::fits_message_id(result.partition, result.offset);
    if (has_id && settled->claim_room > 0 && env_->keys != nullptr) {
      // A client-supplied key: the RECEIPT names the id the key got first (a retry's own record
      // is a duplicate nobody will show).
      const chatd::key_entry mine{proto::make_message_id(result.partition, result.offset), settled->claim_room,
                                  user_id_};
      ++claims_in_flight_;
      env_->keys->claim(
          settled->message_key, mine,
          on_strand([mine, receipt, key = settled->message_key, destination = settled->destination](
                        session& s, chatd::key_entry first) { s.on_claimed(mine, first, receipt, key, destination); }));
    } else if (receipt && has_id) {
      // The id the event has live and in history (docs/events.md "Message ids"), and its key.
      send_event_receipt(*receipt, proto::make_message_id(result.partition, result.offset), settled->message_key);
    } else if (receipt) {
      send_receipt(*receipt);
    }
  } else if (result.overloaded) {
    refuse("overloaded", "server overloaded",
           "the server is overloaded: the message was not accepted and is not stored; retry later",
           settled->destination, receipt);
  } else {
    if (const auto left_out = env_->stats.session_log.admit(seconds_now()); left_out >= 0) {
      log::warn("publish failed",
                {{"session", id_}, {"user", user_id_}, {"error", result.error}, {"suppressed_before", left_out}});
    }
    // A failed delivery report does not prove the broker has nothing: an acknowledgement
    // may have been lost. A retry with the same messageKey is stored at most once.
    refuse("not_accepted", "message not accepted",
           "the message log did not accept the message (" + result.error +
               "); it may still be stored: retry with the same messageKey",
           settled->destination, receipt);
  }
  finish_disconnect_if_ready();
}

void session::send_event_receipt(const std::string& receipt, std::int64_t id, std::string_view key) {
  stomp::frame r{stomp::command::receipt, {{"receipt-id", receipt}}, {}};
  r.headers.push_back({"message-id", decimal(static_cast<std::uint64_t>(id))});
  r.headers.push_back({"message-key", std::string(key)});
  send_frame(r);
}

bool session::answer_known_key(const std::string& key, std::int64_t room_id, const std::optional<std::string>& receipt,
                               std::string_view destination) {
  const auto known = env_->keys->find(key);
  if (!known) return false;
  if (known->room_id != room_id || known->sender_id != user_id_) {
    refuse("conflict", "conflict", "this messageKey already names another message", destination, receipt);
  } else if (receipt) {
    send_event_receipt(*receipt, known->id, key);
  }
  return true;
}

void session::on_claimed(const chatd::key_entry& mine, const chatd::key_entry& first,
                         const std::optional<std::string>& receipt, const std::string& key,
                         const std::string& destination) {
  --claims_in_flight_;
  if (phase_ != phase::connected && phase_ != phase::disconnecting) return;
  if (first.room_id != mine.room_id || first.sender_id != mine.sender_id) {
    // Kafka has the record, but the consumers keep the key's first message: this one is dropped.
    refuse("conflict", "conflict", "this messageKey already names another message; this message is not stored",
           destination, receipt);
  } else if (receipt) {
    send_event_receipt(*receipt, first.id, key);
  }
  finish_disconnect_if_ready();
}

void session::handle_disconnect(stomp::frame& f) {
  disconnect_receipt_ = receipt_of(f);
  set_phase(phase::disconnecting);
  inbox_.clear();
  finish_disconnect_if_ready();
}

void session::finish_disconnect_if_ready() {
  if (phase_ != phase::disconnecting || !pending_sends_.empty() || admission_wait_ || claims_in_flight_ > 0) return;
  if (shutdown_requested_) return say_goodbye();
  // The RECEIPT of a DISCONNECT vouches for every frame before it: it follows the
  // RECEIPTs (or ERRORs) of all SENDs still in flight.
  if (disconnect_receipt_) send_receipt(*disconnect_receipt_);
  begin_close();
}

// ---- fan-out --------------------------------------------------------------------------------

void session::deliver(std::shared_ptr<const fanout_event> event) {
  // What the strand will have to queue: the shared tail plus the per-subscription head.
  const std::size_t cost = (event->tail ? event->tail->size() : 0) + 64 + event->message_id.size();
  const std::size_t cap = env_->settings.max_pending_fanout_bytes != 0 ? env_->settings.max_pending_fanout_bytes
                                                                       : 4 * env_->settings.max_outbound_bytes;
  if (posted_fanout_bytes_.fetch_add(cost, std::memory_order_relaxed) + cost > cap) {
    // This node's I/O threads are behind, not the client: shed the event, never the client.
    posted_fanout_bytes_.fetch_sub(cost, std::memory_order_relaxed);
    if (auto* m = attached_metrics()) m->fanout_shed.inc();
    shed_posted_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  net::post(strand_, [self = shared_from_this(), event = std::move(event), cost] {
    const bool drained = self->posted_fanout_bytes_.fetch_sub(cost, std::memory_order_relaxed) == cost;
    self->deliver_on_strand(event, drained);
  });
}

void session::nickname_changed(std::string nickname) {
  net::post(strand_, [weak = weak_from_this(), nickname = std::move(nickname)]() mutable {
    auto self = weak.lock();
    if (!self || self->phase_ != phase::connected) return;
    self->nickname_ = std::move(nickname);
  });
}

void session::armed(const channel_key& key) {
  net::post(strand_, [self = shared_from_this(), key] {
    if (self->phase_ == phase::closing || self->phase_ == phase::closed) return;
    std::vector<std::string> receipts;
    std::erase_if(self->arming_, [&](arming_wait& a) {
      if (a.key != key) return false;
      receipts.push_back(std::move(a.receipt));
      return true;
    });
    for (const auto& r : receipts) self->send_receipt(r);
    if (key.kind != channel_kind::room) return;
    for (auto& [sub_id, r] : self->recoveries_) {
      if (r->room_id == key.room_id && r->at == recovery::stage::arming) self->locate_recovery(sub_id, *r);
    }
  });
}

void session::tell_shed_if_room() {
  if (shed_untold_ == 0 || outbound_.bytes() > outbound_.max_bytes() / 2) return;
  // The queue has room again: tell the client where it missed how much, so it can reload history.
  const auto missed = shed_untold_;
  shed_untold_ = 0;
  send_soft_error("events_dropped",
                  decimal(missed) + " events were not delivered because this connection fell behind; reload history",
                  "", std::nullopt);
}

void session::deliver_on_strand(const std::shared_ptr<const fanout_event>& event, bool backlog_drained) {
  if (phase_ != phase::connected && phase_ != phase::disconnecting) return;
  // Events shed by deliver() came after every event still posted: their gap is told once
  // the last of those ran (below); those shed for a full queue came before this one.
  tell_shed_if_room();
  deliver_event(event);
  if (backlog_drained) {
    shed_untold_ += shed_posted_.exchange(0, std::memory_order_relaxed);
    tell_shed_if_room();
  }
}

void session::deliver_event(const std::shared_ptr<const fanout_event>& shared_event) {
  const fanout_event& event = *shared_event;
  const std::vector<std::string>* ids = nullptr;
  switch (event.kind) {
    case event_kind::room:
    case event_kind::typing: {
      // The per-receiver block filter (docs/stomp.md "Blocks"): one branch while blocks_ is empty.
      if (blocked_sender(event)) return;
      const channel_key key{event.kind == event_kind::room ? channel_kind::room : channel_kind::typing, event.room_id};
      ids = subs_.of_channel(key);
      if (ids == nullptr) return;
      break;
    }
    case event_kind::presence: ids = &subs_.presence(); break;
    case event_kind::user:
      if (event.user_id != user_id_) return;
      ids = &subs_.notifications();
      break;
    case event_kind::room_list:
      if (event.user_id != user_id_) return;
      ids = &subs_.room_list();
      break;
  }
  const bool escape = escaping();
  const bool recovering = event.kind == event_kind::room && (!recoveries_.empty() || !recovered_through_.empty());
  for (const auto& sub_id : *ids) {
    const auto* sub = subs_.find(sub_id);
    if (sub == nullptr) continue;
    if (recovering && !recovery_takes(sub_id, shared_event)) continue;
    outbound_item item;
    write_message_head(item.head, sub_id, event.message_id, sub->ack != ack_mode::auto_, escape);
    item.shared = event.tail;
    item.sent_at_ms = event.sent_at_ms;
    if (!enqueue_fanout(std::move(item))) break;
  }
  if (recovering && !recoveries_.empty()) pump_recoveries();
  // The member's own member.left / member.removed (or the room's room.deleted) is the last of the
  // room they get: what follows it in the room's order is no longer theirs (membership is checked
  // again on a new SUBSCRIBE).
  if (ends_my_membership(event)) left_room(event.room_id);
}

bool session::ends_my_membership(const fanout_event& event) const {
  if (event.kind != event_kind::room) return false;
  if (event.room_deleted) return true;  // room ids are never reused
  if (event.departed_user == 0 || event.departed_user != user_id_) return false;
  // A departure older than this session's latest verified membership of the room is stale (they
  // joined again since): it ends nothing.
  const auto verified = member_verified_ms_.find(event.room_id);
  return verified == member_verified_ms_.end() || event.sent_at_ms >= verified->second;
}

// ---- outbound -------------------------------------------------------------------------------

bool session::enqueue(outbound_item item) {
  if (transport_ == nullptr || phase_ == phase::closed) return false;
  if (!outbound_.push_answer(std::move(item))) {
    disconnect_slow_consumer("slow consumer: answers not read");
    return false;
  }
  last_output_ = now();
  transport_->output_ready();
  return true;
}

bool session::enqueue_fanout(outbound_item item) {
  if (transport_ == nullptr || phase_ == phase::closed) return false;
  if (!outbound_.push(std::move(item))) {
    shed(1);
    return false;
  }
  last_output_ = now();
  transport_->output_ready();
  return true;
}

void session::shed(std::size_t events) {
  shed_untold_ += events;
  if (auto* m = attached_metrics()) m->fanout_shed.inc(events);
}

void session::send_frame(const stomp::frame& f) {
  outbound_item item;
  stomp::encode(f, item.head, {.escape = escaping()});
  enqueue(std::move(item));
}

void session::send_receipt(std::string_view receipt_id) {
  send_frame(stomp::frame{stomp::command::receipt, {{"receipt-id", std::string(receipt_id)}}, {}});
}

void session::send_error(std::string_view message, std::string_view detail, const std::optional<std::string>& receipt) {
  if (phase_ == phase::closing || phase_ == phase::closed) return;
  if (const auto left_out = env_->stats.session_log.admit(seconds_now()); left_out >= 0) {
    log::info("stomp error", {{"session", id_},
                              {"user", user_id_},
                              {"message", message},
                              {"detail", detail},
                              {"suppressed_before", left_out}});
  }
  stomp::frame e{stomp::command::error, {{"message", std::string(message)}}, std::string(detail)};
  if (receipt) e.headers.push_back({"receipt-id", *receipt});
  e.headers.push_back({"content-type", "text/plain"});
  send_frame(e);
  begin_close();
}

void session::refuse(std::string_view code, std::string_view message, std::string_view detail,
                     std::string_view destination, const std::optional<std::string>& receipt) {
  if (phase_ == phase::closing || phase_ == phase::closed) return;
  if (!subs_.errors().empty()) return send_soft_error(code, detail, destination, receipt);
  stomp::frame e{stomp::command::error, {{"message", std::string(message)}}, std::string(detail)};
  if (receipt) e.headers.push_back({"receipt-id", *receipt});
  e.headers.push_back({"session-closes", "false"});
  e.headers.push_back({"content-type", "text/plain"});
  send_frame(e);
}

void session::send_soft_error(std::string_view code, std::string_view message, std::string_view destination,
                              const std::optional<std::string>& receipt) {
  if (subs_.errors().empty()) return;  // nobody listens
  std::string json = R"({"code":)";
  proto::append_json_string(code, json);
  json.append(R"(,"message":)");
  proto::append_json_string(message, json);
  json.append(R"(,"destination":)");
  proto::append_json_string(destination, json);
  if (receipt) {
    json.append(R"(,"receiptId":)");
    proto::append_json_string(*receipt, json);
  }
  json.push_back('}');
  const auto tail = make_json_tail(proto::destinations::user_errors, json);
  const std::string message_id = "e" + decimal(next_seq_++);
  const bool escape = escaping();
  for (const auto& sub_id : subs_.errors()) {
    outbound_item item;
    const auto* sub = subs_.find(sub_id);
    write_message_head(item.head, sub_id, message_id, sub != nullptr && sub->ack != ack_mode::auto_, escape);
    item.shared = tail;
    if (!enqueue(std::move(item))) return;
  }
}

void session::set_phase(phase next) {
  const bool left_handshake = phase_ == phase::awaiting_connect && next != phase::awaiting_connect;
  phase_ = next;
  if (left_handshake && transport_ != nullptr) transport_->handshake_finished();
}

void session::begin_close() {
  if (phase_ == phase::closing || phase_ == phase::closed) return;
  set_phase(phase::closing);
  inbox_.clear();
  if (transport_ != nullptr) transport_->close_after_flush();
}

void session::abort(std::string_view why) {
  if (phase_ == phase::closed) return;
  if (const auto left_out = env_->stats.session_log.admit(seconds_now()); left_out >= 0) {
    log::info("stomp session aborted",
              {{"session", id_}, {"user", user_id_}, {"reason", why}, {"suppressed_before", left_out}});
  }
  set_phase(phase::closing);
  inbox_.clear();
  if (transport_ != nullptr) transport_->abort();
}

void session::disconnect_slow_consumer(std::string_view why) {
  if (auto* m = attached_metrics()) m->slow_consumer_disconnects.inc();
  abort(why);
}

void session::count_open_session(int delta) {
  if (auto* m = attached_metrics())
    (kind_ == transport_kind::websocket ? m->websocket_sessions : m->tcp_sessions).add(delta);
}

std::size_t session::collect_output(std::vector<net::const_buffer>& out, std::size_t max_frames) {
  const std::size_t n = outbound_.collect(out, max_frames);
  if (n > 0 && outbound_.start_write_clock(now())) schedule_next();
  return n;
}

void session::on_output_written(std::size_t frames) {
  auto* m = attached_metrics();
  std::int64_t written_at_ms = 0;
  outbound_.pop_written(frames, [&](const outbound_item& item) {
    if (item.sent_at_ms <= 0) return;
    if (written_at_ms == 0) written_at_ms = env_->clock.unix_ms();
    const auto delay = std::chrono::milliseconds(std::max<std::int64_t>(0, written_at_ms - item.sent_at_ms));
    // The delivery delay up to the socket (the outbound queue included, where an overloaded
    // node's backlog sits) steers admission (core/admission_gate.hpp). More than a minute is
    // no live signal (an event replayed, or a clock far off): ignored.
    if (delay < 60s) env_->admission.observe_delay(delay);
    if (m != nullptr) {
      const double seconds = static_cast<double>(delay.count()) / 1000.0;
      m->delivery_latency.observe(seconds);
      m->stage_socket_written.observe(seconds);
    }
  });
  if (!recoveries_.empty()) pump_recoveries();
}

// ---- timers ---------------------------------------------------------------------------------

void session::on_timer() {
  if (phase_ == phase::closed) return;
  const auto t = now();
  const auto& settings = env_->settings;
  if (const auto since = outbound_.writing_since(); since && t - *since > settings.write_stall_timeout) {
    return disconnect_slow_consumer("slow consumer: write stalled");
  }
  switch (phase_) {
    case phase::awaiting_connect:
    case phase::authenticating:
      if (t - opened_at_ >= settings.handshake_timeout) {
        return send_error("handshake timeout", "no CONNECT frame in time");
      }
      break;
    case phase::connected:
    case phase::disconnecting: {
      // Liveness is bytes read from the socket (on_bytes). While this node does not read
      // them (an admission wait, frames behind a lookup: TCP backpressure of its own making)
      // the client's heart-beats wait in the socket, so that silence is not the client's.
      if (reading_paused_) last_input_ = t;
      const auto expect = std::chrono::milliseconds(heart_beat_.expect_every_ms);
      if (expect.count() > 0 && t - last_input_ > 2 * expect) {
        return send_error("heart-beat timeout", "nothing received for more than twice the heart-beat interval");
      }
      // Without heart-beats from the client, silence is bounded by the idle timeout instead
      // (a vanished peer behind a NAT would otherwise hold its session for ever).
      if (expect.count() == 0 && settings.idle_timeout.count() > 0 && t - last_input_ >= settings.idle_timeout) {
        env_->stats.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
        return send_error("idle timeout",
                          "nothing received for the idle timeout; negotiate heart-beats to stay connected while idle");
      }
      while (auto expired = pending_sends_.take_expired(t)) {
        refuse("not_accepted", "message not accepted",
               "the message log did not acknowledge the message in time; it may still be stored: retry with the same "
               "messageKey",
               expired->destination, expired->receipt);
        finish_disconnect_if_ready();
      }
      if (admission_wait_ && t >= admission_wait_->deadline && env_->admission.cancel(admission_wait_->ticket)) {
        auto wait = std::move(*admission_wait_);
        admission_wait_.reset();
        refuse("overloaded", "server overloaded",
               "the server is overloaded: the message was not accepted and is not stored; retry later",
               wait.destination, wait.receipt);
        finish_disconnect_if_ready();
        resume();  // may process frames: the rest of this tick waits for the next one
        return schedule_next();
      }
      std::vector<std::string> late;
      std::erase_if(arming_, [&](arming_wait& a) {
        if (t < a.deadline) return false;
        late.push_back(std::move(a.receipt));
        return true;
      });
      for (const auto& r : late) send_receipt(r);
      {
        // Recoveries whose bus arming or store poll is due (a step may end one: ids first).
        std::vector<std::pair<std::string, recovery::stage>> due;
        for (const auto& [sub_id, r] : recoveries_) {
          if ((r->at == recovery::stage::arming && t >= r->arm_deadline) ||
              (r->at == recovery::stage::polling && t >= r->next_poll)) {
            due.emplace_back(sub_id, r->at);
          }
        }
        for (const auto& [sub_id, at] : due) {
          const auto it = recoveries_.find(sub_id);
          if (it == recoveries_.end() || it->second->at != at) continue;
          if (at == recovery::stage::arming) {
            locate_recovery(sub_id, *it->second);
          } else {
            query_recovery(sub_id, *it->second, t >= it->second->store_deadline);
          }
        }
      }
      if (!subs_.presence().empty() && !contacts_loading_ && t - contacts_loaded_ >= settings.contacts_refresh) {
        contacts_loading_ = true;
        env_->dir.contacts(user_id_, on_strand([](session& s, lookup_status status, std::vector<std::int64_t> ids) {
                             s.on_contacts(status, std::move(ids), std::nullopt);
                           }));
      }
      const auto send_every = std::chrono::milliseconds(heart_beat_.send_every_ms);
      if (send_every.count() > 0 && t - last_output_ >= send_every) {
        outbound_item beat;
        stomp::encode_heartbeat(beat.head);
        enqueue(std::move(beat));
      }
      break;
    }
    case phase::closing:
    case phase::closed: break;
  }
  schedule_next();
}

void session::schedule_next() {
  if (transport_ == nullptr || phase_ == phase::closed) return;
  const auto& settings = env_->settings;
  std::optional<time_point> next;
  const auto consider = [&](time_point t) {
    if (!next || t < *next) next = t;
  };
  if (const auto since = outbound_.writing_since()) consider(*since + settings.write_stall_timeout + 1ms);
  switch (phase_) {
    case phase::awaiting_connect:
    case phase::authenticating: consider(opened_at_ + settings.handshake_timeout); break;
    case phase::connected:
    case phase::disconnecting:
      if (heart_beat_.expect_every_ms > 0) {
        consider(last_input_ + 2 * std::chrono::milliseconds(heart_beat_.expect_every_ms) + 1ms);
      } else if (settings.idle_timeout.count() > 0) {
        consider(last_input_ + settings.idle_timeout);
      }
      if (heart_beat_.send_every_ms > 0) consider(last_output_ + std::chrono::milliseconds(heart_beat_.send_every_ms));
      if (const auto deadline = pending_sends_.next_deadline()) consider(*deadline);
      if (admission_wait_) consider(admission_wait_->deadline);
      for (const auto& a : arming_) consider(a.deadline);
      for (const auto& [sub_id, r] : recoveries_) {
        if (r->at == recovery::stage::arming) consider(r->arm_deadline);
        if (r->at == recovery::stage::polling) consider(r->next_poll);
      }
      if (!subs_.presence().empty() && !contacts_loading_) consider(contacts_loaded_ + settings.contacts_refresh);
      break;
    case phase::closing:
    case phase::closed: break;
  }
  if (next) transport_->schedule(*next);
}

}  // namespace chat::gateway
