#!/usr/bin/python3
"""Reconnect-churn benchmark (issue 15): the end-to-end scenario of bench/e2e.sh (PostgreSQL, Redis,
the dev Kafka broker, one chatd, chatload: 1,000 users in 100 rooms x 10 members, 2,000 sends/s
for 60 s over STOMP/TCP) run without churn and with --churn 5% (50 sessions a second drop their
connection without DISCONNECT and reconnect at once, resubscribing each room with
`since-id:<the last event id it received>`: docs/stomp.md "Recovery"), N runs each, interleaved,
on a fresh stack every time. Prints the medians of both, the ratio churn / no churn of the
delivery p99 (and p50, deliveries/s), lost/duplicated/reordered among receipted sends of every
run (the goal: 0 — a reconnecting receiver ends with every event once, in order), and the churn
runs' counters: reconnects, re-subscriptions recovered / not, events replayed, truncations.
Each run's JSON/HTML/hgrm reports stay in --out.

    bench/churn.sh                                   # build/ or $CHAT_BUILD_DIR, 3 runs each
    bench/churn.sh --build-dir build-rel --runs 1 --duration 20
    bench/churn.sh --churn 100                       # 100 drops a second
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

CHURN_FIELDS = ("drops", "reconnects", "failed", "skipped", "recovered", "not_recovered", "without_recovered_header",
                "recovered_events", "truncations", "unsent", "orphaned")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_e2e_scenario_args(p)
    p.add_argument("--churn", default="5%", help="chatload --churn: drops per second, or a percentage of --users")
    p.add_argument("--transport", choices=["tcp", "ws"], default="tcp")
    p.add_argument("--io-threads", type=int, default=2, help="chatd I/O threads")
    p.add_argument("--chatd-env", action="append", default=[], metavar="NAME=VALUE",
                   help="chatd's environment (repeatable); admission control is off unless set here "
                        "(CHATD_ADMISSION_TARGET_DELAY=0): refused sends would make the two loads unequal")
    p.add_argument("--out", default=None, help="directory for the reports (default: a temp dir, kept)")
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    args = p.parse_args()
    build_dir = build_dir_of(args.build_dir)
    bins = binaries(str(build_dir))
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="bench-churn-"))
    out.mkdir(parents=True, exist_ok=True)
    chatd_env = {"CHATD_ADMISSION_TARGET_DELAY": "0"}
    chatd_env.update(dict(kv.split("=", 1) for kv in args.chatd_env))
    variants = {"no_churn": [], "churn": ["--churn", args.churn]}
    reports = run_interleaved(bins, args, variants, out, chatd_env, "churn")
    summary = {v: medians(r) for v, r in reports.items()}
    base, churn = summary["no_churn"], summary["churn"]

    def ratio(a, b):
        return a / b if b else None
    summary["ratio_churn_to_no_churn"] = {
        "delivery_p99": ratio(churn["delivery_ms"]["p99"], base["delivery_ms"]["p99"]),
        "delivery_p50": ratio(churn["delivery_ms"]["p50"], base["delivery_ms"]["p50"]),
        "delivered_per_s": ratio(churn["delivered_per_s"], base["delivered_per_s"]),
    }
    summary["churn_counters_median"] = {
        f: statistics.median((r.get("churn") or {}).get(f, 0) for r in reports["churn"]) for f in CHURN_FIELDS}
    summary["reconnect_ms_median"] = {
        k: statistics.median(((r.get("churn") or {}).get("reconnect_ms") or {}).get(k, 0) for r in reports["churn"])
        for k in ("p50", "p99", "max")}
    summary["receipted"] = {v: [{k: r["receipted"][k] for k in ("lost", "duplicated", "reordered")} for r in rs]
                            for v, rs in reports.items()}
    summary["scenario"] = {k: getattr(args, k) for k in
                           ("users", "rooms", "members", "rate", "duration", "transport", "churn", "runs")}
    summary["scenario"]["chatd_env"] = chatd_env
    summary["reports"] = str(out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    clean = True
    for name in ("no_churn", "churn"):
        s = summary[name]
        rec = summary["receipted"][name]
        ok = not any(x["lost"] or x["duplicated"] or x["reordered"] for x in rec)
        clean = clean and ok
        print(f"{name}: median p50 {s['delivery_ms']['p50']} ms, p99 {s['delivery_ms']['p99']} ms, "
              f"p99.9 {s['delivery_ms']['p999']} ms; {s['delivered_per_s']:.0f} deliveries/s; receipted "
              f"lost/duplicated/reordered {'none' if ok else rec}")
    c = summary["churn_counters_median"]
    r = summary["ratio_churn_to_no_churn"]
    p99 = f"{r['delivery_p99']:.3g}" if r["delivery_p99"] is not None else "n/a"
    print(f"churn / no churn: p99 x{p99}; churn runs (medians): {c['reconnects']:.0f} reconnects "
          f"({c['failed']:.0f} failed, {c['skipped']:.0f} skipped), rooms recovered {c['recovered']:.0f} / "
          f"not {c['not_recovered']:.0f}, {c['recovered_events']:.0f} events replayed, {c['truncations']:.0f} "
          f"truncations; reconnect p99 {summary['reconnect_ms_median']['p99']} ms")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
