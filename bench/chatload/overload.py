#!/usr/bin/python3
"""Overload benchmark (issue 18, docs/chatload.md): how chatd behaves past its knee.

1. The knee C: the highest offered rate whose delivery p99 stays <= --knee-p99-ms (100 ms),
   found with short open-model runs (500 sessions, 50 rooms x 10 members): the rate doubles
   from --start-rate until a run misses, then the gap between the last hit and the first miss
   is bisected --bisect-steps times. --knee RATE skips the search. The probes run with admission
   rate steering off (CHATD_ADMISSION_TARGET_DELAY=0): the knee is what the node carries.
2. Overload: --runs runs of 3 x C for 60 s, then C / 3 for 20 s (one chatload run with
   --phases), each on a fresh stack and chatd. Medians of: goodput / C (RECEIPTs per second
   that arrived while the overload ran, over C; goal >= 0.9), the delivery p99 of the messages of the
   overload phase (goal <= 1 s), sessions disconnected (0), SENDs with a receipt that got no
   answer (0), lost / duplicated / reordered among receipted messages (0), and the seconds
   after the overload until the per-second delivery p99 stays <= 100 ms (goal <= 5).
3. Login flood: 1,000 msg/s with and without --login-flood 64 (64 threads posting logins of
   unknown users), alternating, on one stack whose chatd hashes passwords at the production
   cost (--flood-password-cost); the chat p99 with the flood over the p99 without (goal <= 1.2).

--baseline-build-dir DIR runs every scenario also against the chatd of another build (e.g. a
worktree of an older commit built into its own directory), in the same run and interleaved
with the build under test (--build-dir): each overload run is followed by the baseline's, and
each login-flood run pair (without, with) by the baseline's pair, each build on its own
database of the one flood stack. chatload and the dev broker are --build-dir's for both, so
only chatd differs. --baseline-chatd-env NAME=VALUE gives the baseline's chatd settings of its
own (without --baseline-build-dir: the same binary, e.g. to try a setting side by side). The
table gets a baseline column; the JSON a "baseline" section per scenario and the ratios
new / baseline of the medians.

Every stack and chatd is started here (scripts/devstack.py, free ports) and stopped by pid.
Prints a table with the goals; writes the summary JSON to --out (default
bench/results/overload-<UTC time>.json) and each run's chatload report beside it.
A --quick run shrinks everything (100 sessions, short runs, one run each) to prove the
pipeline works; its numbers are not the benchmark's.

    bench/overload.sh                       # the full benchmark (about 20-30 minutes)
    bench/overload.sh --quick               # smoke run (a few minutes)
    bench/overload.sh --knee 2000 --skip-flood
    git worktree add /tmp/base <commit>     # then a release build of it in /tmp/base/build-rel
    bench/overload.sh --knee 1900 --build-dir build-rel --baseline-build-dir /tmp/base/build-rel
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import pathlib
import statistics
import sys
import tempfile

from common import REPO, Chatd, binaries, log, run_chatload, start_stack

INF = float("inf")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: small, short, one run each")
    p.add_argument("--users", type=int, default=500)
    p.add_argument("--rooms", type=int, default=50)
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--transport", choices=["tcp", "ws"], default="tcp")
    p.add_argument("--io-threads", type=int, default=2, help="chatd I/O threads")
    # knee
    p.add_argument("--knee", type=float, default=None, help="use this knee instead of searching for it")
    p.add_argument("--knee-p99-ms", type=float, default=100)
    p.add_argument("--start-rate", type=float, default=500)
    p.add_argument("--max-rate", type=float, default=32000)
    p.add_argument("--bisect-steps", type=int, default=3)
    p.add_argument("--probe-seconds", type=float, default=10, help="measured seconds of a knee probe")
    p.add_argument("--probe-warmup", type=float, default=3)
    # overload
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--overload-factor", type=float, default=3)
    p.add_argument("--overload-seconds", type=float, default=60)
    p.add_argument("--after-divisor", type=float, default=3, help="the rate after the overload is C / this")
    p.add_argument("--after-seconds", type=float, default=20)
    p.add_argument("--drain", type=float, default=30, help="chatload --drain of an overload run")
    p.add_argument("--recovery-threshold-ms", type=float, default=100)
    # login flood
    p.add_argument("--flood-rate", type=float, default=1000)
    p.add_argument("--flood-seconds", type=float, default=60)
    p.add_argument("--flood-threads", type=int, default=64)
    p.add_argument("--flood-runs", type=int, default=3, help="runs with and as many without the flood")
    p.add_argument("--flood-password-cost", default="interactive",
                   help="chatd --password-cost of the flood scenario (the dummy hash of unknown users)")
    p.add_argument("--skip-overload", action="store_true")
    p.add_argument("--skip-flood", action="store_true")
    p.add_argument("--out", default=None, help="summary JSON (default bench/results/overload-<UTC time>.json)")
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    p.add_argument("--chatd-env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment setting for every chatd (repeatable), e.g. CHATD_ADMISSION_TARGET_DELAY=200ms")
    p.add_argument("--baseline-build-dir", default=None,
                   help="also run every scenario against this build's chatd, interleaved (ratios side by side)")
    p.add_argument("--baseline-chatd-env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment setting for the baseline's chatd only (repeatable); without "
                        "--baseline-build-dir the baseline is --build-dir's chatd with these settings")
    args = p.parse_args()
    for setting in args.chatd_env + args.baseline_chatd_env:
        if "=" not in setting:
            p.error(f"--chatd-env/--baseline-chatd-env {setting!r}: expected NAME=VALUE")
    if args.quick:
        for name, value in {"users": 100, "rooms": 10, "start_rate": 400, "bisect_steps": 1, "probe_seconds": 4,
                            "probe_warmup": 1, "runs": 1, "overload_seconds": 8, "after_seconds": 6, "drain": 10,
                            "flood_rate": 200, "flood_seconds": 6, "flood_threads": 16, "flood_runs": 1,
                            "max_rate": 3200}.items():
            if getattr(args, name) == p.get_default(name):
                setattr(args, name, value)
    return args


OVERLOAD_KEYS = ("goodput_ratio", "p99_accepted_ms", "sessions_disconnected", "sends_unanswered", "receipted_lost",
                 "receipted_duplicated", "receipted_reordered", "recovery_s")


def ratio(new: float, base: float) -> float:
    if base == 0:
        return 1.0 if new == 0 else INF
    return new / base


def overload_point(r: dict, knee: float) -> dict:
    """One overload run's figures from its chatload report."""
    over = r["phases"][0]
    rec = r["recovery_seconds"]
    return {
        "goodput_ratio": over["goodput"]["receipted_per_s"] / knee,
        "receipted_per_s": over["goodput"]["receipted_per_s"],
        "delivered_per_s": over["goodput"]["delivered_per_s"],
        "p99_accepted_ms": over["latency_ms"]["delivery"]["p99"] if over["deliveries"] else INF,
        "sessions_disconnected": r["sessions_disconnected"]["total"],
        "disconnect_reasons": r["sessions_disconnected"]["by_reason"],
        "sends_unanswered": r["answers"]["unanswered"],
        "answers": {k: r["answers"][k] for k in ("receipted", "rate_limited", "overloaded", "not_accepted",
                                                 "other_errors", "unanswered", "answered_twice")},
        "refusals_by_message": r["answers"]["refusals_by_message"],
        "receipted_lost": r["receipted"]["lost"],
        "receipted_duplicated": r["receipted"]["duplicated"],
        "receipted_reordered": r["receipted"]["reordered"],
        "recovery_s": INF if rec is None else rec,
        "dropped_sends": r["counts"]["dropped_sends"],
        "valid": r["validity"]["valid"],
        "invalid_reasons": r["validity"]["reasons"],
        "cpu_cores": r.get("bench", {}).get("cpu_cores"),
    }


