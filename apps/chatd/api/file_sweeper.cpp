#include "api/file_sweeper.hpp"

#include <chat/log/log.hpp>

#include <boost/asio/post.hpp>

namespace chat::chatd::api {

file_sweeper::file_sweeper(boost::asio::any_io_executor executor, store::db_pool& pool,
                           std::chrono::milliseconds interval, std::chrono::seconds retention)
    : timer_(std::move(executor)), pool_(pool), interval_(interval), retention_(retention) {}

void file_sweeper::start() { arm(); }

void file_sweeper::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
}

void file_sweeper::arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // stopped
    self->sweep();
    self->arm();
  });
}

void file_sweeper::sweep() {
  if (busy_.exchange(true)) return;  // the previous sweep still runs (a slow database)
  const bool queued = pool_.submit([self = shared_from_this()](store::db_context& ctx) {
    if (ctx.db != nullptr) {
      const auto done = store::remove_unreferenced_files(*ctx.db, self->retention_);
      if (!done) {
        // A blob that an upload committed to while this ran (its foreign key refuses the delete):
        // the next sweep gets the rest.
        log::warn("file clean-up failed", {{"error", done.error().message}, {"sqlstate", done.error().sqlstate}});
      } else if (done->files > 0 || done->blobs > 0) {
        log::info("file clean-up", {{"files", done->files}, {"blobs", done->blobs}});
        if (self->on_swept_) self->on_swept_(*done);
      }
    }
    self->busy_ = false;
  });
  if (!queued) busy_ = false;  // the pool is full or stopping: next time
}

}  // namespace chat::chatd::api
