#include "api/query.hpp"

#include <chat/common/utf8.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/people.hpp>

#include <charconv>

namespace chat::chatd::api {
namespace {

proto::validation_error make_error(proto::errc code, std::string field, std::string message) {
  return {make_error_code(code), std::move(field), std::move(message)};
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Non-negative decimal without sign, leading zeros or anything else.
std::optional<std::int64_t> parse_non_negative(std::string_view text) noexcept {
  if (text == "0") return 0;
  return proto::parse_positive_id(text);
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;  // needs two more characters
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

proto::validation_error query_param(std::string_view target, std::string_view name, std::optional<std::string>& out) {
  out.reset();
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  if (const auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto raw_key = pair.substr(0, eq);
    const auto key = percent_decode(raw_key);
    if (!key || *key != name) continue;
    const auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!value) {
      return make_error(proto::errc::bad_format, std::string(name),
                        std::string(name) + " is not correctly percent-encoded");
    }
    out = std::move(*value);
    return {};
  }
  return {};
}

proto::validation_error parse_room_id(std::string_view segment, std::int64_t& out) {
  const auto id = proto::parse_positive_id(segment);
  if (!id) return make_error(proto::errc::bad_format, "id", "the room id must be a positive integer");
  out = *id;
  return {};
}

proto::validation_error parse_user_id(std::string_view segment, std::int64_t& out) {
  const auto id = proto::parse_positive_id(segment);
  if (!id) return make_error(proto::errc::bad_format, "userId", "the user id must be a positive integer");
  out = *id;
  return {};
}

proto::validation_error parse_history_query(std::string_view target, history_query& out) {
  history_query result;
  std::optional<std::string> cursor;
  if (auto error = query_param(target, "cursor", cursor)) return error;
  if (cursor && !cursor->empty()) {
    const auto id = parse_non_negative(*cursor);
    if (!id) return make_error(proto::errc::bad_format, "cursor", "cursor must be a message id");
    result.before = *id;
  }
  if (auto error = parse_page_size(target, result.size)) return error;
  out = result;
  return {};
}

proto::validation_error parse_page_size(std::string_view target, int& size) {
  std::optional<std::string> text;
  if (auto error = query_param(target, "size", text)) return error;
  if (!text || text->empty()) return {};
  int value = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc{} || ptr != end || (*text)[0] == '+') {
    return make_error(proto::errc::wrong_type, "size", "size must be an integer from 1 to 100");
  }
  if (value < 1 || value > max_page_size) {
    return make_error(proto::errc::out_of_range, "size", "size must be an integer from 1 to 100");
  }
  size = value;
  return {};
}

proto::validation_error parse_user_search_query(std::string_view target, user_search_query& out) {
  user_search_query result;
  result.limit = proto::default_search_limit;
  std::optional<std::string> q;
  if (auto error = query_param(target, "q", q)) return error;
  if (!q) return make_error(proto::errc::missing_field, "q", "query parameter q is required");
  std::string_view text = *q;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  const std::string bounds = "q must be " + std::to_string(proto::min_search_code_points) + " to " +
                             std::to_string(proto::max_search_code_points) + " characters";
  // At most 4 bytes a code point: anything longer is refused before it is looked at.
  if (text.size() > 4 * proto::max_search_code_points) return make_error(proto::errc::bad_length, "q", bounds);
  const auto length = common::utf8_length(text);
  if (!length) return make_error(proto::errc::bad_characters, "q", "q must be valid UTF-8");
  if (*length < proto::min_search_code_points || *length > proto::max_search_code_points) {
    return make_error(proto::errc::bad_length, "q", bounds);
  }
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F)
      return make_error(proto::errc::bad_characters, "q", "q must not contain control characters");
  }
  result.q = std::string(text);

  std::optional<std::string> limit;
  if (auto error = query_param(target, "limit", limit)) return error;
  if (limit && !limit->empty()) {
    const auto n = proto::parse_positive_id(*limit);
    if (!n || *n > proto::max_search_limit) {
      return make_error(proto::errc::out_of_range, "limit",
                        "limit must be an integer from 1 to " + std::to_string(proto::max_search_limit));
    }
    result.limit = static_cast<int>(*n);
  }
  out = std::move(result);
  return {};
}

proto::validation_error parse_request_direction(std::string_view target, bool& incoming) {
  std::optional<std::string> direction;
  if (auto error = query_param(target, "direction", direction)) return error;
  if (!direction || direction->empty() || *direction == "incoming") {
    incoming = true;
  } else if (*direction == "outgoing") {
    incoming = false;
  } else {
    return make_error(proto::errc::bad_format, "direction", "direction must be incoming or outgoing");
  }
  return {};
}

}  // namespace chat::chatd::api
