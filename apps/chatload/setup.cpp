#include "setup.hpp"

#include <chat/client/rest_client.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace chatload {

namespace {

using namespace std::chrono_literals;

std::string describe(const chat::client::response& r) {
  if (r.error) return r.error.message();
  return "HTTP " + std::to_string(r.status) + " " + r.api.code + ": " + r.api.message;
}

chat::client::rest_client make_rest_client(const run_options& o) {
  return chat::client::rest_client(o.http, {.timeout = 30s, .user_agent = "chatload"});
}

class setup_run {
 public:
  setup_run(const run_options& o, const plan& p, std::uint64_t nonce, error_counter& errors)
      : opt_(o), plan_(p), nonce_(nonce), errors_(errors) {}

  setup_result execute();

 private:
  // Runs job(api, i) for i in [0, total) on --setup-threads REST clients; the first failure
  // (a non-empty sentence) stops the others and is thrown.
  template <class Job>
  void rest_pool(std::uint32_t total, Job&& job);
  void create_over_rest();
  void relogin_all();
  void check_fixture();
  void write_created_fixture();

  const run_options& opt_;
  const plan& plan_;
  std::uint64_t nonce_;
  error_counter& errors_;
  setup_result out_;
};

template <class Job>
void setup_run::rest_pool(std::uint32_t total, Job&& job) {
  std::atomic<std::uint32_t> next{0};
  std::mutex fail_mutex;
  std::string failure;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, opt_.setup_threads); ++t) {
    threads.emplace_back([&] {
      auto api = make_rest_client(opt_);
      for (std::uint32_t i = next++; i < total; i = next++) {
        {
          std::lock_guard lock(fail_mutex);
          if (!failure.empty()) return;
        }
        std::string why = job(api, i);
        if (!why.empty()) {
          std::lock_guard lock(fail_mutex);
          if (failure.empty()) failure = std::move(why);
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!failure.empty()) throw std::runtime_error(failure);
}

void setup_run::create_over_rest() {
  auto& accounts = out_.accounts;
  auto& room_ids = out_.room_ids;
  accounts.resize(opt_.users);
  room_ids.resize(opt_.rooms);
  const std::string run_tag = message_key(nonce_, 0).substr(0, 8);
  rest_pool(opt_.users, [&](chat::client::rest_client& api, std::uint32_t i) -> std::string {
    const std::string name = "load-" + run_tag + "-" + std::to_string(i);
    auto r = api.signup(name + "@example.com", opt_.password, name);
    if (!r) return "signup of " + name + " failed: " + describe(r.http);
    accounts[i] = {r.value->user_id, name + "@example.com", r.value->token};
    return {};
  });
  rest_pool(opt_.rooms, [&](chat::client::rest_client& api, std::uint32_t r) -> std::string {
    std::vector<std::int64_t> ids;
    for (std::uint32_t j = 1; j < opt_.members; ++j) ids.push_back(accounts[plan_.user_of(r, j)].id);
    api.set_token(accounts[plan_.user_of(r, 0)].token);
    auto res = api.create_group("load-" + run_tag + "-room-" + std::to_string(r), ids);
    if (!res) return "creating room " + std::to_string(r) + " failed: " + describe(res.http);
    room_ids[r] = res.value->id;
    return {};
  });
}

void setup_run::relogin_all() {
  auto& accounts = out_.accounts;
  const std::string password = opt_.reuse->password;
  rest_pool(opt_.users, [&](chat::client::rest_client& api, std::uint32_t i) -> std::string {
    auto r = api.login(accounts[i].email, password);
    if (!r)
      return "fixture user " + accounts[i].email + " cannot log in (" + describe(r.http) +
             "): the fixture does not belong to this server or database";
    if (r.value->user_id != accounts[i].id)
      return "fixture user " + accounts[i].email + " has id " + std::to_string(r.value->user_id) + " here, not " +
             std::to_string(accounts[i].id);
    accounts[i].token = r.value->token;
    return {};
  });
}

// A reused fixture must belong to this server: the first user's token (or a fresh login) and
// the first room's members are checked; tokens are renewed by login when refused.
void setup_run::check_fixture() {
  auto& accounts = out_.accounts;
  const auto& room_ids = out_.room_ids;
  auto api = make_rest_client(opt_);
  api.set_token(accounts[0].token);
  auto me = api.me();
  if (me.http.error) throw std::runtime_error("fixture check: GET /api/users/me: " + describe(me.http));
  bool renewed = false;
  if (!me || me.value->id != accounts[0].id) {
    relogin_all();
    renewed = true;
  }
  const std::uint32_t owner = plan_.user_of(0, 0);
  api.set_token(accounts[owner].token);
  auto room = api.room(room_ids[0]);
  if (!room)
    throw std::runtime_error("fixture check: room " + std::to_string(room_ids[0]) + ": " + describe(room.http) +
                             ": the fixture does not belong to this server or database");
  for (std::uint32_t j = 0; j < opt_.members; ++j) {
    const auto want = accounts[plan_.user_of(0, j)].id;
    if (std::none_of(room.value->members.begin(), room.value->members.end(),
                     [&](const auto& m) { return m.user_id == want; }))
      throw std::runtime_error("fixture check: user " + std::to_string(want) + " is not a member of room " +
                               std::to_string(room_ids[0]) + " on this server");
  }
  if (renewed && !opt_.fixture_path.empty()) {
    fixture f = *opt_.reuse;
    for (std::uint32_t i = 0; i < opt_.users; ++i) f.accounts[i].token = accounts[i].token;
    std::string why;
    if (!save_fixture(opt_.fixture_path, f, why)) errors_.count("fixture_write: " + why);
  }
}

void setup_run::write_created_fixture() {
  fixture f;
  f.url = chat::client::to_string(opt_.http);
  f.users = opt_.users;
  f.rooms = opt_.rooms;
  f.members = opt_.members;
  f.password = opt_.password;
  for (const auto& a : out_.accounts) f.accounts.push_back({a.email, a.id, a.token});
  f.room_ids = out_.room_ids;
  std::string why;
  if (!save_fixture(opt_.fixture_path, f, why)) throw std::runtime_error(why);
}

setup_result setup_run::execute() {
  const auto start = std::chrono::steady_clock::now();
  if (opt_.reuse) {
    out_.source = "fixture";
    for (const auto& a : opt_.reuse->accounts) out_.accounts.push_back({a.user_id, a.email, a.token});
    out_.room_ids = opt_.reuse->room_ids;
    if (!opt_.generic) check_fixture();
  } else if (opt_.generic) {
    out_.source = "none";
    out_.accounts.resize(opt_.users);
    out_.room_ids.resize(opt_.rooms);
    for (std::uint32_t r = 0; r < opt_.rooms; ++r) out_.room_ids[r] = r;
  } else {
    out_.source = "created";
    create_over_rest();
    if (!opt_.fixture_path.empty()) write_created_fixture();
  }
  out_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (opt_.progress)
    std::fprintf(stderr, "chatload: set-up %s in %.1f s (%u users, %u rooms)\n",
                 out_.source == "fixture" ? "reused from the fixture"
                 : out_.source == "none"  ? "skipped (generic)"
                                          : "created",
                 out_.seconds, opt_.users, opt_.rooms);
  return std::move(out_);
}

}  // namespace

setup_result set_up(const run_options& options, const plan& p, std::uint64_t nonce, error_counter& errors) {
  return setup_run(options, p, nonce, errors).execute();
}

}  // namespace chatload
