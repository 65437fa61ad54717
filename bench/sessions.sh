#!/usr/bin/env bash
# 10,000 sessions from one chatload against one chatd: chatd RSS per session and connect rate.
# (--python-client also runs bench/gateway/idle_sessions.sh for comparison.)
# Usage: bench/sessions.sh [--sessions N] [--connect-rate R] [--hold S] [--transport tcp|ws] [--build-dir DIR]
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")/chatload"
exec /usr/bin/python3 sessions.py "$@"
