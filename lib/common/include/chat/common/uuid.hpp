#pragma once
// UUIDs as used for messageKey (docs/events.md): canonical 8-4-4-4-12 hexadecimal text.
#include <string>
#include <string_view>

namespace chat::common {

// A random (version 4, RFC 9562) UUID in lower case, e.g.
// "3b241101-e2bb-4255-8caf-4136c566a962". Thread-safe and cheap: each thread draws from its
// own buffer refilled from libsodium's randombytes_buf (the OS CSPRNG); a forked child never
// reuses its parent's buffered bytes. Meant for identifiers, not for secrets. Throws
// std::runtime_error only if libsodium cannot initialise (no OS randomness source).
std::string make_uuid_v4();

// A name-based UUID (version 8, RFC 9562) in lower case: the first 128 bits of BLAKE2b over
// `name`, with the version and variant bits set. The same name always gives the same UUID, so
// a messageKey derived from what it is about (e.g. "message.preview/<targetId>") makes the
// server's own room events idempotent across retries and nodes. Not secret: anyone who knows
// the name can compute it. Thread-safe.
std::string make_uuid_v8(std::string_view name);

// True for the canonical textual form: 36 characters, hyphens at offsets 8, 13, 18 and 23,
// hexadecimal digits (either case) everywhere else. Any version and variant is accepted;
// braces, "urn:uuid:" prefixes and hyphen-less forms are not.
bool is_uuid(std::string_view text) noexcept;

// `text` with ASCII letters lowered, so that two spellings of one UUID compare equal.
// Meant for strings that passed is_uuid(); other input is lowered just the same.
std::string normalize_uuid(std::string_view text);

}  // namespace chat::common
