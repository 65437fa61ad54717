#include "traffic.hpp"

#include <chat/proto/names.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace chatload {

namespace {

// Parses the decimal digits of `s` (no sign); nullopt when empty or not all digits.
std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string soft_error_code(const nlohmann::json& j) {
  const auto code = j.is_object() ? j.find("code") : j.end();
  return code != j.end() && code->is_string() ? code->get<std::string>() : std::string("unknown");
}

std::optional<refusal> soft_error_refusal(const nlohmann::json& j, std::uint64_t max_sends) {
  if (!j.is_object()) return std::nullopt;
  const auto id = j.find("receiptId");
  if (id == j.end() || !id->is_string()) return std::nullopt;
  const auto g = send_of_receipt_id(id->get_ref<const std::string&>(), max_sends);
  if (!g) return std::nullopt;
  std::string code = soft_error_code(j);
  const auto outcome = classify_refusal(code);
  return refusal{*g, outcome, "soft_error: " + code};
}

}  // namespace

std::optional<std::uint64_t> send_of_receipt_id(std::string_view id, std::uint64_t max_sends) noexcept {
  if (!id.starts_with("s")) return std::nullopt;
  const auto g = parse_u64(id.substr(1));
  if (!g || *g >= max_sends) return std::nullopt;
  return g;
}

std::optional<refusal> refusal_of_error(const chat::stomp::frame& f, std::uint64_t max_sends) {
  const auto g = send_of_receipt_id(f.get("receipt-id").value_or(""), max_sends);
  if (!g) return std::nullopt;
  std::string text(f.get("message").value_or("?"));
  const auto outcome = classify_refusal(text);
  return refusal{*g, outcome, std::move(text)};
}

std::optional<refusal> refusal_of_soft_error(std::string_view body, std::uint64_t max_sends) {
  return soft_error_refusal(nlohmann::json::parse(body, nullptr, false), max_sends);
}

traffic::traffic(const run_options& o, const plan& p, std::uint64_t nonce, std::uint64_t max_sends,
                 const stomp_dialect& dialect, run_counters& counters)
    : opt_(o),
      plan_(p),
      nonce_(nonce),
      dialect_(dialect),
      counters_(counters),
      measure_start_ns_(std::chrono::nanoseconds(o.ramp_up + o.warmup).count()),
      end_offset_ns_(std::chrono::nanoseconds(o.ramp_up + o.warmup + o.duration).count()),
      ledger_(p, max_sends) {
  std::int64_t start = measure_start_ns_;
  for (const auto& ph : measured_phases(o)) {
    phase_starts_ns_.push_back(start);
    start += static_cast<std::int64_t>(ph.seconds * 1e9);
  }
}

std::optional<std::size_t> traffic::phase_of(std::int64_t offset) const noexcept {
  if (offset < measure_start_ns_ || offset >= end_offset_ns_ || phase_starts_ns_.empty()) return std::nullopt;
  const auto it = std::upper_bound(phase_starts_ns_.begin(), phase_starts_ns_.end(), offset);
  return static_cast<std::size_t>(it - phase_starts_ns_.begin()) - 1;
}

