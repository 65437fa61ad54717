// replay: re-publish the selected dead letters to their original topic (or --to), once.
//
// Order of work: read the ledger (what earlier runs did), select, plan every record (the
// plan is what --dry-run prints), ask for confirmation above --confirm-above, make sure
// the ledger topic exists, send, and record each record in the ledger only after the
// broker acknowledged it.
#include "commands/context.hpp"
#include "commands/selection.hpp"
#include "core/ledger_entry.hpp"
#include "core/replay_plan.hpp"
#include "kafka/ledger.hpp"
#include "kafka/sender.hpp"

#include <chat/common/time.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

namespace dlt_replay {

using json = nlohmann::ordered_json;

namespace {

// Producing takes this much longer than --timeout at most: the record's own timeout
// (message.timeout.ms = --timeout) plus the ledger entry's round trip.
constexpr std::chrono::milliseconds finish_margin{5000};

double parse_rate(const std::string& text) {
  if (text.empty()) return 0;
  std::string number = text;
  if (number.ends_with("/s")) number.resize(number.size() - 2);
  char* end = nullptr;
  const double rate = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !(rate > 0)) {
    throw command_error(exit_usage, "--rate " + text + ": expected records per second, e.g. 50 or 50/s");
  }
  return rate;
}

std::string who() {
  const char* user = std::getenv("USER");
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(user != nullptr && *user != '\0' ? user : "unknown") + "@" + (host[0] != '\0' ? host : "unknown");
}

// Asks on the terminal; stdin may be a pipe. Throws when there is no terminal.
bool confirmed(std::size_t n, const std::string& where) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (tty == nullptr) {
    throw command_error(exit_usage, std::to_string(n) + " records would be sent " + where +
                                        "; there is no terminal to confirm on: pass --yes");
  }
  std::fprintf(tty, "Send %zu records %s? Type yes to continue: ", n, where.c_str());
  std::fflush(tty);
  char answer[16] = {};
  const bool read = std::fgets(answer, sizeof answer, tty) != nullptr;
  std::fclose(tty);
  const std::string a = read ? std::string(answer) : std::string();
  return a == "yes\n" || a == "y\n" || a == "yes" || a == "y";
}

std::string targets_of(const std::vector<plan_item>& plan) {
  std::map<std::string, std::size_t> topics;
  for (const auto& item : plan) {
    if (item.action == replay_action::send || item.action == replay_action::park) ++topics[item.out.topic];
  }
  std::string out;
  for (const auto& [topic, n] : topics) out += (out.empty() ? "to " : ", ") + topic + " (" + std::to_string(n) + ")";
  return out;
}

json position_json(const position& p) {
  return json{{"topic", p.topic}, {"partition", p.partition}, {"offset", p.offset}};
}

std::string where_text(const position& p) {
  return p.topic + ' ' + std::to_string(p.partition) + ':' + std::to_string(p.offset);
}

}  // namespace

