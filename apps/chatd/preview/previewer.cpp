#include "preview/previewer.hpp"

#include "preview/html_meta.hpp"

#include <chat/log/log.hpp>

#include <algorithm>

namespace chat::chatd::preview {
namespace {

// Refusals decided by the page or by the host's addresses stay true for a while: remembered in
// the cache like a preview. Failures that may pass (a lookup, a connect, TLS, a timeout, a
// broken response) are not.
bool remembered(failure f) noexcept {
  switch (f) {
    case failure::http_status:
    case failure::no_metadata: return true;
    case failure::dns:
    case failure::connect:
    case failure::tls:
    case failure::timeout:
    case failure::bad_response:
    case failure::publish: return false;
  }
  return false;
}

}  // namespace

previewer::previewer(previewer_settings settings, sink on_preview, resolver resolve)
    : settings_(std::move(settings)),
      sink_(std::move(on_preview)),
      resolve_(std::move(resolve)),
      cache_(settings_.cache_entries, settings_.cache_ttl),
      queue_(settings_.queue) {
  const int workers = std::max(1, settings_.workers);
  workers_.reserve(static_cast<std::size_t>(workers));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

previewer::~previewer() { stop(); }

void previewer::stop() {
  stopping_.store(true, std::memory_order_release);
  queue_.close();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

void previewer::submit(preview_target target) {
  if (stopping_.load(std::memory_order_acquire)) {
    stats_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  proto::link_preview hit;
  {
    std::lock_guard lock(mutex_);
    if (const auto found = cache_.find(target.url, preview_cache::clock::now())) {
      stats_->cached.fetch_add(1, std::memory_order_relaxed);
      if (!*found) return;  // that page gave no preview a moment ago
      hit = **found;
    } else if (const auto it = in_flight_.find(target.url); it != in_flight_.end()) {
      if (it->second.size() >= max_waiters_per_url) {
        stats_->dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      it->second.push_back(std::move(target));
      stats_->cached.fetch_add(1, std::memory_order_relaxed);
      return;
    } else {
      std::string url = target.url;
      if (!queue_.push(std::move(url))) {
        stats_->dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      auto& waiters = in_flight_[target.url];
      waiters.push_back(std::move(target));
      return;
    }
  }
  sink_(target, hit);
}

void previewer::finish(const std::string& url, const std::optional<proto::link_preview>& preview, bool cacheable) {
  std::vector<preview_target> waiters;
  {
    std::lock_guard lock(mutex_);
    if (cacheable) cache_.put(url, preview, preview_cache::clock::now());
    if (auto node = in_flight_.extract(url)) waiters = std::move(node.mapped());
  }
  if (!preview) return;
  for (const auto& w : waiters) sink_(w, *preview);
}

void previewer::work() {
  page_fetcher fetcher(settings_.policy, settings_.limits, resolve_);
  while (auto next = queue_.pop()) {
    const std::string& text = *next;
    if (stopping_.load(std::memory_order_acquire)) {
      std::size_t waiting = 0;
      {
        std::lock_guard lock(mutex_);
        if (auto node = in_flight_.extract(text)) waiting = node.mapped().size();
      }
      stats_->dropped.fetch_add(waiting, std::memory_order_relaxed);
      continue;
    }
    auto parsed = parse_url(text);
    if (!parsed) {
      stats_->refuse(parsed.error());
      log::info("link preview refused", {{"reason", to_string(parsed.error())}, {"url", text}});
      finish(text, std::nullopt, true);
      continue;
    }
    fetch_result r = fetcher.fetch(*parsed);
    if (r.refused) {
      stats_->refuse(*r.refused);
      log::info("link preview refused", {{"reason", to_string(*r.refused)}, {"url", text}, {"detail", r.detail}});
      finish(text, std::nullopt, true);
      continue;
    }
    if (r.failed) {
      stats_->fail(*r.failed);
      log::info("link preview failed", {{"reason", to_string(*r.failed)}, {"url", text}, {"detail", r.detail}});
      finish(text, std::nullopt, remembered(*r.failed));
      continue;
    }
    const page_meta meta = read_page_meta(r.page.body, r.page.charset);
    auto preview = make_preview(text, r.page.final_url, meta);
    if (!preview) {
      stats_->fail(failure::no_metadata);
      log::debug("link preview: the page has no title or description", {{"url", text}});
      finish(text, std::nullopt, remembered(failure::no_metadata));
      continue;
    }
    stats_->fetched.fetch_add(1, std::memory_order_relaxed);
    finish(text, preview, true);
  }
}

}  // namespace chat::chatd::preview
