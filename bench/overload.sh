#!/usr/bin/env bash
# Overload benchmark (issue 18): finds chatd's knee C (highest offered rate with delivery
# p99 <= 100 ms; 500 sessions, 50 rooms x 10), then 3 runs of 3xC for 60 s followed by C/3 for
# 20 s (goodput/C, p99 of accepted, disconnects, unanswered SENDs, lost/dup/reordered among
# receipted, recovery seconds), then 1,000 msg/s with and without a 64-thread login flood.
# Prints a table with the goals and writes JSON to bench/results/ (or --out).
# Usage: bench/overload.sh [--quick] [--knee RATE] [--runs N] [--skip-flood] [--out FILE] [--build-dir DIR] ...
#        (bench/overload.sh --help lists every option)
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")/chatload"
exec /usr/bin/python3 overload.py "$@"
