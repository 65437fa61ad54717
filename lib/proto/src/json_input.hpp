#pragma once
// Reading validated members out of a nlohmann::json DOM (internal to chat_proto). Every
// function reports problems as a validation_error naming the member; none throws.
#include <chat/proto/error.hpp>
#include <chat/proto/message.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto::detail {

using json = nlohmann::json;

validation_error make_error(errc code, std::string_view field, std::string message);

// Parses `text` (no exceptions); only broken JSON is an error.
validation_error parse_value(std::string_view text, json& out);

// Parses `text` (no exceptions); anything but a JSON object is an error.
validation_error parse_object(std::string_view text, json& out);

// The member `name`, or nullptr when absent. With `null_is_absent`, a JSON null also gives
// nullptr (optional members).
const json* find_member(const json& object, const char* name, bool null_is_absent = false);

// Required integer member >= `min` (floats, bools, strings and null are wrong_type).
validation_error read_int64(const json& object, const char* name, std::int64_t min, std::int64_t& out);

// Required string member; `out` points into `object`.
validation_error read_string(const json& object, const char* name, const std::string*& out);

// Optional string member: `out` is nullptr when absent or null.
validation_error read_optional_string(const json& object, const char* name, const std::string*& out);

// Required ISO-8601 timestamp member, in Unix ms.
validation_error read_timestamp(const json& object, const char* name, std::int64_t& out_ms);

// A UUID string (required or optional), stored lower case.
validation_error check_uuid(const std::string& value, const char* name, std::string& out);

// An array of positive int64 ids, at most `max_count` elements (checked before anything
// else, so a huge array costs nothing), de-duplicated keeping the first occurrence.
validation_error read_id_array(const json& value, const char* name, std::size_t max_count,
                               std::vector<std::int64_t>& out);

// Optional integer member >= `min`: absent or null leaves `out` as it is.
validation_error read_optional_int64(const json& object, const char* name, std::int64_t min, std::int64_t& out);

// Required boolean member.
validation_error read_bool(const json& object, const char* name, bool& out);

// A string member that may be null or absent (both nullopt), e.g. a DIRECT room's name.
validation_error read_nullable_string(const json& object, const char* name, std::optional<std::string>& out);

// `error` with its field placed under `prefix` ("members[2]" + "userId" →
// "members[2].userId"), for members of nested objects.
validation_error nested(validation_error error, std::string_view prefix);

// A docs/events.md message held in a JSON object (see parse_chat_message).
validation_error read_chat_message(const json& object, chat_message& out, std::size_t max_content_code_points);

// A string of at most `max_code_points` code points (valid UTF-8 is a precondition: nlohmann
// rejects anything else while parsing).
validation_error check_max_code_points(std::string_view value, const char* name, std::size_t max_code_points);

}  // namespace chat::proto::detail
