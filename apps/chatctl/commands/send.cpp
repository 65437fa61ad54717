// send ROOM [TEXT...]: over STOMP (/app/chat.send), one message per stdin line without TEXT.
//
// By default each message waits for its RECEIPT (= Kafka accepted it, docs/stomp.md) and chatctl
// prints its id. The id (docs/events.md) is assigned from the message's Kafka position, which the RECEIPT
// does not carry, so chatctl also subscribes to the room and takes the id from the live copy
// of its own message (matched by the messageKey it generated). Rate-limited messages (a soft
// error on /user/queue/errors) are re-sent with the same messageKey after a pause, so a long
// stdin stream is delivered at the allowed rate, each message once.
//
// send --file PATH uploads the file (POST /api/files), then sends an IMAGE (image/*) or FILE
// message with TEXT as its caption over REST (POST /api/rooms/{id}/messages: 201 with the id).
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "commands/live_session.hpp"
#include "commands/stdin_lines.hpp"
#include "core/exit_codes.hpp"

#include <chat/client/errc.hpp>
#include <chat/client/files.hpp>
#include <chat/client/lifecycle.hpp>
#include <chat/common/uuid.hpp>
#include <chat/proto/names.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <filesystem>
#include <thread>
#include <unordered_map>

namespace chatctl {

namespace client = chat::client;
namespace proto = chat::proto;
using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view errors_subscription = "errors";
constexpr std::string_view room_subscription = "room";
constexpr auto rate_limit_pause = 1100ms;

struct send_options {
  std::string room;
  std::vector<std::string> text;
  bool no_wait = false;
  std::string key;
  std::string file;  // --file PATH: an IMAGE or FILE message, TEXT its caption
};

struct soft_error {
  std::string code;
  std::string message;
};

// Reads what arrived on the two subscriptions: soft errors by receipt id, and the ids of
// messages seen live, by messageKey.
class inbox {
 public:
  explicit inbox(client::blocking_stomp& stomp) : stomp_(stomp) {}

  void drain() {
    auto& messages = stomp_.messages();
    while (!messages.empty()) {
      const auto f = std::move(messages.front());
      messages.pop_front();
      const auto sub = f.get("subscription").value_or("");
      if (sub == errors_subscription) {
        const auto j = json::parse(f.body, nullptr, false);
        if (!j.is_object()) continue;
        const auto receipt = j.value("receiptId", std::string());
        if (!receipt.empty()) errors_[receipt] = {j.value("code", std::string()), j.value("message", std::string())};
      } else if (sub == room_subscription) {
        proto::chat_message m;
        if (proto::parse_chat_message(f.body, m, static_cast<std::size_t>(-1))) continue;
        // Only the copies of our own messages matter; the room's other traffic is dropped.
        if (const auto it = ids_.find(m.message_key); it != ids_.end()) it->second = m.id;
      }
    }
  }

  // Remember the id of the message with this key once it is seen live.
  void expect(const std::string& key) { ids_.try_emplace(key, std::nullopt); }
  void forget_key(const std::string& key) { ids_.erase(key); }
  void forget_receipt(const std::string& receipt) { errors_.erase(receipt); }

  const soft_error* error_for(const std::string& receipt) const {
    const auto it = errors_.find(receipt);
    return it == errors_.end() ? nullptr : &it->second;
  }

  std::optional<std::int64_t> id_for(const std::string& key) const {
    const auto it = ids_.find(key);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }

 private:
  client::blocking_stomp& stomp_;
  std::unordered_map<std::string, soft_error> errors_;
  std::unordered_map<std::string, std::optional<std::int64_t>> ids_;  // nullopt: not seen yet
};

std::optional<std::int64_t> id_header(const chat::stomp::frame& receipt) {
  const auto text = receipt.get("message-id");
  if (!text) return std::nullopt;
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
  if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
  return id;
}

class sender {
 public:
  sender(context& ctx, const send_options& o, std::int64_t room_id)
      : ctx_(ctx), o_(o), room_id_(room_id), live_(ctx), inbox_(live_.stomp()) {}

  void start() {
    live_.connect();
    if (!o_.no_wait) {
      live_.subscribe(proto::destinations::user_errors, errors_subscription);
      live_.subscribe(proto::room_destination(room_id_), room_subscription);
    }
  }

  // Sends one message and reports it; returns its id when known.
  void send(const std::string& content, bool single) {
    const std::string key = o_.key.empty() ? chat::common::make_uuid_v4() : chat::common::normalize_uuid(o_.key);
    const std::string body = json{{"roomId", room_id_}, {"content", content}, {"messageKey", key}}.dump();
    std::optional<std::int64_t> id;
    if (o_.no_wait) {
      queue(body);
    } else {
      inbox_.expect(key);
      id = deliver(body, key);
      inbox_.forget_key(key);
    }
    report(key, id, single);
  }

  boost::asio::io_context& io() noexcept { return live_.stomp().context(); }

