#include "pipeline/persistence_handler.hpp"

#include "pipeline/event_fold.hpp"

#include <chat/log/log.hpp>

#include <algorithm>

namespace chat::chatd::pipeline {

namespace {

std::string first_line_of(std::string_view what) {
  std::string s(what);
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

const proto::chat_message& records_by_index(const std::vector<message_record>& records, std::size_t index) {
  const auto it = std::lower_bound(records.begin(), records.end(), index,
                                   [](const message_record& r, std::size_t i) { return r.index < i; });
  return it->message;
}

unread_entry entry_of(const store::unread_change& c) {
  return {c.room_id, c.user_id, c.unread_count, c.last_read_message_id, c.version};
}

}  // namespace

persist_report persist_records(store::message_writer& writer, const std::vector<message_record>& records,
                               const store::event_folder& fold, std::span<const store::partition_progress> progress) {
  persist_report report;
  std::vector<store::message_row> rows;
  rows.reserve(records.size());
  for (const auto& r : records) rows.push_back({&r.message, r.partition, r.offset});

  // `s` answered for the rows starting at position `first`.
  auto take = [&](const store::persisted& s, std::size_t first) {
    for (const std::size_t i : s.unknown_room) {
      const auto& r = records[first + i];
      report.failures.push_back({r.index, failure_kind::poison, "unknown_room",
                                 "room " + std::to_string(r.message.room_id) + " does not exist"});
    }
    for (const std::size_t i : s.unknown_sender) {
      const auto& r = records[first + i];
      report.failures.push_back({r.index, failure_kind::poison, "unknown_sender",
                                 "sender " + std::to_string(r.message.sender_id) + " does not exist"});
    }
    report.inserted += s.inserted;
    report.events_new += s.events_new;
    for (const auto& c : s.unread) report.unread.push_back(entry_of(c));
    for (const auto& d : s.events_dropped) {
      const auto& r = records[first + d.row];
      report.dropped.push_back({r.index, r.partition, r.offset, d.reason});
    }
    for (const auto& d : s.records_dropped) {
      const auto& r = records[first + d.row];
      report.records_dropped.push_back({r.index, r.partition, r.offset, d.reason});
    }
  };
  auto infra = [&report](const store::error& e) {
    report.infra_error = "postgres: " + first_line_of(e.message);
    report.failures.clear();
    report.unread.clear();
    report.inserted = 0;
    report.events_new = 0;
    report.dropped.clear();
    report.records_dropped.clear();
    return report;
  };

  const auto all = writer.persist(rows, fold, progress);
  if (all) {
    take(*all, 0);
    return report;
  }
  if (!all.error().about_the_data()) return infra(all.error());

  // Refused because of some record's data: find which, one transaction per record.
  log::warn("batch refused by PostgreSQL; storing its records one by one",
            {{"error", first_line_of(all.error().message)},
             {"sqlstate", all.error().sqlstate},
             {"partition", rows.front().partition},
             {"offset", rows.front().offset}});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto one = writer.persist(std::span(&rows[i], 1), fold, {});
    if (one) {
      take(*one, i);
      continue;
    }
    if (!one.error().about_the_data()) return infra(one.error());
    report.failures.push_back(
        {records[i].index, failure_kind::poison, "sql_" + one.error().sqlstate, first_line_of(one.error().message)});
  }
  // Every record is stored or refused now: the progress can follow (never ahead of the rows).
  if (!progress.empty()) {
    if (const auto done = writer.record_progress(progress); !done) return infra(done.error());
  }
  return report;
}

persistence_handler::persistence_handler(const config& cfg)
    : persistence_handler(cfg, store::make_pg_message_writer(cfg.database_url, "chatd-persistence-" + cfg.node_id,
                                                             cfg.dependency_timeout)) {}

persistence_handler::persistence_handler(const config& cfg, std::unique_ptr<store::message_writer> writer)
    : max_content_chars_(cfg.max_content_chars),
      edit_window_(cfg.edit_window),
      writer_(std::move(writer)),
      redis_(redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), cfg.dependency_timeout) {}

batch_outcome persistence_handler::handle(std::span<const kafka::record> batch) {
  batch_outcome outcome;
  cache_updates_.clear();

  std::vector<message_record> records;
  records.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    message_record m;
    if (auto failure =
            decode_message(i, batch[i].partition(), batch[i].offset(), batch[i].value(), max_content_chars_, m)) {
      outcome.failures.push_back(std::move(*failure));
      continue;
    }
    records.push_back(std::move(m));
  }
  const std::size_t repeated_in_batch = keep_first_of_each_key(records);
  const auto progress = partition_progress_of(batch);
  if (records.empty()) {
    // Nothing to store (every record poison): the progress alone, so that a recovery waiting
    // for this partition is not held up by records the store will never have.
    if (progress.empty()) return outcome;
    if (const auto done = writer_->record_progress(progress); !done) {
      return batch_outcome::infra("postgres: " + first_line_of(done.error().message));
    }
    return outcome;
  }

  const auto edit_window = edit_window_;
  const store::event_folder fold = [edit_window](std::span<const proto::chat_message* const> events,
                                                 std::span<const store::event_target> targets) {
    return fold_events(events, targets, edit_window);
  };
  auto report = persist_records(*writer_, records, fold, progress);
  if (report.infra_error) return batch_outcome::infra(std::move(*report.infra_error));
  const std::size_t refused = report.failures.size();
  outcome.failures.insert(outcome.failures.end(), std::make_move_iterator(report.failures.begin()),
                          std::make_move_iterator(report.failures.end()));
  cache_updates_ = std::move(report.unread);
  // Dropped events are stored (room_events.applied = false), not poison: the rules worked.
  for (const auto& d : report.dropped) {
    const auto& m = records_by_index(records, d.index);
    log::info("room event dropped", {{"reason", std::string(d.reason)},
                                     {"event", std::string(proto::to_string(m.event))},
                                     {"partition", d.partition},
                                     {"offset", d.offset},
                                     {"room_id", m.room_id},
                                     {"target_id", m.target_id},
                                     {"sender_id", m.sender_id}});
  }
  for (const auto& d : report.records_dropped) {
    const auto& m = records_by_index(records, d.index);
    log::info("room record dropped", {{"reason", std::string(d.reason)},
                                      {"event", std::string(proto::to_string(m.event))},
                                      {"partition", d.partition},
                                      {"offset", d.offset},
                                      {"room_id", m.room_id},
                                      {"sender_id", m.sender_id}});
  }
  stats_.inserted.fetch_add(report.inserted, std::memory_order_relaxed);
  stats_.records_dropped.fetch_add(report.records_dropped.size(), std::memory_order_relaxed);
  stats_.events_applied.fetch_add(report.events_new - report.dropped.size(), std::memory_order_relaxed);
  stats_.events_dropped.fetch_add(report.dropped.size(), std::memory_order_relaxed);
  stats_.duplicates.fetch_add(repeated_in_batch + (records.size() - refused - report.inserted - report.events_new -
                                                   report.records_dropped.size()),
                              std::memory_order_relaxed);
  return outcome;
}

void persistence_handler::after_commit() {
  if (!cache_updates_.empty()) cache_.write(redis_, cache_updates_);
  cache_updates_.clear();
}

void persistence_handler::on_idle() { cache_.flush_pending(redis_); }

}  // namespace chat::chatd::pipeline