def overload_summary(knee: float, phases: str, runs: list[dict]) -> dict:
    return {"knee": knee, "phases": phases, "runs": runs,
            "median": {k: statistics.median(run[k] for run in runs) for k in OVERLOAD_KEYS}}


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.bins = binaries(args.build_dir)
        # The builds whose chatd runs each scenario: "new" (--build-dir) and, with
        # --baseline-build-dir, "baseline" (its chatd; chatload and the broker stay --build-dir's).
        self.builds = {"new": self.bins}
        common_env = dict(setting.split("=", 1) for setting in args.chatd_env)
        self.build_env = {"new": common_env}
        if args.baseline_build_dir or args.baseline_chatd_env:
            base = binaries(args.baseline_build_dir) if args.baseline_build_dir else self.bins
            self.builds["baseline"] = dict(self.bins, chatd=base["chatd"])
            self.build_env["baseline"] = {**common_env,
                                          **dict(setting.split("=", 1) for setting in args.baseline_chatd_env)}
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.out = pathlib.Path(args.out) if args.out else REPO / "bench" / "results" / f"overload-{stamp}.json"
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.runs_dir = self.out.with_name(self.out.stem + "-runs")
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.count = 0

    @contextlib.contextmanager
    def bare_stack(self):
        """A fresh PostgreSQL/Redis/dev-Kafka stack, stopped on leaving."""
        with tempfile.TemporaryDirectory(prefix="bench-overload-stack-") as tmp:
            stack = start_stack(self.bins, pathlib.Path(tmp))
            try:
                yield stack
            finally:
                stack.stop_all()

    @contextlib.contextmanager
    def chatd(self, stack, build: str = "new", extra_env: dict | None = None, database: str | None = None):
        """One chatd of `build` on `stack`, stopped on leaving."""
        chatd = None
        env = {**self.build_env[build], **(extra_env or {})}
        try:
            chatd = Chatd(self.builds[build], stack, self.runs_dir, io_threads=self.args.io_threads,
                          extra_env=env, database=database)
            yield chatd
        finally:
            if chatd:
                chatd.stop()

    @contextlib.contextmanager
    def stack(self, build: str = "new", extra_env: dict | None = None):
        """A fresh stack and one chatd of `build`; both stopped on leaving."""
        with self.bare_stack() as stack, self.chatd(stack, build, extra_env) as chatd:
            yield chatd

    def chatload(self, chatd: Chatd, name: str, extra: list[str]) -> dict:
        a = self.args
        self.count += 1
        report = self.runs_dir / f"{self.count:02d}-{name}.json"
        stomp = chatd.tcp if a.transport == "tcp" else chatd.ws
        return run_chatload(self.bins, [
            "--url", chatd.url, "--stomp-url", stomp, "--users", str(a.users), "--rooms", str(a.rooms),
            "--members", str(a.members), "--setup-threads", "8", "--quiet", *extra], report,
            {"chatd": chatd.proc.pid})

    # ---- 1. the knee ----

    def probe(self, rate: float) -> tuple[bool, dict]:
        a = self.args
        # The knee is what the node carries, not what admission control lets in: rate steering is
        # off for the probes (its delivery-delay step refused a few SENDs of a fresh node at
        # 500 msg/s, and any refusal counts as lost); the in-flight bound stays.
        with self.stack(extra_env={"CHATD_ADMISSION_TARGET_DELAY": "0"}) as chatd:
            r = self.chatload(chatd, f"probe-{rate:.0f}", [
                "--rate", f"{rate:g}", "--ramp-up", "2", "--warmup", f"{a.probe_warmup:g}",
                "--duration", f"{a.probe_seconds:g}", "--drain", "10"])
        p99 = r["latency_ms"]["delivery"]["p99"] if r["latency_ms"]["delivery"]["count"] else INF
        hit = p99 <= a.knee_p99_ms and r["validity"]["valid"] and r["counts"]["lost"] == 0
        point = {"rate": rate, "p99_ms": p99, "valid": r["validity"]["valid"], "lost": r["counts"]["lost"],
                 "hit": hit}
        log(f"knee probe {rate:.0f} msg/s: p99 {p99} ms -> {'within' if hit else 'MISSED'}")
        return hit, point

    def knee(self) -> dict:
        a = self.args
        if a.knee:
            return {"knee": a.knee, "searched": False, "probes": []}
        probes: list[dict] = []
        good, bad = None, None
        rate = a.start_rate
        while True:
            hit, point = self.probe(rate)
            probes.append(point)
            if hit:
                good = rate
                if bad is not None or rate * 2 > a.max_rate:
                    break
                rate *= 2
            else:
                bad = rate
                if good is not None or rate / 2 < 25:
                    break
                rate /= 2
        for _ in range(a.bisect_steps if good is not None and bad is not None else 0):
            mid = round((good + bad) / 2 / 50) * 50 or (good + bad) / 2
            if mid <= good or mid >= bad:
                break
            hit, point = self.probe(mid)
            probes.append(point)
            if hit:
                good = mid
            else:
                bad = mid
        if good is None:
            sys.exit(f"no probed rate down to {rate:g} msg/s kept the delivery p99 under {a.knee_p99_ms} ms")
        return {"knee": good, "searched": True, "first_miss": bad, "probes": probes}

    # ---- 2. overload ----

    def overload(self, knee: float) -> dict:
        a = self.args
        high, low = knee * a.overload_factor, knee / a.after_divisor
        phases = f"{high:.0f}x{a.overload_seconds:g},{low:.0f}x{a.after_seconds:g}"
        runs: dict[str, list] = {build: [] for build in self.builds}
        for i in range(1, a.runs + 1):
            for build in self.builds:
                log(f"overload run {i}/{a.runs} ({build}): --phases {phases}")
                with self.stack(build) as chatd:
                    r = self.chatload(chatd, f"overload-{i}{'' if build == 'new' else '-' + build}", [
                        "--phases", phases, "--ramp-up", "2", "--drain", f"{a.drain:g}",
                        "--recovery-threshold-ms", f"{a.recovery_threshold_ms:g}"])
                runs[build].append(overload_point(r, knee))
        result = overload_summary(knee, phases, runs["new"])
        if "baseline" in runs:
            result["baseline"] = overload_summary(knee, phases, runs["baseline"])
            result["ratio_to_baseline"] = {k: ratio(result["median"][k], result["baseline"]["median"][k])
                                           for k in OVERLOAD_KEYS}
        return result

    # ---- 3. login flood ----

    def flood(self) -> dict:
        a = self.args
        env = {"CHATD_PASSWORD_COST": a.flood_password_cost}
        points: dict[str, dict[str, list]] = {build: {"without": [], "with": []} for build in self.builds}
        with self.bare_stack() as stack:
            # Each build on its own database (its users, rooms and fixture), reused by its runs.
            databases = {build: stack.create_database("bench" if build == "new" else f"bench_{build}")
                         for build in self.builds}
            for i in range(1, a.flood_runs + 1):
                for build in self.builds:
                    fixture = self.runs_dir / f"flood-fixture-{build}.json"
                    with self.chatd(stack, build, env, databases[build]) as chatd:
                        for flood in (False, True):
                            label = "with" if flood else "without"
                            log(f"login flood run {i}/{a.flood_runs} ({build}) {label} the flood")
                            extra = ["--rate", f"{a.flood_rate:g}", "--ramp-up", "2", "--warmup", "3",
                                     "--duration", f"{a.flood_seconds:g}", "--fixture", str(fixture)]
                            if flood:
                                extra += ["--login-flood", str(a.flood_threads)]
                            name = f"flood-{i}-{label}" + ("" if build == "new" else f"-{build}")
                            points[build][label].append(flood_point(self.chatload(chatd, name, extra), flood))
        result = flood_summary(a, points["new"])
        if "baseline" in points:
            result["baseline"] = flood_summary(a, points["baseline"])
            result["p99_with_to_baseline"] = ratio(result["median_p99_with_ms"],
                                                   result["baseline"]["median_p99_with_ms"])
        return result


