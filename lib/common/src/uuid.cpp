#include <chat/common/uuid.hpp>

#include <pthread.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace chat::common {
namespace {

// Bumped in a forked child so that every thread-local pool is refilled there: without it the
// child would hand out the same UUIDs as its parent.
std::atomic<std::uint64_t> fork_generation{1};

void on_fork_child() noexcept { fork_generation.fetch_add(1, std::memory_order_relaxed); }

void init_once() {
  static const bool ready = [] {
    // sodium_init() seeds the randombytes implementation under its own lock; it is idempotent.
    if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
    pthread_atfork(nullptr, nullptr, on_fork_child);
    return true;
  }();
  (void)ready;
}

struct random_pool {
  static constexpr std::size_t size = 1024;  // 64 UUIDs per refill (one getrandom call)
  std::array<unsigned char, size> bytes{};
  std::size_t used = size;
  std::uint64_t generation = 0;

  void take(unsigned char* out, std::size_t n) {
    const std::uint64_t current = fork_generation.load(std::memory_order_relaxed);
    if (used + n > size || generation != current) {
      init_once();
      randombytes_buf(bytes.data(), size);
      used = 0;
      generation = current;
    }
    std::memcpy(out, bytes.data() + used, n);
    used += n;
  }
};

thread_local random_pool pool;

constexpr char hex_digits[] = "0123456789abcdef";

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The canonical text of 16 bytes, with `version` and the RFC 9562 variant set.
std::string uuid_text(std::array<unsigned char, 16> b, unsigned version) {
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | (version << 4));
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // variant 10xx (RFC 9562)
  std::string out(36, '-');
  std::size_t pos = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;  // skip the hyphen
    out[pos++] = hex_digits[b[i] >> 4];
    out[pos++] = hex_digits[b[i] & 0x0F];
  }
  return out;
}

}  // namespace

std::string make_uuid_v4() {
  std::array<unsigned char, 16> b;
  pool.take(b.data(), b.size());
  return uuid_text(b, 4);
}

std::string make_uuid_v8(std::string_view name) {
  init_once();
  std::array<unsigned char, 16> b;
  crypto_generichash(b.data(), b.size(), reinterpret_cast<const unsigned char*>(name.data()), name.size(), nullptr, 0);
  return uuid_text(b, 8);
}

bool is_uuid(std::string_view text) noexcept {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!is_hex(text[i])) {
      return false;
    }
  }
  return true;
}

std::string normalize_uuid(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace chat::common
