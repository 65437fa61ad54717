#include <chat/client/errc.hpp>
#include <chat/client/lifecycle.hpp>
#include <chat/proto/commands.hpp>
#include <chat/proto/json.hpp>
#include <chat/proto/rest.hpp>

#include <nlohmann/json.hpp>

#include <limits>
#include <utility>

namespace chat::client {

namespace proto = chat::proto;
using json = nlohmann::json;

namespace {

constexpr std::size_t any_length = std::numeric_limits<std::size_t>::max();

std::string room_path(std::int64_t room_id) { return "/api/rooms/" + std::to_string(room_id); }

std::string message_path(std::int64_t room_id, std::int64_t message_id) {
  return room_path(room_id) + "/messages/" + std::to_string(message_id);
}

// A history item held in a parsed document: re-serialised and read by chat::proto's parser.
bool read_item(const json& j, proto::chat_message& out) {
  if (!j.is_object()) return false;
  return !proto::parse_chat_message(j.dump(-1, ' ', false, json::error_handler_t::replace), out, any_length);
}

bool read_items(const json& array, std::vector<proto::chat_message>& out) {
  if (!array.is_array()) return false;
  std::vector<proto::chat_message> items;
  items.reserve(array.size());
  for (const auto& j : array) {
    proto::chat_message m;
    if (!read_item(j, m)) return false;
    items.push_back(std::move(m));
  }
  out = std::move(items);
  return true;
}

template <class T>
result<T> typed(response r, bool (*parse)(std::string_view, T&)) {
  result<T> out;
  out.http = std::move(r);
  if (!out.http.ok()) return out;
  T value{};
  if (!parse(out.http.body, value)) {
    out.http.error = errc::bad_response;
    return out;
  }
  out.value = std::move(value);
  return out;
}

bool parse_single_item(std::string_view body, proto::chat_message& out) {
  return !proto::parse_chat_message(body, out, any_length);
}

bool parse_page(std::string_view body, proto::history_page& out) { return !proto::parse_history_page(body, out); }

}  // namespace

std::string message_draft_json(const message_draft& draft) {
  // The /app/chat.send body without roomId (the path names the room).
  proto::send_request r;
  r.content = draft.content;
  r.type = draft.type;
  r.message_key = draft.message_key;
  r.reply_to_id = draft.reply_to_id;
  r.attachment = draft.attachment;
  std::string with_room = proto::to_json(r);  // {"roomId":0,"content":…}
  const auto comma = with_room.find(',');
  return "{" + with_room.substr(comma + 1);
}

std::string forward_json(std::int64_t from_room_id, std::int64_t message_id,
                         const std::optional<std::string>& message_key) {
  std::string out = R"({"forwardOf":{"roomId":)";
  proto::append_json_int(from_room_id, out);
  out += R"(,"messageId":)";
  proto::append_json_int(message_id, out);
  out += '}';
  if (message_key) {
    out += R"(,"messageKey":)";
    proto::append_json_string(*message_key, out);
  }
  out += '}';
  return out;
}

bool parse_posted_message(std::string_view body, posted_message& out) {
  const auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) return false;
  const auto id = j.find("id");
  const auto key = j.find("messageKey");
  if (id == j.end() || !id->is_number_integer() || id->get<std::int64_t>() < 0) return false;
  if (key == j.end() || !key->is_string()) return false;
  out.id = id->get<std::int64_t>();
  out.message_key = key->get<std::string>();
  return true;
}

bool parse_bookmark_page(std::string_view body, bookmark_page& out) {
  const auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) return false;
  const auto items = j.find("items");
  if (items == j.end()) return false;
  bookmark_page page;
  if (!read_items(*items, page.items)) return false;
  if (const auto c = j.find("nextCursor"); c != j.end() && !c->is_null()) {
    if (!c->is_number_integer()) return false;
    page.next_cursor = c->get<std::int64_t>();
  }
  out = std::move(page);
  return true;
}

bool parse_message_list(std::string_view body, std::vector<proto::chat_message>& out) {
  return read_items(json::parse(body, nullptr, false), out);
}

std::string percent_encode_segment(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

result<posted_message> post_message(rest_client& api, std::int64_t room_id, const message_draft& draft) {
  auto r = typed(api.request(http_method::post, room_path(room_id) + "/messages", message_draft_json(draft)),
                 parse_posted_message);
  if (r.value) r.value->created = r.http.status == 201;
  return r;
}

result<posted_message> forward_message(rest_client& api, std::int64_t to_room_id, std::int64_t from_room_id,
                                       std::int64_t message_id, const std::optional<std::string>& message_key) {
  auto r = typed(api.request(http_method::post, room_path(to_room_id) + "/messages",
                             forward_json(from_room_id, message_id, message_key)),
                 parse_posted_message);
  if (r.value) r.value->created = r.http.status == 201;
  return r;
}

response edit_message(rest_client& api, std::int64_t room_id, std::int64_t message_id, std::string_view content) {
  std::string body = R"({"content":)";
  proto::append_json_string(content, body);
  body += '}';
  return api.request(http_method::patch, message_path(room_id, message_id), body);
}

response delete_message(rest_client& api, std::int64_t room_id, std::int64_t message_id, bool for_me) {
  return api.request(http_method::delete_, message_path(room_id, message_id) + (for_me ? "?for=me" : ""));
}

response set_reaction(rest_client& api, std::int64_t room_id, std::int64_t message_id, std::string_view emoji,
                      bool add) {
  return api.request(add ? http_method::put : http_method::delete_,
                     message_path(room_id, message_id) + "/reactions/" + percent_encode_segment(emoji));
}

response set_pin(rest_client& api, std::int64_t room_id, std::int64_t message_id, bool pin) {
  return api.request(pin ? http_method::put : http_method::delete_,
                     room_path(room_id) + "/pins/" + std::to_string(message_id));
}

result<std::vector<proto::chat_message>> pinned_messages(rest_client& api, std::int64_t room_id) {
  return typed(api.request(http_method::get, room_path(room_id) + "/pins"), parse_message_list);
}

result<proto::chat_message> get_message(rest_client& api, std::int64_t room_id, std::int64_t message_id) {
  return typed(api.request(http_method::get, message_path(room_id, message_id)), parse_single_item);
}

result<proto::history_page> thread_page(rest_client& api, std::int64_t room_id, std::int64_t root_id,
                                        std::optional<std::int64_t> cursor, int size) {
  std::string target = message_path(room_id, root_id) + "/thread?size=" + std::to_string(size);
  if (cursor) target += "&cursor=" + std::to_string(*cursor);
  return typed(api.request(http_method::get, target), parse_page);
}

response set_bookmark(rest_client& api, std::int64_t message_id, bool add) {
  return api.request(add ? http_method::put : http_method::delete_, "/api/bookmarks/" + std::to_string(message_id));
}

result<bookmark_page> bookmarks(rest_client& api, std::optional<std::int64_t> cursor, int size) {
  std::string target = "/api/bookmarks?size=" + std::to_string(size);
  if (cursor) target += "&cursor=" + std::to_string(*cursor);
  return typed(api.request(http_method::get, target), parse_bookmark_page);
}

}  // namespace chat::client
