#!/usr/bin/python3
"""Idle STOMP sessions against one chatd: how much memory does a connected session cost?

Starts its own stack (PostgreSQL, Redis, the dev Kafka broker; scripts/devstack.py) and one
chatd from the build directory, seeds N users straight into PostgreSQL, opens N STOMP/TCP
sessions over loopback (one per user, CONNECT with a JWT, each subscribed to its own room),
waits until every one got CONNECTED and its RECEIPT, then samples chatd's RSS from
/proc/PID/status for a while and prints a JSON report.

    bench/gateway/idle_sessions.sh                       # 10,000 sessions, build/ or $CHAT_BUILD_DIR
    bench/gateway/idle_sessions.sh --sessions 2000 --heartbeat 10000,10000

Standard library + psycopg only; run with the system Python (/usr/bin/python3).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import devstack  # noqa: E402

SECRET = "bench-secret-0123456789abcdef0123456789"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(user_id: int) -> str:
    now = int(time.time())
    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64(json.dumps({"sub": str(user_id), "email": "", "iat": now, "exp": now + 86400},
                             separators=(",", ":")).encode())
    sig = b64(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def rss_kib(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[key] = int(value.split()[0])
    return out


def seed(db_url: str, n: int) -> list[tuple[int, int]]:
    """n users, each alone in a room of their own: (user id, room id)."""
    import psycopg
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO users (email, password_hash, nickname) "
            "SELECT 'bench' || g || '@example.com', 'x', 'bench' || g FROM generate_series(1, %s) g", (n,))
        users = [r[0] for r in conn.execute("SELECT id FROM users ORDER BY id").fetchall()]
        conn.execute(
            "INSERT INTO chat_rooms (type, name, created_by) SELECT 'GROUP', 'r' || id, id FROM users")
        conn.execute(
            "INSERT INTO chat_room_members (room_id, user_id) SELECT id, created_by FROM chat_rooms")
        rooms = dict(conn.execute("SELECT created_by, id FROM chat_rooms").fetchall())
    return [(u, rooms[u]) for u in users]


class Session:
    def __init__(self):
        self.reader = None
        self.writer = None


async def open_session(port: int, user: int, room: int, heartbeat: str, sem: asyncio.Semaphore,
                       sessions: list, errors: list):
    async with sem:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write((f"CONNECT\naccept-version:1.2\nhost:chat\nheart-beat:{heartbeat}\nlogin:bench\n"
                          f"passcode:{token(user)}\n\n\0"
                          f"SUBSCRIBE\nid:0\ndestination:/topic/room.{room}\nreceipt:r\n\n\0").encode())
            await writer.drain()
            data = b""
            while data.count(b"\0") < 2:
                chunk = await asyncio.wait_for(reader.read(4096), 30)
                if not chunk:
                    raise ConnectionError(f"closed: {data[:200]!r}")
                data += chunk
            if not data.startswith(b"CONNECTED") or b"RECEIPT" not in data:
                raise ConnectionError(data[:200])
            sessions.append((reader, writer))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))


async def keep_alive(sessions, heartbeat: str, stop: asyncio.Event):
    """Sends client heart-beats when the negotiated plan needs them, and reads server ones."""
    cx = int(heartbeat.split(",")[0])
    if cx == 0:
        await stop.wait()
        return
    while not stop.is_set():
        for _, w in sessions:
            w.write(b"\n")
        await asyncio.sleep(cx / 1000 / 2)


async def drain(sessions, stop: asyncio.Event):
    async def one(r):
        while not stop.is_set():
            try:
                if not await r.read(4096):
                    return
            except Exception:  # noqa: BLE001
                return
    await asyncio.gather(*(one(r) for r, _ in sessions))


async def run(args, chatd_pid: int, port: int, pairs):
    sem = asyncio.Semaphore(args.concurrency)
    sessions, errors = [], []
    t0 = time.monotonic()
    await asyncio.gather(*(open_session(port, u, r, args.heartbeat, sem, sessions, errors) for u, r in pairs))
    connect_s = time.monotonic() - t0
    stop = asyncio.Event()
    bg = [asyncio.create_task(keep_alive(sessions, args.heartbeat, stop)),
          asyncio.create_task(drain(sessions, stop))]
    samples = []
    cpu0 = cpu_ticks(chatd_pid)
    t_idle = time.monotonic()
    end = t_idle + args.hold
    while time.monotonic() < end:
        samples.append(rss_kib(chatd_pid))
        await asyncio.sleep(1)
    cpu_idle = (cpu_ticks(chatd_pid) - cpu0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t_idle)
    stop.set()
    for _, w in sessions:
        w.close()
    for t in bg:
        t.cancel()
    return {"connected": len(sessions), "errors": len(errors), "first_errors": errors[:5],
            "connect_seconds": round(connect_s, 2), "samples": samples, "idle_cpu_cores": round(cpu_idle, 3)}


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=500, help="connection attempts in flight")
    p.add_argument("--heartbeat", default="0,0", help="client heart-beat header (cx,cy)")
    p.add_argument("--hold", type=float, default=10, help="seconds to hold the sessions idle while sampling")
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    p.add_argument("--io-threads", type=int, default=2)
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.sessions + 1000
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        sys.exit(f"need {need} file descriptors; raise the hard limit (ulimit -Hn) first")

    build = pathlib.Path(args.build_dir)
    chatd_bin = build / "apps/chatd/chatd"
    kafka_bin = build / "tools/kafka-dev/chat-kafka-dev"
    with tempfile.TemporaryDirectory(prefix="bench-gw-") as tmp:
        root = pathlib.Path(tmp)
        stack = devstack.Stack(root / "stack", kafka_bin, fast=True, log=lambda *a: None)
        stack.start_all()
        chatd = None
        try:
            db = stack.create_database("bench")
            env = dict(os.environ)
            env.update(stack.env())
            stomp_port = devstack.free_port()
            env.update({"CHATD_DATABASE_URL": db, "CHATD_JWT_SECRET": SECRET, "CHATD_HTTP_HOST": "127.0.0.1",
                        "CHATD_HTTP_PORT": str(devstack.free_port()), "CHATD_STOMP_HOST": "127.0.0.1",
                        "CHATD_STOMP_PORT": str(stomp_port), "CHATD_NODE_ID": "bench",
                        "CHATD_IO_THREADS": str(args.io_threads), "CHATD_LOG_LEVEL": "warn",
                        "CHATD_MAX_SESSIONS_PER_USER": "20"})
            log = open(root / "chatd.log", "wb")
            chatd = subprocess.Popen([str(chatd_bin)], env=env, stdout=log, stderr=subprocess.STDOUT)
            http = f"http://127.0.0.1:{env['CHATD_HTTP_PORT']}/readyz"
            deadline = time.monotonic() + 60
            import urllib.request
            while True:
                try:
                    if urllib.request.urlopen(http, timeout=2).status == 200:
                        break
                except Exception:  # noqa: BLE001
                    if time.monotonic() > deadline or chatd.poll() is not None:
                        sys.exit("chatd did not become ready; see " + str(root / "chatd.log"))
                    time.sleep(0.2)
            pairs = seed(db, args.sessions)
            baseline = rss_kib(chatd.pid)
            result = asyncio.run(run(args, chatd.pid, stomp_port, pairs))
            samples = result.pop("samples")
            steady = samples[-1] if samples else {}
            report = {
                "sessions_requested": args.sessions,
                **result,
                "heartbeat": args.heartbeat,
                "io_threads": args.io_threads,
                "rss_baseline_mib": round(baseline["VmRSS"] / 1024, 1),
                "rss_with_sessions_mib": round(steady.get("VmRSS", 0) / 1024, 1),
                "rss_peak_mib": round(max(s["VmHWM"] for s in samples) / 1024, 1) if samples else None,
                "rss_anon_mib": round(steady.get("RssAnon", 0) / 1024, 1),
                "kib_per_session": round((steady.get("VmRSS", 0) - baseline["VmRSS"]) / max(1, result["connected"]), 2),
                "chatd_threads": steady.get("Threads"),
            }
            print(json.dumps(report, indent=2))
        finally:
            if chatd is not None:
                chatd.terminate()
                try:
                    chatd.wait(40)
                except subprocess.TimeoutExpired:
                    chatd.kill()
            stack.stop_all()


if __name__ == "__main__":
    main()
