#!/usr/bin/python3
"""10,000 sessions against one chatd (issue 7): chatd's RSS per session and the connect rate,
with all sessions opened by ONE chatload process.

chatload signs up N users (REST, kept in --out/fixture.json for later runs), opens one STOMP
session each at --connect-rate, subscribes each to its room, then holds them with a trickle of
traffic (--rate, default 20 msg/s, so the sessions are idle but alive and accounted for).
chatd's RSS is sampled before the sessions open and while they are held:
RSS per session = (held RSS − baseline RSS) / sessions, the baseline taken on a chatd restarted
after the set-up (same database), before the sessions open. With --python-client the existing
bench/gateway/idle_sessions.sh (asyncio client, users seeded in SQL) runs too, for comparison.

    bench/sessions.sh                              # 10,000 sessions
    bench/sessions.sh --sessions 2000 --python-client
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

from common import REPO, Chatd, binaries, log, rss_kib, run_chatload, start_stack


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=10_000)
    p.add_argument("--members", type=int, default=10, help="members per room (rooms = sessions / members)")
    p.add_argument("--connect-rate", type=float, default=2000, help="sessions/s chatload opens (an upper bound)")
    p.add_argument("--rate", type=float, default=20, help="messages/s while the sessions are held")
    p.add_argument("--hold", type=float, default=20, help="seconds the sessions are held")
    p.add_argument("--transport", choices=["tcp", "ws"], default="tcp")
    p.add_argument("--python-client", action="store_true", help="also run bench/gateway/idle_sessions.sh")
    p.add_argument("--out", default=None)
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    args = p.parse_args()
    bins = binaries(args.build_dir)
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="bench-sessions-"))
    out.mkdir(parents=True, exist_ok=True)
    rooms = max(1, args.sessions // args.members)
    summary: dict = {"scenario": vars(args)}
    with tempfile.TemporaryDirectory(prefix="bench-sessions-stack-") as tmp:
        stack = start_stack(bins, pathlib.Path(tmp))
        chatd = None
        try:
            chatd = Chatd(bins, stack, out)
            fixture = out / "fixture.json"
            log(f"set-up: {args.sessions} users, {rooms} rooms (REST, once)")
            common = ["--url", chatd.url, "--users", str(args.sessions), "--rooms", str(rooms),
                      "--members", str(args.members), "--setup-threads", "8", "--fixture", str(fixture), "--quiet"]
            setup = run_chatload(bins, [*common, "--rate", "5", "--duration", "1", "--connect-rate", "1000"],
                                 out / "setup.json")
            summary["setup_s"] = setup["setup"]["seconds"]
            # A fresh chatd on the same database, so the baseline holds no set-up sessions.
            chatd.stop()
            chatd = Chatd(bins, stack, out, database=chatd.database)
            common[1] = chatd.url
            time.sleep(2)
            baseline = rss_kib(chatd.proc.pid)
            samples: list[int] = []
            stop = threading.Event()

            def sample():
                while not stop.wait(0.5):
                    try:
                        samples.append(rss_kib(chatd.proc.pid))
                    except OSError:
                        return
            t = threading.Thread(target=sample)
            t.start()
            stomp = chatd.tcp if args.transport == "tcp" else chatd.ws
            r = run_chatload(bins, [*common, "--stomp-url", stomp, "--connect-rate", str(args.connect_rate),
                                    "--rate", str(args.rate), "--duration", str(args.hold)],
                             out / "sessions.json", {"chatd": chatd.proc.pid},
                             sample_after=args.sessions / args.connect_rate + 2)
            stop.set()
            t.join()
            held = statistics.median(samples[len(samples) // 2:]) if samples else 0
            summary["chatload"] = {
                "sessions": r["sessions"],
                "connect_seconds": r["setup"]["sessions_seconds"],
                "sessions_per_s": round(r["setup"]["sessions_per_s"], 1),
                "connect_ms": r["latency_ms"]["connect"],
                "subscribe_ms_p99": r["latency_ms"]["subscribe"]["p99"],
                "chatd_rss_kib": {"baseline": baseline, "held_median": held, "peak": max(samples or [0])},
                "chatd_rss_kib_per_session": round((held - baseline) / max(1, r["sessions"]), 2),
                "lost": r["counts"]["lost"], "errors": r["errors"],
                "generator_cpu_cores": round(r["generator"]["cpu_cores"], 3),
                "valid": r["validity"]["valid"],
                "cpu_cores_while_held": r["bench"]["cpu_cores"],
            }
        finally:
            if chatd:
                chatd.stop()
            stack.stop_all()
    if args.python_client:
        log("bench/gateway/idle_sessions.sh (python asyncio client)")
        p2 = subprocess.run([str(REPO / "bench/gateway/idle_sessions.sh"), "--sessions", str(args.sessions),
                             "--build-dir", args.build_dir], capture_output=True, text=True)
        try:
            summary["python_client"] = json.loads(p2.stdout[p2.stdout.index("{"):])
        except ValueError:
            summary["python_client"] = {"exit_code": p2.returncode, "stderr_tail": p2.stderr[-2000:]}
    summary["reports"] = str(out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    c = summary["chatload"]
    print(f"{c['sessions']} sessions from one chatload in {c['connect_seconds']:.1f} s ({c['sessions_per_s']}/s); "
          f"chatd RSS {c['chatd_rss_kib_per_session']} KiB per session")
    return 0


if __name__ == "__main__":
    sys.exit(main())
