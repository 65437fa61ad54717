#!/usr/bin/env bash
# Overload benchmark (issue 18): finds chatd's knee C (highest offered rate with delivery
# p99 <= 100 ms; 500 sessions, 50 rooms x 10), then 3 runs of 3xC for 60 s followed by C/3 for
# 20 s (goodput/C, p99 of accepted, disconnects, unanswered SENDs, lost/dup/reordered among
# receipted, recovery seconds), then 1,000 msg/s with and without a 64-thread login flood.
# Prints a table with the goals and writes JSON to bench/results/ (or --out).
# --baseline-build-dir DIR also runs every scenario with another build's chatd, interleaved,
# so new and baseline are measured side by side under the same machine load, e.g.
#   mkdir /tmp/base && git archive <commit> | tar -x -C /tmp/base
#   (cd /tmp/base && cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
#    cmake --build build-rel --target chatd chatload chat-kafka-dev)
#   bench/overload.sh --knee 1900 --build-dir build-rel --baseline-build-dir /tmp/base/build-rel
# Usage: bench/overload.sh [--quick] [--knee RATE] [--runs N] [--skip-flood] [--out FILE] [--build-dir DIR]
#        [--baseline-build-dir DIR] [--chatd-env NAME=VALUE] ...  (--help lists every option)
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")/chatload"
exec /usr/bin/python3 overload.py "$@"
