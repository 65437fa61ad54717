#include <chat/stomp/errc.hpp>

#include <string>

namespace chat::stomp {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "chat.stomp"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::frame_too_large: return "frame too large";
      case errc::too_many_headers: return "too many headers";
      case errc::header_line_too_long: return "header line too long";
      case errc::unknown_command: return "unknown command";
      case errc::malformed_header: return "malformed header (expected name, colon, value)";
      case errc::bad_escape: return "invalid escape sequence in header";
      case errc::bad_utf8: return "command or header is not valid UTF-8";
      case errc::bad_content_length: return "invalid content-length";
      case errc::missing_nul: return "frame not terminated by NUL after content-length octets";
      case errc::bad_line_ending: return "malformed frame (CR not followed by LF)";
      case errc::unexpected_nul: return "malformed frame (NUL in command or headers)";
    }
    return "unknown STOMP error";
  }
};

}  // namespace

const std::error_category& stomp_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), stomp_category()}; }

}  // namespace chat::stomp
