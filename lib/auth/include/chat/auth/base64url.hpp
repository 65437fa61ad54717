#pragma once
// base64url (RFC 4648 §5) without padding, as JWS compact serialization uses it.
#include <optional>
#include <string>
#include <string_view>

namespace chat::auth {

// Encodes `bytes` with the alphabet A-Z a-z 0-9 - _ and no '=' padding.
std::string base64url_encode(std::string_view bytes);

// Decodes unpadded base64url. Returns nullopt for any character outside the alphabet
// (including '=', '+', '/', whitespace), for a length of 4n+1, and for a final character
// whose unused low bits are not zero (so every byte string has exactly one accepted
// encoding and a signature cannot be altered without changing its bytes).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace chat::auth