def flood_point(r: dict, flood: bool) -> dict:
    point = {"p99_ms": r["latency_ms"]["delivery"]["p99"], "p50_ms": r["latency_ms"]["delivery"]["p50"],
             "valid": r["validity"]["valid"], "lost": r["counts"]["lost"],
             "sessions_disconnected": r["sessions_disconnected"]["total"],
             "disconnect_reasons": r["sessions_disconnected"]["by_reason"],
             # Under rate control the p99 stays near --admission-target-delay while SENDs are
             # refused instead: the p99 alone would hide a flood that costs goodput.
             "receipted": r["answers"]["receipted"], "overloaded": r["answers"]["overloaded"],
             "delivered_per_s": r["throughput"]["delivered_per_s"]}
    if flood and r.get("login_flood"):
        point["logins"] = {k: r["login_flood"][k] for k in ("requests", "per_s", "by_status")}
        point["login_p99_ms"] = r["login_flood"]["latency_ms"]["p99"]
    return point


def flood_summary(a: argparse.Namespace, points: dict[str, list]) -> dict:
    p_without = statistics.median(p["p99_ms"] for p in points["without"])
    p_with = statistics.median(p["p99_ms"] for p in points["with"])
    return {"rate": a.flood_rate, "threads": a.flood_threads, "password_cost": a.flood_password_cost,
            "without": points["without"], "with": points["with"], "median_p99_without_ms": p_without,
            "median_p99_with_ms": p_with, "p99_ratio": p_with / p_without if p_without else INF,
            "median_overloaded_without": statistics.median(p["overloaded"] for p in points["without"]),
            "median_overloaded_with": statistics.median(p["overloaded"] for p in points["with"])}