int run_replay(context& ctx) {
  const auto format = output_of(ctx.global);
  const auto f = make_filter(ctx.filters);
  const auto& o = ctx.replay;
  const double rate = parse_rate(o.rate);
  if (o.max_replays < 0) throw command_error(exit_usage, "--max-replays must be 0 or more");
  const auto timeout = kafka_timeout(ctx.global);
  const auto settings = kafka_settings(ctx.global);
  // The producer gives up on a record after --timeout; before the user's -X settings,
  // which win.
  auto producer_settings = settings;
  producer_settings.insert(producer_settings.begin(), {"message.timeout.ms", std::to_string(timeout.count())});
  topic_scanner scanner(settings, timeout);

  // 1. What earlier runs did.
  loaded_ledger ledger;
  if (!o.restart) ledger = load_ledger(scanner, o.ledger_topic);
  if (ledger.unreadable > 0) {
    std::cerr << "dlt-replay: ignored " << ledger.unreadable << " records of " << o.ledger_topic
              << " that are not ledger entries\n";
  }

  // 2. The selection. --limit counts records not replayed yet: "the next N".
  std::vector<dead_letter> selected;
  std::size_t fresh = 0;
  const auto take = [&](dead_letter&& d) {
    if (o.restart || !ledger.view.has_dead_letter(d.dlt)) ++fresh;
    selected.push_back(std::move(d));
    return ctx.filters.limit == 0 || fresh < ctx.filters.limit;
  };
  if (!o.from_file.empty()) {
    for (auto& d : read_export_file(o.from_file)) {
      if (f.matches(d) && !take(std::move(d))) break;
    }
  } else {
    scan_dead_letters(scanner, ctx.global.topic, f, 0, take);
  }

  // 3. The plan.
  replay_options options;
  if (!o.to.empty()) options.to_topic = o.to;
  if (!o.park_topic.empty()) options.park_topic = o.park_topic;
  options.max_replays = o.max_replays;
  options.restart = o.restart;
  std::map<std::string, int> partition_counts;
  const auto partitions = [&](const std::string& topic) {
    const auto it = partition_counts.find(topic);
    if (it != partition_counts.end()) return it->second;
    const int n = scanner.partitions(topic).value_or(-1);
    partition_counts.emplace(topic, n);
    return n;
  };
  replay_planner planner(options, ledger.view, partitions, chat::common::now_unix_ms());
  std::vector<plan_item> plan;
  plan.reserve(selected.size());
  replay_summary summary;
  summary.selected = selected.size();
  std::size_t to_send = 0;
  for (const auto& d : selected) {
    plan.push_back(planner.plan(d));
    summary.count(plan.back().action);
    if (plan.back().action == replay_action::send || plan.back().action == replay_action::park) ++to_send;
  }

  // 4. --dry-run: exactly what would be sent, and where.
  if (o.dry_run) {
    for (const auto& item : plan) {
      if (item.action == replay_action::send) ++summary.replayed;
      if (item.action == replay_action::park) ++summary.parked;
    }
    json items = json::array();
    for (std::size_t i = 0; i < plan.size(); ++i) {
      switch (format) {
        case output_format::table: write_plan(std::cout, selected[i], plan[i]); break;
        case output_format::json: items.push_back(plan_json(selected[i], plan[i])); break;
        case output_format::jsonl: std::cout << plan_json(selected[i], plan[i]).dump() << '\n'; break;
      }
    }
    switch (format) {
      case output_format::table: write_replay_summary(std::cout, summary, true); break;
      case output_format::json:
        std::cout << json{{"dryRun", true}, {"plan", items}, {"summary", replay_summary_json(summary)}}.dump(2) << '\n';
        break;
      case output_format::jsonl:
        std::cout << json{{"dryRun", true}, {"summary", replay_summary_json(summary)}}.dump() << '\n';
        break;
    }
    return exit_code(summary);
  }

  // 5. Confirmation.
  if (to_send > o.confirm_above && !o.yes && !confirmed(to_send, targets_of(plan))) {
    throw command_error(exit_error, "not confirmed: nothing sent");
  }

  // 6. Send; each acknowledged record gets its ledger entry.
  if (to_send > 0) {
    ensure_ledger_topic(scanner, o.ledger_topic, timeout);
    std::cerr << "dlt-replay: sending " << to_send << (to_send == 1 ? " record " : " records ") << targets_of(plan)
              << "\n";
  }
  std::optional<replay_sender> sender;
  if (to_send > 0) sender.emplace(producer_settings, o.ledger_topic, plan.size());
  const std::string by = who();
  const auto interval = rate > 0 ? std::chrono::duration<double>(1.0 / rate) : std::chrono::duration<double>(0);
  auto next_send = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto& item = plan[i];
    if (item.action != replay_action::send && item.action != replay_action::park) continue;
    if (rate > 0) {
      std::this_thread::sleep_until(next_send);  // pacing (--rate), not synchronisation
      next_send += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    }
    ledger_entry entry;
    entry.action = item.action == replay_action::send ? ledger_action::replayed : ledger_action::parked;
    entry.dlt = selected[i].dlt;
    entry.origin = origin_of(selected[i].info);
    entry.target = position{item.out.topic, item.out.partition, -1};
    entry.replay_count = selected[i].info.replay_count + (item.action == replay_action::send ? 1 : 0);
    entry.by = by;
    sender->send(i, item.out, std::move(entry), timeout);
  }
  if (sender) sender->finish(timeout + finish_margin);

  // 7. Results.
  json results = json::array();
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto& item = plan[i];
    const auto& d = selected[i];
    json r{{"dlt", position_json(d.dlt)}, {"action", std::string(to_string(item.action))}};
    std::string status;
    std::string line;
    if (item.action == replay_action::send || item.action == replay_action::park) {
      const auto outcome = sender->outcome(i);
      const bool park = item.action == replay_action::park;
      if (outcome.ok) {
        status = park ? "parked" : "replayed";
        ++(park ? summary.parked : summary.replayed);
        r["target"] = position_json(outcome.written);
        r["recorded"] = outcome.recorded;
        line = where_text(d.dlt) + "  ->  " + where_text(outcome.written);
        if (!outcome.recorded) {
          ++summary.unrecorded;
          r["ledgerError"] = outcome.ledger_error;
          line += "  NOT RECORDED: " + outcome.ledger_error;
        }
      } else {
        status = "failed";
        ++summary.failed;
        r["target"] = json{{"topic", item.out.topic}};
        r["error"] = outcome.error;
        line = where_text(d.dlt) + "  ->  " + item.out.topic + ": " + outcome.error;
      }
    } else {
      switch (item.action) {
        case replay_action::already_done:
        case replay_action::same_origin: status = "skipped"; break;
        case replay_action::over_max_replays: status = "refused"; break;
        case replay_action::no_target:
        case replay_action::target_missing:
        case replay_action::send:
        case replay_action::park: status = "failed"; break;
      }
      r["reason"] = item.reason;
      line = where_text(d.dlt) + "  " + item.reason;
    }
    r["status"] = status;
    switch (format) {
      case output_format::table:
        std::cout << status << std::string(status.size() < 10 ? 10 - status.size() : 1, ' ') << line << '\n';
        break;
      case output_format::json: results.push_back(std::move(r)); break;
      case output_format::jsonl: std::cout << r.dump() << '\n'; break;
    }
  }
  switch (format) {
    case output_format::table: write_replay_summary(std::cout, summary, false); break;
    case output_format::json:
      std::cout << json{{"results", results}, {"summary", replay_summary_json(summary)}}.dump(2) << '\n';
      break;
    case output_format::jsonl: std::cout << json{{"summary", replay_summary_json(summary)}}.dump() << '\n'; break;
  }
  std::cout.flush();
  if (summary.unrecorded > 0) {
    std::cerr << "dlt-replay: " << summary.unrecorded << " records were sent but not recorded in " << o.ledger_topic
              << ": a re-run would send them again\n";
  }
  return exit_code(summary);
}

}  // namespace dlt_replay
