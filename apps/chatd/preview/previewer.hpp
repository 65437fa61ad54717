#pragma once
// The link preview service of the preview role (SPEC §16, docs/operations.md "Link previews"):
// takes the messages whose text has an http(s) URL, fetches each page on a worker pool
// (--preview-workers threads, each with its own page_fetcher, off the consumer's thread), and
// hands every preview made to a sink (the pipeline publishes it as message.preview). Bounded:
// at most --preview-queue fetches wait, a message past that gets no preview (counted as
// dropped); results are cached per URL (preview_cache), and a URL already being fetched is not
// fetched a second time: the later messages (at most max_waiters_per_url) wait for the first
// fetch's result.
#include "preview/fetcher.hpp"
#include "preview/preview_cache.hpp"

#include <chat/common/bounded_queue.hpp>
#include <chat/proto/message.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace chat::chatd::preview {

// The message a preview is for.
struct preview_target {
  std::int64_t message_id = 0;
  std::int64_t room_id = 0;
  std::int64_t sender_id = 0;
  std::string sender_nickname;
  std::string url;  // first_url() of its text
};

// Counters for /metrics (docs/operations.md), readable from any thread.
struct preview_stats {
  std::atomic<std::uint64_t> fetched{0};    // pages fetched that gave a preview
  std::atomic<std::uint64_t> cached{0};     // messages answered by the cache or by a fetch in flight
  std::atomic<std::uint64_t> dropped{0};    // messages not previewed: the queue was full (or stopping)
  std::atomic<std::uint64_t> published{0};  // message.preview events the sink had acknowledged
  std::array<std::atomic<std::uint64_t>, refusal_count> refused{};  // by refusal
  std::array<std::atomic<std::uint64_t>, failure_count> failed{};   // by failure

  void refuse(refusal r) noexcept { refused[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
  void fail(failure f) noexcept { failed[static_cast<std::size_t>(f)].fetch_add(1, std::memory_order_relaxed); }
};

// Messages that wait for one fetch of the same URL; more get no preview (dropped).
inline constexpr std::size_t max_waiters_per_url = 1000;

struct previewer_settings {
  fetch_policy policy;
  fetch_limits limits;
  int workers = 4;
  std::size_t queue = 256;
  std::size_t cache_entries = 4096;
  std::chrono::milliseconds cache_ttl{3600000};
};

class previewer {
 public:
  // Called with each preview made, on a worker's thread (or the submitting one, for a cached
  // preview); must not block for long, must not throw.
  using sink = std::function<void(const preview_target&, const proto::link_preview&)>;

  // `resolve`: nullptr = the system resolver (tests inject theirs). Starts the workers.
  previewer(previewer_settings settings, sink on_preview, resolver resolve = nullptr);
  // stop()
  ~previewer();
  previewer(const previewer&) = delete;
  previewer& operator=(const previewer&) = delete;

  // Thread-safe, never blocks on a fetch: a cached result is answered at once; a URL being
  // fetched gets `target` added to its waiters; otherwise the fetch is queued, or dropped
  // (counted) when the queue is full.
  void submit(preview_target target);

  // Lets the workers finish the fetch in hand (each bounded by --preview-timeout) and drops what
  // still waits. Idempotent.
  void stop();

  preview_stats& stats() noexcept { return *stats_; }
  // For callbacks that may outlive the previewer (a publish acknowledged after a stop).
  const std::shared_ptr<preview_stats>& shared_stats() const noexcept { return stats_; }

 private:
  void work();
  void finish(const std::string& url, const std::optional<proto::link_preview>& preview, bool cacheable);

  previewer_settings settings_;
  sink sink_;
  resolver resolve_;
  std::shared_ptr<preview_stats> stats_ = std::make_shared<preview_stats>();

  std::mutex mutex_;
  preview_cache cache_;                                                     // guarded by mutex_
  std::unordered_map<std::string, std::vector<preview_target>> in_flight_;  // url -> waiters; guarded by mutex_
  std::atomic<bool> stopping_{false};
  common::bounded_queue<std::string> queue_;  // URLs to fetch
  std::vector<std::thread> workers_;          // last: they use everything above
};

}  // namespace chat::chatd::preview
