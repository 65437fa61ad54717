#!/usr/bin/env bash
# Real-time delivery benchmark: one chatd on its own stack, chatload with 1,000 users,
# 100 rooms x 10 members, 2,000 msg/s for 30 s (~20,000 deliveries/s), three runs.
# Usage: bench/realtime/run.sh [--runs N] [--rate R] [--duration S] [--transport tcp|ws] [--build-dir DIR]
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 "$(dirname "$0")/run.py" "$@"
