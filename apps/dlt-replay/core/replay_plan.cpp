#include "core/replay_plan.hpp"

#include "core/dialect.hpp"

#include <chat/proto/names.hpp>

namespace dlt_replay {

namespace kh = chat::proto::kafka_headers;

std::string_view to_string(replay_action a) noexcept {
  switch (a) {
    case replay_action::send: return "send";
    case replay_action::park: return "park";
    case replay_action::already_done: return "already-done";
    case replay_action::same_origin: return "same-origin";
    case replay_action::over_max_replays: return "over-max-replays";
    case replay_action::no_target: return "no-target";
    case replay_action::target_missing: return "target-missing";
  }
  return "send";
}

replay_planner::replay_planner(replay_options options, const ledger_view& ledger, partition_count_fn partitions,
                               std::int64_t now_ms)
    : options_(std::move(options)), ledger_(ledger), partitions_(std::move(partitions)), now_ms_(now_ms) {}

plan_item replay_planner::plan(const dead_letter& d) {
  plan_item item;
  const auto origin = origin_of(d.info);
  if (!options_.restart && ledger_.has_dead_letter(d.dlt)) {
    item.action = replay_action::already_done;
    item.reason = "already replayed or parked by an earlier run (--restart to send again)";
    return item;
  }
  if (origin && ((!options_.restart && ledger_.has_origin(*origin)) || planned_origins_.count(to_string(*origin)))) {
    item.action = replay_action::same_origin;
    item.reason = "original record " + to_string(*origin) + " is replayed from another dead letter";
    return item;
  }

  // Where the record keeps its partition if the target has it, else the key decides.
  const auto route = [&](const std::string& topic, std::optional<std::int32_t> partition) {
    const int count = partitions_(topic);
    if (count < 0) {
      item.action = replay_action::target_missing;
      item.reason = "topic " + topic + " does not exist";
      return false;
    }
    item.out.topic = topic;
    item.out.partition = partition && *partition < count ? *partition : -1;
    item.out.key = d.key;
    item.out.value = d.value;
    return true;
  };

  if (d.info.replay_count >= options_.max_replays) {
    const std::string why = "replayed " + std::to_string(d.info.replay_count) + " times already (--max-replays " +
                            std::to_string(options_.max_replays) + ")";
    if (!options_.park_topic) {
      item.action = replay_action::over_max_replays;
      item.reason = why;
      return item;
    }
    if (!route(*options_.park_topic, d.dlt.partition)) return item;
    item.action = replay_action::park;
    item.reason = why;
    item.out.headers = park_headers(d, now_ms_);
    return item;
  }

  const auto& target = options_.to_topic ? options_.to_topic : d.info.origin_topic;
  if (!target) {
    item.action = replay_action::no_target;
    item.reason = "the headers name no original topic; pass --to TOPIC";
    return item;
  }
  if (!route(*target, d.info.origin_partition)) return item;
  item.action = replay_action::send;
  item.out.headers = replay_headers(d, now_ms_);
  if (origin) planned_origins_.insert(to_string(*origin));
  return item;
}

std::vector<header> replay_headers(const dead_letter& d, std::int64_t now_ms) {
  std::vector<header> out;
  for (const auto& h : d.headers) {
    if (!is_dead_letter_header(h.name)) out.push_back(h);
  }
  out.push_back(header{std::string(kh::dlt_replayed_from), to_string(d.dlt)});
  out.push_back(header{std::string(kh::dlt_replay_count), std::to_string(d.info.replay_count + 1)});
  out.push_back(header{std::string(kh::dlt_replayed_at), std::to_string(now_ms)});
  return out;
}

std::vector<header> park_headers(const dead_letter& d, std::int64_t now_ms) {
  std::vector<header> out;
  for (const auto& h : d.headers) {
    if (h.name != kh::dlt_parked_from && h.name != kh::dlt_parked_at) out.push_back(h);
  }
  out.push_back(header{std::string(kh::dlt_parked_from), to_string(d.dlt)});
  out.push_back(header{std::string(kh::dlt_parked_at), std::to_string(now_ms)});
  return out;
}

void replay_summary::count(replay_action a) {
  switch (a) {
    case replay_action::send:
    case replay_action::park: break;  // counted when the broker answers
    case replay_action::already_done:
    case replay_action::same_origin: ++skipped; break;
    case replay_action::over_max_replays: ++refused; break;
    case replay_action::no_target:
    case replay_action::target_missing: ++failed; break;
  }
}

int exit_code(const replay_summary& s) noexcept {
  if (s.unrecorded > 0) return 1;
  if (s.failed == 0 && s.refused == 0) return 0;
  if (s.replayed + s.parked + s.skipped == 0 && s.failed > 0) return 1;
  return 3;
}

}  // namespace dlt_replay