std::error_code traffic::send(session& s, subscription& sub, std::uint64_t g, std::int64_t planned_ns,
                              std::int64_t now) {
  const std::int64_t offset = planned_ns - t0_ns();
  encode_payload(s.payload, nonce_, g, offset, opt_.message_bytes);
  // --mix: an edit, delete or reaction of one of this session's own messages in the room.
  action act = dialect_.is_generic() ? action::send : opt_.mix.pick(g, nonce_);
  own_message* target = act == action::send ? nullptr : pick_target(sub.own, g, now, min_target_age_ns);
  if (act != action::send && target == nullptr) {
    ++counters_.mix_fallbacks;
    act = action::send;
  }
  char seq[24], planned_text[24], receipt[24];
  *std::to_chars(seq, seq + sizeof seq - 1, plan_.seq_of(g)).ptr = '\0';
  *std::to_chars(planned_text, planned_text + sizeof planned_text - 1, planned_ns).ptr = '\0';
  receipt[0] = 's';
  *std::to_chars(receipt + 1, receipt + sizeof receipt - 1, g).ptr = '\0';
  const chat::client::header_view headers[] = {
      {"chatload-seq", seq}, {"chatload-session", s.session_id}, {"chatload-planned-ns", planned_text}};
  char key_text[36];
  if (!dialect_.is_generic()) format_message_key(key_text, nonce_, g);
  const std::string_view key(key_text, sizeof key_text);
  std::string_view body;
  std::string_view destination;
  event_index kind = event_index::message;
  switch (act) {
    case action::send:
      body = dialect_.send_body(s.body, s.payload, sub.room_id, key);
      destination = dialect_.is_generic() ? std::string_view(sub.send_dest) : chatd_send_destination();
      break;
    case action::edit:
      edit_body(s.body, sub.room_id, target->id, s.payload, key);
      body = s.body;
      destination = chat::proto::destinations::app_edit;
      kind = event_index::edited;
      break;
    case action::remove:
      delete_body(s.body, sub.room_id, target->id, key);
      body = s.body;
      destination = chat::proto::destinations::app_delete;
      kind = event_index::deleted;
      break;
    case action::react: {
      const std::uint32_t n = target->reactions;
      const bool remove = n % 8 >= 4;
      react_body(s.body, sub.room_id, target->id, reaction_emojis[n % 4], remove, key);
      body = s.body;
      destination = chat::proto::destinations::app_react;
      kind = remove ? event_index::reaction_removed : event_index::reaction_added;
      break;
    }
  }
  if (const auto ec = s.client->send(destination, body, headers, receipt)) {
    ++counters_.send_errors;
    counters_.errors.count("send: " + ec.message());
    return ec;
  }
  // Sent: a deleted message is no target any more; the next reaction to this one is the next
  // emoji (or takes one back).
  if (act == action::remove) forget_own(sub.own, target->id);
  if (act == action::react) ++target->reactions;
  ledger_.mark_issued(g, kind);
  ++counters_.sent;
  ++s.issued;
  auto& stats = this_worker_stats();
  stats.per_second.count_sent(offset);
  stats.send_lag.record(to_us(now - planned_ns));
  return {};
}

void traffic::send_planned(session& s, std::uint64_t g, std::int64_t planned_ns) {
  const auto now = steady_now_ns();
  if (now - planned_ns > std::chrono::nanoseconds(opt_.late_limit).count()) {
    ++counters_.dropped;
    this_worker_stats().send_lag.record(to_us(now - planned_ns));
    return;
  }
  if (s.reconnecting) {  // --churn: its connection is being replaced
    ++counters_.churn.unsent;
    return;
  }
  const std::uint32_t room = plan_.room_of(g);
  for (auto& sub : s.subs) {
    if (sub.room == room) {
      (void)send(s, sub, g, planned_ns, now);
      return;
    }
  }
}

void traffic::answer(std::uint64_t g, send_outcome o, std::optional<std::int64_t> planned_ns, std::int64_t now,
                     std::string_view text) {
  if (answers_closed_.load(std::memory_order_relaxed)) {
    ++counters_.answers_after_drain;
    return;
  }
  const auto before = ledger_.record_answer(g, o);
  switch (before) {
    case send_outcome::pending: break;
    case send_outcome::unsent: counters_.errors.count("answer_to_unsent_send"); return;
    case send_outcome::receipted:
    case send_outcome::rate_limited:
    case send_outcome::overloaded:
    case send_outcome::not_accepted:
    case send_outcome::other_error: ++counters_.answered_twice; return;
  }
  const bool receipted = o == send_outcome::receipted;
  auto& stats = this_worker_stats();
  if (!receipted) {
    ++counters_.refused;
    counters_.refusals.count(std::string(text));
  } else if (const auto now_phase = phase_of(now - t0_ns())) {
    ++stats.phases[*now_phase].receipts_arrived;
  }
  if (!planned_ns) return;
  const auto offset = *planned_ns - t0_ns();
  const auto us = to_us(now - *planned_ns);
  const auto phase = phase_of(offset);
  if (receipted) {
    if (offset >= measure_start_ns_) stats.receipt.record(us);
    stats.per_second.record_receipt(offset, us);
    if (phase) {
      stats.phases[*phase].receipt.record(us);
      ++stats.phases[*phase].receipted;
    }
  } else {
    stats.per_second.count_refused(offset);
    if (phase) ++stats.phases[*phase].refused;
  }
}

std::optional<std::uint64_t> traffic::count_receipt(std::string_view id) {
  const auto g = send_of_receipt_id(id, ledger_.max_sends());
  if (g) ++counters_.receipts;
  return g;
}

