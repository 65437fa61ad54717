#include "gateway/room_stream.hpp"

#include "metrics/chat_metrics.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/rest.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <mutex>
#include <utility>

namespace chat::gateway {

namespace net = boost::asio;

namespace {

// One reader: the feed's sink, the stream's writer and the heart-beat timer.
class sse_reader final : public room_feed_sink, public std::enable_shared_from_this<sse_reader> {
 public:
  sse_reader(room_feed& feed, const net::any_io_executor& executor, room_stream_settings settings,
             metrics::chat_metrics* metrics, std::int64_t user_id)
      : feed_(feed), timer_(net::make_strand(executor)), settings_(settings), metrics_(metrics), user_id_(user_id) {}

  void start(std::shared_ptr<http::stream_writer> writer) {
    {
      std::lock_guard lock(mutex_);
      writer_ = std::move(writer);
    }
    if (metrics_ != nullptr) metrics_->sse_connections.add(1);
    arm_heartbeat();
  }

  // room_feed_sink: under the feed's lock; the writer only posts.
  void feed_event(const std::shared_ptr<const room_feed_item>& item) override {
    std::string text;
    text.reserve(item->json->size() + 64);
    text.append("id: ").append(feed_.event_id(*item)).append("\nevent: ");
    text.append(item->event);
    text.append("\ndata: ").append(*item->json).append("\n\n");
    if (send(std::move(text)) && metrics_ != nullptr) metrics_->sse_events_sent.inc();
  }

  void feed_closed() override {
    std::shared_ptr<http::stream_writer> w;
    {
      std::lock_guard lock(mutex_);
      w = writer_;
    }
    if (w) w->close();
  }

  // The stream's token was revoked (live_tokens sweep, any thread): tell the reader, end it.
  void token_revoked() {
    std::shared_ptr<http::stream_writer> w;
    {
      std::lock_guard lock(mutex_);
      live_token_ = 0;
      w = writer_;
    }
    if (!w) return;
    w->write("event: error\ndata: {\"message\":\"token revoked\"}\n\n");
    w->close();
  }

  void watch_token(chatd::tokens::live_tokens::handle h) {
    {
      std::lock_guard lock(mutex_);
      if (writer_) {
        live_token_ = h;
        return;
      }
    }
    settings_.live_tokens->remove(h);  // the stream ended already
  }

  void ended(http::stream_end why) {
    feed_.detach(user_id_, this);
    chatd::tokens::live_tokens::handle token = 0;
    {
      std::lock_guard lock(mutex_);
      token = std::exchange(live_token_, 0);
    }
    if (token != 0 && settings_.live_tokens != nullptr) settings_.live_tokens->remove(token);
    net::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
    {
      std::lock_guard lock(mutex_);
      writer_.reset();
    }
    if (metrics_ != nullptr) {
      metrics_->sse_connections.add(-1);
      if (why == http::stream_end::slow) {
        metrics_->sse_dropped.inc();
        metrics_->slow_consumer_disconnects.inc();
      }
    }
    if (why == http::stream_end::slow) log::info("room stream reader dropped: not reading", {{"user", user_id_}});
  }

 private:
  bool send(std::string text) {
    std::shared_ptr<http::stream_writer> w;
    {
      std::lock_guard lock(mutex_);
      w = writer_;
    }
    return w && w->write(std::move(text));
  }

  void arm_heartbeat() {
    timer_.expires_after(settings_.heartbeat);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      if (!self->send(": keep-alive\n\n")) return;
      self->arm_heartbeat();
    });
  }

  room_feed& feed_;
  net::steady_timer timer_;
  const room_stream_settings settings_;
  metrics::chat_metrics* const metrics_;
  const std::int64_t user_id_;
  std::mutex mutex_;
  std::shared_ptr<http::stream_writer> writer_;
  chatd::tokens::live_tokens::handle live_token_ = 0;  // under mutex_
};

}  // namespace

void open_room_stream(room_feed& feed, const net::any_io_executor& executor, room_stream_settings settings,
                      metrics::chat_metrics* metrics, const chatd::tokens::token_ref& token,
                      std::string_view last_event_id, const http::stream_opener& open, const http::responder& respond) {
  const std::int64_t user_id = token.user_id;
  if (!open) {
    return respond(
        http::error_response(http::status::internal_server_error, "internal_error", "this connection cannot stream"));
  }
  auto reader = std::make_shared<sse_reader>(feed, executor, settings, metrics, user_id);
  http::response head{http::status::ok, 11};
  head.set(http::bhttp::field::content_type, "text/event-stream; charset=utf-8");
  head.set(http::bhttp::field::cache_control, "no-store");
  head.set("X-Accel-Buffering", "no");
  // The stream owns the reader until it ends (its `ended` callback holds it).
  auto writer = open(std::move(head), [reader](http::stream_end why) { reader->ended(why); });
  reader->start(writer);
  if (settings.live_tokens != nullptr) {
    reader->watch_token(settings.live_tokens->add({user_id, std::string(token.token_id), std::string(token.session_id),
                                                   token.issued_at, [weak = std::weak_ptr<sse_reader>(reader)] {
                                                     if (auto r = weak.lock()) r->token_revoked();
                                                   }}));
  }
  if (!feed.attach(user_id, last_event_id, reader)) writer->close();
}

}  // namespace chat::gateway
