// The previewer's bookkeeping (preview/previewer.hpp): a bounded queue that drops and counts, one
// fetch per URL however many messages wait for it, refusals remembered per URL. No packet is
// sent: the injected resolver answers with private addresses (refused before any connect) or
// holds a worker until the test lets it go.
#include "preview/previewer.hpp"

#include <chat_test/eventually.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace chat::chatd::preview {
namespace {

using chat::test::eventually;

// A resolver whose answers the test controls: "held.example" blocks until released; every name
// resolves to a private address, so each fetch ends refused, before any connection.
class gate_dns {
 public:
  resolver get() {
    return [this](const std::string& host) {
      std::unique_lock lock(mutex_);
      asked_.push_back(host);
      cv_.notify_all();
      if (host == "held.example") cv_.wait(lock, [this] { return released_; });
      resolution r;
      r.addresses.push_back(*parse_ip("10.0.0.1"));
      return r;
    };
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<std::string> asked() {
    std::lock_guard lock(mutex_);
    return asked_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> asked_;
  bool released_ = false;
};

// Declared after the previewer: lets a held lookup go before the previewer joins its workers,
// also when an assertion ends the test early.
struct release_on_exit {
  gate_dns& dns;
  ~release_on_exit() { dns.release(); }
};

previewer_settings one_worker(std::size_t queue) {
  previewer_settings s;
  s.workers = 1;
  s.queue = queue;
  return s;
}

preview_target target(std::int64_t id, std::string url) { return {id, 1, 2, "ann", std::move(url)}; }

std::uint64_t refused(previewer& p, refusal r) { return p.stats().refused[static_cast<std::size_t>(r)].load(); }

TEST(Previewer, AFullQueueDropsAndCounts) {
  gate_dns dns;
  std::vector<std::int64_t> previewed;
  previewer p(
      one_worker(1), [&](const preview_target& t, const proto::link_preview&) { previewed.push_back(t.message_id); },
      dns.get());
  const release_on_exit guard{dns};
  p.submit(target(1, "http://held.example/"));  // the worker takes it and waits in the lookup
  ASSERT_TRUE(eventually([&] { return dns.asked().size() == 1; }));
  p.submit(target(2, "http://queued.example/"));   // waits in the queue (1)
  p.submit(target(3, "http://dropped.example/"));  // the queue is full
  EXPECT_EQ(p.stats().dropped.load(), 1u);
  dns.release();
  ASSERT_TRUE(eventually([&] { return refused(p, refusal::private_net) == 2; }));
  EXPECT_EQ(dns.asked(), (std::vector<std::string>{"held.example", "queued.example"}));
  EXPECT_TRUE(previewed.empty());
}

TEST(Previewer, OneFetchPerUrlAndRefusalsAreRemembered) {
  gate_dns dns;
  previewer p(
      one_worker(8), [](const preview_target&, const proto::link_preview&) {}, dns.get());
  const release_on_exit guard{dns};
  p.submit(target(1, "http://held.example/a"));
  ASSERT_TRUE(eventually([&] { return dns.asked().size() == 1; }));
  p.submit(target(2, "http://held.example/a"));  // the same URL, while its fetch is under way
  p.submit(target(3, "http://held.example/a"));
  EXPECT_EQ(p.stats().cached.load(), 2u);
  dns.release();
  ASSERT_TRUE(eventually([&] { return refused(p, refusal::private_net) == 1; }));
  p.submit(target(4, "http://held.example/a"));  // remembered: no second lookup
  EXPECT_EQ(p.stats().cached.load(), 3u);
  EXPECT_EQ(dns.asked().size(), 1u);
  EXPECT_EQ(refused(p, refusal::private_net), 1u);
}

TEST(Previewer, UrlsRefusedByTheirTextNeedNoLookup) {
  gate_dns dns;
  previewer p(
      one_worker(8), [](const preview_target&, const proto::link_preview&) {}, dns.get());
  p.submit(target(1, "http://user:pw@example.com/"));
  p.submit(target(2, "http://example.com:8080/"));
  p.submit(target(3, "http://[::ffff:169.254.169.254]/latest/meta-data/"));
  ASSERT_TRUE(eventually([&] {
    return refused(p, refusal::bad_url) == 1 && refused(p, refusal::port) == 1 && refused(p, refusal::link_local) == 1;
  }));
  EXPECT_TRUE(dns.asked().empty());
}

TEST(Previewer, AfterStopEverythingIsDropped) {
  gate_dns dns;
  previewer p(
      one_worker(8), [](const preview_target&, const proto::link_preview&) {}, dns.get());
  p.stop();
  p.submit(target(1, "http://example.com/"));
  EXPECT_EQ(p.stats().dropped.load(), 1u);
  EXPECT_TRUE(dns.asked().empty());
}

}  // namespace
}  // namespace chat::chatd::preview
