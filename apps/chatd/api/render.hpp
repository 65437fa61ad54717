#pragma once
// JSON bodies of the REST API's answers (docs/rest.md): store records mapped onto the chat::proto
// answer types, whose encoders write the bytes (the same ones lib/client parses). Pure.
#include "store/accounts.hpp"
#include "store/history.hpp"
#include "store/people.hpp"
#include "store/read_state.hpp"
#include "store/rooms.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chat::chatd::api {

// signup / login: {"token","userId","email","nickname"}
// The signup/login/refresh answer: the access token, the refresh token and how long the access
// token lives.
std::string render_session(const store::user_record& user, const std::string& token,
                           const std::string& refresh_token = {}, std::int64_t expires_in = 0);
// GET /api/users/me, PATCH /api/users/me: {"id","email","nickname","createdAt","statusMessage","avatarUrl"}
std::string render_me(const store::user_record& user);
// GET /api/users/{id}, search items, friends: {"id","nickname","statusMessage","avatarUrl","online","lastSeenAt"}
// (lastSeenAt null while online).
proto::profile profile_of(const store::person& person, bool online);
// GET /api/users?email=: {"id","nickname"}
std::string render_user_ref(const store::user_record& user);

// {"id","type","name"|null,"createdBy","createdAt","notice"|null,"pinned":[id…],
//  "members":[{"userId","nickname","role"}]}
std::string render_room(const store::room_detail& room);
// The room as above plus "added":[userId…] (POST /api/rooms/{id}/members).
std::string render_room_after_invite(const store::room_detail& room, const std::vector<store::room_member>& added);
// [{"id","type","name","memberCount","unreadCount","lastMessage":docs/events.md message|null}]
std::string render_room_list(const std::vector<store::room_summary>& rooms);
// {"messages":[docs/events.md…],"hasMore":bool,"nextCursor":id|null}: nextCursor is the last id when hasMore
std::string render_history(const store::history_page& page);
// A room event accepted by Kafka (POST/PATCH/DELETE/PUT of the message lifecycle):
// {"id","messageKey"}.
std::string render_event_accepted(std::int64_t id, const std::string& message_key);
// [history item…] (GET /api/rooms/{id}/pins).
std::string render_items(const std::vector<proto::chat_message>& items);
// {"messages":[history item…],"hasMore","nextCursor"} in the given order (thread pages,
// oldest first): nextCursor is the last id when hasMore, else null.
std::string render_page(const std::vector<proto::chat_message>& messages, bool has_more);
// {"items":[history item…],"nextCursor"} (GET /api/bookmarks): nextCursor as above.
std::string render_bookmarks(const std::vector<proto::chat_message>& items, bool has_more);
// {"unreadCount","lastReadMessageId"}
std::string render_unread(const store::unread_state& state);
// GET /api/rooms/{id}/reads: [{"userId","lastReadMessageId"}…]
std::string render_reads(const std::vector<proto::member_read>& reads);
// [1,2,3]
std::string render_ids(const std::vector<std::int64_t>& ids);
// POST /api/rooms/{id}/read: {"roomId","lastReadMessageId"}
std::string render_read_accepted(std::int64_t room_id, std::int64_t last_read_message_id);

}  // namespace chat::chatd::api
