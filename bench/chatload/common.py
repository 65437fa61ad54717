"""Shared pieces of the chatload benchmarks (bench/e2e.sh, bench/rabbitmq.sh,
bench/sessions.sh): the stack (scripts/devstack.py), one chatd, chatload runs, medians.
Everything started here is stopped here, by pid. Standard library only (/usr/bin/python3)."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import devstack  # noqa: E402

SECRET = "bench-secret-0123456789abcdef0123456789"
TICK = os.sysconf("SC_CLK_TCK")


def binaries(build_dir: str) -> dict[str, pathlib.Path]:
    build = pathlib.Path(build_dir)
    b = {"chatd": build / "apps/chatd/chatd", "chatload": build / "apps/chatload/chatload",
         "kafka": build / "tools/kafka-dev/chat-kafka-dev"}
    for name, path in b.items():
        if not path.exists():
            sys.exit(f"{path} is missing: build chatd, chatload and chat-kafka-dev first")
    return b


def log(*a):
    print("==", *a, file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_http(url: str, proc: subprocess.Popen, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except Exception:  # noqa: BLE001 - polling through start-up
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"{what} did not become ready")
        time.sleep(0.2)


class Chatd:
    """One chatd on a devstack stack; raised rate limit (load tests send faster than people)."""

    def __init__(self, bins, stack, out: pathlib.Path, io_threads: int = 2, extra_env: dict | None = None,
                 database: str | None = None):
        self.http_port, self.stomp_port = devstack.free_port(), devstack.free_port()
        self.metrics_port = devstack.free_port()
        env = dict(os.environ)
        env.update(stack.env())
        self.database = database or stack.create_database("bench")
        env.update({"CHATD_DATABASE_URL": self.database, "CHATD_JWT_SECRET": SECRET,
                    "CHATD_HTTP_HOST": "127.0.0.1", "CHATD_HTTP_PORT": str(self.http_port),
                    "CHATD_STOMP_HOST": "127.0.0.1", "CHATD_STOMP_PORT": str(self.stomp_port),
                    "CHATD_NODE_ID": "bench", "CHATD_IO_THREADS": str(io_threads),
                    # A free metrics port too: two benchmarks (or a benchmark and the tests) at once.
                    "CHATD_METRICS_PORT": str(self.metrics_port),
                    "CHATD_LOG_LEVEL": "warn", "CHATD_PASSWORD_COST": "minimum",
                    "CHATD_RATE_LIMIT": "1000", "CHATD_RATE_BURST": "1000",
                    # Set-up signs up every user from this machine.
                    "CHATD_AUTH_RATE_LIMIT": "0"})
        env.update(extra_env or {})
        self._log = open(out / "chatd.log", "ab")
        self.proc = subprocess.Popen([str(bins["chatd"])], env=env, stdout=self._log, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/readyz", self.proc, 60, "chatd")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.http_port}/ws"

    @property
    def tcp(self) -> str:
        return f"tcp://127.0.0.1:{self.stomp_port}"

    def save_metrics(self, path: pathlib.Path):
        """chatd's /metrics now, to `path` (best effort: a failed scrape writes why)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
                path.write_bytes(r.read())
        except OSError as e:
            path.write_text(f"# scrape failed: {e}\n")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def start_stack(bins, root: pathlib.Path):
    stack = devstack.Stack(root / "stack", bins["kafka"], fast=True, log=lambda *a: None)
    stack.start_all()
    return stack


def run_chatload(bins, args: list[str], report: pathlib.Path, watch: dict[str, int] | None = None,
                 sample_after: float = 0) -> dict:
    """Runs chatload; returns its report plus the average CPU cores of the watched processes
    (sampled from `sample_after` seconds after the start until chatload exits) and the exit code."""
    cmd = [str(bins["chatload"]), *args, "--json", str(report)]
    log(" ".join(cmd))
    proc = subprocess.Popen(cmd)
    pids = dict(watch or {})
    pids["chatload"] = proc.pid
    if sample_after and proc.poll() is None:
        time.sleep(sample_after)
    first = {}
    t_first = time.monotonic()
    for n, p in pids.items():
        try:
            first[n] = cpu_seconds(p)
        except OSError:
            pass
    last, t_last = dict(first), t_first
    while proc.poll() is None:
        time.sleep(1)
        for n in first:
            try:
                last[n] = cpu_seconds(pids[n])
                t_last = time.monotonic()
            except OSError:
                pass
    rc = proc.wait()
    if not report.exists():
        sys.exit(f"chatload exited {rc} without a report")
    r = json.loads(report.read_text())
    dt = t_last - t_first
    r["bench"] = {"exit_code": rc,
                  "cpu_cores": {n: round((last[n] - first[n]) / dt, 2) for n in first} if dt > 0 else {}}
    report.write_text(json.dumps(r, indent=2))
    log(f"exit {rc}; delivered/s {r['throughput']['delivered_per_s']:.0f}; "
        f"p50/p99/p99.9 {r['latency_ms']['delivery']['p50']}/{r['latency_ms']['delivery']['p99']}/"
        f"{r['latency_ms']['delivery']['p999']} ms; lost {r['counts']['lost']}; valid {r['validity']['valid']}; "
        f"cpu {r['bench']['cpu_cores']}")
    return r


