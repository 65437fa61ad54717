#include "kafka/sender.hpp"

#include <chat/common/time.hpp>

#include <thread>

namespace dlt_replay {

namespace {
// Cookies of ledger entries carry this bit; the rest is the record's index.
constexpr std::uint64_t ledger_bit = std::uint64_t{1} << 63;
constexpr std::chrono::milliseconds queue_full_backoff{10};

std::vector<chat::kafka::header_view> views(const std::vector<header>& headers) {
  std::vector<chat::kafka::header_view> out;
  out.reserve(headers.size());
  for (const auto& h : headers) out.push_back(chat::kafka::header_view{h.name, h.value});
  return out;
}
}  // namespace

replay_sender::replay_sender(const chat::kafka::settings& s, std::string ledger_topic, std::size_t count)
    : ledger_topic_(std::move(ledger_topic)), outcomes_(count), entries_(count), ledger_keys_(count) {
  producer_ =
      std::make_unique<chat::kafka::producer>(s, [this](const chat::kafka::delivery_report& r) { on_delivery(r); });
}

replay_sender::~replay_sender() {
  if (producer_) producer_->stop(std::chrono::milliseconds(0));
}

void replay_sender::send(std::size_t index, const outgoing_record& out, ledger_entry entry,
                         std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    ledger_keys_[index] = ledger_key(entry.dlt);
    entries_[index] = std::move(entry);
  }
  const auto headers = views(out.headers);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // An absent key is sent as no key (an empty view means none to the producer).
    const auto ec =
        producer_->produce(out.topic, out.partition, out.key.value_or(std::string()), out.value, headers, index);
    if (!ec) return;
    if (ec == chat::kafka::errc::queue_full && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(queue_full_backoff);  // backpressure, not synchronisation
      continue;
    }
    std::lock_guard lock(mutex_);
    outcomes_[index].done = true;
    outcomes_[index].error = ec.message();
    return;
  }
}

void replay_sender::on_delivery(const chat::kafka::delivery_report& report) {
  const bool ledger = (report.cookie & ledger_bit) != 0;
  const std::size_t index = static_cast<std::size_t>(report.cookie & ~ledger_bit);
  std::lock_guard lock(mutex_);
  if (index >= outcomes_.size()) return;
  auto& o = outcomes_[index];
  if (ledger) {
    o.recorded = report.ok;
    if (!report.ok) o.ledger_error = report.error;
    return;
  }
  o.done = true;
  o.ok = report.ok;
  if (!report.ok) {
    o.error = report.error;
    return;
  }
  auto& entry = entries_[index];
  entry.target.partition = report.partition;
  entry.target.offset = report.offset;
  entry.at_ms = chat::common::now_unix_ms();
  o.written = entry.target;
  const std::string value = encode_ledger_entry(entry);
  // Allowed from the delivery handler (producer.hpp); never blocks.
  if (const auto ec = producer_->produce(ledger_topic_, -1, ledger_keys_[index], value, {}, index | ledger_bit)) {
    o.ledger_error = ec.message();
  }
}

void replay_sender::finish(std::chrono::milliseconds timeout) {
  producer_->flush(timeout);
  producer_->stop(std::chrono::milliseconds(0));
  std::lock_guard lock(mutex_);
  for (auto& o : outcomes_) {
    if (!o.done) {
      o.done = true;
      o.error = "not acknowledged in time";
    }
    if (o.ok && !o.recorded && o.ledger_error.empty()) o.ledger_error = "ledger entry not acknowledged in time";
  }
}

send_outcome replay_sender::outcome(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return outcomes_[index];
}

}  // namespace dlt_replay