  // Keeps the session alive (heart-beats, incoming frames) until stdin has input.
  void wait_for_input(const bool& ready) {
    auto& stomp = live_.stomp();
    for (;;) {
      const auto status = stomp.run_until(
          [&] {
            inbox_.drain();
            return ready;
          },
          std::chrono::steady_clock::now() + 1h);
      if (status == client::blocking_stomp::wait_status::done) return;
      if (status != client::blocking_stomp::wait_status::timeout) {
        live_.fail_closed("lost the connection to room " + std::to_string(room_id_) + " while waiting for input");
      }
    }
  }

  void finish(bool single) {
    if (!single && ctx_.out().fmt() == format::json) ctx_.out().end_list();
    if (!live_.disconnect()) {
      if (o_.no_wait) live_.fail_closed("the server did not confirm the messages");
      ctx_.warn("the server did not confirm the end of the session");
    }
  }

  void begin(bool single) {
    if (!single && ctx_.out().fmt() == format::json) ctx_.out().begin_list();
  }

 private:
  void queue(const std::string& body) {
    auto& stomp = live_.stomp();
    const client::header_view headers[] = {{"content-type", "application/json"}};
    for (;;) {
      const auto ec = stomp.session().send(proto::destinations::app_send, body, headers);
      if (!ec) break;
      if (ec != client::errc::queue_full) live_.fail_closed("cannot send to room " + std::to_string(room_id_));
      // Let the queue drain before trying again.
      if (stomp.run_until([&] { return stomp.session().outbound_bytes() == 0; }, ctx_.deadline()) !=
          client::blocking_stomp::wait_status::done) {
        live_.fail_closed("cannot send to room " + std::to_string(room_id_));
      }
    }
    stomp.context().poll();
  }

  std::optional<std::int64_t> deliver(const std::string& body, const std::string& key) {
    auto& stomp = live_.stomp();
    const client::header_view headers[] = {{"content-type", "application/json"}};
    const auto deadline = ctx_.deadline();
    const std::string doing = "cannot send to room " + std::to_string(room_id_);
    for (;;) {
      const std::string receipt_id = stomp.next_receipt_id();
      if (stomp.session().send(proto::destinations::app_send, body, headers, receipt_id)) live_.fail_closed(doing);
      std::optional<chat::stomp::frame> receipt;
      const soft_error* refused = nullptr;
      const auto status = stomp.run_until(
          [&] {
            inbox_.drain();
            refused = inbox_.error_for(receipt_id);
            if (refused != nullptr) return true;
            receipt = stomp.take_receipt(receipt_id);
            return receipt.has_value();
          },
          deadline);
      if (status != client::blocking_stomp::wait_status::done) live_.fail_closed(doing);
      if (refused != nullptr) {
        const soft_error error = *refused;
        inbox_.forget_receipt(receipt_id);
        // Refusals of one SEND that a retry with the same messageKey may cure (docs/stomp.md,
        // "Receipts"); anything else (invalid, forbidden) would be refused again.
        const bool transient =
            error.code == "rate_limited" || error.code == "overloaded" || error.code == "not_accepted";
        if (!transient || std::chrono::steady_clock::now() + rate_limit_pause > deadline) {
          fail(exit_code::error, doing + ": " + error.message + " (" + error.code + ")");
        }
        ctx_.note(error.code == "rate_limited" ? "rate limited; sending again in 1 s"
                                               : "server busy (" + error.code + "); sending again in 1 s");
        const auto resume = std::chrono::steady_clock::now() + rate_limit_pause;
        if (stomp.run_until([] { return false; }, resume) != client::blocking_stomp::wait_status::timeout) {
          live_.fail_closed(doing);
        }
        continue;  // same messageKey: stored once even if the first attempt got through
      }
      if (const auto id = id_header(*receipt)) return id;
      return await_echo(key, deadline);
    }
  }

  std::optional<std::int64_t> await_echo(const std::string& key, std::chrono::steady_clock::time_point deadline) {
    if (!echo_works_) {
      inbox_.drain();
      return inbox_.id_for(key);
    }
    auto& stomp = live_.stomp();
    const auto status = stomp.run_until(
        [&] {
          inbox_.drain();
          return inbox_.id_for(key).has_value();
        },
        deadline);
    if (status == client::blocking_stomp::wait_status::done) return inbox_.id_for(key);
    if (status == client::blocking_stomp::wait_status::closed) {
      live_.fail_closed("lost the connection after room " + std::to_string(room_id_) + " accepted a message");
    }
    echo_works_ = false;
    ctx_.warn("message accepted, but its id did not come back live within " + ctx_.opts.timeout +
              "; printing the messageKey only");
    return std::nullopt;
  }

