#pragma once
// Validation results of every parser in chat::proto. Parsers return a validation_error (empty
// on success) and fill an out-parameter only on success; they never throw on bad input.
//
//   chat::proto::send_request request;
//   if (auto error = chat::proto::parse_send_request(body, request)) {
//     reply(400, chat::proto::error_body(error.wire_code(), error.message));
//   }
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace chat::proto {

enum class errc {
  // 0 is success, as for every std::error_code.
  invalid_json = 1,  // not JSON (syntax error, truncated, invalid UTF-8 inside a string)
  not_an_object,     // JSON, but not an object where one is required (e.g. an array body)
  missing_field,     // a required member is absent
  wrong_type,        // a member has the wrong JSON type (number for string, float for id, …)
  out_of_range,      // a number outside its allowed range (ids must be positive, …)
  bad_length,        // a string or array with too few or too many code points or elements
  bad_format,        // not an email address, UUID, timestamp or known enum value
  bad_characters,    // control characters where none are allowed, invalid UTF-8
  not_allowed,       // well-formed, but not something a client may send (type SYSTEM)
};

const std::error_category& proto_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), proto_category()}; }

// Stable name of an errc value ("wrong_type"), e.g. for the dlt-exception-class header.
std::string_view to_string(errc e) noexcept;

// Error codes of docs/rest.md error bodies that this module's failures map to (HTTP 400 both).
inline constexpr std::string_view invalid_json_code = "invalid_json";
inline constexpr std::string_view validation_error_code = "validation_error";

struct validation_error {
  std::error_code code;  // a chat::proto::errc; empty on success
  std::string field;     // JSON name of the offending member ("roomId", "memberIds[2]"), or
                         // empty when the body as a whole is at fault
  std::string message;   // one sentence for humans, safe to send back to the peer

  explicit operator bool() const noexcept { return static_cast<bool>(code); }

  // invalid_json_code when the body was not a JSON object, validation_error_code otherwise.
  std::string_view wire_code() const noexcept;
};

}  // namespace chat::proto

template <>
struct std::is_error_code_enum<chat::proto::errc> : std::true_type {};