def medians(reports: list[dict]) -> dict:
    def med(f):
        return statistics.median(f(r) for r in reports)
    d = lambda k: med(lambda r: r["latency_ms"]["delivery"][k])  # noqa: E731
    return {
        "runs": len(reports),
        "delivery_ms": {k: d(k) for k in ("p50", "p90", "p99", "p999", "max")},
        "receipt_p99_ms": med(lambda r: r["latency_ms"]["receipt"]["p99"]),
        "sent_per_s": med(lambda r: r["throughput"]["sent_per_s"]),
        "delivered_per_s": med(lambda r: r["throughput"]["delivered_per_s"]),
        "lost": [r["counts"]["lost"] for r in reports],
        "duplicated": [r["counts"]["duplicated"] for r in reports],
        "reordered": [r["counts"]["reordered"] for r in reports],
        "dropped_sends": [r["counts"]["dropped_sends"] for r in reports],
        "errors": [r["counts"]["errors"] for r in reports],
        "valid": [r["validity"]["valid"] for r in reports],
        "generator_cpu_cores": [round(r["generator"]["cpu_cores"], 2) for r in reports],
        "generator_lag_p99_ms": [r["generator"]["send_lag_ms"]["p99"] for r in reports],
        "cpu_cores": [r.get("bench", {}).get("cpu_cores") for r in reports],
    }


def add_e2e_scenario_args(p, runs: int = 3):
    """The arguments of bench/e2e.sh's scenario shared by the paired benchmarks (mix, churn)."""
    p.add_argument("--runs", type=int, default=runs)
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--rooms", type=int, default=100)
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--warmup", type=float, default=5)
    p.add_argument("--ramp-up", type=float, default=2)


def build_dir_of(arg: str) -> pathlib.Path:
    """--build-dir, relative to the repository (the .sh wrappers run from bench/chatload)."""
    build_dir = pathlib.Path(arg)
    return build_dir if build_dir.is_absolute() else REPO / build_dir


def run_interleaved(bins, args, variants: dict[str, list[str]], out: pathlib.Path, chatd_env: dict,
                    name: str) -> dict[str, list[dict]]:
    """args.runs runs of each variant (extra chatload arguments), interleaved, each on a fresh stack
    and chatd; returns the reports by variant. Reports go to out/run-<i>-<variant>.{json,html,hgrm}."""
    reports: dict[str, list] = {v: [] for v in variants}
    for i in range(1, args.runs + 1):
        for variant, extra in variants.items():
            log(f"run {i}/{args.runs} ({variant})")
            prefix = out / f"run-{i}-{variant}"
            with tempfile.TemporaryDirectory(prefix=f"bench-{name}-stack-") as tmp:
                stack = start_stack(bins, pathlib.Path(tmp))
                chatd = None
                try:
                    chatd = Chatd(bins, stack, out, io_threads=args.io_threads, extra_env=chatd_env)
                    stomp = chatd.tcp if args.transport == "tcp" else chatd.ws
                    watch = {"chatd": chatd.proc.pid}
                    for svc in ("kafka", "redis", "postgres"):
                        try:
                            watch[svc] = stack._svc(svc)["pid"]  # noqa: SLF001
                        except Exception:  # noqa: BLE001
                            pass
                    # BENCH_PERF=1: a CPU profile of chatd during the run (perf record -g), beside the reports.
                    perf = None
                    if os.environ.get("BENCH_PERF") == "1" and shutil.which("perf"):
                        perf = subprocess.Popen(["perf", "record", "-g", *os.environ.get("BENCH_PERF_EVENTS", "-F 499").split(), "-p", str(chatd.proc.pid),
                                                 "-o", f"{prefix}.perf.data"], stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
                    reports[variant].append(run_chatload(bins, [
                        "--url", chatd.url, "--stomp-url", stomp, "--users", str(args.users),
                        "--rooms", str(args.rooms), "--members", str(args.members), "--rate", str(args.rate),
                        "--duration", str(args.duration), "--warmup", str(args.warmup),
                        "--ramp-up", str(args.ramp_up), "--setup-threads", "8",
                        "--html", f"{prefix}.html", "--hgrm", f"{prefix}.hgrm", "--quiet", *extra],
                        pathlib.Path(f"{prefix}.json"), watch, sample_after=5 + args.warmup + args.ramp_up))
                    if perf:
                        perf.send_signal(signal.SIGINT)
                        perf.wait(timeout=60)
                    chatd.save_metrics(pathlib.Path(f"{prefix}.metrics.txt"))
                finally:
                    if chatd:
                        chatd.stop()
                    stack.stop_all()
    return reports
