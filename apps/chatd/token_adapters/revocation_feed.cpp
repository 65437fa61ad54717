#include "token_adapters/revocation_feed.hpp"

#include "store/revocation_bus.hpp"
#include "store/tokens.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <string>

namespace chat::chatd::token_adapters {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto ping_every = 5s;
constexpr auto silence_limit = 15s;  // nothing from Redis for this long: reconnect
constexpr auto store_wait = 5s;      // for a PostgreSQL load through the pool
// PostgreSQL loads overlap by this much: a revocation committed while the last load ran is
// read again rather than missed (the cache ignores what it knows).
constexpr std::int64_t store_overlap_s = 5;

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

std::string_view str(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
  return {r->str, r->len};
}

// Runs `work(session&)` on the pool and waits for it; nullopt when the pool refused, the
// database was unreachable, the work failed or store_wait passed.
template <class T, class Work>
std::optional<T> on_pool(store::db_pool& pool, Work work) {
  auto done = std::make_shared<std::promise<std::optional<T>>>();
  auto answer = done->get_future();
  const bool queued = pool.submit([done, work = std::move(work)](store::db_context& ctx) mutable {
    std::optional<T> out;
    if (ctx.db != nullptr) {
      if (auto r = work(*ctx.db); r) out = std::move(*r);
    }
    done->set_value(std::move(out));
  });
  if (!queued || answer.wait_for(store_wait) != std::future_status::ready) return std::nullopt;
  return answer.get();
}

}  // namespace

struct revocation_feed::connection {
  redisContext* c = nullptr;
  ~connection() {
    if (c != nullptr) redisFree(c);
  }
};

revocation_feed::revocation_feed(redis::endpoint ep, revocation_feed_options options, tokens::revocation_cache& cache,
                                 tokens::live_tokens& live, store::db_pool& pool, revocation_feed_observers observers)
    : endpoint_(ep),
      options_(options),
      cache_(cache),
      live_(live),
      pool_(pool),
      observers_(std::move(observers)),
      redis_(std::move(ep), options.redis_timeout) {}

revocation_feed::~revocation_feed() { stop(); }

void revocation_feed::start() {
  next_cleanup_ = steady::now() + 30s;
  thread_ = std::thread([this] { run(); });
}

void revocation_feed::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void revocation_feed::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_.load(); });
}

std::int64_t revocation_feed::now_s() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void revocation_feed::set_live(bool live) {
  cache_.set_live(live);
  if (live == live_state_) return;
  live_state_ = live;
  if (live) {
    log::info("token revocations: live from Redis");
  } else {
    log::warn("token revocations: Redis unavailable; REST checks tokens in PostgreSQL until it is back");
  }
  if (observers_.live) observers_.live(live);
}

void revocation_feed::absorb(const std::vector<tokens::revocation>& found) {
  const auto now = now_s();
  bool changed = false;
  for (const auto& r : found) changed = cache_.add(r, now) || changed;
  cache_.prune(now);
  const auto n = live_.sweep(cache_);
  if (n > 0 && observers_.disconnected) observers_.disconnected(n);
  (void)changed;
}

bool revocation_feed::load_from_redis(bool backfill) {
  const auto now = now_s();
  auto found = store::load_revocations(redis_, now);
  if (!found) return false;
  if (backfill) {
    // Revocations made while Redis was away (or lost with its data) are in PostgreSQL only:
    // into the set with them, so that every node's next load has them too.
    const auto jwt_ttl = options_.jwt_ttl;
    if (auto stored = on_pool<std::vector<tokens::revocation>>(
            pool_, [now, jwt_ttl](store::session& db) { return store::revocations_since(db, 0, now, jwt_ttl); })) {
      for (const auto& r : *stored) {
        if (!store::publish_revocation(redis_, r)) return false;
      }
      found->insert(found->end(), stored->begin(), stored->end());
      store_synced_s_ = now - store_overlap_s;
    } else {
      log::warn("token revocations: PostgreSQL could not be read; using what Redis has");
    }
  }
  cache_.begin_full_load();
  absorb(*found);
  return true;
}

bool revocation_feed::load_from_store(bool full) {
  const auto now = now_s();
  const std::int64_t since = full ? 0 : store_synced_s_;
  const auto jwt_ttl = options_.jwt_ttl;
  auto found = on_pool<std::vector<tokens::revocation>>(
      pool_, [since, now, jwt_ttl](store::session& db) { return store::revocations_since(db, since, now, jwt_ttl); });
  if (!found) return false;
  store_synced_s_ = now - store_overlap_s;
  absorb(*found);
  return true;
}

void revocation_feed::maybe_cleanup() {
  if (steady::now() < next_cleanup_) return;
  next_cleanup_ = steady::now() + options_.cleanup_interval;
  const auto jwt_ttl = options_.jwt_ttl;
  pool_.submit([jwt_ttl](store::db_context& ctx) {
    if (ctx.db == nullptr) return;
    if (auto n = store::delete_expired_tokens(*ctx.db, jwt_ttl); !n) {
      log::warn("expired tokens not deleted", {{"error", n.error().message}});
    } else if (*n > 0) {
      log::info("expired tokens deleted", {{"rows", *n}});
    }
  });
}

