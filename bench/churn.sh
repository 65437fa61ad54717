#!/usr/bin/env bash
# Reconnect churn (issue 15): bench/e2e.sh's scenario without churn vs chatload --churn 5% (50 of
# the 1,000 sessions drop their connection each second and reconnect, resubscribing every room
# with since-id), 3 runs each on fresh stacks; medians, the ratio churn / no churn of the delivery
# p99, lost/duplicated/reordered among receipted sends (goal: 0), and the churn counters
# (reconnects, rooms recovered, events replayed, truncations).
# chatd runs without admission control (refusals would make the loads unequal); --chatd-env NAME=VALUE.
# Usage: bench/churn.sh [--runs N] [--rate R] [--duration S] [--churn 5%] [--transport tcp|ws] [--out DIR]
#        [--build-dir DIR] [--chatd-env NAME=VALUE]...
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")/chatload"
exec /usr/bin/python3 churn.py "$@"
