#include "accounting.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace chatload {

std::int64_t plan::planned_offset_ns(std::uint64_t g) const noexcept {
  double x = static_cast<double>(g);
  const double ramp_sends = ramp_s > 0 ? rate * ramp_s / 2 : 0;
  if (ramp_s > 0 && x < ramp_sends) return static_cast<std::int64_t>(std::sqrt(2.0 * ramp_s * x / rate) * 1e9);
  x -= ramp_sends;
  double at = ramp_s;
  for (const auto& seg : segments) {
    const double n = seg.rate * seg.seconds;
    if (x < n) return static_cast<std::int64_t>((at + x / seg.rate) * 1e9);
    x -= n;
    at += seg.seconds;
  }
  const double last = segments.empty() ? rate : segments.back().rate;
  return static_cast<std::int64_t>((at + x / last) * 1e9);
}

double plan::arrivals_at(double seconds) const noexcept {
  if (seconds <= 0) return 0;
  if (ramp_s > 0 && seconds <= ramp_s) return rate * seconds * seconds / (2 * ramp_s);
  double n = ramp_s > 0 ? rate * ramp_s / 2 : 0;
  double at = ramp_s;
  for (const auto& seg : segments) {
    if (seconds <= at + seg.seconds) return n + seg.rate * (seconds - at);
    n += seg.rate * seg.seconds;
    at += seg.seconds;
  }
  return n + (segments.empty() ? rate : segments.back().rate) * (seconds - at);
}

std::uint64_t plan::sends_in(double seconds) const noexcept {
  // g is planned before `seconds` when g < n (g = 0 at t = 0); guard against 249.99999.
  return static_cast<std::uint64_t>(std::ceil(arrivals_at(seconds) - 1e-9));
}

const char* to_string(send_outcome o) noexcept {
  switch (o) {
    case send_outcome::unsent: return "unsent";
    case send_outcome::pending: return "unanswered";
    case send_outcome::receipted: return "receipted";
    case send_outcome::rate_limited: return "rate_limited";
    case send_outcome::overloaded: return "overloaded";
    case send_outcome::not_accepted: return "not_accepted";
    case send_outcome::other_error: return "other_error";
  }
  return "?";
}

send_outcome classify_refusal(std::string_view m) noexcept {
  const auto has = [m](std::string_view part) { return m.find(part) != std::string_view::npos; };
  if (has("rate_limited") || has("rate limit")) return send_outcome::rate_limited;
  if (has("overload")) return send_outcome::overloaded;
  if (has("not accepted") || has("not_accepted") || has("timed out") || has("timeout"))
    return send_outcome::not_accepted;
  return send_outcome::other_error;
}

std::string message_key(std::uint64_t nonce, std::uint64_t g) {
  char buf[36];
  format_message_key(buf, nonce, g);
  return std::string(buf, 36);
}

void format_message_key(char* out36, std::uint64_t nonce, std::uint64_t g) noexcept {
  // nonce: 60 bits → digits 0-7, 9-12, 15-17 (after the version '4'), 20-22 (after variant '8')
  char buf[37];
  std::snprintf(
      buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
      static_cast<unsigned long long>((nonce >> 28) & 0xffffffffULL),
      static_cast<unsigned long long>((nonce >> 12) & 0xffffULL), static_cast<unsigned long long>(nonce & 0xfffULL),
      static_cast<unsigned long long>((nonce >> 60) & 0xfULL), static_cast<unsigned long long>(g & 0xffffffffffffULL));
  std::memcpy(out36, buf, 36);
}

std::optional<std::uint64_t> parse_message_key(std::string_view key, std::uint64_t nonce) noexcept {
  if (key.size() != 36) return std::nullopt;
  const std::string expected = message_key(nonce, 0);
  if (key.substr(0, 24) != std::string_view(expected).substr(0, 24)) return std::nullopt;
  std::uint64_t g = 0;
  for (char c : key.substr(24)) {
    g <<= 4;
    if (c >= '0' && c <= '9')
      g |= static_cast<std::uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      g |= static_cast<std::uint64_t>(c - 'a' + 10);
    else
      return std::nullopt;
  }
  return g;
}

