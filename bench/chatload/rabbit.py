"""RabbitMQ (Debian's rabbitmq-server) as a private process for benchmarks: its own epmd, node
name, data directory, Erlang cookie and loopback ports; plugins rabbitmq_stomp and
rabbitmq_web_stomp. Stopped by pid."""
from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import time

from common import devstack, log

RABBIT_BIN = pathlib.Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Rabbit:
    def __init__(self, root: pathlib.Path):
        if not RABBIT_BIN.exists():
            raise SystemExit(f"{RABBIT_BIN} is missing: apt-get install rabbitmq-server (bench/rabbitmq.sh does)")
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.epmd_port = devstack.free_port()
        self.amqp_port = devstack.free_port()
        self.dist_port = devstack.free_port()
        self.stomp_port = devstack.free_port()
        self.ws_port = devstack.free_port()
        (root / "enabled_plugins").write_text("[rabbitmq_stomp,rabbitmq_web_stomp].\n")
        (root / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n"
            f"stomp.listeners.tcp.1 = 127.0.0.1:{self.stomp_port}\n"
            f"web_stomp.tcp.ip = 127.0.0.1\n"
            f"web_stomp.tcp.port = {self.ws_port}\n"
            "loopback_users.guest = true\n"
            "log.console = true\nlog.console.level = warning\nlog.file = false\n")
        env = dict(os.environ)
        env.update({
            "HOME": str(root),  # the Erlang cookie lives here
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": "chatload-bench@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_PID_FILE": str(root / "rabbit.pid"),
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        })
        (root / "rabbitmq-env.conf").write_text("")
        self._log = open(root / "rabbitmq.log", "wb")
        # Our own epmd (foreground, so that it is ours to stop), before the node needs it.
        self.epmd = subprocess.Popen(["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                                     env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.proc = subprocess.Popen([str(RABBIT_BIN)], env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while not (_port_open(self.stomp_port) and _port_open(self.ws_port)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"rabbitmq did not start; see {root / 'rabbitmq.log'}")
            time.sleep(0.5)
        log(f"rabbitmq up: stomp tcp {self.stomp_port}, web-stomp {self.ws_port}, pid {self.proc.pid}")

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/ws"

    @property
    def tcp(self) -> str:
        return f"tcp://127.0.0.1:{self.stomp_port}"

    def pid(self) -> int:
        return self.proc.pid

    def stop(self):
        for p, grace in ((self.proc, 60), (self.epmd, 10)):
            if p.poll() is None:
                # The node's session (start_new_session): its own children go with it.
                try:
                    os.killpg(p.pid, signal.SIGTERM) if p is self.proc else p.terminate()
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    if p is self.proc:
                        os.killpg(p.pid, signal.SIGKILL)
                    else:
                        p.kill()
                    p.wait()
        self._log.close()
