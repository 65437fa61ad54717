#pragma once
// Kafka producer: thin RAII over librdkafka; no librdkafka type appears in this header.
#include <chat/kafka/errc.hpp>
#include <chat/kafka/header_view.hpp>
#include <chat/kafka/settings.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace chat::kafka {

// Outcome of one produce(), reported exactly once per accepted record.
struct delivery_report {
  std::uint64_t cookie = 0;     // as given to produce()
  bool ok = false;              // the broker acknowledged the record (acks=all)
  std::string error;            // librdkafka's description when !ok
  std::int32_t partition = -1;  // partition the record went to (-1 if never assigned)
  std::int64_t offset = -1;     // its offset when ok, otherwise -1
  std::error_code code;         // of error_category() when !ok; compare with errc
};

// The partition (of `partitions`) that the producer's partitioner (murmur2_random) picks for a
// non-empty `key`: librdkafka's own murmur2 partitioner, the same as a Java client's. Pure.
std::int32_t key_partition(std::string_view key, std::int32_t partitions);

// Owns one librdkafka producer and the thread that serves its delivery reports.
//
// Defaults, applied before the caller's settings (which win): acks=all,
// enable.idempotence=true, linger.ms=5, partitioner=murmur2_random (keys land on the
// partitions a Java client would choose), message.timeout.ms=30000.
//
// Every record that produce() accepted gets exactly one delivery_report: ok when the
// broker acknowledged it, otherwise when message.timeout.ms expired, the broker refused
// it, or stop() purged it. A report with code _PURGE_INFLIGHT means "outcome unknown"
// (the broker may have it).
class producer {
 public:
  // Runs on the producer's internal poll thread, one report at a time. It must be short,
  // must not block, must not throw (std::terminate), and must not call stop() or flush()
  // (deadlock); post the report to where it is handled. It may call produce().
  using delivery_handler = std::function<void(const delivery_report&)>;

  // Throws std::runtime_error when a setting is invalid. Starts the poll thread.
  producer(const settings& s, delivery_handler on_delivery);
  // stop(0ms): records still queued are reported as purged.
  ~producer();
  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  // Thread-safe and never blocks (no I/O, no waiting on the queue). Copies key, value and
  // headers. partition -1 = chosen from the key (murmur2; an empty key = random).
  // Errors (nothing will be reported for this cookie then):
  //   errc::queue_full     queue.buffering.max.messages/kbytes reached: shed load;
  //   errc::unknown_topic  the topic/partition is known not to exist (metadata cached);
  //   errc::message_too_large;
  //   errc::fatal          stop() was called, or a fatal idempotence error occurred.
  // A topic whose existence is not yet known is accepted; if it does not exist, the
  // delivery report fails with errc::unknown_topic (or timed_out).
  std::error_code produce(std::string_view topic, std::int32_t partition, std::string_view key, std::string_view value,
                          std::span<const header_view> headers, std::uint64_t cookie);

  // Records accepted by produce() whose report has not been delivered yet.
  std::size_t in_flight() const;

  // Waits up to `timeout` until every accepted record has been reported (the reports
  // still run on the poll thread). Returns how many remain. Any thread but the handler's.
  std::size_t flush(std::chrono::milliseconds timeout);

  // Refuses further produce() calls, flushes up to flush_timeout, then purges what is
  // left (their reports say ok=false), and joins the poll thread. Idempotent. Call from
  // the owning thread, not from the handler.
  void stop(std::chrono::milliseconds flush_timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::kafka
