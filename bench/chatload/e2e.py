#!/usr/bin/python3
"""End-to-end benchmark (issue 7): PostgreSQL, Redis and the dev Kafka broker (scripts/devstack.py),
one chatd, and chatload with 1,000 users in 100 rooms x 10 members sending 2,000 msg/s for 60 s
(20,000 deliveries/s) over STOMP/TCP, N runs. Every run gets a fresh stack and chatd: the dev
broker's fetch cost grows with its retained log (see docs/chatload.md), so a reused broker
would make each run slower than the one before. Prints the medians of p50/p99/p99.9, throughput and lost/duplicated/reordered; each run's
JSON, HTML and hgrm reports stay in --out.

--baseline-build-dir DIR runs each run also with another build's chatd (chatload and the broker
stay --build-dir's), right after the new one, and prints both medians and the ratios
new / baseline: side by side under the same machine load.

    bench/e2e.sh                         # build/ or $CHAT_BUILD_DIR, 3 runs
    bench/e2e.sh --runs 1 --duration 20 --transport ws
    bench/e2e.sh --build-dir build-rel --baseline-build-dir /tmp/base/build-rel
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile

from common import REPO, Chatd, binaries, log, medians, run_chatload, start_stack


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--rooms", type=int, default=100)
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--warmup", type=float, default=5)
    p.add_argument("--ramp-up", type=float, default=2)
    p.add_argument("--transport", choices=["tcp", "ws"], default="tcp")
    p.add_argument("--io-threads", type=int, default=2, help="chatd I/O threads")
    p.add_argument("--out", default=None, help="directory for the reports (default: a temp dir, kept)")
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    p.add_argument("--baseline-build-dir", default=None,
                   help="also run each run with this build's chatd, interleaved; prints the ratios new / baseline")
    args = p.parse_args()
    builds = {"new": binaries(args.build_dir)}
    if args.baseline_build_dir:
        builds["baseline"] = dict(builds["new"], chatd=binaries(args.baseline_build_dir)["chatd"])
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="bench-e2e-"))
    out.mkdir(parents=True, exist_ok=True)
    reports: dict[str, list] = {build: [] for build in builds}
    for i, build in ((i, build) for i in range(1, args.runs + 1) for build in builds):
        bins = builds[build]
        log(f"run {i}/{args.runs}" + ("" if len(builds) == 1 else f" ({build})"))
        prefix = out / (f"run-{i}" if build == "new" else f"run-{i}-{build}")
        with tempfile.TemporaryDirectory(prefix="bench-e2e-stack-") as tmp:
            stack = start_stack(bins, pathlib.Path(tmp))
            chatd = None
            try:
                chatd = Chatd(bins, stack, out, io_threads=args.io_threads)
                stomp = chatd.tcp if args.transport == "tcp" else chatd.ws
                watch = {"chatd": chatd.proc.pid}
                for svc in ("kafka", "redis", "postgres"):
                    try:
                        watch[svc] = stack._svc(svc)["pid"]  # noqa: SLF001
                    except Exception:  # noqa: BLE001
                        pass
                reports[build].append(run_chatload(bins, [
                    "--url", chatd.url, "--stomp-url", stomp, "--users", str(args.users), "--rooms", str(args.rooms),
                    "--members", str(args.members), "--rate", str(args.rate), "--duration", str(args.duration),
                    "--warmup", str(args.warmup), "--ramp-up", str(args.ramp_up), "--setup-threads", "8",
                    "--html", f"{prefix}.html", "--hgrm", f"{prefix}.hgrm",
                    "--quiet"], pathlib.Path(f"{prefix}.json"), watch,
                    sample_after=5 + args.warmup + args.ramp_up))
            finally:
                if chatd:
                    chatd.stop()
                stack.stop_all()
    summary = medians(reports["new"])
    summary["scenario"] = {k: getattr(args, k) for k in ("users", "rooms", "members", "rate", "duration", "transport")}
    summary["reports"] = str(out)
    if "baseline" in reports:
        base = medians(reports["baseline"])
        summary["baseline"] = base
        summary["ratio_to_baseline"] = {
            **{k: summary["delivery_ms"][k] / base["delivery_ms"][k] if base["delivery_ms"][k] else None
               for k in ("p50", "p99", "p999")},
            "delivered_per_s": summary["delivered_per_s"] / base["delivered_per_s"] if base["delivered_per_s"] else None}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    clean = True
    for name, s in [("new", summary)] + ([("baseline", summary["baseline"])] if "baseline" in summary else []):
        ok = not any(s["lost"]) and not any(s["duplicated"]) and not any(s["reordered"])
        clean = clean and ok
        print(("" if len(reports) == 1 else f"{name}: ") +
              f"median p50 {s['delivery_ms']['p50']} ms, p99 {s['delivery_ms']['p99']} ms, "
              f"p99.9 {s['delivery_ms']['p999']} ms; {s['delivered_per_s']:.0f} deliveries/s; "
              f"lost/duplicated/reordered {'none' if ok else 'SEEN'}")
    if "ratio_to_baseline" in summary:
        r = summary["ratio_to_baseline"]
        print("new / baseline: " + ", ".join(f"{k} {v:.3g}" for k, v in r.items() if v is not None))
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
