#!/usr/bin/python3
"""Throughput and latency of chatd's Kafka consumers (chat-persistence, chat-broadcast).

Each run starts a private stack (PostgreSQL, Redis, the dev Kafka broker; scripts/devstack.py)
and one chatd, seeds ROOMS rooms of MEMBERS members, then measures two phases:

  drain  RECORDS records are produced while chatd is not running; then chatd starts and
         consumes the backlog. Persistence throughput = RECORDS / (last row committed -
         partitions assigned); broadcast throughput likewise with the last PUBLISH received.
  live   RECORDS more records are produced at RATE records/s (open loop: each record is
         due at start + i / RATE and its latency counts from then). Broadcast latency =
         intended send time -> message received by a Redis subscriber (PSUBSCRIBE
         chat:room:*, a separate process); persistence: time from the last record sent to
         the last row committed, and the rows' commit rate.

Run with Debian's python (confluent-kafka, psycopg and redis-py are Debian packages):

    /usr/bin/python3 bench/pipeline/bench_pipeline.py --build build --runs 3

Prints one line per run and the medians; --json FILE writes everything.
"""
from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing as mp
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import psycopg
import redis
from confluent_kafka import Producer

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import devstack  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso_ms(ms: int) -> str:
    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


# ---------------------------------------------------------------------------- subscriber


def subscriber_main(redis_url: str, out_path: str, ready, received):
    """PSUBSCRIBEs chat:room:* and writes "recv_time key intended_ms" per message."""
    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    pubsub.psubscribe("chat:room:*")
    # The subscription is active once its confirmation was read.
    while True:
        m = pubsub.get_message(timeout=1.0)
        if m and m["type"] == "psubscribe":
            break
    ready.set()
    with open(out_path, "w") as out:
        n = 0
        while True:
            m = pubsub.get_message(timeout=0.5)
            if m is None:
                out.flush()
                continue
            if m["type"] != "pmessage":
                continue
            now = time.time()
            body = json.loads(m["data"])
            # content = "<intended send time in ms> <padding>"
            out.write(f"{now:.6f} {body['messageKey']} {body['content'].split(' ', 1)[0]} {body.get('id', 'none')}\n")
            n += 1
            received.value = n
            if n % 1000 == 0:
                out.flush()


# ---------------------------------------------------------------------------- one run


