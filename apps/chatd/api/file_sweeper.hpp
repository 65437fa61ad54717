#pragma once
// The periodic clean-up of uploads (SPEC §16, docs/rest.md "Files"): every
// --file-cleanup-interval, a db_pool job removes the uploads older than --file-retention that no
// message names, then the blobs no upload uses (store::remove_unreferenced_files). Every node
// runs one; the statements are safe to run concurrently (SKIP LOCKED), so no leader is needed.
#include "store/db_pool.hpp"
#include "store/files.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace chat::chatd::api {

class file_sweeper : public std::enable_shared_from_this<file_sweeper> {
 public:
  // `pool` must outlive the jobs this submits (the app stops the pool after the I/O loop).
  file_sweeper(boost::asio::any_io_executor executor, store::db_pool& pool, std::chrono::milliseconds interval,
               std::chrono::seconds retention);

  // Called on a pool worker after each sweep that removed something. Set before start().
  void on_swept(std::function<void(const store::file_cleanup&)> fn) { on_swept_ = std::move(fn); }

  void start();
  // Stops the timer; a sweep already queued still runs. Any thread.
  void stop();

 private:
  void arm();
  void sweep();

  boost::asio::steady_timer timer_;
  store::db_pool& pool_;
  const std::chrono::milliseconds interval_;
  const std::chrono::seconds retention_;
  std::function<void(const store::file_cleanup&)> on_swept_;
  std::atomic<bool> busy_{false};  // one sweep at a time per node
};

}  // namespace chat::chatd::api