void traffic::remember_receipted(session& s, std::uint64_t g, const chat::stomp::frame& receipt) {
  if (opt_.mix.send_only() || dialect_.is_generic() || ledger_.kind_of(g) != event_index::message) return;
  const auto text = receipt.get("message-id");
  std::int64_t id = 0;
  const auto [end, ec] = text ? std::from_chars(text->data(), text->data() + text->size(), id)
                              : std::from_chars_result{nullptr, std::errc::invalid_argument};
  if (!text || ec != std::errc{} || end != text->data() + text->size() || id < 0) {
    ++counters_.receipts_without_id;
    return;
  }
  const std::uint32_t room = plan_.room_of(g);
  for (auto& sub : s.subs) {
    if (sub.room == room) {
      remember_own(sub.own, id, steady_now_ns());
      return;
    }
  }
}

std::optional<refusal> traffic::on_message(session& s, chat::stomp::frame& f) {
  const auto now = steady_now_ns();
  const auto sub = f.get("subscription").value_or("");
  if (sub == "err") {
    const auto j = nlohmann::json::parse(f.body, nullptr, false);
    counters_.errors.count("soft_error: " + soft_error_code(j));
    return soft_error_refusal(j, ledger_.max_sends());
  }
  // A room subscription "r<k>": what kind of MESSAGE, and the cursor --churn resumes from.
  // (A plain index with a "none" value: GCC 12 at -O2 warns wrongly about an optional here.)
  constexpr auto no_sub = static_cast<std::uint64_t>(-1);
  const auto parsed = sub.starts_with("r") ? parse_u64(sub.substr(1)) : std::nullopt;
  const std::uint64_t k = parsed.value_or(no_sub);
  std::int64_t event_id = -1;
  bool replayed = false;  // before the RECEIPT of a since-id resubscription: counted, not timed
  switch (dialect_.is_generic() ? room_frame::other : classify_room_frame(f, event_id)) {
    case room_frame::read_mark: ++counters_.read_events; return std::nullopt;  // no room event, no payload
    case room_frame::truncated: ++counters_.churn.truncations; return std::nullopt;
    case room_frame::event:
      if (k < s.subs.size()) {
        auto& room_sub = s.subs[k];
        room_sub.cursor.seen(event_id);
        if (room_sub.recovering) {
          ++counters_.churn.recovered_events;
          replayed = true;
        }
      }
      break;
    case room_frame::other: break;
  }
  bool foreign = false;
  auto id = find_payload(f.body, nonce_, &foreign);
  bool timed = true;
  if (!id && !foreign) {
    // Deletes and reactions carry no payload: their messageKey names the send (its planned
    // time is the schedule's in the open model; the sessions model cannot time them).
    if (const auto key = body_message_key(f.body)) {
      if (const auto g = parse_message_key(*key, nonce_)) {
        id = payload_id{*g, opt_.model == load_model::open ? plan_.planned_offset_ns(*g) : 0};
        timed = opt_.model == load_model::open;
      }
    }
  }
  if (!id) {
    counters_.errors.count(foreign ? "foreign_message" : "message_without_payload");
    return std::nullopt;
  }
  if (id->g >= ledger_.max_sends()) {
    counters_.errors.count("foreign_message");
    return std::nullopt;
  }
  if (k >= s.subs.size() || s.subs[k].room != plan_.room_of(id->g)) {
    counters_.errors.count("message_in_wrong_room");
    return std::nullopt;
  }
  const auto d = ledger_.deliver(id->g, s.subs[k].slot, body_event_id(f.body));
  if (d == delivery::duplicate) return std::nullopt;
  ++counters_.delivered;
  // Latency is of live deliveries: a replayed event waited for its receiver to come back.
  if (!timed || replayed) return std::nullopt;
  const auto us = to_us(now - (t0_ns() + id->planned_offset_ns));
  auto& stats = this_worker_stats();
  if (id->planned_offset_ns >= measure_start_ns_) stats.delivery.record(us);
  stats.per_second.record_delivery(id->planned_offset_ns, us);
  if (const auto phase = phase_of(id->planned_offset_ns)) stats.phases[*phase].delivery.record(us);
  if (const auto now_phase = phase_of(now - t0_ns())) ++stats.phases[*now_phase].deliveries_arrived;
  return std::nullopt;
}

}  // namespace chatload
