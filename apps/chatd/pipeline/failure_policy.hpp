#pragma once
// What the consumer loop does with a record that failed (docs/topics.md, --infra-failure-policy,
// --consumer-retries). Pure decision, no I/O.
#include "pipeline/batch_handler.hpp"

#include <optional>
#include <string_view>

namespace chat::chatd::pipeline {

enum class infra_policy {
  block,        // retry until the dependency is back; nothing is given up (the default)
  dead_letter,  // after --consumer-retries failed retries, give the records to the sink
};

// "block" / "dead-letter" (the values --infra-failure-policy accepts).
std::optional<infra_policy> parse_infra_policy(std::string_view text) noexcept;

enum class failure_action {
  retry,        // keep the batch, back off, process it again
  dead_letter,  // hand the record to the poison sink and move on
};

struct failure_policy {
  infra_policy policy = infra_policy::block;
  int max_retries = 3;        // retries after the first attempt (dead_letter policy only)
  bool durable_sink = false;  // the sink keeps records (a DLT); see poison_sink::durable()

  // `attempts` = how many times the record was tried, this one included (>= 1).
  // Poison records always go to the sink. Retryable ones are retried, except under the
  // dead_letter policy with a durable sink once `attempts` exceeds max_retries: a sink
  // that only logs would lose them, so without one the loop blocks whatever the policy.
  failure_action decide(failure_kind kind, int attempts) const noexcept;
};

}  // namespace chat::chatd::pipeline
