#!/usr/bin/python3
"""REST benchmark of one chatd (issue 3): GET /api/rooms/{id}/messages and GET /api/rooms
driven by wrk. Starts its own PostgreSQL, Redis and dev Kafka (scripts/devstack.py) and one
chatd from a release build, seeds a room with 10,000 messages plus users and rooms, runs each
scenario --runs times and prints the median requests/s and p99 latency.

Run it through bench/rest/run.sh; see bench/rest/README.md. Standard library + psycopg only.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import devstack  # noqa: E402

import psycopg  # noqa: E402

SECRET = "bench-secret-0123456789abcdef0123456789"
PARTITION = 2  # seeded ids: (PARTITION << 40) | offset, as the pipeline would assign them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def wait_ready(url: str, proc: subprocess.Popen, log: pathlib.Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"chatd exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"chatd not ready after {timeout}s; see {log}")


def seed(db_url: str, users: int, rooms: int, messages: int) -> tuple[int, int]:
    """Users 2..users+1 with the benchmark user (id 1, signed up through HTTP before) in
    `rooms` group rooms of 5 members, each with 20 messages; room 1 of them gets `messages`.
    Returns (big room id, id of its newest message)."""
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO users (email, password_hash, nickname) "
            "SELECT 'user' || g || '@bench.example', 'x', 'user ' || g FROM generate_series(2, %s + 1) g", (users,))
        conn.execute(
            "INSERT INTO chat_rooms (type, name, created_by) "
            "SELECT 'GROUP', 'room ' || g, 1 FROM generate_series(1, %s) g", (rooms,))
        conn.execute(
            "INSERT INTO chat_room_members (room_id, user_id, unread_count) "
            "SELECT r.id, 1, 3 FROM chat_rooms r "
            "UNION ALL SELECT r.id, 2 + ((r.id * 7 + k) %% %s), 0 FROM chat_rooms r, generate_series(0, 3) k "
            "ON CONFLICT DO NOTHING", (users,))
        big = conn.execute("SELECT min(id) FROM chat_rooms").fetchone()[0]
        # Realistic message sizes: 40-200 characters, a few senders.
        conn.execute(
            "INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
            "                      kafka_partition, kafka_offset, created_at) "
            "SELECT (%s::bigint << 40) | g, gen_random_uuid(), %s, 2 + g %% 4, 'user ' || (2 + g %% 4), "
            "       left('message ' || g || ' ' || repeat('lorem ipsum dolor sit amet ', 1 + g %% 7), 200), 'TEXT', "
            "       %s, g, now() - (%s - g) * interval '1 second' "
            "FROM generate_series(1, %s) g", (PARTITION, big, PARTITION, messages, messages))
        # 20 messages in every other room, at offsets above the big room's.
        conn.execute(
            "INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
            "                      kafka_partition, kafka_offset, created_at) "
            "SELECT (%s::bigint << 40) | (1000000 + r.id * 100 + k), gen_random_uuid(), r.id, 2, 'user 2', "
            "       'hello from room ' || r.id, 'TEXT', %s, 1000000 + r.id * 100 + k, now() - k * interval '1 minute' "
            "FROM chat_rooms r, generate_series(1, 20) k WHERE r.id <> %s", (PARTITION, PARTITION, big))
        conn.execute("ANALYZE")
        newest = conn.execute("SELECT max(id) FROM messages WHERE room_id = %s", (big,)).fetchone()[0]
    return big, newest


LUA_AUTH = 'wrk.headers["Authorization"] = "Bearer {token}"\n'

LUA_RANDOM_CURSOR = LUA_AUTH + """
-- A random page of the room: a cursor anywhere in its ids (seeded contiguously).
local first, last = {first}, {last}
math.randomseed(os.time())
request = function()
  local cursor = first + math.random(21, last - first)
  return wrk.format("GET", "{path}?cursor=" .. string.format("%.0f", cursor))
