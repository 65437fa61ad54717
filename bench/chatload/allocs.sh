#!/usr/bin/env bash
# Heap allocations per delivered message in chatload (LD_PRELOAD counter; see allocs.py).
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")"
exec /usr/bin/python3 allocs.py "$@"
