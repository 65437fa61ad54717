#include "pipeline/failure_policy.hpp"

namespace chat::chatd::pipeline {

std::optional<infra_policy> parse_infra_policy(std::string_view text) noexcept {
  if (text == "block") return infra_policy::block;
  if (text == "dead-letter") return infra_policy::dead_letter;
  return std::nullopt;
}

failure_action failure_policy::decide(failure_kind kind, int attempts) const noexcept {
  switch (kind) {
    case failure_kind::poison: return failure_action::dead_letter;
    case failure_kind::retryable:
      switch (policy) {
        case infra_policy::block: return failure_action::retry;
        case infra_policy::dead_letter:
          return durable_sink && attempts > max_retries ? failure_action::dead_letter : failure_action::retry;
      }
      return failure_action::retry;
  }
  return failure_action::retry;
}

}  // namespace chat::chatd::pipeline
