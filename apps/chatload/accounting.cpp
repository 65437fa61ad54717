#include "accounting.hpp"

#include <cstdio>

namespace chatload {

std::string message_key(std::uint64_t nonce, std::uint64_t g) {
  // nonce: 60 bits → digits 0-7, 9-12, 15-17 (after the version '4'), 20-22 (after variant '8')
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                static_cast<unsigned long long>((nonce >> 28) & 0xffffffffULL),
                static_cast<unsigned long long>((nonce >> 12) & 0xffffULL),
                static_cast<unsigned long long>(nonce & 0xfffULL),
                static_cast<unsigned long long>((nonce >> 60) & 0xfULL),
                static_cast<unsigned long long>(g & 0xffffffffffffULL));
  return std::string(buf, 36);
}

std::optional<std::uint64_t> parse_message_key(std::string_view key, std::uint64_t nonce) noexcept {
  if (key.size() != 36) return std::nullopt;
  const std::string expected = message_key(nonce, 0);
  if (key.substr(0, 24) != std::string_view(expected).substr(0, 24)) return std::nullopt;
  std::uint64_t g = 0;
  for (char c : key.substr(24)) {
    g <<= 4;
    if (c >= '0' && c <= '9') g |= static_cast<std::uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f') g |= static_cast<std::uint64_t>(c - 'a' + 10);
    else return std::nullopt;
  }
  return g;
}

ledger::ledger(const plan& p, std::uint64_t planned_sends)
    : plan_(p),
      planned_(planned_sends),
      counts_(planned_sends * p.members, 0),
      last_seq_(std::size_t{p.rooms} * p.members * p.members, -1),
      dup_(std::size_t{p.rooms} * p.members, 0),
      reordered_(std::size_t{p.rooms} * p.members, 0) {}

delivery ledger::deliver(std::uint64_t g, std::uint32_t rslot) noexcept {
  const std::uint32_t room = plan_.room_of(g);
  const std::size_t receiver = std::size_t{room} * plan_.members + rslot;
  auto& c = counts_[g * plan_.members + rslot];
  if (c != 0) {
    if (c != 255) ++c;
    ++dup_[receiver];
    return delivery::duplicate;
  }
  c = 1;
  auto& last = last_seq_[receiver * plan_.members + plan_.sender_slot_of(g)];
  const auto seq = static_cast<std::int64_t>(plan_.seq_of(g));
  if (seq < last) {
    ++reordered_[receiver];
    return delivery::reordered;
  }
  last = seq;
  return delivery::first;
}

ledger::totals ledger::summarize(const std::vector<std::uint8_t>& issued) const {
  totals t;
  for (std::uint64_t g = 0; g < planned_ && g < issued.size(); ++g) {
    if (!issued[g]) continue;
    for (std::uint32_t s = 0; s < plan_.members; ++s) {
      ++t.expected;
      if (counts_[g * plan_.members + s] != 0) ++t.delivered;
      else ++t.lost;
    }
  }
  for (auto d : dup_) t.duplicated += d;
  for (auto r : reordered_) t.reordered += r;
  return t;
}

}  // namespace chatload
