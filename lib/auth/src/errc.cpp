#include <chat/auth/errc.hpp>

#include <string>

namespace chat::auth {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "chat.auth"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::malformed: return "malformed token";
      case errc::bad_algorithm: return "unsupported token algorithm";
      case errc::bad_signature: return "bad token signature";
      case errc::expired: return "token expired";
      case errc::not_yet_valid: return "token not yet valid";
    }
    return value == 0 ? "success" : "unknown auth error";
  }
};

}  // namespace

const std::error_category& auth_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace chat::auth
