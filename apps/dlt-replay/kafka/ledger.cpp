#include "kafka/ledger.hpp"

#include <algorithm>

namespace dlt_replay {

namespace {
// CreateTopics never answers on clusters without a usable controller (the development
// broker): do not wait for it longer than this.
constexpr std::chrono::milliseconds create_timeout{3000};
}  // namespace

loaded_ledger load_ledger(topic_scanner& scanner, const std::string& topic) {
  loaded_ledger out;
  if (!scanner.partitions(topic)) return out;
  out.exists = true;
  scanner.scan(topic, [&](chat::kafka::record&& r) {
    ++out.entries;
    if (const auto e = decode_ledger_entry(r.value())) {
      out.view.add(*e);
    } else {
      ++out.unreadable;
    }
    return true;
  });
  return out;
}

void ensure_ledger_topic(topic_scanner& scanner, const std::string& topic, std::chrono::milliseconds timeout) {
  if (scanner.partitions(topic)) return;
  chat::kafka::topic_spec spec{topic, 1, -1, {{"cleanup.policy", "compact"}}};
  const auto outcome = scanner.admin().ensure_topics({spec}, std::min(timeout, create_timeout));
  if (scanner.partitions(topic)) return;
  scanner.admin().request_topic(topic, timeout);
  if (scanner.partitions(topic)) return;
  throw kafka_failure("cannot create the ledger topic " + topic + " (" +
                      (outcome.empty() ? std::string("no answer") : outcome.front().error) +
                      "); create it with 1 partition and cleanup.policy=compact, or pass --ledger-topic");
}

}  // namespace dlt_replay
