// The message lifecycle of SPEC §13 (docs/rest.md "Message lifecycle"): sending and forwarding
// (POST /api/rooms/{id}/messages), edits, deletes (for everyone through Kafka, for me in
// PostgreSQL), reactions, pins, one history item, thread pages, pins and bookmarks.
//
// A room event runs: parse and validate on the I/O thread -> on a db_pool worker the
// target_context (store/targets, one query) and check_room_event (core/event_rules), then the
// event is completed (sender nickname, thread root, forward copy) and published -> the answer
// when Kafka acknowledged it, with the event's id from its position. Nothing is published for a
// refused event, and nothing but the Kafka record is written: the persistence consumer applies it.
#include "api/admission.hpp"
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/lifecycle_request.hpp"
#include "api/query.hpp"
#include "api/render.hpp"
#include "api/rest_api.hpp"
#include "core/event_rules.hpp"
#include "store/files.hpp"
#include "store/hidden_messages.hpp"
#include "store/lifecycle.hpp"
#include "store/membership.hpp"
#include "store/targets.hpp"

#include <chat/common/time.hpp>
#include <chat/common/uuid.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/ids.hpp>

namespace chat::chatd::api {
namespace {

http::response refused(const event_refusal& refusal) {
  return http::error_response(static_cast<http::status>(refusal.status), refusal.code, refusal.message);
}

// The lifecycle routes name the refusal precisely (check_room_event's codes).
http::response room_refused(store::room_access access) {
  switch (access) {
    case store::room_access::no_such_room: return refused({404, "room_not_found", "no such room"});
    case store::room_access::not_a_member: return refused({403, "not_a_member", "you are not a member of this room"});
    case store::room_access::granted: break;
  }
  return internal_error();
}

http::response message_not_found() { return refused({404, "message_not_found", "no such message in this room"}); }

// Kafka did not take the record: overloaded (not stored) or no acknowledgement (maybe stored).
http::response not_published(const publish_result& result) {
  if (result.overloaded) return unavailable("server overloaded, try again");
  auto res = http::error_response(http::status::service_unavailable, "not_accepted",
                                  "the message log did not accept the event; it may still be stored: retry "
                                  "with the same messageKey");
  res.set(http::bhttp::field::retry_after, "1");
  return res;
}

// What a room event costs the admission gate besides its content: its JSON members and headers.
constexpr std::size_t approximate_record_bytes = 512;

http::response no_content() {
  http::response res{http::status::no_content, 11};
  return res;
}

}  // namespace

void rest_api::publish_event(std::string_view route, proto::chat_message event, std::optional<forward_ref> forward,
                             http::responder respond) {
  const bool client_key = !event.message_key.empty();
  if (!client_key) event.message_key = common::make_uuid_v4();
  // A slot of the node's admission gate (the one STOMP SENDs take) before any work: refused at
  // once when full (503). Held until the log answers; an answer before publishing (a refusal, a
  // retried key) drops the last copy, which frees it.
  admission_slot slot;
  if (gate_ != nullptr) {
    auto admitted = admit_or_503(*gate_, approximate_record_bytes + event.content.size(), respond);
    if (!admitted) return;
    slot = std::move(*admitted);
  }
  run_db_job_deferred(
      pool_, route, respond,
      [this, route, event = std::move(event), forward, client_key, slot = std::move(slot)](
          store::session& db, store::db_context&, http::responder& reply) mutable -> deferred_job_result {
        const bool is_message = event.event == proto::event_kind::message;
        // The same messageKey again: the id it got the first time (this node's memory of what
        // Kafka acknowledged, else the store). A key of another room or sender is refused.
        if (is_message && client_key) {
          std::optional<chatd::key_entry> seen = keys_->find(event.message_key);
          if (!seen) {
            auto stored = store::find_message_by_key(db, event.message_key);
            if (!stored) return failed(stored);
            if (*stored) seen = chatd::key_entry{(*stored)->id, (*stored)->room_id, (*stored)->sender_id};
          }
          if (seen) {
            if (seen->room_id != event.room_id || seen->sender_id != event.sender_id) {
              return http::error_response(http::status::conflict, "conflict",
                                          "this messageKey already names another message");
            }
            return http::json_response(http::status::ok, render_event_accepted(seen->id, event.message_key));
          }
        }
        const std::int64_t target = is_message ? event.reply_to_id : event.target_id;
        auto context = store::load_target_context(db, event.room_id, event.sender_id, target, recent_messages_,
                                                  store::pending_target_wait);
        if (!context) return failed(context);
        if (auto refusal = check_room_event(event, *context, common::now_unix_ms(), edit_window_)) {
          return refused(*refusal);
        }
        if (is_message && event.reply_to_id > 0) event.thread_root_id = thread_root_of(*context->target);
        if (forward) {
          auto source = store::load_forward_source(db, forward->room_id, forward->message_id, event.sender_id);
          if (!source) return failed(source);
          if (!*source) return refused({404, "message_not_found", "no such message to forward"});
          event.type = (*source)->type;
          event.content = std::move((*source)->content);
          event.attachment = std::move((*source)->attachment);
          event.forwarded_from =
              proto::forward_origin{forward->room_id, forward->message_id, std::move((*source)->sender_nickname)};
        }
        // An uploaded file (/api/files/{id}) may be attached by its uploader or by someone who
        // can read it already; its name, size, type and dimensions come from the upload.
        if (event.attachment && !forward) {
          if (const auto file_id = proto::attachment_file_id(event.attachment->url)) {
            auto file = store::look_up_file(db, *file_id, event.sender_id);
            if (!file) return failed(file);
            if (file->access == store::file_access::no_such_file) {
              return refused({404, "file_not_found", "no such file"});
            }
            if (file->access != store::file_access::granted) {
              return refused({403, "not_allowed", "you may not share this file"});
            }
            auto& a = *event.attachment;
            a.name = file->meta.name;
            a.size = file->meta.size;
            a.mime_type = file->meta.mime_type;
            a.width = file->meta.width;
            a.height = file->meta.height;
          }
        }
        auto nickname = store::nickname_of(db, event.sender_id);
        if (!nickname) return failed(nickname);
        if (!*nickname) return http::error_response(http::status::unauthorized, "unauthorized", "no such user");
        event.sender_nickname = std::move(**nickname);
        event.created_at_ms = common::now_unix_ms();

        const auto status = is_message ? http::status::created : http::status::accepted;
        log_.publish_message(event, [reply = std::move(reply), keys = keys_, route, status,
                                     claim = is_message && client_key, key = event.message_key, room = event.room_id,
                                     sender = event.sender_id, slot](const publish_result& result) mutable {
          slot.release();  // the log answered
          if (!result.ok) {
            if (!result.overloaded) {
              log::warn("room event not published",
                        {{"route", route}, {"room", room}, {"user", sender}, {"error", result.error}});
            }
            reply(not_published(result));
            return;
          }
          const std::int64_t id = proto::make_message_id(result.partition, result.offset);
          if (!claim) return reply(http::json_response(status, render_event_accepted(id, key)));
          // A client-supplied key: the id it got first, on whichever node (a retry's own
          // record is a duplicate nobody will show).
          const chatd::key_entry mine{id, room, sender};
          keys->claim(key, mine, [reply = std::move(reply), mine, key, status](chatd::key_entry first) mutable {
            if (first.room_id != mine.room_id || first.sender_id != mine.sender_id) {
              return reply(http::error_response(http::status::conflict, "conflict",
                                                "this messageKey already names another message"));
            }
            // The first time: 201; a retry: 200 with the same id (docs/rest.md).
            reply(http::json_response(first == mine ? status : http::status::ok, render_event_accepted(first.id, key)));
          });
        });
        return std::optional<http::response>();
      });
}

void rest_api::post_message(const http::request& req, const http::path_params& params, const caller& who,
                            http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  post_message_body body;
  if (auto error = parse_post_message_body(req.body(), room_id, body, max_content_chars_)) {
    return respond(bad_request(error));
  }
  proto::chat_message event;
  event.room_id = room_id;
  event.sender_id = who.user_id;
  event.message_key = body.send.message_key.value_or("");
  event.content = std::move(body.send.content);
  event.type = body.send.type;
  event.reply_to_id = body.send.reply_to_id;
  event.attachment = std::move(body.send.attachment);
  publish_event("POST /api/rooms/{id}/messages", std::move(event), body.forward, std::move(respond));
}

void rest_api::edit_message(const http::request& req, const http::path_params& params, const caller& who,
                            http::responder respond) {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  if (auto error = parse_message_id(params.get("mid"), message_id)) return respond(bad_request(error));
  proto::edit_request body;
  if (auto error = parse_edit_body(req.body(), room_id, message_id, body, max_content_chars_)) {
    return respond(bad_request(error));
  }
  proto::chat_message event;
  event.event = proto::event_kind::edited;
  event.room_id = room_id;
  event.sender_id = who.user_id;
  event.target_id = message_id;
  event.content = std::move(body.content);
  publish_event("PATCH /api/rooms/{id}/messages/{mid}", std::move(event), std::nullopt, std::move(respond));
}

void rest_api::delete_message(const http::request& req, const http::path_params& params, const caller& who,
                              http::responder respond) {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;
  bool for_me = false;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  if (auto error = parse_message_id(params.get("mid"), message_id)) return respond(bad_request(error));
  if (auto error = parse_delete_for_me(req.target(), for_me)) return respond(bad_request(error));
  if (!for_me) {
    proto::chat_message event;
    event.event = proto::event_kind::deleted;
    event.room_id = room_id;
    event.sender_id = who.user_id;
    event.target_id = message_id;
    publish_event("DELETE /api/rooms/{id}/messages/{mid}", std::move(event), std::nullopt, std::move(respond));
    return;
  }
  // Delete-for-me: the caller's own state, no room event (nothing reaches Kafka); the caller's
  // sessions on every node are told live (message.hidden on /user/queue/notifications).
  run_db_job(pool_, "DELETE /api/rooms/{id}/messages/{mid}?for=me", respond,
             [room_id, message_id, caller = who.user_id](store::session& db, store::db_context& ctx) -> job_result {
               // The hidden row points at the stored message: wait (≤500 ms) for a newer one.
               auto context =
                   store::load_target_context(db, room_id, caller, message_id, nullptr, store::pending_row_wait);
               if (!context) return failed(context);
               if (!context->room_exists) return room_refused(store::room_access::no_such_room);
               if (!context->member) return room_refused(store::room_access::not_a_member);
               if (!context->target) return message_not_found();
               auto hidden = store::hide_message(db, caller, room_id, message_id);
               if (!hidden) return failed(hidden);
               // Told even when it was hidden before: a retry after a lost notice tells again.
               if (!store::publish_message_hidden(ctx.redis, caller, room_id, message_id)) {
                 log::warn("message.hidden not published", {{"room", room_id}, {"user", caller}});
               }
               return no_content();
             });
}

void rest_api::react(const http::request& req, const http::path_params& params, const caller& who,
                     http::responder respond) {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;
  std::string emoji;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  if (auto error = parse_message_id(params.get("mid"), message_id)) return respond(bad_request(error));
  if (auto error = parse_emoji_segment(params.get("emoji"), emoji)) return respond(bad_request(error));
  proto::chat_message event;
  event.event =
      req.method() == http::verb::delete_ ? proto::event_kind::reaction_removed : proto::event_kind::reaction_added;
  event.room_id = room_id;
  event.sender_id = who.user_id;
  event.target_id = message_id;
  event.emoji = std::move(emoji);
  publish_event(event.event == proto::event_kind::reaction_added
                    ? "PUT /api/rooms/{id}/messages/{mid}/reactions/{emoji}"
                    : "DELETE /api/rooms/{id}/messages/{mid}/reactions/{emoji}",
                std::move(event), std::nullopt, std::move(respond));
}

void rest_api::pin(const http::request& req, const http::path_params& params, const caller& who,
                   http::responder respond) {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  if (auto error = parse_message_id(params.get("mid"), message_id)) return respond(bad_request(error));
  proto::chat_message event;
  const bool unpin = req.method() == http::verb::delete_;
  event.event = unpin ? proto::event_kind::unpinned : proto::event_kind::pinned;
  event.room_id = room_id;
  event.sender_id = who.user_id;
  event.target_id = message_id;
  publish_event(unpin ? "DELETE /api/rooms/{id}/pins/{mid}" : "PUT /api/rooms/{id}/pins/{mid}", std::move(event),
                std::nullopt, std::move(respond));
}

void rest_api::list_pins(const http::request&, const http::path_params& params, const caller& who,
                         http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/rooms/{id}/pins", respond,
             [room_id, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto pins = store::load_pins(db, room_id, caller);
               if (!pins) return failed(pins);
               if (pins->access != store::room_access::granted) return room_refused(pins->access);
               return http::json_response(http::status::ok, render_items(pins->messages));
             });
}

