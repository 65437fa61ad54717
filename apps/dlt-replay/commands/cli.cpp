#include "commands/cli.hpp"

namespace dlt_replay {

namespace {

void add_filters(CLI::App& sub, filter_options& f, bool with_limit) {
  const char* group = "Filters";
  sub.add_option("--since", f.since, "From this time on (RFC 3339, date, Unix ms, or an age: 90m, 2h, 1d)")
      ->group(group);
  sub.add_option("--until", f.until, "Before this time (same forms as --since)")->group(group);
  sub.add_option("--error", f.error,
                 "Error class or message contains TEXT (case-insensitive); /REGEX/ or /REGEX/i for a regex")
      ->group(group);
  sub.add_option("--origin-topic", f.origin_topic, "Original topic")->group(group);
  sub.add_option("--origin-partition", f.origin_partition, "Original partition")->group(group);
  sub.add_option("--origin-offset", f.origin_offset, "Original offset range: A-B, A-, -B or A (inclusive)")
      ->group(group);
  sub.add_option("--group", f.group, "Consumer group that dead-lettered the record")->group(group);
  sub.add_option("--room", f.room, "Room id: the record's key, or the payload's roomId")->group(group);
  sub.add_option("--event", f.event,
                 "Room event of the payload: message (no \"event\" member), message.edited, message.deleted, "
                 "reaction.added, reaction.removed, message.pinned, message.unpinned, ...")
      ->group(group);
  if (with_limit) {
    sub.add_option("--limit", f.limit, "At most N records (0: no limit)")->group(group)->check(CLI::NonNegativeNumber);
  }
}

}  // namespace

void build_cli(CLI::App& app, context& ctx) {
  auto& g = ctx.global;
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  app.add_option("--brokers", g.brokers, "Kafka bootstrap servers")
      ->envname("KAFKA_BROKERS")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->capture_default_str();
  app.add_option("-X,--property", g.properties,
                 "librdkafka setting key=value, repeatable (SASL/TLS: security.protocol, sasl.mechanism, ...)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  app.add_option("--topic", g.topic, "Dead-letter topic")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->capture_default_str();
  app.add_option("-o,--output", g.output, "table, json or jsonl")
      ->check(CLI::IsMember({"table", "json", "jsonl"}))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->capture_default_str();
  app.add_option("--timeout", g.timeout_s, "Seconds to wait for Kafka in any one step")
      ->check(CLI::PositiveNumber)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->capture_default_str();

  auto* list = app.add_subcommand("list", "One row per dead letter: where, when, origin, group, error, key, size");
  add_filters(*list, ctx.filters, true);
  list->callback([&ctx] { ctx.run = run_list; });

  auto* show = app.add_subcommand("show", "One dead letter: every header decoded, the payload pretty-printed");
  show->add_option("position", ctx.show.where, "PARTITION:OFFSET in the dead-letter topic")->required();
  show->callback([&ctx] { ctx.run = run_show; });

  auto* stats = app.add_subcommand("stats", "Counts by error class, origin topic, consumer group and hour");
  add_filters(*stats, ctx.filters, false);
  stats->callback([&ctx] { ctx.run = run_stats; });

  auto* exp = app.add_subcommand("export", "Write the selected dead letters as JSONL (replay --from-file reads it)");
  add_filters(*exp, ctx.filters, true);
  exp->add_option("--out", ctx.exporting.out, "File to write (- for stdout)")->required();
  exp->callback([&ctx] { ctx.run = run_export; });

  auto& r = ctx.replay;
  auto* replay = app.add_subcommand("replay", "Send the selected dead letters (or an edited export file) again, once");
  add_filters(*replay, ctx.filters, true);
  replay->add_option("--from-file", r.from_file, "Replay the records of this export file (- for stdin)");
  replay->add_option("--to", r.to, "Send to this topic instead of each record's original topic");
  replay->add_option("--max-replays", r.max_replays, "Refuse a record whose dlt-replay-count is already this high")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  replay->add_option("--park-topic", r.park_topic, "Send records refused by --max-replays here instead");
  replay->add_flag("--dry-run", r.dry_run, "Show exactly what would be sent, and where; send nothing");
  replay->add_option("--rate", r.rate, "At most N records per second (N or N/s)");
  replay->add_flag("-y,--yes", r.yes, "Do not ask for confirmation");
  replay->add_option("--confirm-above", r.confirm_above, "Ask for confirmation above this many records")
      ->capture_default_str();
  replay->add_flag("--restart", r.restart, "Ignore the ledger: send again what earlier runs sent");
  replay->add_option("--ledger-topic", r.ledger_topic, "Where progress is recorded")->capture_default_str();
  replay->callback([&ctx] { ctx.run = run_replay; });
}

}  // namespace dlt_replay
