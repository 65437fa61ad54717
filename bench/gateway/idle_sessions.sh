#!/usr/bin/env bash
# 10,000 idle STOMP/TCP sessions against one chatd over loopback; prints chatd's RSS.
# Usage: bench/gateway/idle_sessions.sh [--sessions N] [--heartbeat cx,cy] [--hold S] [--build-dir DIR]
set -euo pipefail
# One descriptor per session on each side (the client and chatd, which inherits this limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 "$(dirname "$0")/idle_sessions.py" "$@"
