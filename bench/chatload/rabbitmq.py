#!/usr/bin/python3
"""The same generic STOMP scenario against RabbitMQ Web-STOMP and against chatd (issue 7).

Starts RabbitMQ as a private process (bench/chatload/rabbit.py: own epmd, node, data dir,
loopback ports; plugins rabbitmq_stomp + rabbitmq_web_stomp) and a chatd on its own stack.
chatd's users and rooms are created once through REST (--fixture); then, alternating,
`chatload --generic` runs the identical scenario over WebSocket against each:
SEND and SUBSCRIBE /topic/room.{room} (RabbitMQ: the amq.topic exchange, routing key room.N;
chatd: the room, with the fixture's tokens as passcode). Prints medians per target and the
ratios RabbitMQ / chatd of delivery throughput and of p99.

    bench/rabbitmq.sh                          # 3 runs each
    bench/rabbitmq.sh --runs 1 --rate 500 --duration 10
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile

from common import REPO, Chatd, binaries, log, medians, run_chatload, start_stack
from rabbit import Rabbit


def beam_pid(pid: int) -> int:
    """The Erlang VM under the rabbitmq-server script (its child), for CPU sampling."""
    try:
        kids = pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return int(kids[0]) if kids else pid
    except OSError:
        return pid


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--users", type=int, default=500)
    p.add_argument("--rooms", type=int, default=50)
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--message-bytes", type=int, default=64)
    p.add_argument("--transport", choices=["ws", "tcp"], default="ws",
                   help="ws: RabbitMQ Web-STOMP vs chatd /ws; tcp: RabbitMQ STOMP vs chatd's STOMP port")
    p.add_argument("--drain", type=float, default=10, help="seconds to wait for a backlog after the last send")
    p.add_argument("--out", default=None)
    p.add_argument("--build-dir", default=os.environ.get("CHAT_BUILD_DIR", str(REPO / "build")))
    args = p.parse_args()
    bins = binaries(args.build_dir)
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="bench-rabbitmq-"))
    out.mkdir(parents=True, exist_ok=True)
    scenario = ["--generic", "--send-dest", "/topic/room.{room}", "--sub-dest", "/topic/room.{room}",
                "--users", str(args.users), "--rooms", str(args.rooms), "--members", str(args.members),
                "--rate", str(args.rate), "--duration", str(args.duration), "--warmup", str(args.warmup),
                "--message-bytes", str(args.message_bytes), "--drain", str(args.drain), "--quiet"]
    results: dict[str, list] = {"rabbitmq": [], "chatd": []}
    with tempfile.TemporaryDirectory(prefix="bench-rabbitmq-stack-") as tmp:
        root = pathlib.Path(tmp)
        stack = start_stack(bins, root)
        chatd = rabbit = None
        try:
            chatd = Chatd(bins, stack, out)
            rabbit = Rabbit(root / "rabbit")
            fixture = out / "chatd-fixture.json"
            log("creating chatd's users and rooms (fixture)")
            run_chatload(bins, ["--url", chatd.url, "--users", str(args.users), "--rooms", str(args.rooms),
                                "--members", str(args.members), "--rate", "10", "--duration", "1",
                                "--setup-threads", "8", "--fixture", str(fixture), "--quiet"], out / "setup.json")
            for i in range(1, args.runs + 1):
                for name in ("rabbitmq", "chatd"):
                    log(f"run {i}/{args.runs} against {name}")
                    if name == "rabbitmq":
                        target = ["--stomp-url", rabbit.ws if args.transport == "ws" else rabbit.tcp, "--login", "guest", "--passcode", "guest", "--vhost", "/"]
                        watch = {"rabbitmq": beam_pid(rabbit.pid())}
                    else:
                        target = ["--stomp-url", chatd.ws if args.transport == "ws" else chatd.tcp, "--fixture", str(fixture)]
                        watch = {"chatd": chatd.proc.pid}
                    results[name].append(run_chatload(bins, [*scenario, *target], out / f"{name}-{i}.json", watch,
                                                      sample_after=3))
        finally:
            if rabbit:
                rabbit.stop()
            if chatd:
                chatd.stop()
            stack.stop_all()
    summary = {name: medians(rs) for name, rs in results.items()}

    def ratio(a, b):
        return round(a / b, 3) if b else None
    summary["ratio_rabbitmq_over_chatd"] = {
        "delivered_per_s": ratio(summary["rabbitmq"]["delivered_per_s"], summary["chatd"]["delivered_per_s"]),
        "p99": ratio(summary["rabbitmq"]["delivery_ms"]["p99"], summary["chatd"]["delivery_ms"]["p99"]),
        "p50": ratio(summary["rabbitmq"]["delivery_ms"]["p50"], summary["chatd"]["delivery_ms"]["p50"]),
    }
    summary["scenario"] = vars(args)
    summary["reports"] = str(out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    r = summary["ratio_rabbitmq_over_chatd"]
    print(f"RabbitMQ/chatd: delivery throughput x{r['delivered_per_s']}, p99 x{r['p99']} "
          f"(RabbitMQ p99 {summary['rabbitmq']['delivery_ms']['p99']} ms, chatd {summary['chatd']['delivery_ms']['p99']} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