  void report(const std::string& key, std::optional<std::int64_t> id, bool single) {
    auto& out = ctx_.out();
    if (out.fmt() == format::table) {
      out.line(id ? std::to_string(*id) : key);
      return;
    }
    json item{{"id", id ? json(*id) : json(nullptr)}, {"messageKey", key}, {"roomId", room_id_}};
    if (single) {
      out.document(item);
    } else if (out.fmt() == format::json) {
      out.list_item(item);
    } else {
      out.document(item);
    }
  }

  context& ctx_;
  const send_options& o_;
  std::int64_t room_id_;
  live_session live_;
  inbox inbox_;
  bool echo_works_ = true;
};

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out.push_back(' ');
    out += p;
  }
  return out;
}

// Uploads, sends the attachment message over REST, and (unless --no-wait) waits until history
// shows it.
void send_file(context& ctx, const send_options& o, const std::string& caption) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.file, ec)) fail(exit_code::usage, "--file: no such file: " + o.file);
  const auto room_id = resolve_room(ctx, o.room);
  fetch_room(ctx, room_id);  // 403/404 before uploading anything
  auto& api = ctx.api();
  auto up = client::upload_file(api, o.file);
  if (!up) fail_response(up.http, "cannot upload " + o.file, ctx.server_text());
  client::message_draft draft;
  draft.content = caption;
  draft.type = client::message_type_of(*up.value);
  draft.attachment = client::attachment_of(*up.value);
  if (!o.key.empty()) draft.message_key = chat::common::normalize_uuid(o.key);
  auto sent = client::post_message(api, room_id, draft);
  if (!sent)
    fail_response(sent.http, "cannot send " + o.file + " to room " + std::to_string(room_id), ctx.server_text());
  const auto id = sent.value->id;
  if (!o.no_wait) {
    const auto deadline = ctx.deadline();
    auto pause = 20ms;
    for (;;) {
      const auto item = client::get_message(api, room_id, id);
      if (item) break;
      if (item.http.error || item.http.status != 404) {
        fail_response(item.http, "cannot read message " + std::to_string(id), ctx.server_text());
      }
      if (std::chrono::steady_clock::now() + pause > deadline) {
        ctx.warn("message " + std::to_string(id) + " was accepted but is not in the history yet (waited " +
                 ctx.opts.timeout + ")");
        break;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(250));
    }
  }
  auto& out = ctx.out();
  if (out.fmt() == format::table) return out.line(std::to_string(id));
  out.document({{"id", id},
                {"messageKey", sent.value->message_key},
                {"roomId", room_id},
                {"type", std::string(chat::proto::to_string(draft.type))},
                {"attachment", json::parse(client::message_draft_json(draft))["attachment"]}});
}

void run_send(context& ctx, const send_options& o) {
  if (!o.file.empty()) {
    if (!o.key.empty() && !chat::common::is_uuid(o.key)) fail(exit_code::usage, "--key: expected a UUID");
    return send_file(ctx, o, join(o.text));
  }
  if (!o.key.empty()) {
    if (!chat::common::is_uuid(o.key)) fail(exit_code::usage, "--key: expected a UUID");
    if (o.text.empty()) fail(exit_code::usage, "--key needs TEXT: one key names one message");
  }
  const bool single = !o.text.empty();
  std::string text = join(o.text);
  if (single && text.empty()) fail(exit_code::usage, "TEXT is empty");
  const auto room_id = resolve_room(ctx, o.room);
  fetch_room(ctx, room_id);  // 401/403/404 as exit codes before opening a session

  sender s(ctx, o, room_id);
  s.start();
  s.begin(single);
  if (single) {
    s.send(text, true);
  } else {
    stdin_lines input(s.io());
    while (const auto line = input.next([&s](const bool& ready) { s.wait_for_input(ready); })) {
      if (line->empty()) continue;  // the server refuses empty content
      s.send(*line, false);
    }
  }
  s.finish(single);
}

}  // namespace

void add_send_command(CLI::App& app, context& ctx) {
  auto o = std::make_shared<send_options>();
  auto* sub = app.add_subcommand("send", "Send a message (or one per line of stdin) and print its id");
  sub->add_option("ROOM", o->room, "room id, or the name of one of your group rooms")->required();
  sub->add_option("TEXT", o->text, "message text (words are joined by spaces); without it, stdin is read");
  sub->add_flag(
      "--no-wait", o->no_wait,
      "do not wait for each RECEIPT (prints messageKeys; the session still ends with a confirmed DISCONNECT)");
  sub->add_option("--key", o->key, "messageKey (UUID) for an idempotent retry of one message")->type_name("UUID");
  sub->add_option("--file", o->file, "upload PATH and send it (IMAGE for image/*, else FILE); TEXT is the caption")
      ->type_name("PATH");
  sub->footer(examples({"chatctl send 42 'deploy finished'", "git log --oneline -5 | chatctl send ops",
                        "chatctl send 42 hello -o json | jq .id", "chatctl send ops --file build.log 'last night'"}));
  on_run(sub, ctx, o, run_send);
}

}  // namespace chatctl
