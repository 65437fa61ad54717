#!/usr/bin/python3
"""Real-time delivery benchmark (issue 7): starts PostgreSQL, Redis and the dev Kafka broker
(scripts/devstack.py) and one chatd with the per-user rate limit raised, runs chatload N times
against it and prints the median p50/p99/max delivery latency and the lost/duplicated/
reordered counts. While chatload runs, the CPU used by chatd, chatload and the stack's
processes is sampled from /proc/PID/stat. Reports: <out>/run-<i>.json and summary.json.

    bench/realtime/run.sh                      # build/ or $CHAT_BUILD_DIR
    bench/realtime/run.sh --runs 1 --rate 500 --duration 10
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import devstack  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def sample_cpu(pids: dict[str, int], stop: threading.Event, out: dict):
    """Average cores used by each process between the first and last sample."""
    first = {n: (time.monotonic(), cpu_seconds(p)) for n, p in pids.items() if pathlib.Path(f"/proc/{p}").exists()}
    last = dict(first)
    while not stop.wait(1.0):
        for n, p in pids.items():
            try:
                last[n] = (time.monotonic(), cpu_seconds(p))
            except (FileNotFoundError, ProcessLookupError):
                pass
    for n in first:
        dt = last[n][0] - first[n][0]
        out[n] = round((last[n][1] - first[n][1]) / dt, 2) if dt > 0 else None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--rooms", type=int, default=100)
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--warmup", type=float, default=5, help="seconds at full rate before the measured duration")
    p.add_argument("--transport", choices=["tcp", "ws"], default="tcp")
    p.add_argument("--io-threads", type=int, default=2, help="chatd I/O threads")
    p.add_argument("--out", default=None, help="directory for the JSON reports (default: a temp dir, kept)")
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    args = p.parse_args()

    build = pathlib.Path(args.build_dir)
    chatd_bin = build / "apps/chatd/chatd"
    chatload_bin = build / "apps/chatload/chatload"
    kafka_bin = build / "tools/kafka-dev/chat-kafka-dev"
    for b in (chatd_bin, chatload_bin, kafka_bin):
        if not b.exists():
            sys.exit(f"{b} is missing: build chatd, chatload and chat-kafka-dev first")
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="bench-realtime-"))
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="bench-rt-") as tmp:
        root = pathlib.Path(tmp)
        stack = devstack.Stack(root / "stack", kafka_bin, fast=True, log=lambda *a: None)
        stack.start_all()
        chatd = None
        try:
            db = stack.create_database("bench")
            env = dict(os.environ)
            env.update(stack.env())
            http_port, stomp_port = devstack.free_port(), devstack.free_port()
            env.update({"CHATD_DATABASE_URL": db, "CHATD_JWT_SECRET": "bench-secret-0123456789abcdef0123456789",
                        "CHATD_HTTP_HOST": "127.0.0.1", "CHATD_HTTP_PORT": str(http_port),
                        "CHATD_STOMP_HOST": "127.0.0.1", "CHATD_STOMP_PORT": str(stomp_port),
                        "CHATD_NODE_ID": "bench", "CHATD_IO_THREADS": str(args.io_threads),
                        "CHATD_LOG_LEVEL": "warn", "CHATD_PASSWORD_COST": "minimum",
                        "CHATD_RATE_LIMIT": "1000", "CHATD_RATE_BURST": "1000"})
            log = open(out / "chatd.log", "wb")
            chatd = subprocess.Popen([str(chatd_bin)], env=env, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 60
            while True:
                try:
                    if urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=2).status == 200:
                        break
                except Exception:  # noqa: BLE001
                    if time.monotonic() > deadline or chatd.poll() is not None:
                        sys.exit(f"chatd did not become ready; see {out / 'chatd.log'}")
                    time.sleep(0.2)
            stomp = (f"tcp://127.0.0.1:{stomp_port}" if args.transport == "tcp"
                     else f"ws://127.0.0.1:{http_port}/ws")
            reports = []
            for i in range(1, args.runs + 1):
                report = out / f"run-{i}.json"
                cmd = [str(chatload_bin), "--url", f"http://127.0.0.1:{http_port}", "--stomp-url", stomp,
                       "--users", str(args.users), "--rooms", str(args.rooms), "--members", str(args.members),
                       "--rate", str(args.rate), "--duration", str(args.duration), "--warmup", str(args.warmup), "--setup-threads", "8",
                       "--json", str(report)]
                print(f"== run {i}/{args.runs}: {' '.join(cmd)}", file=sys.stderr, flush=True)
                load = subprocess.Popen(cmd)
                pids = {"chatd": chatd.pid, "chatload": load.pid}
                for svc in ("kafka", "redis", "postgres"):
                    try:
                        pids[svc] = stack._svc(svc)["pid"]  # noqa: SLF001
                    except Exception:  # noqa: BLE001
                        pass
                cpu: dict = {}
                stop = threading.Event()
                # sample only while sending: skip the REST set-up and connecting phase
                sampler = threading.Thread(target=lambda: (time.sleep(5 + args.warmup),
                                                           sample_cpu(pids, stop, cpu)))
                sampler.start()
                rc = load.wait()
                stop.set()
                sampler.join()
                if not report.exists():
                    sys.exit(f"run {i}: chatload exited {rc} without a report")
                r = json.loads(report.read_text())
                r["cpu_cores"] = cpu
                report.write_text(json.dumps(r, indent=2))
                reports.append(r)
                print(f"== run {i}: exit {rc}, cpu (cores) {cpu}", file=sys.stderr, flush=True)
        finally:
            if chatd is not None and chatd.poll() is None:
                chatd.terminate()
                try:
                    chatd.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    chatd.kill()
            stack.stop_all()

    def med(path):
        vals = [r["latency_ms"]["delivery"][path] for r in reports]
        return statistics.median(vals)

    summary = {
        "runs": len(reports),
        "delivery_ms_median": {k: med(k) for k in ("p50", "p90", "p99", "p999", "max")},
        "receipt_p99_ms_median": statistics.median(r["latency_ms"]["receipt"]["p99"] for r in reports),
        "delivered_per_s_median": statistics.median(r["throughput"]["delivered_per_s"] for r in reports),
        "lost": [r["counts"]["lost"] for r in reports],
        "duplicated": [r["counts"]["duplicated"] for r in reports],
        "reordered": [r["counts"]["reordered"] for r in reports],
        "dropped_sends": [r["counts"]["dropped_sends"] for r in reports],
        "errors": [r["counts"]["errors"] for r in reports],
        "cpu_cores": [r.get("cpu_cores") for r in reports],
        "reports": str(out),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    ok = (summary["delivery_ms_median"]["p99"] <= 50 and not any(summary["lost"])
          and not any(summary["duplicated"]) and not any(summary["reordered"]))
    print("target (p99 <= 50 ms, nothing lost/duplicated/reordered):", "MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