void revocation_feed::run() {
  auto backoff = 100ms;
  bool store_loaded = false;
  while (!stopping_) {
    connection conn;
    const auto tv = timeval{static_cast<time_t>(options_.redis_timeout.count() / 1000),
                            static_cast<suseconds_t>((options_.redis_timeout.count() % 1000) * 1000)};
    conn.c = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv);
    std::string error;
    if (conn.c == nullptr) {
      error = "cannot allocate a redis context";
    } else if (conn.c->err != 0) {
      error = conn.c->errstr;
    } else {
      redisSetTimeout(conn.c, tv);
      if (!endpoint_.password.empty()) {
        const char* argv[] = {"AUTH", endpoint_.password.c_str()};
        const std::size_t lens[] = {4, endpoint_.password.size()};
        const reply_ptr r(static_cast<redisReply*>(redisCommandArgv(conn.c, 2, argv, lens)));
        if (!r || r->type == REDIS_REPLY_ERROR) error = r ? std::string(r->str, r->len) : conn.c->errstr;
      }
    }
    if (error.empty()) {
      const std::string channel(proto::redis_names::token_revocations_channel);
      const char* argv[] = {"SUBSCRIBE", channel.c_str()};
      const std::size_t lens[] = {9, channel.size()};
      const reply_ptr r(static_cast<redisReply*>(redisCommandArgv(conn.c, 2, argv, lens)));
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2 || str(r->element[0]) != "subscribe") {
        error = r ? "unexpected SUBSCRIBE reply" : conn.c->errstr;
      } else if (!load_from_redis(true)) {
        error = "cannot load " + std::string(proto::redis_names::revoked_tokens_key) + ": " + redis_.last_error();
      }
    }
    if (!error.empty()) {
      set_live(false);
      log::debug("token revocation feed cannot subscribe", {{"error", error}, {"retry_ms", backoff.count()}});
      // Meanwhile PostgreSQL is the source (all of it once, then what is new).
      store_loaded = load_from_store(!store_loaded) || store_loaded;
      maybe_cleanup();
      wait(std::max<std::chrono::milliseconds>(backoff, std::min(options_.sync_interval, 2000ms)));
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2s);
      continue;
    }
    backoff = 100ms;
    store_loaded = true;
    set_live(true);
    serve(conn);
    set_live(false);
  }
}

void revocation_feed::serve(connection& conn) {
  redisContext* c = conn.c;
  auto last_data = steady::now();
  auto last_ping = last_data;
  auto next_sync = last_data + options_.sync_interval;
  while (!stopping_) {
    const auto until_sync = std::chrono::duration_cast<std::chrono::milliseconds>(next_sync - steady::now());
    pollfd p{c->fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::clamp<std::int64_t>(until_sync.count(), 0, 250)));
    if (n < 0 && errno != EINTR) {
      log::warn("token revocation feed poll failed", {{"error", std::strerror(errno)}});
      return;
    }
    if (stopping_) return;
    if ((p.revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      if (redisBufferRead(c) != REDIS_OK) {
        log::warn("token revocation feed: connection lost", {{"error", c->errstr}});
        return;
      }
      last_data = steady::now();
      for (;;) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(c, &raw) != REDIS_OK) {
          log::warn("token revocation feed: protocol error", {{"error", c->errstr}});
          return;
        }
        if (raw == nullptr) break;
        const reply_ptr r(static_cast<redisReply*>(raw));
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || str(r->element[0]) != "message") continue;
        const auto revoked = tokens::decode(str(r->element[2]));
        if (!revoked) continue;
        if (cache_.add(*revoked, now_s())) {
          const auto closed = live_.sweep(cache_, revoked->user_id);
          if (closed > 0 && observers_.disconnected) observers_.disconnected(closed);
        }
      }
    }
    const auto now = steady::now();
    if (now - last_data > silence_limit) {
      log::warn("token revocation feed: Redis silent; reconnecting");
      return;
    }
    if (now - last_ping >= ping_every) {
      last_ping = now;
      const char* argv[] = {"PING"};
      const std::size_t lens[] = {4};
      int done = 0;
      if (redisAppendCommandArgv(c, 1, argv, lens) != REDIS_OK) return;
      while (done == 0) {
        if (redisBufferWrite(c, &done) != REDIS_OK) return;
      }
    }
    if (now >= next_sync) {
      next_sync = now + options_.sync_interval;
      if (!load_from_redis(false)) {
        log::warn("token revocation feed: cannot load the revoked set", {{"error", redis_.last_error()}});
        return;
      }
      maybe_cleanup();
    }
  }
}

}  // namespace chat::chatd::token_adapters
