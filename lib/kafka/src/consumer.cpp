#include <chat/kafka/consumer.hpp>

#include "handle.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

namespace chat::kafka {

namespace {

// seek() waits this long for the fetcher to take the new position.
constexpr int seek_timeout_ms = 5000;

const settings& consumer_defaults() {
  static const settings defaults{
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
  };
  return defaults;
}

const rd_kafka_message_t* raw(const void* m) { return static_cast<const rd_kafka_message_t*>(m); }

std::vector<topic_partition> to_vector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<topic_partition> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& p = list->elems[i];
    out.push_back(topic_partition{p.topic, p.partition, p.offset});
  }
  return out;
}

detail::partition_list_ptr to_list(const std::vector<topic_partition>& partitions) {
  detail::partition_list_ptr list{rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()))};
  for (const auto& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = tp.offset;
  }
  return list;
}

}  // namespace

// ---- record ----------------------------------------------------------------------------

// record::message is never defined: a record::message* is the rd_kafka_message_t* it
// was made from, and is only ever cast back.
void record::message_deleter::operator()(message* m) const noexcept {
  rd_kafka_message_destroy(reinterpret_cast<rd_kafka_message_t*>(m));
}

record::record(message* m, std::shared_ptr<const void> client) noexcept : client_(std::move(client)), msg_(m) {}

record::record(record&& other) noexcept = default;

record& record::operator=(record&& other) noexcept {
  // Release the old message while its client is still held.
  msg_ = std::move(other.msg_);
  client_ = std::move(other.client_);
  return *this;
}

record::~record() = default;

std::string_view record::topic() const { return rd_kafka_topic_name(raw(msg_.get())->rkt); }

std::int32_t record::partition() const { return raw(msg_.get())->partition; }

std::int64_t record::offset() const { return raw(msg_.get())->offset; }

std::string_view record::key() const {
  const auto* m = raw(msg_.get());
  if (m->key == nullptr) return {};
  return {static_cast<const char*>(m->key), m->key_len};
}

std::string_view record::value() const {
  const auto* m = raw(msg_.get());
  if (m->payload == nullptr) return {};
  return {static_cast<const char*>(m->payload), m->len};
}

std::int64_t record::timestamp_ms() const {
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  return rd_kafka_message_timestamp(raw(msg_.get()), &type);
}

std::optional<std::string_view> record::header(std::string_view name) const {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(raw(msg_.get()), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  // Compared here rather than with rd_kafka_header_get(), which needs a terminated name.
  const char* n = nullptr;
  const void* v = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &n, &v, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    if (name == n) return v == nullptr ? std::string_view{} : std::string_view{static_cast<const char*>(v), size};
  }
  return std::nullopt;
}

std::vector<header_view> record::headers() const {
  std::vector<header_view> out;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(raw(msg_.get()), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  out.reserve(rd_kafka_header_cnt(hdrs));
  const char* n = nullptr;
  const void* v = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &n, &v, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.push_back(
        header_view{n, v == nullptr ? std::string_view{} : std::string_view{static_cast<const char*>(v), size}});
  }
  return out;
}

// ---- consumer --------------------------------------------------------------------------

struct consumer::impl {
  partitions_handler on_assign;
  partitions_handler on_revoke;
  bool closed = false;

  // Offsets committed by this member, per assigned partition, for lag().
  mutable std::mutex committed_mutex;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> committed;

  // Declared last so it is destroyed first, while the callbacks above still exist.
  detail::handle_ptr rk;

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque) noexcept;
};

void consumer::impl::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                  void* opaque) noexcept {
  auto* self = static_cast<impl*>(opaque);
  // Eager by default; the cooperative branch keeps partition.assignment.strategy=
  // cooperative-sticky in the settings working too.
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      detail::error_ptr{rd_kafka_incremental_assign(rk, partitions)};
    } else {
      rd_kafka_assign(rk, partitions);
    }
    if (self->on_assign) self->on_assign(to_vector(partitions));
    return;
  }
  // REVOKE_PARTITIONS, or a rebalance error: give up what was assigned.
  if (self->on_revoke) self->on_revoke(to_vector(partitions));
  {
    std::lock_guard lock(self->committed_mutex);
    for (int i = 0; partitions != nullptr && i < partitions->cnt; ++i) {
      self->committed.erase({partitions->elems[i].topic, partitions->elems[i].partition});
    }
  }
  if (cooperative) {
    detail::error_ptr{rd_kafka_incremental_unassign(rk, partitions)};
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

consumer::consumer(const settings& s, std::string group_id, std::vector<std::string> topics)
    : impl_(std::make_shared<impl>()) {
  settings with_group = s;
  with_group.emplace_back("group.id", std::move(group_id));
  auto conf = detail::make_conf(with_group, consumer_defaults());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &impl::on_rebalance);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  impl_->rk = detail::make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  // Rebalances, errors and messages all come out of rd_kafka_consumer_poll().
  rd_kafka_poll_set_consumer(impl_->rk.get());

  detail::partition_list_ptr subscription{rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()))};
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (const auto err = rd_kafka_subscribe(impl_->rk.get(), subscription.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    close();
    throw std::runtime_error(std::string("kafka subscribe: ") + rd_kafka_err2str(err));
  }
}

