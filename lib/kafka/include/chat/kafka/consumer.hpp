#pragma once
// Kafka group consumer: thin RAII over librdkafka; no librdkafka type appears in this
// header.
#include <chat/kafka/errc.hpp>
#include <chat/kafka/header_view.hpp>
#include <chat/kafka/settings.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace chat::kafka {

class consumer;
class reader;

// One consumed record. Owns librdkafka's message (no copy of key or value); every view
// it returns is valid while the record lives. Move-only. A record keeps its consumer's
// client alive, so it may outlive the consumer object (but not by long: it pins memory).
class record {
 public:
  record(record&& other) noexcept;
  record& operator=(record&& other) noexcept;
  ~record();

  std::string_view topic() const;
  std::int32_t partition() const;
  std::int64_t offset() const;
  std::string_view key() const;
  std::string_view value() const;
  // Creation (or log-append) time in ms since the epoch; -1 if the record has none.
  std::int64_t timestamp_ms() const;
  // Value of the first header called `name`; nullopt if there is none. A header with a
  // null value gives an empty view.
  std::optional<std::string_view> header(std::string_view name) const;
  // All headers in record order (names may repeat).
  std::vector<header_view> headers() const;

 private:
  friend class consumer;
  friend class reader;
  struct message;  // is librdkafka's message
  struct message_deleter {
    void operator()(message* m) const noexcept;
  };
  record(message* m, std::shared_ptr<const void> client) noexcept;

  // Destroyed after msg_ (declaration order): the message must go before its client.
  std::shared_ptr<const void> client_;
  std::unique_ptr<message, message_deleter> msg_;
};

struct topic_partition {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = -1001;  // meaning depends on the call; -1001 = none/unknown

  friend bool operator==(const topic_partition&, const topic_partition&) = default;
};

// A member of a consumer group, subscribed to fixed topics, committing explicitly.
//
// Defaults, applied before the caller's settings (which win): enable.auto.commit=false,
// enable.auto.offset.store=false, auto.offset.reset=earliest. group.id is the constructor
// argument and is applied last, so a stray group.id in shared settings cannot merge
// groups. Partition assignment uses librdkafka's default eager protocol ("range,
// roundrobin"): on every rebalance all partitions are revoked, then reassigned.
//
// Threads: poll(), commit(), pause(), resume(), seek(), close() and the on_* setters are
// for one thread (the consumer's own loop); they may block (commit: one round trip,
// seek: up to 5 s, close: leaving the group). assignment() and lag() may be called from
// any thread (e.g. metrics).
class consumer {
 public:
  using partitions_handler = std::function<void(const std::vector<topic_partition>&)>;

  // Throws std::runtime_error when a setting is invalid or the subscription fails.
  consumer(const settings& s, std::string group_id, std::vector<std::string> topics);
  // close() if not closed yet.
  ~consumer();
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  // Returns up to `max` records, waiting at most `timeout` for the first; once one has
  // arrived it only takes what is already fetched. Rebalance callbacks run in here.
  // A consumer error (broker down, unknown topic, ...) sets `ec` (error_category()) and
  // returns the records gathered before it; the caller logs it and keeps polling.
  // Partition EOF is not an error. `ec` is cleared otherwise.
  std::vector<record> poll(std::size_t max, std::chrono::milliseconds timeout, std::error_code& ec);

  // Synchronous commit of explicit offsets; offset = next to read (last processed + 1).
  std::error_code commit(const std::vector<topic_partition>& offsets);

  // Stop/restart fetching these partitions (offsets ignored). Records already fetched
  // for a paused partition are dropped and fetched again after resume().
  void pause(const std::vector<topic_partition>& partitions);
  void resume(const std::vector<topic_partition>& partitions);

  // Moves the fetch position of one assigned partition to tp.offset, so the records from
  // there are delivered again (retry a batch without committing). Records of that
  // partition fetched before the seek are discarded. Waits up to 5 s for the fetcher.
  std::error_code seek(const topic_partition& tp);

  // Current assignment; offset = position (next record poll() returns), -1001 if none
  // was consumed yet.
  std::vector<topic_partition> assignment() const;

  // Called from within poll() (and close()) on rebalance, after the new partitions were
  // assigned / before the old ones are given up (a last commit can happen in on_revoke).
  // offsets in the vector are -1001. Set them before the first poll(). Must not throw.
  void on_assign(partitions_handler handler);
  void on_revoke(partitions_handler handler);

  // Lag per assigned partition: high watermark - reference offset, where the reference
  // (returned as .offset) is the offset this consumer last committed for it, or else its
  // position. The high watermark is the one cached from the latest fetch response (no
  // round trip). Lag -1 when either is unknown (nothing fetched yet).
  std::vector<std::pair<topic_partition, std::int64_t>> lag();

  // Leaves the group (on_revoke runs) and stops fetching. Idempotent; poll() returns
  // nothing afterwards.
  void close();

 private:
  struct impl;  // shared with the records, which keep the client alive
  std::shared_ptr<impl> impl_;
};

}  // namespace chat::kafka
