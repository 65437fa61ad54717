#include "pipeline/dlt_sink.hpp"

#include <chat/common/time.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

#include <array>
#include <vector>

namespace chat::chatd::pipeline {

namespace {

namespace h = proto::kafka_headers;

// The headers this sink sets; copies of them on the original record are replaced.
bool is_own_header(std::string_view name) {
  static constexpr std::array<std::string_view, 9> own = {
      h::dlt_original_topic,     h::dlt_original_partition, h::dlt_original_offset,
      h::dlt_original_timestamp, h::dlt_consumer_group,     h::dlt_exception_class,
      h::dlt_exception_message,  h::dlt_attempts,           h::dlt_failed_at};
  for (auto n : own) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

dlt_poison_sink::dlt_poison_sink(const kafka::settings& producer_settings, std::string consumer_group,
                                 std::chrono::milliseconds timeout, std::function<void(const std::string&)> on_written)
    : group_(std::move(consumer_group)), timeout_(timeout), on_written_(std::move(on_written)) {
  auto settings = producer_settings;
  settings.emplace_back("message.timeout.ms", std::to_string(timeout_.count()));
  producer_ = std::make_unique<kafka::producer>(settings, [this](const kafka::delivery_report& r) { on_delivery(r); });
}

dlt_poison_sink::~dlt_poison_sink() {
  if (producer_) producer_->stop(std::chrono::milliseconds(2000));
}

void dlt_poison_sink::on_delivery(const kafka::delivery_report& report) {
  {
    std::lock_guard lock(mutex_);
    done_.emplace(report.cookie, report);
  }
  cv_.notify_all();
}

bool dlt_poison_sink::accept(const kafka::record& r, const record_failure& failure, int attempts) {
  const std::string dlt_topic = proto::dlt_topic_for(r.topic());
  const std::string partition = std::to_string(r.partition());
  const std::string offset = std::to_string(r.offset());
  const std::string timestamp = std::to_string(r.timestamp_ms());
  const std::string attempts_text = std::to_string(attempts);
  const std::string failed_at = std::to_string(common::now_unix_ms());
  const std::string original_topic(r.topic());

  std::vector<kafka::header_view> headers;
  for (const auto& hv : r.headers()) {
    if (!is_own_header(hv.name)) headers.push_back(hv);
  }
  headers.push_back({h::dlt_original_topic, original_topic});
  headers.push_back({h::dlt_original_partition, partition});
  headers.push_back({h::dlt_original_offset, offset});
  headers.push_back({h::dlt_original_timestamp, timestamp});
  headers.push_back({h::dlt_consumer_group, group_});
  headers.push_back({h::dlt_exception_class, failure.error_class});
  headers.push_back({h::dlt_exception_message, failure.message});
  headers.push_back({h::dlt_attempts, attempts_text});
  headers.push_back({h::dlt_failed_at, failed_at});

  std::uint64_t cookie;
  {
    std::lock_guard lock(mutex_);
    cookie = next_cookie_++;
  }
  const std::error_code ec = producer_->produce(dlt_topic, r.partition(), r.key(), r.value(), headers, cookie);
  if (ec) {
    log::error("dead-letter produce refused", {{"group", group_},
                                               {"topic", dlt_topic},
                                               {"partition", r.partition()},
                                               {"offset", r.offset()},
                                               {"error", ec.message()}});
    return false;
  }
  kafka::delivery_report report;
  {
    std::unique_lock lock(mutex_);
    const bool arrived =
        cv_.wait_for(lock, timeout_ + std::chrono::seconds(2), [&] { return done_.count(cookie) != 0; });
    if (!arrived) return false;  // the report still comes later; it is dropped then
    report = std::move(done_.at(cookie));
    done_.erase(cookie);
  }
  if (!report.ok) {
    log::error("dead-letter write failed", {{"group", group_},
                                            {"topic", dlt_topic},
                                            {"partition", r.partition()},
                                            {"offset", r.offset()},
                                            {"error", report.error}});
    return false;
  }
  log::warn("record dead-lettered", {{"group", group_},
                                     {"topic", original_topic},
                                     {"partition", r.partition()},
                                     {"offset", r.offset()},
                                     {"dlt_topic", dlt_topic},
                                     {"dlt_offset", report.offset},
                                     {"error_class", failure.error_class},
                                     {"error", failure.message},
                                     {"attempts", attempts}});
  if (on_written_) on_written_(dlt_topic);
  return true;
}

}  // namespace chat::chatd::pipeline