end
"""


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the given processes (clock ticks -> s); gone processes count 0."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def postgres_pids(postmaster: int) -> list[int]:
    """The postmaster and its children (backends, background workers)."""
    pids = [postmaster]
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    return pids


def parse_wrk(text: str) -> dict:
    def ms(value: str) -> float:
        m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
        number, unit = float(m.group(1)), m.group(2)
        return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    max_ms = ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", text).group(1))
    latency = {p: ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    return {"rps": rps, "p50_ms": latency["50"], "p99_ms": latency["99"], "max_ms": max_ms,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    ap.add_argument("--duration", default="30s")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rooms", type=int, default=20, help="rooms of the benchmark user (GET /api/rooms size)")
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--scenarios", default="history-newest,history-random,rooms")
    ap.add_argument("--chatd-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra chatd settings, e.g. CHATD_DB_POOL_SIZE=4 (repeatable)")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = ap.parse_args()

    build = pathlib.Path(args.build_dir)
    chatd_bin = build / "apps/chatd/chatd"
    kafka_bin = build / "tools/kafka-dev/chat-kafka-dev"
    for b in (chatd_bin, kafka_bin):
        if not b.exists():
            raise SystemExit(f"{b} missing: build first (scripts/build release)")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    work = pathlib.Path(tempfile.mkdtemp(prefix="chat-bench-rest-"))
    stack = devstack.Stack(work / "stack", kafka_bin, fast=True, log=lambda *a: None)
    chatd = None
    try:
        print(f"starting PostgreSQL, Redis, Kafka in {work}", file=sys.stderr)
        stack.start_all()
        db = stack.create_database("bench")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
        env.update(stack.env())
        env.update({"CHATD_DATABASE_URL": db, "CHATD_JWT_SECRET": SECRET, "CHATD_HTTP_HOST": "127.0.0.1",
                    "CHATD_HTTP_PORT": str(port), "CHATD_STOMP_HOST": "127.0.0.1",
                    "CHATD_STOMP_PORT": str(free_port()), "CHATD_PASSWORD_COST": "minimum",
                    "CHATD_LOG_LEVEL": "warn",
                    # 2 cores shared by chatd, PostgreSQL and wrk: 4 workers keep the p99 low
                    # (8 oversubscribes them); see docs/rest.md. Override with --chatd-env.
                    "CHATD_DB_POOL_SIZE": "4"})
        for kv in args.chatd_env:
            k, _, v = kv.partition("=")
            env[k] = v
        log = work / "chatd.log"
        with open(log, "ab") as log_file:
            chatd = subprocess.Popen([str(chatd_bin)], env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, chatd, log)

        me = http("POST", url + "/api/auth/signup",
                  {"email": "bench@bench.example", "password": "password123", "nickname": "bench"})
        assert me["userId"] == 1, me
        token = me["token"]
        print(f"seeding {args.messages} messages, {args.users} users, {args.rooms} rooms", file=sys.stderr)
        big, newest = seed(db, args.users, args.rooms, args.messages)
        first = (PARTITION << 40) | 1
        history_path = f"/api/rooms/{big}/messages"

        # Sanity: every scenario answers 200 with the expected shape before it is timed.
        page = http("GET", url + history_path, token=token)
        assert len(page["messages"]) == 20 and page["messages"][0]["id"] == newest and page["hasMore"], page
        rooms = http("GET", url + "/api/rooms", token=token)
        assert len(rooms) == args.rooms and all(r["lastMessage"] for r in rooms), rooms[:2]

        scripts = work / "lua"
        scripts.mkdir()
        (scripts / "auth.lua").write_text(LUA_AUTH.format(token=token))
        (scripts / "random.lua").write_text(LUA_RANDOM_CURSOR.format(token=token, first=first, last=newest,
                                                                     path=history_path))
        scenarios = {
            "history-newest": (scripts / "auth.lua", url + history_path),
            "history-random": (scripts / "random.lua", url + history_path),
            "rooms": (scripts / "auth.lua", url + "/api/rooms"),
        }
        chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        results: dict[str, dict] = {}
        for name in chosen:
            script, target = scenarios[name]
            cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}", "--latency",
                   "-s", str(script), target]
            # Warm-up: connections, prepared statements, caches.
            subprocess.run(["wrk", "-t1", "-c10", "-d3s", "-s", str(script), target], capture_output=True, check=True)
            runs = []
            pg_pids = postgres_pids(stack.state["services"]["postgres"]["pid"])
            for i in range(args.runs):
                cpu_before = (cpu_seconds([chatd.pid]), cpu_seconds(pg_pids))
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                r = parse_wrk(out)
                requests_done = int(re.search(r"(\d+) requests in", out).group(1))
                # CPU per request, to tell where the time goes (no hardware counters here).
                r["chatd_cpu_us_per_req"] = (cpu_seconds([chatd.pid]) - cpu_before[0]) * 1e6 / requests_done
                r["postgres_cpu_us_per_req"] = (cpu_seconds(pg_pids) - cpu_before[1]) * 1e6 / requests_done
                runs.append(r)
                print(f"{name} run {i + 1}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, "
                      f"p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.0f} ms, non-2xx {r['non_2xx']} "
                      f"{r['socket_errors']}; CPU/request: "
                      f"chatd {r['chatd_cpu_us_per_req']:.0f} us, postgres {r['postgres_cpu_us_per_req']:.0f} us",
                      file=sys.stderr)
            results[name] = {
                "command": " ".join(cmd),
                "runs": runs,
                "median_rps": statistics.median(r["rps"] for r in runs),
                "median_p99_ms": statistics.median(r["p99_ms"] for r in runs),
                "median_p50_ms": statistics.median(r["p50_ms"] for r in runs),
                "non_2xx": sum(r["non_2xx"] for r in runs),
            }

        print()
        settings = {k: v for k, v in env.items() if k in ("CHATD_DB_POOL_SIZE", "CHATD_IO_THREADS")}
        print(f"chatd {settings or ''} ({os.cpu_count()} CPUs, load average before: {load_before})")
        print(f"{'scenario':<16} {'req/s (median)':>15} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for name, r in results.items():
            print(f"{name:<16} {r['median_rps']:>15.0f} {r['median_p50_ms']:>8.2f} {r['median_p99_ms']:>8.2f} "
                  f"{r['non_2xx']:>8}")
        print()
        for name, r in results.items():
            print(f"{name}: {r['command']}")
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps(
                {"settings": vars(args), "chatd_env": args.chatd_env, "results": results}, indent=2))
        bad = [n for n, r in results.items() if r["non_2xx"]]
        if bad:
            print(f"non-2xx answers in: {', '.join(bad)}", file=sys.stderr)
            return 1
        return 0
    finally:
        if chatd is not None and chatd.poll() is None:
            chatd.send_signal(signal.SIGTERM)
            try:
                chatd.wait(timeout=35)
            except subprocess.TimeoutExpired:
                chatd.kill()
        stack.stop_all()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
