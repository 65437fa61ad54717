#include "mock_cluster.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "log.hpp"

namespace kafka_dev {
namespace {

void on_rdkafka_log(const rd_kafka_t*, int level, const char* facility, const char* buf) {
  // librdkafka uses syslog levels.
  log_level mapped = log_level::debug;
  if (level <= 3) {
    mapped = log_level::error;
  } else if (level == 4) {
    mapped = log_level::warn;
  } else if (level <= 6) {
    mapped = log_level::info;
  }
  // The hosting handle has no bootstrap.servers on purpose; its warning only confuses.
  if (std::string_view(facility) == "CONFWARN" &&
      std::string_view(buf).find("bootstrap.servers") != std::string_view::npos) {
    mapped = log_level::debug;
  }
  std::string line = "rdkafka ";
  line += facility;
  line += ": ";
  line += buf;
  log(mapped, line);
}

std::string describe(rd_kafka_resp_err_t err) {
  std::string out = rd_kafka_err2name(err);
  out += " (";
  out += rd_kafka_err2str(err);
  out += ')';
  return out;
}

}  // namespace

struct mock_cluster::handles {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mcluster = nullptr;
};

mock_cluster::mock_cluster(int broker_count) : handles_(std::make_unique<handles>()), broker_count_(broker_count) {
  if (broker_count < 1) {
    throw std::runtime_error("broker count must be at least 1");
  }
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, on_rdkafka_log);
  const char* level = log_threshold() == log_level::debug ? "7" : "6";
  rd_kafka_conf_set(conf, "log_level", level, errstr, sizeof errstr);
  if (log_threshold() == log_level::debug) {
    // Unknown debug contexts are rejected by older librdkafka; the mock context is
    // optional, so a failure here is ignored.
    rd_kafka_conf_set(conf, "debug", "mock", errstr, sizeof errstr);
  }
  // The handle only hosts the mock cluster; it never produces anything itself.
  handles_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (handles_->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new failed: ") + errstr);
  }
  handles_->mcluster = rd_kafka_mock_cluster_new(handles_->rk, broker_count);
  if (handles_->mcluster == nullptr) {
    rd_kafka_destroy(handles_->rk);
    throw std::runtime_error("rd_kafka_mock_cluster_new failed");
  }
}

mock_cluster::~mock_cluster() {
  // The cluster must go before the handle that hosts it.
  rd_kafka_mock_cluster_destroy(handles_->mcluster);
  rd_kafka_destroy(handles_->rk);
}

std::string mock_cluster::bootstraps() const { return rd_kafka_mock_cluster_bootstraps(handles_->mcluster); }

int mock_cluster::replication_factor() const { return std::min(broker_count_, 3); }

std::string mock_cluster::create_topic(const std::string& name, int partitions) {
  if (name.empty()) {
    return "empty topic name";
  }
  if (partitions < 1) {
    return "partition count must be at least 1";
  }
  const auto err = rd_kafka_mock_topic_create(handles_->mcluster, name.c_str(), partitions, replication_factor());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return describe(err);
  }
  std::lock_guard lock(mutex_);
  topics_.emplace(name, partitions);
  return {};
}

std::string mock_cluster::set_topic_error(const std::string& name, int error_code) {
  if (name.empty()) {
    return "empty topic name";
  }
  rd_kafka_mock_topic_set_error(handles_->mcluster, name.c_str(), static_cast<rd_kafka_resp_err_t>(error_code));
  return {};
}

std::string mock_cluster::set_broker_down(int32_t broker_id) {
  const auto err = rd_kafka_mock_broker_set_down(handles_->mcluster, broker_id);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? std::string() : describe(err);
}

std::string mock_cluster::set_broker_up(int32_t broker_id) {
  const auto err = rd_kafka_mock_broker_set_up(handles_->mcluster, broker_id);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? std::string() : describe(err);
}

std::string mock_cluster::set_broker_rtt(int32_t broker_id, int rtt_ms) {
  const auto err = rd_kafka_mock_broker_set_rtt(handles_->mcluster, broker_id, rtt_ms);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? std::string() : describe(err);
}

std::string mock_cluster::set_partition_leader(const std::string& topic, int32_t partition, int32_t broker_id) {
  const auto err = rd_kafka_mock_partition_set_leader(handles_->mcluster, topic.c_str(), partition, broker_id);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? std::string() : describe(err);
}

std::string mock_cluster::push_request_errors(int16_t api_key, const std::vector<int>& error_codes) {
  if (error_codes.empty()) {
    return "no error codes given";
  }
  std::vector<rd_kafka_resp_err_t> errs;
  errs.reserve(error_codes.size());
  for (const int code : error_codes) {
    errs.push_back(static_cast<rd_kafka_resp_err_t>(code));
  }
  rd_kafka_mock_push_request_errors_array(handles_->mcluster, api_key, errs.size(), errs.data());
  return {};
}

void mock_cluster::clear_request_errors(int16_t api_key) {
  rd_kafka_mock_clear_request_errors(handles_->mcluster, api_key);
}

std::map<std::string, int> mock_cluster::topics() const {
  std::lock_guard lock(mutex_);
  return topics_;
}

std::string error_name(int error_code) { return rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(error_code)); }

}  // namespace kafka_dev