namespace {
constexpr std::string_view payload_magic = "CL1.";

void nonce_hex(char* out15, std::uint64_t nonce) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 14; i >= 0; --i) {
    out15[i] = digits[nonce & 0xf];
    nonce >>= 4;
  }
}
}  // namespace

void encode_payload(std::string& out, std::uint64_t nonce, std::uint64_t g, std::int64_t planned, std::size_t size) {
  // "CL1." + 15 + "." + up to 16 hex + "." + up to 20 decimal + "." fits in 64.
  char nonce_text[15];
  nonce_hex(nonce_text, nonce);
  char g_text[24];
  const auto g_end = std::to_chars(g_text, g_text + sizeof g_text, g, 16).ptr;
  char planned_text[24];
  const auto planned_end = std::to_chars(planned_text, planned_text + sizeof planned_text, planned).ptr;
  out.clear();
  out += payload_magic;
  out.append(nonce_text, sizeof nonce_text);
  out += '.';
  out.append(g_text, g_end);
  out += '.';
  out.append(planned_text, planned_end);
  out += '.';
  if (out.size() < size) out.append(size - out.size(), 'x');
}

std::optional<payload_id> find_payload(std::string_view body, std::uint64_t nonce, bool* foreign) noexcept {
  char prefix[4 + 15 + 1];
  for (std::size_t i = 0; i < payload_magic.size(); ++i) prefix[i] = payload_magic[i];
  nonce_hex(prefix + 4, nonce);
  prefix[19] = '.';
  const std::string_view want(prefix, sizeof prefix);
  const auto pos = body.find(want);
  if (pos == std::string_view::npos) {
    if (foreign) *foreign = body.find(payload_magic) != std::string_view::npos;
    return std::nullopt;
  }
  const char* p = body.data() + pos + want.size();
  const char* end = body.data() + body.size();
  payload_id id;
  auto r1 = std::from_chars(p, end, id.g, 16);
  if (r1.ec != std::errc{} || r1.ptr == end || *r1.ptr != '.') return std::nullopt;
  auto r2 = std::from_chars(r1.ptr + 1, end, id.planned_offset_ns);
  if (r2.ec != std::errc{} || r2.ptr == end || *r2.ptr != '.') return std::nullopt;
  return id;
}

namespace {
// A (send, receiver) cell: deliveries in the low 7 bits (saturating), and whether the first
// one came after a later message of the same sender.
constexpr std::uint8_t count_mask = 0x7f;
constexpr std::uint8_t reordered_flag = 0x80;
}  // namespace

struct ledger::chunk {
  explicit chunk(std::uint32_t members)
      : outcome(new std::uint8_t[chunk_sends]()),
        kind(new std::uint8_t[chunk_sends]()),
        counts(new std::uint8_t[chunk_sends * members]()) {}
  std::unique_ptr<std::uint8_t[]> outcome;  // [g % chunk_sends] a send_outcome, written by the sender's strand
  std::unique_ptr<std::uint8_t[]> kind;     // [g % chunk_sends] an event_index, written by the sender's strand
  std::unique_ptr<std::uint8_t[]> counts;   // [(g % chunk_sends) * M + receiver slot], see count_mask
};

