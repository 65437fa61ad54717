#!/usr/bin/python3
"""Mixed-traffic benchmark (issue 14): the end-to-end scenario of bench/e2e.sh (PostgreSQL, Redis,
the dev Kafka broker, one chatd, chatload: 1,000 users in 100 rooms x 10 members, 2,000 sends/s
for 60 s over STOMP/TCP) run send-only and with --mix send=80,edit=5,delete=5,react=10, N runs
each, interleaved (send-only, then mixed, run after run) on a fresh stack every time. Prints the
medians of both, the ratios mixed / send-only of the delivery p99 and of the deliveries per
second (the goal: within 10 %), lost/duplicated/reordered of every run (the goal: 0), and the
mixed runs' room events by kind. Each run's JSON/HTML/hgrm reports stay in --out.

    bench/mix.sh                                    # build/ or $CHAT_BUILD_DIR, 3 runs each
    bench/mix.sh --build-dir build-rel --runs 1 --duration 20
    bench/mix.sh --mix send=70,edit=10,delete=10,react=10
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile

from common import REPO, add_e2e_scenario_args, binaries, build_dir_of, medians, run_interleaved


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_e2e_scenario_args(p)
    p.add_argument("--mix", default="send=80,edit=5,delete=5,react=10")
    p.add_argument("--transport", choices=["tcp", "ws"], default="tcp")
    p.add_argument("--io-threads", type=int, default=2, help="chatd I/O threads")
    p.add_argument("--tolerance", type=float, default=0.10, help="allowed relative worsening of p99 and throughput")
    p.add_argument("--chatd-env", action="append", default=[], metavar="NAME=VALUE",
                   help="chatd's environment (repeatable); admission control is off unless set here "
                        "(CHATD_ADMISSION_TARGET_DELAY=0): refused sends would make the two loads unequal")
    p.add_argument("--out", default=None, help="directory for the reports (default: a temp dir, kept)")
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    args = p.parse_args()
    build_dir = build_dir_of(args.build_dir)
    bins = binaries(str(build_dir))
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="bench-mix-"))
    out.mkdir(parents=True, exist_ok=True)
    chatd_env = {"CHATD_ADMISSION_TARGET_DELAY": "0"}
    chatd_env.update(dict(kv.split("=", 1) for kv in args.chatd_env))
    variants = {"send_only": [], "mixed": ["--mix", args.mix]}
    reports = run_interleaved(bins, args, variants, out, chatd_env, "mix")
    summary = {v: medians(r) for v, r in reports.items()}
    base, mixed = summary["send_only"], summary["mixed"]
    ratio = {
        "delivery_p99": mixed["delivery_ms"]["p99"] / base["delivery_ms"]["p99"] if base["delivery_ms"]["p99"] else None,
        "delivery_p50": mixed["delivery_ms"]["p50"] / base["delivery_ms"]["p50"] if base["delivery_ms"]["p50"] else None,
        "delivered_per_s": mixed["delivered_per_s"] / base["delivered_per_s"] if base["delivered_per_s"] else None,
    }
    kinds = {}
    for r in reports["mixed"]:
        for kind, k in r.get("events", {}).get("by_kind", {}).items():
            kinds.setdefault(kind, []).append(k)
    summary["mixed_events_median"] = {
        kind: {f: statistics.median(k[f] for k in ks) for f in ("issued", "delivered", "lost", "duplicated", "reordered")}
        for kind, ks in kinds.items()}
    summary["mixed_fallbacks"] = [r.get("events", {}).get("fallbacks") for r in reports["mixed"]]
    summary["ratio_mixed_to_send_only"] = ratio
    summary["scenario"] = {k: getattr(args, k) for k in
                           ("users", "rooms", "members", "rate", "duration", "transport", "mix", "runs")}
    summary["scenario"]["chatd_env"] = chatd_env
    summary["receipted"] = {v: [{k: r["receipted"][k] for k in ("lost", "duplicated", "reordered")} for r in rs]
                            for v, rs in reports.items()}
    summary["reports"] = str(out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    clean = True
    for name in ("send_only", "mixed"):
        s = summary[name]
        ok = not any(s["lost"]) and not any(s["duplicated"]) and not any(s["reordered"])
        clean = clean and ok
        print(f"{name}: median p50 {s['delivery_ms']['p50']} ms, p99 {s['delivery_ms']['p99']} ms, "
              f"p99.9 {s['delivery_ms']['p999']} ms; {s['delivered_per_s']:.0f} deliveries/s; "
              f"lost/duplicated/reordered {'none' if ok else 'SEEN'}")
    within = (ratio["delivery_p99"] is not None and ratio["delivery_p99"] <= 1 + args.tolerance and
              ratio["delivered_per_s"] is not None and ratio["delivered_per_s"] >= 1 - args.tolerance)
    print(f"mixed / send-only: p99 {ratio['delivery_p99']:.3g}, deliveries/s {ratio['delivered_per_s']:.3g} "
          f"({'within' if within else 'NOT within'} {args.tolerance:.0%})")
    return 0 if clean and within else 1


if __name__ == "__main__":
    sys.exit(main())
