#!/usr/bin/env bash
# Mixed traffic (issue 14): bench/e2e.sh's scenario send-only vs chatload --mix
# send=80,edit=5,delete=5,react=10, 3 runs each on fresh stacks; medians, the ratios mixed /
# send-only of p99 and deliveries/s (goal: within 10 %), lost/duplicated/reordered (goal: 0).
# chatd runs without admission control (refusals would make the loads unequal); --chatd-env NAME=VALUE.
# Usage: bench/mix.sh [--runs N] [--rate R] [--duration S] [--mix SPEC] [--transport tcp|ws] [--out DIR]
#        [--build-dir DIR] [--tolerance 0.1] [--chatd-env NAME=VALUE]...
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")/chatload"
exec /usr/bin/python3 mix.py "$@"
