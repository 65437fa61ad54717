#!/usr/bin/env bash
# REST benchmark of one chatd (issue 3): seeds a room with 10,000 messages, then drives
# GET /api/rooms/{id}/messages (newest page and random cursors) and GET /api/rooms with wrk,
# 50 connections for 30 s, 3 runs each, and prints the median requests/s and p99.
#   bench/rest/run.sh                       # release build in build/ (scripts/build release)
#   bench/rest/run.sh --chatd-env CHATD_DB_POOL_SIZE=4 --runs 1 --duration 10s
# Options: bench/rest/bench.py --help. See bench/rest/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
exec /usr/bin/python3 bench/rest/bench.py "$@"
