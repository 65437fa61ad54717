#include <chat/kafka/admin.hpp>

#include "handle.hpp"

#include <map>

namespace chat::kafka {

struct admin::impl {
  detail::handle_ptr rk;
};

namespace {

struct queue_deleter {
  void operator()(rd_kafka_queue_t* q) const noexcept { rd_kafka_queue_destroy(q); }
};
struct event_deleter {
  void operator()(rd_kafka_event_t* e) const noexcept { rd_kafka_event_destroy(e); }
};
struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* m) const noexcept { rd_kafka_metadata_destroy(m); }
};
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;

// Admin requests need a positive timeout (0 would mean "do not wait").
int admin_timeout_ms(std::chrono::milliseconds t) { return static_cast<int>(std::max<std::int64_t>(1, t.count())); }

// Partition counts of every topic in the cluster, or an error string.
std::string fetch_partition_counts(rd_kafka_t* rk, std::chrono::milliseconds timeout, std::map<std::string, int>& out) {
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, admin_timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return rd_kafka_err2str(err);
  metadata_ptr md{raw};
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR) out[t.topic] = t.partition_cnt;
  }
  return {};
}

}  // namespace

admin::admin(const settings& s) : impl_(std::make_unique<impl>()) {
  impl_->rk = detail::make_handle(RD_KAFKA_PRODUCER, detail::make_conf(s));
}

admin::~admin() = default;

std::string admin::ping(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  // all_topics=0 with no topic handle asks for brokers only: the cheapest round trip.
  const rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->rk.get(), 0, nullptr, &raw, admin_timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return rd_kafka_err2str(err);
  metadata_ptr md{raw};
  if (md->broker_cnt == 0) return "no brokers in metadata";
  return {};
}

int admin::partition_count(const std::string& topic, std::chrono::milliseconds timeout) {
  std::map<std::string, int> counts;
  if (!fetch_partition_counts(impl_->rk.get(), timeout, counts).empty()) return -1;
  const auto it = counts.find(topic);
  return it == counts.end() ? -1 : it->second;
}

int admin::request_topic(const std::string& topic, std::chrono::milliseconds timeout) {
  struct topic_deleter {
    void operator()(rd_kafka_topic_t* t) const noexcept { rd_kafka_topic_destroy(t); }
  };
  const std::unique_ptr<rd_kafka_topic_t, topic_deleter> rkt{
      rd_kafka_topic_new(impl_->rk.get(), topic.c_str(), nullptr)};
  if (!rkt) return -1;
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->rk.get(), 0, rkt.get(), &raw, admin_timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  metadata_ptr md{raw};
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic == t.topic && t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) return t.partition_cnt;
  }
  return -1;
}

std::vector<topic_outcome> admin::ensure_topics(const std::vector<topic_spec>& topics,
                                                std::chrono::milliseconds timeout) {
  std::vector<topic_outcome> out;
  out.reserve(topics.size());
  for (const auto& t : topics) out.push_back(topic_outcome{t.name});

  std::map<std::string, int> existing;
  if (auto err = fetch_partition_counts(impl_->rk.get(), timeout, existing); !err.empty()) {
    for (auto& o : out) o.error = "metadata: " + err;
    return out;
  }

  std::vector<rd_kafka_NewTopic_t*> new_topics;
  std::vector<std::size_t> new_index;
  char errbuf[512];
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (existing.count(topics[i].name) != 0) continue;
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topics[i].name.c_str(), topics[i].partitions,
                                                    topics[i].replication_factor, errbuf, sizeof errbuf);
    if (nt == nullptr) {
      out[i].error = errbuf;
      continue;
    }
    for (const auto& [name, value] : topics[i].configs) {
      rd_kafka_NewTopic_set_config(nt, name.c_str(), value.c_str());
    }
    new_topics.push_back(nt);
    new_index.push_back(i);
  }

  if (!new_topics.empty()) {
    std::unique_ptr<rd_kafka_queue_t, queue_deleter> queue{rd_kafka_queue_new(impl_->rk.get())};
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(impl_->rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(options, admin_timeout_ms(timeout), errbuf, sizeof errbuf);
    rd_kafka_AdminOptions_set_request_timeout(options, admin_timeout_ms(timeout), errbuf, sizeof errbuf);
    rd_kafka_CreateTopics(impl_->rk.get(), new_topics.data(), new_topics.size(), options, queue.get());
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());

    std::unique_ptr<rd_kafka_event_t, event_deleter> ev{
        rd_kafka_queue_poll(queue.get(), admin_timeout_ms(timeout) + 1000)};
    if (!ev) {
      for (std::size_t i : new_index) out[i].error = "CreateTopics timed out";
    } else if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (std::size_t i : new_index)
        out[i].error = std::string("CreateTopics: ") + rd_kafka_event_error_string(ev.get());
    } else if (const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev.get())) {
      std::size_t cnt = 0;
      const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &cnt);
      for (std::size_t r = 0; r < cnt; ++r) {
        const std::string name = rd_kafka_topic_result_name(results[r]);
        const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[r]);
        for (std::size_t i : new_index) {
          if (out[i].name != name) continue;
          if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            out[i].created = true;
          } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const char* msg = rd_kafka_topic_result_error_string(results[r]);
            out[i].error = msg != nullptr ? msg : rd_kafka_err2str(err);
          }
        }
      }
    }
  }

  // Whatever CreateTopics said, the metadata decides.
  existing.clear();
  if (auto err = fetch_partition_counts(impl_->rk.get(), timeout, existing); !err.empty()) {
    for (auto& o : out) {
      if (o.error.empty()) o.error = "metadata: " + err;
    }
    return out;
  }
  for (std::size_t i = 0; i < topics.size(); ++i) {
    const auto it = existing.find(topics[i].name);
    if (it == existing.end()) {
      if (out[i].error.empty()) out[i].error = "topic missing after CreateTopics";
      continue;
    }
    out[i].partitions = it->second;
    if (it->second != topics[i].partitions) {
      out[i].error =
          "topic has " + std::to_string(it->second) + " partitions, expected " + std::to_string(topics[i].partitions);
      continue;
    }
    out[i].ok = true;
    out[i].error.clear();
  }
  return out;
}

}  // namespace chat::kafka