def verdict(value: float, goal: str) -> str:
    op, limit = goal.split(" ", 1)
    limit_v = float(limit)
    ok = value >= limit_v if op == ">=" else value <= limit_v if op == "<=" else value == limit_v
    return "ok" if ok else "MISSED"


def fmt(v) -> str:
    if isinstance(v, float):
        return "never" if math.isinf(v) else f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def print_table(summary: dict) -> None:
    rows = []  # (label, goal, median, per run, verdict, baseline median)
    ov = summary.get("overload")
    if ov:
        m = ov["median"]
        base = ov.get("baseline", {}).get("median")
        per_run = lambda k: " ".join(fmt(r[k]) for r in ov["runs"])  # noqa: E731
        for label, key, goal in (("goodput / C", "goodput_ratio", ">= 0.9"),
                                 ("p99 of accepted (ms)", "p99_accepted_ms", "<= 1000"),
                                 ("sessions disconnected", "sessions_disconnected", "== 0"),
                                 ("SENDs unanswered", "sends_unanswered", "== 0"),
                                 ("receipted lost", "receipted_lost", "== 0"),
                                 ("receipted duplicated", "receipted_duplicated", "== 0"),
                                 ("receipted reordered", "receipted_reordered", "== 0"),
                                 ("recovery (s)", "recovery_s", "<= 5")):
            rows.append((label, goal, fmt(m[key]), per_run(key), verdict(m[key], goal),
                         fmt(base[key]) if base else None))
    fl = summary.get("login_flood")
    if fl:
        fb = fl.get("baseline")
        rows.append(("chat p99 flood/no flood", "<= 1.2", fmt(fl["p99_ratio"]),
                     f"{fmt(fl['median_p99_with_ms'])}/{fmt(fl['median_p99_without_ms'])} ms",
                     verdict(fl["p99_ratio"], "<= 1.2"), fmt(fb["p99_ratio"]) if fb else None))
        rows.append(("SENDs refused no flood", "", fmt(fl["median_overloaded_without"]), "", "",
                     fmt(fb["median_overloaded_without"]) if fb else None))
        rows.append(("SENDs refused with flood", "", fmt(fl["median_overloaded_with"]), "", "",
                     fmt(fb["median_overloaded_with"]) if fb else None))
    print()
    if "knee" in summary:
        k = summary["knee"]
        print(f"knee C = {k['knee']:.0f} msg/s ({'searched' if k['searched'] else 'given'}; delivery p99 <= "
              f"{summary['scenario']['knee_p99_ms']:g} ms)" + (f", overload {ov['phases']}" if ov else ""))
    with_base = any(r[5] is not None for r in rows)
    print(f"{'metric':<26} {'goal':>9} {'median':>9}  {'per run':<24} verdict" + ("   baseline" if with_base else ""))
    for label, goal, med, runs, v, b in rows:
        print(f"{label:<26} {goal:>9} {med:>9}  {runs:<24} {v:<7}" + (f" {b:>10}" if with_base else ""))
    if ov:
        invalid = [i + 1 for i, r in enumerate(ov["runs"]) if not r["valid"]]
        if invalid:
            print(f"note: overload run(s) {invalid} were marked invalid by chatload's self-monitoring "
                  "(the generator was a bottleneck); see their reports")


def jsonable(x):
    if isinstance(x, float) and math.isinf(x):
        return None
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [jsonable(v) for v in x]
    return x


def main() -> int:
    args = parse_args()
    bench = Bench(args)
    summary: dict = {"scenario": vars(args), "reports": str(bench.runs_dir)}
    if not args.skip_overload:
        summary["knee"] = bench.knee()
        summary["overload"] = bench.overload(summary["knee"]["knee"])
    if not args.skip_flood:
        summary["login_flood"] = bench.flood()
    bench.out.write_text(json.dumps(jsonable(summary), indent=2) + "\n")
    print_table(summary)
    print(f"summary: {bench.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
