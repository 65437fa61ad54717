#pragma once
// The REST API of docs/rest.md on the HTTP router: accounts, rooms, history, read state and
// presence lookup. Handlers run on I/O threads and never block: they authenticate, parse
// and validate there, then hand SQL and Redis to the db_pool and password hashing to the
// password_pool; the last worker of a request answers through the responder. The contract
// is docs/rest.md.
#include "api/auth.hpp"
#include "api/client_address.hpp"
#include "api/lifecycle_request.hpp"
#include "api/password_pool.hpp"
#include "config/config.hpp"
#include "core/admission_gate.hpp"
#include "core/message_keys.hpp"
#include "core/message_log.hpp"
#include "core/recent_messages.hpp"
#include "http/router.hpp"
#include "store/accounts.hpp"
#include "store/db_pool.hpp"
#include "tokens/live_tokens.hpp"
#include "tokens/revocations.hpp"
#include "store/friends.hpp"

#include <chat/auth/password.hpp>
#include <chat/proto/message.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::chatd::api {

// The Argon2id cost named by --password-cost ("interactive", "moderate", "minimum").
auth::password_cost password_cost_of(std::string_view name);

class rest_api {
 public:
  // `pool` and `log` must outlive the requests in flight: the app stops the HTTP server,
  // the producer and the pool before destroying them. Hashes one dummy password at the
  // configured cost (the login path verifies against it for unknown emails). Starts the
  // password workers (--password-workers).
  rest_api(const config& cfg, store::db_pool& pool, message_log& log);
  ~rest_api();
  rest_api(const rest_api&) = delete;
  rest_api& operator=(const rest_api&) = delete;

  // Finishes the queued password jobs and joins their workers; their database steps go to
  // the db_pool, so stop this before it. Idempotent.
  void stop();

  // Adds every route of docs/rest.md except /healthz, /readyz and /metrics.
  void register_routes(http::router& routes);

  // Called once per room created (direct or group), from pool workers; e.g. to count
  // chat_rooms_created_total. Set before the server starts; must be thread-safe and cheap.
  void on_room_created(std::function<void()> hook) { room_created_ = std::move(hook); }
  // Called once per login refused because of --login-failure-limit; same rules as above.
  void on_login_locked(std::function<void()> hook) { login_locked_ = std::move(hook); }
  // Called once per signup or login refused by --auth-rate-limit (429), from I/O threads.
  void on_auth_rate_limited(std::function<void()> hook) { auth_rate_limited_ = std::move(hook); }
  // Called once per signup or login refused because the password queue was full (503).
  void on_password_shed(std::function<void()> hook) { password_shed_ = std::move(hook); }
  // Called once per login password verification, from password workers, with whether the
  // email named an account (an unknown email is verified against a dummy hash of the same
  // cost, so both take as long). Same rules as above.
  void on_password_verified(std::function<void(bool known_account)> hook) { password_verified_ = std::move(hook); }
  // Signups and logins waiting for a password worker now. Any thread.
  std::size_t password_queue_depth() const { return passwords_.queued(); }
  // The admission gate the message-lifecycle routes take a slot of before publishing (the
  // gateway's, api/admission.hpp); none: they publish unbounded. Before the server starts.
  void use_admission(admission_gate& gate) { gate_ = &gate; }
  // What this node saw acknowledged or live: room events name targets the store does not have
  // yet (core/recent_messages.hpp). None: only the store answers. Before the server starts.
  void use_recent_messages(const chatd::recent_messages& recent) { recent_messages_ = &recent; }
  // Retried messageKeys (core/message_keys.hpp), shared with the gateway: a message sent again
  // with its key answers the id the key got first, on whichever node. None: this node's memory
  // and the store. Before the server starts.
  void use_message_keys(std::shared_ptr<chatd::message_keys> keys) { keys_ = std::move(keys); }
  // GET /api/rooms/stream (the gateway's room feed as Server-Sent Events): given the
  // authenticated user's token, the request's Last-Event-ID, the connection's stream opener and
  // the responder (for a refusal). None: the route answers 503. Before the server starts.
  using room_stream_handler = std::function<void(const tokens::token_ref& token, std::string_view last_event_id,
                                                 const http::stream_opener& open, const http::responder& respond)>;
  void use_room_stream(room_stream_handler h) { room_stream_ = std::move(h); }
  // Token revocation (docs/rest.md "Tokens"): the node's cache, checked on every authenticated
  // request (PostgreSQL instead while it is incomplete), and told of the revocations made here
  // at once, with `live`'s holders of revoked tokens (STOMP sessions, streams) swept. None: no
  // request is checked (tests of other parts). Before the server starts; both outlive this.
  void use_revocations(tokens::revocation_cache& cache, tokens::live_tokens& live) {
    revocations_ = &cache;
    live_tokens_ = &live;
  }
  // Called once per revocation made here, with its reason (logout, logout_all,
  // password_change, reuse), from pool workers. Same rules as above.
  void on_token_revoked(std::function<void(std::string_view)> hook) { token_revoked_ = std::move(hook); }
  // Called once per POST /api/auth/refresh answered, with its outcome (rotated, unknown,
  // expired, revoked, reused, malformed), from I/O or pool threads.
  void on_refresh(std::function<void(std::string_view)> hook) { refreshed_ = std::move(hook); }
  // Called with the number of live connections (STOMP sessions, streams) ended here by a
  // revocation made here; any thread.
  void on_revoked_disconnects(std::function<void(std::size_t)> hook) { revoked_disconnects_ = std::move(hook); }

