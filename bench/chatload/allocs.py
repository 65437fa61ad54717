#!/usr/bin/python3
"""Heap allocations per message in chatload (issue 7: no per-message allocation storm).

Builds malloc_count.c (an LD_PRELOAD allocation counter), starts the stack and one chatd,
creates users/rooms once (--fixture), then runs the same scenario twice under the counter,
differing only in duration. Allocations per delivered message =
(allocations of the long run − of the short run) / (deliveries of the long run − of the short),
which cancels set-up, connection and report costs. Prints it with the run reports.

    bench/chatload/allocs.sh [--rate 1000] [--short 5] [--long 15] [--transport tcp|ws]
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from common import REPO, Chatd, binaries, log, start_stack

HERE = pathlib.Path(__file__).resolve().parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=500)
    p.add_argument("--rooms", type=int, default=50)
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--short", type=float, default=5)
    p.add_argument("--long", type=float, default=15)
    p.add_argument("--transport", choices=["tcp", "ws"], default="tcp")
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    args = p.parse_args()
    bins = binaries(args.build_dir)
    with tempfile.TemporaryDirectory(prefix="bench-allocs-") as tmp:
        root = pathlib.Path(tmp)
        shim = root / "malloc_count.so"
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(shim), str(HERE / "malloc_count.c")], check=True)
        stack = start_stack(bins, root)
        chatd = None
        results = {}
        try:
            chatd = Chatd(bins, stack, root)
            base = ["--url", chatd.url, "--stomp-url", chatd.tcp if args.transport == "tcp" else chatd.ws,
                    "--users", str(args.users), "--rooms", str(args.rooms), "--members", str(args.members),
                    "--fixture", str(root / "fixture.json"), "--quiet", "--drain", "10"]
            subprocess.run([str(bins["chatload"]), *base, "--rate", "10", "--duration", "1"], check=True,
                           stdout=subprocess.DEVNULL)
            for name, secs in (("short", args.short), ("long", args.long)):
                count_file = root / f"{name}.count"
                report = root / f"{name}.json"
                env = dict(os.environ, LD_PRELOAD=str(shim), MALLOC_COUNT_FILE=str(count_file))
                cmd = [str(bins["chatload"]), *base, "--rate", str(args.rate), "--duration", str(secs),
                       "--json", str(report)]
                log(" ".join(cmd))
                subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL)
                r = json.loads(report.read_text())
                results[name] = {"allocations": int(count_file.read_text().split()[0]),
                                 "sent": r["counts"]["sent"], "delivered": r["counts"]["delivered"],
                                 "receipts": r["counts"]["receipts"], "lost": r["counts"]["lost"]}
        finally:
            if chatd:
                chatd.stop()
            stack.stop_all()
    s, l = results["short"], results["long"]
    frames = (l["delivered"] + l["receipts"]) - (s["delivered"] + s["receipts"])
    out = {"runs": results,
           "allocations_per_delivery": round((l["allocations"] - s["allocations"]) / max(1, l["delivered"] - s["delivered"]), 3),
           "allocations_per_received_frame": round((l["allocations"] - s["allocations"]) / max(1, frames), 3),
           "allocations_per_sent_message": round((l["allocations"] - s["allocations"]) / max(1, l["sent"] - s["sent"]), 3)}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
