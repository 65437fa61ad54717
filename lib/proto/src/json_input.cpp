#include "json_input.hpp"

#include <chat/common/time.hpp>
#include <chat/common/utf8.hpp>
#include <chat/common/uuid.hpp>

#include <algorithm>
#include <limits>
#include <unordered_set>

namespace chat::proto::detail {
namespace {

enum class int_status { ok, not_integer, too_large };

int_status to_int64(const json& value, std::int64_t& out) noexcept {
  if (!value.is_number_integer()) return int_status::not_integer;  // bool is not a number here
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return int_status::too_large;
    }
    out = static_cast<std::int64_t>(u);
  } else {
    out = value.get<std::int64_t>();
  }
  return int_status::ok;
}

std::string range_message(std::string_view name, std::int64_t min) {
  std::string message(name);
  if (min == 1) {
    message += " must be a positive integer";
  } else if (min == 0) {
    message += " must be zero or a positive integer";
  } else {
    message += " must be at least " + std::to_string(min);
  }
  return message;
}

}  // namespace

validation_error make_error(errc code, std::string_view field, std::string message) {
  return {make_error_code(code), std::string(field), std::move(message)};
}

validation_error parse_value(std::string_view text, json& out) {
  json parsed = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return make_error(errc::invalid_json, {}, "body is not valid JSON");
  out = std::move(parsed);
  return {};
}

validation_error parse_object(std::string_view text, json& out) {
  json parsed;
  if (auto error = parse_value(text, parsed)) return error;
  if (!parsed.is_object()) return make_error(errc::not_an_object, {}, "body must be a JSON object");
  out = std::move(parsed);
  return {};
}

const json* find_member(const json& object, const char* name, bool null_is_absent) {
  const auto it = object.find(name);
  if (it == object.end()) return nullptr;
  if (null_is_absent && it->is_null()) return nullptr;
  return &*it;
}

validation_error read_int64(const json& object, const char* name, std::int64_t min, std::int64_t& out) {
  const json* value = find_member(object, name);
  if (value == nullptr) return make_error(errc::missing_field, name, std::string(name) + " is required");
  std::int64_t parsed = 0;
  switch (to_int64(*value, parsed)) {
    case int_status::ok: break;
    case int_status::not_integer: return make_error(errc::wrong_type, name, std::string(name) + " must be an integer");
    case int_status::too_large: return make_error(errc::out_of_range, name, std::string(name) + " is too large");
  }
  if (parsed < min) return make_error(errc::out_of_range, name, range_message(name, min));
  out = parsed;
  return {};
}

validation_error read_string(const json& object, const char* name, const std::string*& out) {
  const json* value = find_member(object, name);
  if (value == nullptr) return make_error(errc::missing_field, name, std::string(name) + " is required");
  if (!value->is_string()) return make_error(errc::wrong_type, name, std::string(name) + " must be a string");
  out = &value->get_ref<const std::string&>();
  return {};
}

validation_error read_optional_string(const json& object, const char* name, const std::string*& out) {
  out = nullptr;
  const json* value = find_member(object, name, /*null_is_absent=*/true);
  if (value == nullptr) return {};
  if (!value->is_string()) return make_error(errc::wrong_type, name, std::string(name) + " must be a string");
  out = &value->get_ref<const std::string&>();
  return {};
}

validation_error read_timestamp(const json& object, const char* name, std::int64_t& out_ms) {
  const std::string* text = nullptr;
  if (auto error = read_string(object, name, text)) return error;
  const auto ms = common::parse_iso8601_ms(*text);
  if (!ms) {
    return make_error(errc::bad_format, name,
                      std::string(name) + " must be an ISO-8601 timestamp like 2026-11-21T12:00:00.123Z");
  }
  out_ms = *ms;
  return {};
}

validation_error check_uuid(const std::string& value, const char* name, std::string& out) {
  if (!common::is_uuid(value)) return make_error(errc::bad_format, name, std::string(name) + " must be a UUID");
  out = common::normalize_uuid(value);
  return {};
}

validation_error read_id_array(const json& value, const char* name, std::size_t max_count,
                               std::vector<std::int64_t>& out) {
  if (!value.is_array()) return make_error(errc::wrong_type, name, std::string(name) + " must be an array");
  if (value.size() > max_count) {
    return make_error(errc::bad_length, name,
                      std::string(name) + " must not hold more than " + std::to_string(max_count) + " ids");
  }
  std::vector<std::int64_t> ids;
  ids.reserve(value.size());
  std::unordered_set<std::int64_t> seen;
  seen.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    std::int64_t id = 0;
    const int_status status = to_int64(value[i], id);
    if (status != int_status::ok || id < 1) {
      const std::string element = std::string(name) + "[" + std::to_string(i) + "]";
      return make_error(status == int_status::not_integer ? errc::wrong_type : errc::out_of_range, element,
                        std::string(name) + " must contain only positive integer ids");
    }
    if (seen.insert(id).second) ids.push_back(id);
  }
  out = std::move(ids);
  return {};
}

validation_error read_optional_int64(const json& object, const char* name, std::int64_t min, std::int64_t& out) {
  if (find_member(object, name, /*null_is_absent=*/true) == nullptr) return {};
  return read_int64(object, name, min, out);
}

validation_error read_bool(const json& object, const char* name, bool& out) {
  const json* value = find_member(object, name);
  if (value == nullptr) return make_error(errc::missing_field, name, std::string(name) + " is required");
  if (!value->is_boolean()) return make_error(errc::wrong_type, name, std::string(name) + " must be true or false");
  out = value->get<bool>();
  return {};
}

validation_error read_nullable_string(const json& object, const char* name, std::optional<std::string>& out) {
  const std::string* text = nullptr;
  if (auto error = read_optional_string(object, name, text)) return error;
  if (text == nullptr) {
    out.reset();
  } else {
    out = *text;
  }
  return {};
}

validation_error nested(validation_error error, std::string_view prefix) {
  if (error.field.empty()) {
    error.field = std::string(prefix);
  } else {
    error.field = std::string(prefix) + "." + error.field;
  }
  return error;
}

validation_error check_max_code_points(std::string_view value, const char* name, std::size_t max_code_points) {
  const auto length = common::utf8_length(value);
  if (!length) return make_error(errc::bad_characters, name, std::string(name) + " must be valid UTF-8");
  if (*length > max_code_points) {
    return make_error(errc::bad_length, name,
                      std::string(name) + " must be at most " + std::to_string(max_code_points) + " characters");
  }
  return {};
}

}  // namespace chat::proto::detail