 private:
  using authed_handler = void (rest_api::*)(const http::request&, const http::path_params&, const caller&,
                                            http::responder);
  using public_handler = void (rest_api::*)(const http::request&, const http::path_params&, http::responder);

  void add_public(http::router& routes, http::verb method, const char* pattern, public_handler h);
  // The handler runs only for a valid bearer token; anything else is answered 401.
  // `max_body_bytes`: the route's own body limit (0: the server's, 64 KiB).
  void add_authed(http::router& routes, http::verb method, const char* pattern, authed_handler h,
                  std::size_t max_body_bytes = 0);

  // accounts (accounts_routes.cpp)
  // False after answering 429 (1 s later: refusals are paced) when the request's client address is over
  // --auth-rate-limit.
  bool admit_auth(const http::request& req, const http::path_params& params, const http::responder& respond);
  // False after answering 503 (1 s later, like every refusal of a signup or login) when the password queue is full now.
  bool password_room(const http::responder& respond);
  // Queues `work` (void()) on the password pool; false (and counted) when the queue is full.
  // A throw out of `work` is answered 500 through `respond`.
  template <class Work>
  bool submit_password_job(std::string_view route, http::responder respond, Work work);
  void signup(const http::request& req, const http::path_params& params, http::responder respond);
  void login(const http::request& req, const http::path_params& params, http::responder respond);
  void me(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void find_user(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);

  // tokens (tokens_routes.cpp; docs/rest.md "Tokens")
  void refresh(const http::request& req, const http::path_params& params, http::responder respond);
  void logout(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void logout_all(const http::request& req, const http::path_params& params, const caller& who,
                  http::responder respond);
  void change_password(const http::request& req, const http::path_params& params, const caller& who,
                       http::responder respond);
  // A new login session of `user` (signup, login): its refresh family in the store and the
  // first pair, as the signup/login answer body. Runs on a pool worker.
  store::result<std::string> start_session(store::session& db, const store::user_record& user, std::int64_t watermark);
  // Records `r` (already durable in PostgreSQL) in this node's cache at once, ends the live
  // connections it revokes here, publishes it to the other nodes through Redis (best effort:
  // they read PostgreSQL while they cannot hear Redis) and counts it under `reason`. Pool workers.
  void announce_revocation(redis::client& redis, const tokens::revocation& r, std::string_view reason);
  // The authenticated handler `h` after the revocation check of `who`: at once from the cache
  // when it is complete, else after PostgreSQL answered (on a pool worker, with copies of the
  // request and its parameters).
  void run_checked(const http::request& req, const http::path_params& params, caller who, authed_handler h,
                   http::responder respond);
  // people (people_routes.cpp; SPEC §15)
  void update_me(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void get_user(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void search_users(const http::request& req, const http::path_params& params, const caller& who,
                    http::responder respond);
  void send_friend_request(const http::request& req, const http::path_params& params, const caller& who,
                           http::responder respond);
  void list_friend_requests(const http::request& req, const http::path_params& params, const caller& who,
                            http::responder respond);
  void accept_friend_request(const http::request& req, const http::path_params& params, const caller& who,
                             http::responder respond);
  void reject_friend_request(const http::request& req, const http::path_params& params, const caller& who,
                             http::responder respond);
  void cancel_friend_request(const http::request& req, const http::path_params& params, const caller& who,
                             http::responder respond);
  // The three above: the request {id} of the path answered by `caller`. `route` is a static string.
  void answer_friend_request(std::string_view route, store::friend_answer answer, const http::path_params& params,
                             const caller& who, http::responder respond);
  void list_friends(const http::request& req, const http::path_params& params, const caller& who,
                    http::responder respond);
  void remove_friend(const http::request& req, const http::path_params& params, const caller& who,
                     http::responder respond);

  // message lifecycle (lifecycle_routes.cpp; SPEC §13)
  void post_message(const http::request& req, const http::path_params& params, const caller& who,
                    http::responder respond);
  void edit_message(const http::request& req, const http::path_params& params, const caller& who,
                    http::responder respond);
  void delete_message(const http::request& req, const http::path_params& params, const caller& who,
                      http::responder respond);
  void react(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void pin(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void list_pins(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void get_message(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond);
  void thread(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void put_bookmark(const http::request& req, const http::path_params& params, const caller& who,
                    http::responder respond);
  void delete_bookmark(const http::request& req, const http::path_params& params, const caller& who,
                       http::responder respond);
  void list_bookmarks(const http::request& req, const http::path_params& params, const caller& who,
                      http::responder respond);
  // Checks the room event `event` (sender_id, room_id, kind and its members set; message_key
  // empty: a fresh one) against the store and check_room_event, completes it (nickname, thread
  // root, the copy of `forward`'s message) and publishes it; answers 201 (a message) or 202
  // {id, messageKey} once Kafka acknowledged it, or the refusal. `route` is a static string.
  void publish_event(std::string_view route, proto::chat_message event, std::optional<forward_ref> forward,
                     http::responder respond);

  // rooms (rooms_routes.cpp)
  void open_direct(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond);
  void create_group(const http::request& req, const http::path_params& params, const caller& who,
                    http::responder respond);
  void list_rooms(const http::request& req, const http::path_params& params, const caller& who,
                  http::responder respond);
  void room_stream(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond);
  void room_detail(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond);
  void invite(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void leave(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  // room administration (rooms_routes.cpp; SPEC §16, core/room_roles.hpp)
  void update_room(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond);
  void delete_room(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond);
  void set_member_role(const http::request& req, const http::path_params& params, const caller& who,
                       http::responder respond);
  void remove_member(const http::request& req, const http::path_params& params, const caller& who,
                     http::responder respond);

  // messages and read state (messages_routes.cpp)
  void history(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void mark_read(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void unread(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void online(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void reads(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);

  // blocks (blocks_routes.cpp; SPEC §15)
  void put_block(const http::request& req, const http::path_params& params, const caller& who, http::responder respond);
  void delete_block(const http::request& req, const http::path_params& params, const caller& who,
                    http::responder respond);
  void list_blocks(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond);

  // scheduled messages (scheduled_routes.cpp; SPEC §16)
  void create_scheduled(const http::request& req, const http::path_params& params, const caller& who,
                        http::responder respond);
  void list_scheduled(const http::request& req, const http::path_params& params, const caller& who,
                      http::responder respond);
  void delete_scheduled(const http::request& req, const http::path_params& params, const caller& who,
                        http::responder respond);

  // files (files_routes.cpp)
  void upload_file(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond);
  void download_file(const http::request& req, const http::path_params& params, const caller& who,
                     http::responder respond);

  // A signed access token: "jti" fresh, "sid" = `session_id` (may be empty), "iat" = `issued_at`.
  std::string issue_token(std::int64_t user_id, const std::string& email, const std::string& session_id,
                          std::int64_t issued_at) const;
  // Publishes room administration events (proto::is_admin_event: membership notices, roles,
  // renames, deletion; their messageKey and createdAt are set here) in this order, then calls
  // `done` once Kafka answered for every one of them -- so a client that got its answer sends
  // what it sends next after them in the room's order. Best effort: the change they announce is
  // committed already, so a refusal is logged (with `route`, a static string) and `done` runs
  // anyway. Pool workers.
  void publish_room_events(std::string_view route, std::vector<proto::chat_message> events,
                           std::function<void()> done) const;

  const std::string jwt_secret_;  // never logged
  const std::chrono::seconds jwt_ttl_;
  const std::chrono::seconds refresh_ttl_;
  const auth::password_cost password_cost_;
  const std::string dummy_hash_;
  const int login_failure_limit_;  // 0: no limit
  const std::chrono::seconds login_failure_window_;
  const std::size_t max_file_bytes_;  // --max-file-bytes
  store::db_pool& pool_;
  message_log& log_;
  std::function<void()> room_created_;
  std::function<void()> login_locked_;
  std::function<void()> auth_rate_limited_;
  std::function<void()> password_shed_;
  std::function<void(bool)> password_verified_;
  std::function<void(std::string_view)> token_revoked_;
  std::function<void(std::string_view)> refreshed_;
  std::function<void(std::size_t)> revoked_disconnects_;
  tokens::revocation_cache* revocations_ = nullptr;  // use_revocations
  tokens::live_tokens* live_tokens_ = nullptr;       // use_revocations
  const std::vector<ip_network> trusted_proxies_;
  std::chrono::milliseconds edit_window_{};                  // --edit-window
  std::size_t max_content_chars_ = 0;                        // --max-content-chars
  std::shared_ptr<chatd::message_keys> keys_;                // use_message_keys
  admission_gate* gate_ = nullptr;                           // use_admission
  room_stream_handler room_stream_;                          // use_room_stream
  const chatd::recent_messages* recent_messages_ = nullptr;  // use_recent_messages
  std::unique_ptr<address_rate_limiter> auth_limiter_;       // null: --auth-rate-limit 0
  password_pool passwords_;                                  // last: its jobs use the members above
};

}  // namespace chat::chatd::api
