#!/usr/bin/env bash
# End-to-end benchmark: chatd + PostgreSQL + Redis + dev Kafka + chatload; 2,000 msg/s into
# 100 rooms x 10 members for 60 s, 3 runs, medians of p50/p99/p99.9 and lost/dup/reordered.
# Usage: bench/e2e.sh [--runs N] [--rate R] [--duration S] [--transport tcp|ws] [--out DIR] [--build-dir DIR]
#        [--baseline-build-dir DIR]: the same runs with another build's chatd, interleaved; ratios new / baseline
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")/chatload"
exec /usr/bin/python3 e2e.py "$@"