void rest_api::get_message(const http::request&, const http::path_params& params, const caller& who,
                           http::responder respond) {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  if (auto error = parse_message_id(params.get("mid"), message_id)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/rooms/{id}/messages/{mid}", respond,
             [room_id, message_id, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto found = store::load_history_item(db, room_id, caller, message_id);
               if (!found) return failed(found);
               if (found->access != store::room_access::granted) return room_refused(found->access);
               if (!found->item) return message_not_found();
               return http::json_response(http::status::ok, proto::to_json(*found->item));
             });
}

void rest_api::thread(const http::request& req, const http::path_params& params, const caller& who,
                      http::responder respond) {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;
  forward_page_query query;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  if (auto error = parse_message_id(params.get("mid"), message_id)) return respond(bad_request(error));
  if (auto error = parse_forward_page_query(req.target(), query)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/rooms/{id}/messages/{mid}/thread", respond,
             [room_id, message_id, query, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto page = store::load_thread(db, room_id, caller, message_id, query.after, query.size);
               if (!page) return failed(page);
               if (page->access != store::room_access::granted) return room_refused(page->access);
               if (!page->found) return message_not_found();
               return http::json_response(http::status::ok, render_page(page->messages, page->has_more));
             });
}

void rest_api::put_bookmark(const http::request&, const http::path_params& params, const caller& who,
                            http::responder respond) {
  std::int64_t message_id = 0;
  if (auto error = parse_message_id(params.get("messageId"), message_id)) return respond(bad_request(error));
  run_db_job(pool_, "PUT /api/bookmarks/{messageId}", respond,
             [message_id, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto added = store::add_bookmark(db, caller, message_id);
               if (!added) return failed(added);
               if (!*added) return refused({404, "message_not_found", "no such message in a room of yours"});
               return no_content();
             });
}

void rest_api::delete_bookmark(const http::request&, const http::path_params& params, const caller& who,
                               http::responder respond) {
  std::int64_t message_id = 0;
  if (auto error = parse_message_id(params.get("messageId"), message_id)) return respond(bad_request(error));
  run_db_job(pool_, "DELETE /api/bookmarks/{messageId}", respond,
             [message_id, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto removed = store::remove_bookmark(db, caller, message_id);
               if (!removed) return failed(removed);
               return no_content();
             });
}

void rest_api::list_bookmarks(const http::request& req, const http::path_params&, const caller& who,
                              http::responder respond) {
  history_query query;
  if (auto error = parse_history_query(req.target(), query)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/bookmarks", respond,
             [query, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto page = store::load_bookmarks(db, caller, query.before, query.size);
               if (!page) return failed(page);
               return http::json_response(http::status::ok, render_bookmarks(page->items, page->has_more));
             });
}

}  // namespace chat::chatd::api
