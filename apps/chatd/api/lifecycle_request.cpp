#include "api/lifecycle_request.hpp"

#include "api/query.hpp"

#include <chat/proto/ids.hpp>
#include <chat/proto/message.hpp>

#include <nlohmann/json.hpp>

#include <charconv>

namespace chat::chatd::api {
namespace {

using json = nlohmann::json;

proto::validation_error request_error(proto::errc code, std::string field, std::string message) {
  return {make_error_code(code), std::move(field), std::move(message)};
}

// The body as a JSON object, or the error proto's parsers give for anything else.
proto::validation_error parse_object(std::string_view body, json& out) {
  out = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return request_error(proto::errc::invalid_json, {}, "body is not valid JSON");
  if (!out.is_object()) return request_error(proto::errc::not_an_object, {}, "body must be a JSON object");
  return {};
}

// The object re-serialized for proto's parsers (nlohmann already refused invalid UTF-8).
std::string dump(const json& doc) { return doc.dump(-1, ' ', false, json::error_handler_t::replace); }

bool present(const json& doc, const char* name) {
  const auto it = doc.find(name);
  return it != doc.end() && !it->is_null();
}

proto::validation_error read_positive(const json& object, const char* name, const std::string& field,
                                      std::int64_t& out) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null())
    return request_error(proto::errc::missing_field, field, field + " is required");
  if (!it->is_number_integer()) return request_error(proto::errc::wrong_type, field, field + " must be an integer");
  const bool in_range = it->is_number_unsigned() ? it->get<std::uint64_t>() >= 1 &&
                                                       it->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)
                                                 : it->get<std::int64_t>() >= 1;
  if (!in_range) {
    return request_error(proto::errc::out_of_range, field, field + " must be a positive 64-bit integer");
  }
  out = it->get<std::int64_t>();
  return {};
}

int path_hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

proto::validation_error parse_post_message_body(std::string_view body, std::int64_t room_id, post_message_body& out,
                                                std::size_t max_content_code_points) {
  json doc;
  if (auto error = parse_object(body, doc)) return error;
  post_message_body result;
  if (const auto fwd = doc.find("forwardOf"); fwd != doc.end() && !fwd->is_null()) {
    if (!fwd->is_object())
      return request_error(proto::errc::wrong_type, "forwardOf", "forwardOf must be a JSON object");
    for (const char* name : {"content", "type", "attachment", "replyToId"}) {
      if (present(doc, name)) {
        return request_error(proto::errc::not_allowed, name,
                             std::string("a forward takes no ") + name + ": the server copies the message");
      }
    }
    forward_ref ref;
    if (auto error = read_positive(*fwd, "roomId", "forwardOf.roomId", ref.room_id)) return error;
    if (auto error = read_positive(*fwd, "messageId", "forwardOf.messageId", ref.message_id)) return error;
    // The messageKey rules of a send: parse a minimal send request carrying only the key.
    json key_only = json::object();
    key_only["roomId"] = room_id;
    key_only["content"] = "-";
    if (const auto key = doc.find("messageKey"); key != doc.end()) key_only["messageKey"] = *key;
    proto::send_request keyed;
    if (auto error = proto::parse_send_request(dump(key_only), keyed, max_content_code_points)) return error;
    result.send.room_id = room_id;
    result.send.message_key = std::move(keyed.message_key);
    result.forward = ref;
    out = std::move(result);
    return {};
  }
  doc["roomId"] = room_id;
  if (auto error = proto::parse_send_request(dump(doc), result.send, max_content_code_points)) return error;
  out = std::move(result);
  return {};
}

proto::validation_error parse_edit_body(std::string_view body, std::int64_t room_id, std::int64_t message_id,
                                        proto::edit_request& out, std::size_t max_content_code_points) {
  json doc;
  if (auto error = parse_object(body, doc)) return error;
  doc["roomId"] = room_id;
  doc["targetId"] = message_id;
  doc.erase("messageKey");  // the server makes the event's key
  return proto::parse_edit_request(dump(doc), out, max_content_code_points);
}

proto::validation_error parse_message_id(std::string_view segment, std::int64_t& out) {
  // Message id 0 is real (partition 0, offset 0): a non-negative id, canonical decimal.
  const auto id = segment == "0" ? std::optional<std::int64_t>(0) : proto::parse_positive_id(segment);
  if (!id) return request_error(proto::errc::bad_format, "messageId", "the message id must be a non-negative integer");
  out = *id;
  return {};
}

proto::validation_error parse_emoji_segment(std::string_view segment, std::string& out) {
  std::string decoded;
  decoded.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      decoded.push_back(segment[i]);
      continue;
    }
    const int hi = i + 2 < segment.size() ? path_hex_digit(segment[i + 1]) : -1;
    const int lo = i + 2 < segment.size() ? path_hex_digit(segment[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return request_error(proto::errc::bad_format, "emoji", "emoji is not correctly percent-encoded");
    decoded.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (auto error = proto::check_emoji(decoded)) return error;
  out = std::move(decoded);
  return {};
}

proto::validation_error parse_delete_for_me(std::string_view target, bool& for_me) {
  std::optional<std::string> scope;
  if (auto error = query_param(target, "for", scope)) return error;
  if (!scope || scope->empty() || *scope == "everyone") {
    for_me = false;
  } else if (*scope == "me") {
    for_me = true;
  } else {
    return request_error(proto::errc::bad_format, "for", "for must be everyone or me");
  }
  return {};
}

proto::validation_error parse_forward_page_query(std::string_view target, forward_page_query& out) {
  forward_page_query result;
  std::optional<std::string> cursor;
  if (auto error = query_param(target, "cursor", cursor)) return error;
  if (cursor && !cursor->empty()) {
    if (*cursor == "0") {
      result.after = 0;
    } else if (const auto id = proto::parse_positive_id(*cursor)) {
      result.after = *id;
    } else {
      return request_error(proto::errc::bad_format, "cursor", "cursor must be a message id");
    }
  }
  // size: the rules of history pages.
  if (auto error = parse_page_size(target, result.size)) return error;
  out = result;
  return {};
}

}  // namespace chat::chatd::api
