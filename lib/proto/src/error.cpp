#include <chat/proto/error.hpp>

namespace chat::proto {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "chat.proto"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_json: return "not valid JSON";
      case errc::not_an_object: return "not a JSON object";
      case errc::missing_field: return "a required field is missing";
      case errc::wrong_type: return "a field has the wrong type";
      case errc::out_of_range: return "a number is out of range";
      case errc::bad_length: return "a value is too short or too long";
      case errc::bad_format: return "a value has the wrong format";
      case errc::bad_characters: return "a value contains characters that are not allowed";
      case errc::not_allowed: return "a value is not allowed here";
    }
    return value == 0 ? "success" : "unknown validation error";
  }
};

}  // namespace

const std::error_category& proto_category() noexcept {
  static const category instance;
  return instance;
}

std::string_view to_string(errc e) noexcept {
  switch (e) {
    case errc::invalid_json: return "invalid_json";
    case errc::not_an_object: return "not_an_object";
    case errc::missing_field: return "missing_field";
    case errc::wrong_type: return "wrong_type";
    case errc::out_of_range: return "out_of_range";
    case errc::bad_length: return "bad_length";
    case errc::bad_format: return "bad_format";
    case errc::bad_characters: return "bad_characters";
    case errc::not_allowed: return "not_allowed";
  }
  return "unknown";
}

std::string_view validation_error::wire_code() const noexcept {
  if (code == errc::invalid_json || code == errc::not_an_object) return invalid_json_code;
  return validation_error_code;
}

}  // namespace chat::proto