ledger::ledger(const plan& p, std::uint64_t max_sends)
    : plan_(p),
      max_(max_sends),
      chunk_count_(static_cast<std::size_t>((max_sends + chunk_sends - 1) / chunk_sends)),
      last_seq_(std::size_t{p.rooms} * p.members * p.members, -1),
      last_id_(std::size_t{p.rooms} * p.members, -1),
      dup_(std::size_t{p.rooms} * p.members, 0),
      reordered_(std::size_t{p.rooms} * p.members, 0) {
  chunks_.reset(new std::atomic<chunk*>[chunk_count_]);
  for (std::size_t i = 0; i < chunk_count_; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

ledger::~ledger() {
  for (std::size_t i = 0; i < chunk_count_; ++i) delete chunks_[i].load(std::memory_order_relaxed);
}

ledger::chunk& ledger::chunk_for(std::uint64_t g) {
  auto& slot = chunks_[static_cast<std::size_t>(g / chunk_sends)];
  if (chunk* c = slot.load(std::memory_order_acquire)) return *c;
  std::lock_guard lock(grow_mutex_);
  if (chunk* c = slot.load(std::memory_order_relaxed)) return *c;
  auto* c = new chunk(plan_.members);
  slot.store(c, std::memory_order_release);
  return *c;
}

void ledger::mark_issued(std::uint64_t g, event_index kind) {
  auto& c = chunk_for(g);
  c.kind[g % chunk_sends] = static_cast<std::uint8_t>(kind);
  c.outcome[g % chunk_sends] = static_cast<std::uint8_t>(send_outcome::pending);
}

event_index ledger::kind_of(std::uint64_t g) { return static_cast<event_index>(chunk_for(g).kind[g % chunk_sends]); }

send_outcome ledger::record_answer(std::uint64_t g, send_outcome o) {
  auto& cell = chunk_for(g).outcome[g % chunk_sends];
  const auto before = static_cast<send_outcome>(cell);
  if (before == send_outcome::pending) cell = static_cast<std::uint8_t>(o);
  return before;
}

delivery ledger::deliver(std::uint64_t g, std::uint32_t rslot, std::optional<std::int64_t> event_id) {
  const std::uint32_t room = plan_.room_of(g);
  const std::size_t receiver = std::size_t{room} * plan_.members + rslot;
  auto& ch = chunk_for(g);
  auto& c = ch.counts[(g % chunk_sends) * plan_.members + rslot];
  if ((c & count_mask) != 0) {
    if ((c & count_mask) != count_mask) ++c;
    ++dup_[receiver];
    return delivery::duplicate;
  }
  c = 1;
  bool in_order = true;
  if (event_id) {
    auto& last_id = last_id_[receiver];
    if (*event_id < last_id) {
      in_order = false;
    } else {
      last_id = *event_id;
    }
  }
  if (static_cast<event_index>(ch.kind[g % chunk_sends]) == event_index::message) {
    auto& last = last_seq_[receiver * plan_.members + plan_.sender_slot_of(g)];
    const auto seq = static_cast<std::int64_t>(plan_.seq_of(g));
    if (seq < last) {
      in_order = false;
    } else {
      last = seq;
    }
  }
  if (!in_order) {
    c |= reordered_flag;
    ++reordered_[receiver];
    return delivery::reordered;
  }
  return delivery::first;
}

ledger::totals ledger::summarize() const {
  totals t;
  for (std::size_t k = 0; k < chunk_count_; ++k) {
    const chunk* c = chunks_[k].load(std::memory_order_acquire);
    if (!c) continue;
    for (std::uint64_t i = 0; i < chunk_sends; ++i) {
      const auto outcome = static_cast<send_outcome>(c->outcome[i]);
      if (outcome == send_outcome::unsent) continue;
      ++t.outcomes[static_cast<std::size_t>(outcome)];
      const bool receipted = outcome == send_outcome::receipted;
      auto& k = t.by_kind[std::min<std::size_t>(c->kind[i], event_count - 1)];
      ++k.issued;
      if (receipted) ++k.receipted;
      const bool refused = outcome != send_outcome::pending && !receipted;
      bool reached_someone = false;
      for (std::uint32_t s = 0; s < plan_.members; ++s) {
        const std::uint8_t cell = c->counts[i * plan_.members + s];
        const std::uint8_t n = cell & count_mask;
        ++t.expected;
        ++k.expected;
        if (n != 0) {
          ++t.delivered;
          ++k.delivered;
          k.duplicated += n - 1u;
          if (cell & reordered_flag) ++k.reordered;
        } else {
          ++t.lost;
          ++k.lost;
        }
        reached_someone |= n != 0;
        if (!receipted) continue;
        ++t.receipted_expected;
        if (n == 0) {
          ++t.receipted_lost;
          continue;
        }
        ++t.receipted_delivered;
        t.receipted_duplicated += n - 1u;
        if (cell & reordered_flag) ++t.receipted_reordered;
      }
      if (refused && reached_someone) ++t.refused_but_delivered;
    }
  }
  for (auto d : dup_) t.duplicated += d;
  for (auto r : reordered_) t.reordered += r;
  return t;
}

}  // namespace chatload
