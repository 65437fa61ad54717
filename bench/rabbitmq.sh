#!/usr/bin/env bash
# The same generic STOMP scenario against RabbitMQ Web-STOMP and chatd, side by side; prints the
# ratios of delivery throughput and p99. Installs rabbitmq-server (Debian) when missing and runs
# it as a private process on loopback (bench/chatload/rabbit.py).
# Usage: bench/rabbitmq.sh [--runs N] [--rate R] [--duration S] [--users N --rooms R --members M] [--build-dir DIR]
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  echo "== installing rabbitmq-server (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends rabbitmq-server >&2
fi
cd "$(dirname "$0")/chatload"
exec /usr/bin/python3 rabbitmq.py "$@"
