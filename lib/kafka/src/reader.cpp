#include <chat/kafka/reader.hpp>

#include "handle.hpp"

#include <algorithm>
#include <limits>

namespace chat::kafka {

namespace {

const settings& reader_defaults() {
  static const settings defaults{
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      // Never joined (the reader only assigns); librdkafka needs one for its consumer queue.
      {"group.id", "chat-kafka-reader"},
  };
  return defaults;
}

}  // namespace

struct reader::impl {
  detail::handle_ptr rk;
  ~impl() {
    if (rk) rd_kafka_consumer_close(rk.get());
  }
};

reader::reader(const settings& s) : impl_(std::make_shared<impl>()) {
  impl_->rk = detail::make_handle(RD_KAFKA_CONSUMER, detail::make_conf(s, reader_defaults()));
  rd_kafka_poll_set_consumer(impl_->rk.get());
}

reader::~reader() = default;

std::error_code reader::query_watermarks(const std::string& topic, std::int32_t partition, watermarks& out,
                                         std::chrono::milliseconds timeout) {
  std::int64_t low = -1;
  std::int64_t high = -1;
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(impl_->rk.get(), topic.c_str(), partition, &low,
                                                                   &high, detail::timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return detail::to_error_code(err);
  out = watermarks{low, high};
  return {};
}

std::error_code reader::assign(const std::vector<topic_partition>& partitions) {
  if (partitions.empty()) {
    const rd_kafka_resp_err_t err = rd_kafka_assign(impl_->rk.get(), nullptr);
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? std::error_code{} : detail::to_error_code(err);
  }
  detail::partition_list_ptr list{rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()))};
  for (const auto& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = tp.offset;
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(impl_->rk.get(), list.get());
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? std::error_code{} : detail::to_error_code(err);
}

std::vector<record> reader::poll(std::size_t max, std::chrono::milliseconds timeout,
                                 std::vector<topic_partition>& at_end, std::error_code& ec) {
  ec.clear();
  std::vector<record> out;
  if (max == 0) return out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::size_t ends_before = at_end.size();
  const auto nothing_yet = [&] { return out.empty() && at_end.size() == ends_before; };
  while (out.size() < max) {
    int wait_ms = 0;
    if (nothing_yet()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = detail::timeout_ms(left);
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk.get(), wait_ms);
    if (m == nullptr) {
      if (nothing_yet() && std::chrono::steady_clock::now() < deadline) continue;
      break;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.push_back(record(reinterpret_cast<record::message*>(m), impl_));
      continue;
    }
    const rd_kafka_resp_err_t err = m->err;
    if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->rkt != nullptr) {
      at_end.push_back(topic_partition{rd_kafka_topic_name(m->rkt), m->partition, m->offset});
      rd_kafka_message_destroy(m);
      continue;
    }
    rd_kafka_message_destroy(m);
    ec = detail::to_error_code(err);
    break;
  }
  return out;
}

}  // namespace chat::kafka