class Run:
    def __init__(self, args, index: int):
        self.args = args
        self.index = index
        self.root = pathlib.Path(tempfile.mkdtemp(prefix=f"bench-pipeline-{index}-"))
        self.build = pathlib.Path(args.build).resolve()
        self.stack = devstack.Stack(self.root / "stack", self.build / "tools/kafka-dev/chat-kafka-dev",
                                    fast=True, log=lambda *a: None)
        self.chatd = None

    def start_stack(self):
        self.stack.start_all()
        self.env = self.stack.env()
        self.db = self.stack.create_database("bench")

    def chatd_env(self) -> dict:
        env = dict(os.environ)
        env.update(self.env)
        env.update({
            "CHATD_DATABASE_URL": self.db,
            "CHATD_HTTP_HOST": "127.0.0.1", "CHATD_HTTP_PORT": str(free_port()),
            "CHATD_STOMP_HOST": "127.0.0.1", "CHATD_STOMP_PORT": str(free_port()),
            "CHATD_JWT_SECRET": "bench-secret-0123456789abcdef0123456789",
            "CHATD_NODE_ID": "bench",
            "CHATD_KAFKA_SESSION_TIMEOUT": "6s",
            "CHATD_LOG_LEVEL": "info",
        })
        return env

    def migrate(self):
        subprocess.run([str(self.build / "apps/chatd/chatd"), "--migrate"], env=self.chatd_env(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def seed(self):
        """ROOMS rooms of MEMBERS members; returns [(room, [users])]."""
        rooms = []
        with psycopg.connect(self.db) as conn:
            for r in range(self.args.rooms):
                users = [conn.execute("INSERT INTO users (email, password_hash, nickname) VALUES (%s, 'x', %s) "
                                      "RETURNING id", (f"b{r}-{m}-{uuid.uuid4().hex[:6]}@bench", f"u{r}{m}")).fetchone()[0]
                         for m in range(self.args.members)]
                room = conn.execute("INSERT INTO chat_rooms (type, name, created_by) VALUES ('GROUP', %s, %s) "
                                    "RETURNING id", (f"room{r}", users[0])).fetchone()[0]
                for u in users:
                    conn.execute("INSERT INTO chat_room_members (room_id, user_id) VALUES (%s, %s)", (room, u))
                rooms.append((room, users))
        return rooms

    def start_chatd(self):
        self.log_path = self.root / "chatd.log"
        self.log = open(self.log_path, "wb")
        self.chatd = subprocess.Popen([str(self.build / "apps/chatd/chatd")], env=self.chatd_env(),
                                      stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def assigned_at(self, group: str, timeout: float = 60) -> float:
        """Wall time at which chatd logged the assignment of `group`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if '"msg":"partitions assigned"' in line and f'"group":"{group}"' in line:
                    ts = json.loads(line)["ts"]
                    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                        tzinfo=datetime.timezone.utc).timestamp()
            if self.chatd.poll() is not None:
                raise RuntimeError(f"chatd exited: {self.log_path}")
            time.sleep(0.05)
        raise RuntimeError(f"{group} not assigned within {timeout}s")

    def make_producer(self):
        """A producer that is connected and has its idempotent producer id, so that the
        timed phases do not include the client's start-up (about 1 s)."""
        self.producer = Producer({"bootstrap.servers": self.env["CHATD_KAFKA_BROKERS"], "acks": "all",
                                  "enable.idempotence": True, "linger.ms": 5, "partitioner": "murmur2_random"})
        self.producer.produce("chat.read-receipts.dlt", key="bench", value="warm-up")  # nobody consumes it
        assert self.producer.flush(30) == 0

    def produce(self, rooms, n: int, rate: float | None) -> float:
        """Produces n records round-robin over the rooms; returns the wall time of the last."""
        p = self.producer
        padding = "x" * self.args.content_bytes
        start = time.time()
        last = start
        for i in range(n):
            if rate:
                due = start + i / rate
                delay = due - time.time()
                if delay > 0:
                    time.sleep(delay)
                intended_ms = due * 1000
            else:
                intended_ms = time.time() * 1000
            room, users = rooms[i % len(rooms)]
            key = str(uuid.uuid4())
            value = json.dumps({"messageKey": key, "roomId": room, "senderId": users[i % len(users)],
                                "senderNickname": "bench", "content": f"{intended_ms:.3f} {padding}",
                                "type": "TEXT", "createdAt": iso_ms(int(intended_ms))})
            while True:
                try:
                    p.produce("chat.messages", key=str(room), value=value,
                              headers=[("message-key", key), ("sent-at", str(int(intended_ms))),
                                       ("origin-node", "bench")])
                    break
                except BufferError:
                    p.poll(0.01)
            p.poll(0)
            last = time.time()
        assert p.flush(60) == 0
        return last

    def wait_rows(self, n: int, timeout: float = 300) -> float:
        """Polls until the messages table has n rows; returns the wall time it was seen."""
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.db, autocommit=True) as conn:
            while time.monotonic() < deadline:
                if conn.execute("SELECT count(*) FROM messages").fetchone()[0] >= n:
                    return time.time()
                time.sleep(0.01)
        raise RuntimeError(f"{n} rows not stored within {timeout}s")

    def wait_received(self, received, n: int, timeout: float = 300):
        deadline = time.monotonic() + timeout
        while received.value < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {received.value} of {n} messages received")
            time.sleep(0.01)

    def execute(self) -> dict:
        n = self.args.records
        self.start_stack()
        self.migrate()
        rooms = self.seed()
        self.make_producer()
        ctx = mp.get_context("fork")
        ready, received = ctx.Event(), ctx.Value("q", 0, lock=False)
        recv_path = self.root / "received.txt"
        sub = ctx.Process(target=subscriber_main, args=(self.env["CHATD_REDIS_URL"], str(recv_path), ready, received),
                          daemon=True)
        sub.start()
        if not ready.wait(10):
            raise RuntimeError("the Redis subscriber did not start")
        try:
            # ---- drain: a backlog of n records, chatd started afterwards
            self.produce(rooms, n, rate=None)
            self.start_chatd()
            t_persist = self.assigned_at("chat-persistence")
            t_broadcast = self.assigned_at("chat-broadcast")
            t_rows = self.wait_rows(n)
            self.wait_received(received, n)
            time.sleep(0.6)  # the subscriber flushes its file every 0.5 s when idle
            recv = [line.split() for line in recv_path.read_text().splitlines()]
            t_last_pub = max(float(r[0]) for r in recv[:n])
            drain = {
                "persist_records_per_s": n / (t_rows - t_persist),
                "broadcast_records_per_s": n / (t_last_pub - t_broadcast),
            }

            # ---- live: n records at `rate`
            t0 = time.time()
            t_last_sent = self.produce(rooms, n, rate=self.args.rate)
            t_rows_live = self.wait_rows(2 * n)
            self.wait_received(received, 2 * n)
            time.sleep(0.6)
            recv = [line.split() for line in recv_path.read_text().splitlines()][n:]
            latencies = sorted(float(r[0]) * 1000 - float(r[2]) for r in recv)
            dup = len(recv) - len({r[1] for r in recv})
            live = {
                "offered_rate": self.args.rate,
                "sent_per_s": n / (t_last_sent - t0),
                "broadcast_latency_ms": {f"p{p}": round(percentile(latencies, p), 2) for p in (50, 90, 99, 99.9)}
                | {"max": round(latencies[-1], 2)},
                "broadcast_received": len(recv),
                "broadcast_duplicates": dup,
                "persist_tail_ms": round((t_rows_live - t_last_sent) * 1000, 1),
                "persist_records_per_s": n / (t_rows_live - t0),
            }
            with psycopg.connect(self.db) as conn:
                stored = conn.execute("SELECT count(*), count(DISTINCT message_key) FROM messages").fetchone()
            return {"run": self.index, "records": n, "rooms": len(rooms), "drain": drain, "live": live,
                    "stored": stored[0], "stored_distinct": stored[1]}
        finally:
            sub.terminate()
            sub.join(5)
            if self.chatd is not None:
                self.chatd.send_signal(signal.SIGTERM)
                try:
                    self.chatd.wait(35)
                except subprocess.TimeoutExpired:
                    self.chatd.kill()
                self.log.close()
            self.stack.stop_all()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(REPO / "build"), help="build directory with chatd and chat-kafka-dev")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--records", type=int, default=20000, help="records per phase")
    ap.add_argument("--rooms", type=int, default=100)
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--rate", type=float, default=2000, help="live phase: records per second")
    ap.add_argument("--content-bytes", type=int, default=60, help="padding in each message's content")
    ap.add_argument("--json", help="write all results to this file")
    args = ap.parse_args()

    results = []
    for i in range(1, args.runs + 1):
        r = Run(args, i).execute()
        results.append(r)
        lat = r["live"]["broadcast_latency_ms"]
        print(f"run {i}: drain persist {r['drain']['persist_records_per_s']:.0f}/s, "
              f"broadcast {r['drain']['broadcast_records_per_s']:.0f}/s | live {r['live']['sent_per_s']:.0f}/s sent: "
              f"broadcast p50 {lat['p50']} ms p99 {lat['p99']} ms max {lat['max']} ms, "
              f"persist {r['live']['persist_records_per_s']:.0f}/s tail {r['live']['persist_tail_ms']} ms, "
              f"duplicates {r['live']['broadcast_duplicates']}, stored {r['stored']}/{2 * args.records}", flush=True)

    def med(f):
        return round(statistics.median(f(r) for r in results), 2)

    summary = {
        "drain_persist_records_per_s": med(lambda r: r["drain"]["persist_records_per_s"]),
        "drain_broadcast_records_per_s": med(lambda r: r["drain"]["broadcast_records_per_s"]),
        "live_sent_per_s": med(lambda r: r["live"]["sent_per_s"]),
        "live_broadcast_p50_ms": med(lambda r: r["live"]["broadcast_latency_ms"]["p50"]),
        "live_broadcast_p99_ms": med(lambda r: r["live"]["broadcast_latency_ms"]["p99"]),
        "live_broadcast_max_ms": med(lambda r: r["live"]["broadcast_latency_ms"]["max"]),
        "live_persist_records_per_s": med(lambda r: r["live"]["persist_records_per_s"]),
        "live_persist_tail_ms": med(lambda r: r["live"]["persist_tail_ms"]),
    }
    print("median of", len(results), "runs:", json.dumps(summary))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"args": vars(args), "runs": results, "median": summary},
                                                      indent=2))


if __name__ == "__main__":
    main()
