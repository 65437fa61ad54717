#include "pipeline/receipts_handler.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

#include <map>
#include <set>

namespace chat::chatd::pipeline {

namespace {

// ARGV: channel 1, payload 1, channel 2, payload 2, ... Returns how many it published.
constexpr const char* publish_reads_source = R"lua(
for i = 1, #ARGV, 2 do
  redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return #ARGV / 2
)lua";

std::string first_line(std::string_view what) {
  std::string s(what);
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

receipts_report apply_receipts(store::read_mark_writer& writer, const std::vector<receipt_update>& updates) {
  receipts_report report;
  std::vector<store::read_mark> marks;
  marks.reserve(updates.size());
  for (const auto& u : updates) marks.push_back({u.room_id, u.user_id, u.last_read_message_id});

  std::map<std::pair<std::int64_t, std::int64_t>, unread_entry> changed;
  std::set<std::pair<std::int64_t, std::int64_t>> moved;
  auto take = [&changed, &moved](const std::vector<store::unread_change>& rows) {
    for (const auto& c : rows) {
      changed[{c.room_id, c.user_id}] = {c.room_id, c.user_id, c.unread_count, c.last_read_message_id, c.version};
      if (c.mark_moved) moved.insert({c.room_id, c.user_id});
    }
  };
  auto infra = [&report](const store::error& e) {
    report.infra_error = "postgres: " + first_line(e.message);
    report.failures.clear();
    report.unread.clear();
    report.reads.clear();
    return report;
  };

  std::vector<bool> refused(updates.size(), false);
  const auto all = writer.apply(marks);
  if (all) {
    take(*all);
  } else if (!all.error().about_the_data()) {
    return infra(all.error());
  } else {
    // Refused because of some receipt's values: find which, one transaction each.
    for (std::size_t i = 0; i < marks.size(); ++i) {
      const auto one = writer.apply(std::span(&marks[i], 1));
      if (one) {
        take(*one);
        continue;
      }
      if (!one.error().about_the_data()) return infra(one.error());
      for (const std::size_t index : updates[i].indexes) {
        report.failures.push_back({index, failure_kind::poison, "sql_error", first_line(one.error().message)});
      }
      refused[i] = true;
    }
  }

  for (std::size_t i = 0; i < updates.size(); ++i) {
    const auto& u = updates[i];
    const auto it = changed.find({u.room_id, u.user_id});
    if (it != changed.end()) {
      report.unread.push_back(it->second);
      if (moved.contains({u.room_id, u.user_id})) {
        report.reads.push_back({u.room_id, u.user_id, it->second.last_read_message_id});
      }
      continue;
    }
    if (refused[i]) continue;
    for (const std::size_t index : u.indexes) {
      report.failures.push_back({index, failure_kind::poison, "not_a_member",
                                 "user " + std::to_string(u.user_id) + " is not a member of room " +
                                     std::to_string(u.room_id) + " (or the room does not exist)"});
    }
  }
  return report;
}

receipts_handler::receipts_handler(const config& cfg)
    : receipts_handler(cfg, store::make_pg_read_mark_writer(cfg.database_url, "chatd-receipts-" + cfg.node_id,
                                                            cfg.dependency_timeout)) {}

receipts_handler::receipts_handler(const config& cfg, std::unique_ptr<store::read_mark_writer> writer)
    : writer_(std::move(writer)),
      redis_(redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), cfg.dependency_timeout),
      publish_reads_(publish_reads_source) {}

batch_outcome receipts_handler::handle(std::span<const kafka::record> batch) {
  batch_outcome outcome;
  cache_updates_.clear();
  read_events_.clear();
  std::vector<receipt_record> receipts;
  receipts.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    receipt_record r;
    if (auto failure = decode_receipt(i, batch[i].value(), r)) {
      outcome.failures.push_back(std::move(*failure));
      continue;
    }
    receipts.push_back(r);
  }
  const auto updates = merge_receipts(receipts);
  if (updates.empty()) return outcome;

  auto report = apply_receipts(*writer_, updates);
  if (report.infra_error) return batch_outcome::infra(std::move(*report.infra_error));
  outcome.failures.insert(outcome.failures.end(), std::make_move_iterator(report.failures.begin()),
                          std::make_move_iterator(report.failures.end()));
  cache_updates_ = std::move(report.unread);
  read_events_ = std::move(report.reads);
  return outcome;
}

void receipts_handler::after_commit() {
  if (!cache_updates_.empty()) cache_.write(redis_, cache_updates_);
  cache_updates_.clear();
  publish_read_events();
}

void receipts_handler::publish_read_events() {
  if (read_events_.empty()) return;
  for (std::size_t first = 0; first < read_events_.size(); first += read_events_per_call) {
    const std::size_t last = std::min(read_events_.size(), first + read_events_per_call);
    std::vector<std::string> strings;  // channel, payload, ...: referenced by the views below
    strings.reserve((last - first) * 2);
    for (std::size_t i = first; i < last; ++i) {
      strings.push_back(proto::room_channel(read_events_[i].room_id));
      strings.push_back(proto::to_json(read_events_[i]));
    }
    const std::vector<std::string_view> args(strings.begin(), strings.end());
    std::string error;
    const auto reply = publish_reads_.call(redis_, {}, args, error);
    if (!reply || reply->type == redis::reply::kind::error) {
      // Live delivery is best effort: the marks are stored, GET /api/rooms/{id}/reads has them.
      const auto lost = read_events_.size() - first;
      read_stats_.lost.fetch_add(lost, std::memory_order_relaxed);
      log::warn("read events not published",
                {{"error", reply ? reply->str : error}, {"events", static_cast<std::int64_t>(lost)}});
      break;
    }
    read_stats_.published.fetch_add(last - first, std::memory_order_relaxed);
  }
  read_events_.clear();
}

void receipts_handler::on_idle() { cache_.flush_pending(redis_); }

}  // namespace chat::chatd::pipeline