consumer::~consumer() { close(); }

std::vector<record> consumer::poll(std::size_t max, std::chrono::milliseconds timeout, std::error_code& ec) {
  ec.clear();
  std::vector<record> out;
  if (impl_->closed || max == 0) return out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < max) {
    int wait_ms = 0;
    if (out.empty()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = detail::timeout_ms(left);
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk.get(), wait_ms);
    if (m == nullptr) {
      if (out.empty() && std::chrono::steady_clock::now() < deadline) continue;
      break;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.push_back(record(reinterpret_cast<record::message*>(m), impl_));
      continue;
    }
    const rd_kafka_resp_err_t err = m->err;
    rd_kafka_message_destroy(m);
    if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    ec = detail::to_error_code(err);
    break;
  }
  return out;
}

std::error_code consumer::commit(const std::vector<topic_partition>& offsets) {
  if (offsets.empty()) return {};
  const auto list = to_list(offsets);
  const rd_kafka_resp_err_t err = rd_kafka_commit(impl_->rk.get(), list.get(), 0 /* synchronous */);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return detail::to_error_code(err);
  std::lock_guard lock(impl_->committed_mutex);
  for (const auto& tp : offsets) impl_->committed[{tp.topic, tp.partition}] = tp.offset;
  return {};
}

void consumer::pause(const std::vector<topic_partition>& partitions) {
  const auto list = to_list(partitions);
  rd_kafka_pause_partitions(impl_->rk.get(), list.get());
}

void consumer::resume(const std::vector<topic_partition>& partitions) {
  const auto list = to_list(partitions);
  rd_kafka_resume_partitions(impl_->rk.get(), list.get());
}

std::error_code consumer::seek(const topic_partition& tp) {
  const auto list = to_list({tp});
  if (detail::error_ptr error{rd_kafka_seek_partitions(impl_->rk.get(), list.get(), seek_timeout_ms)}) {
    return detail::to_error_code(rd_kafka_error_code(error.get()));
  }
  if (list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) return detail::to_error_code(list->elems[0].err);
  return {};
}

std::vector<topic_partition> consumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw_list = nullptr;
  if (rd_kafka_assignment(impl_->rk.get(), &raw_list) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const detail::partition_list_ptr list{raw_list};
  rd_kafka_position(impl_->rk.get(), list.get());
  return to_vector(list.get());
}

void consumer::on_assign(partitions_handler handler) { impl_->on_assign = std::move(handler); }

void consumer::on_revoke(partitions_handler handler) { impl_->on_revoke = std::move(handler); }

std::vector<std::pair<topic_partition, std::int64_t>> consumer::lag() {
  std::vector<std::pair<topic_partition, std::int64_t>> out;
  for (auto& tp : assignment()) {
    {
      std::lock_guard lock(impl_->committed_mutex);
      if (const auto it = impl_->committed.find({tp.topic, tp.partition}); it != impl_->committed.end()) {
        tp.offset = it->second;
      }
    }
    std::int64_t low = RD_KAFKA_OFFSET_INVALID;
    std::int64_t high = RD_KAFKA_OFFSET_INVALID;
    rd_kafka_get_watermark_offsets(impl_->rk.get(), tp.topic.c_str(), tp.partition, &low, &high);
    const std::int64_t lag = (high >= 0 && tp.offset >= 0) ? std::max<std::int64_t>(0, high - tp.offset) : -1;
    out.emplace_back(std::move(tp), lag);
  }
  return out;
}

void consumer::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  rd_kafka_consumer_close(impl_->rk.get());
}

}  // namespace chat::kafka
