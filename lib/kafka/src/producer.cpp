#include <chat/kafka/producer.hpp>

#include "handle.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace chat::kafka {

namespace {

// The cookie travels as librdkafka's per-message opaque pointer: no allocation per record.
static_assert(sizeof(void*) >= sizeof(std::uint64_t), "the cookie is stored in a pointer");

// Kafka limits topic names to 249 characters; produce() copies the name here to
// terminate it without allocating.
constexpr std::size_t max_topic_length = 249;

// How long stop() waits for the reports of purged records after the flush timeout.
constexpr std::chrono::seconds purge_report_wait{5};

// How often the poll thread wakes when there is nothing to serve (stop() also wakes it).
constexpr int poll_interval_ms = 100;

const settings& producer_defaults() {
  static const settings defaults{
      {"acks", "all"},
      {"enable.idempotence", "true"},
      {"linger.ms", "5"},
      {"partitioner", "murmur2_random"},
      {"message.timeout.ms", "30000"},
  };
  return defaults;
}

}  // namespace

struct producer::impl {
  delivery_handler on_delivery;
  detail::handle_ptr rk;

  // produce() holds it shared while it checks `stopped` and enqueues; stop() holds it
  // exclusively to set `stopped`, so no record can slip in after stop() began.
  std::shared_mutex produce_mutex;
  bool stopped = false;

  std::atomic<std::size_t> in_flight{0};
  std::mutex drained_mutex;
  std::condition_variable drained;  // notified when in_flight drops to 0

  std::atomic<bool> stop_polling{false};
  std::thread poll_thread;

  static void on_delivery_report(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) noexcept;
  void poll_loop();
  std::size_t wait_drained(std::chrono::steady_clock::time_point deadline);
};

void producer::impl::on_delivery_report(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) noexcept {
  auto* self = static_cast<impl*>(opaque);
  delivery_report report;
  report.cookie = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private));
  report.ok = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
  report.partition = m->partition;
  if (report.ok) {
    report.offset = m->offset;
  } else {
    report.error = rd_kafka_err2str(m->err);
    report.code = detail::to_error_code(m->err);
  }
  // noexcept: an exception from the handler terminates (documented in the header).
  self->on_delivery(report);
  if (self->in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard lock(self->drained_mutex);
    self->drained.notify_all();
  }
}

void producer::impl::poll_loop() {
  while (!stop_polling.load(std::memory_order_acquire)) {
    rd_kafka_poll(rk.get(), poll_interval_ms);
  }
}

std::size_t producer::impl::wait_drained(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(drained_mutex);
  drained.wait_until(lock, deadline, [this] { return in_flight.load(std::memory_order_acquire) == 0; });
  return in_flight.load(std::memory_order_acquire);
}

producer::producer(const settings& s, delivery_handler on_delivery) : impl_(std::make_unique<impl>()) {
  impl_->on_delivery = std::move(on_delivery);
  auto conf = detail::make_conf(s, producer_defaults());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &impl::on_delivery_report);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  impl_->rk = detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf));
  impl_->poll_thread = std::thread([p = impl_.get()] { p->poll_loop(); });
}

producer::~producer() { stop(std::chrono::milliseconds{0}); }

std::error_code producer::produce(std::string_view topic, std::int32_t partition, std::string_view key,
                                  std::string_view value, std::span<const header_view> headers, std::uint64_t cookie) {
  if (topic.empty() || topic.size() > max_topic_length) {
    return detail::to_error_code(RD_KAFKA_RESP_ERR__INVALID_ARG);
  }
  std::array<char, max_topic_length + 1> topic_name;
  std::memcpy(topic_name.data(), topic.data(), topic.size());
  topic_name[topic.size()] = '\0';

  rd_kafka_headers_t* hdrs = nullptr;
  if (!headers.empty()) {
    hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& h : headers) {
      rd_kafka_header_add(hdrs, h.name.data(), static_cast<ssize_t>(h.name.size()), h.value.data(),
                          static_cast<ssize_t>(h.value.size()));
    }
  }

  std::shared_lock lock(impl_->produce_mutex);
  if (impl_->stopped) {
    if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
    return detail::to_error_code(RD_KAFKA_RESP_ERR__DESTROY);
  }
  // Counted before enqueueing: the report may arrive before producev returns.
  impl_->in_flight.fetch_add(1, std::memory_order_acq_rel);
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      impl_->rk.get(), RD_KAFKA_V_TOPIC(topic_name.data()),
      RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(hdrs),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(cookie))), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // The headers belong to the record only when producev succeeded.
    if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
    impl_->in_flight.fetch_sub(1, std::memory_order_acq_rel);
    return detail::to_error_code(err);
  }
  return {};
}

std::size_t producer::in_flight() const { return impl_->in_flight.load(std::memory_order_acquire); }

std::size_t producer::flush(std::chrono::milliseconds timeout) {
  return impl_->wait_drained(std::chrono::steady_clock::now() + timeout);
}

void producer::stop(std::chrono::milliseconds flush_timeout) {
  {
    std::unique_lock lock(impl_->produce_mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  if (flush(flush_timeout) > 0) {
    rd_kafka_purge(impl_->rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // The purged records' reports are served by the poll thread, as all others.
    impl_->wait_drained(std::chrono::steady_clock::now() + purge_report_wait);
  }
  impl_->stop_polling.store(true, std::memory_order_release);
  if (rd_kafka_queue_t* main_queue = rd_kafka_queue_get_main(impl_->rk.get())) {
    rd_kafka_queue_yield(main_queue);
    rd_kafka_queue_destroy(main_queue);
  }
  if (impl_->poll_thread.joinable()) impl_->poll_thread.join();
}

std::int32_t key_partition(std::string_view key, std::int32_t partitions) {
  if (partitions <= 0) return 0;
  // The topic handle and opaques are not used by this partitioner.
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
}

}  // namespace chat::kafka
