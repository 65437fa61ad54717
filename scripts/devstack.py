#!/usr/bin/python3
"""Local development stack: PostgreSQL, Redis and the development Kafka broker.

For machines without Docker (SPEC §12). Starts the distribution's PostgreSQL and Redis and
`chat-kafka-dev` (librdkafka's mock cluster, in memory) on free or given ports inside one
directory, records what it started in ROOT/stack.json, and stops only those processes.

Used two ways:
  * as a command-line tool (through scripts/stack):
        devstack.py up [--dir D] [--pg-port N] [--redis-port N] [--kafka-binary PATH]
                       [--env-file PATH] [--fast]
        devstack.py down|status|env [--dir D]
        devstack.py stop|start SERVICE [--dir D]
        devstack.py kafka-control [--dir D] COMMAND...
        devstack.py psql [--dir D] [PSQL ARGS...]
  * as a module, by the pytest harness:
        stack = Stack(tmp_path / "stack", kafka_binary, fast=True)
        stack.start_all(); url = stack.create_database("t_123"); ...; stack.stop_all()

Standard library only; run it with the system Python (/usr/bin/python3).

Layout of ROOT:
  stack.json            state: ports, pids (+ start times), passwords (mode 0600)
  logs/<service>.log    each service's stdout/stderr (appended across restarts)
  postgres/data         the cluster (owned by the postgres user when run as root)
  postgres/run          its unix socket directory
  redis/                redis working directory (nothing is persisted)
  kafka/info.json       written by chat-kafka-dev once ready
  env                   KEY=VALUE file written by `up`

PostgreSQL data survives `down`/`up` of the same directory; Redis and Kafka start empty.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pathlib
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from typing import Callable, Iterator

SERVICES = ("postgres", "redis", "kafka")
STATE_FILE = "stack.json"
STATE_VERSION = 1
HOST = "127.0.0.1"

PG_INIT_TIMEOUT = 120.0
PG_START_TIMEOUT = 60.0
PG_STOP_TIMEOUT = 30.0
REDIS_START_TIMEOUT = 15.0
KAFKA_START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
LOG_TAIL_LINES = 40
PORT_RETRIES = 3

DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class StackError(RuntimeError):
    """A service could not be started, stopped or reached."""


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (servers set SO_REUSEADDR, so
    connections of a previous run in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def log_tail(path: pathlib.Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"(no log: {e})"
    return "\n".join(data.splitlines()[-lines:])


def proc_start_time(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; fields follow the
    # last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] == "Z":
        return None  # gone or a zombie
    return int(fields[19])


def proc_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def newest_pg_bindir() -> pathlib.Path:
    candidates = []
    for bindir in pathlib.Path("/usr/lib/postgresql").glob("*/bin"):
        try:
            version = tuple(int(x) for x in bindir.parent.name.split("."))
        except ValueError:
            continue
        if (bindir / "postgres").exists() and (bindir / "initdb").exists():
            candidates.append((version, bindir))
    if not candidates:
        for name in ("postgres", "initdb"):
            found = shutil.which(name)
            if found:
                return pathlib.Path(found).parent
        raise StackError("PostgreSQL not found (install postgresql; looked in /usr/lib/postgresql/*/bin)")
    return max(candidates)[1]


def find_kafka_binary(repo: pathlib.Path | None = None) -> pathlib.Path | None:
    """chat-kafka-dev from $CHAT_KAFKA_DEV, the newest build dir of the repo, or PATH."""
    env = os.environ.get("CHAT_KAFKA_DEV")
    if env:
        return pathlib.Path(env)
    repo = repo or pathlib.Path(__file__).resolve().parent.parent
    builds = [
        p
        for p in repo.glob("build*/tools/kafka-dev/chat-kafka-dev")
        if p.is_file() and os.access(p, os.X_OK)
    ]
    if builds:
        return max(builds, key=lambda p: p.stat().st_mtime)
    found = shutil.which("chat-kafka-dev")
    return pathlib.Path(found) if found else None


def redis_ping(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def control_request(address: str, command: str, timeout: float = 10.0) -> str:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(command.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", "replace").strip()


# --------------------------------------------------------------------------- the stack


class Stack:
    """PostgreSQL, Redis and chat-kafka-dev for one directory.

    Ports are chosen once (given or free) and kept across restarts of a service, so a
    test may stop Redis and start it again at the same address. Not thread-safe; one
    process at a time should drive one ROOT (the CLI takes a lock file).
    """

    def __init__(
        self,
        root: pathlib.Path,
        kafka_binary: pathlib.Path | None,
        pg_port: int | None = None,
        redis_port: int | None = None,
        log: Callable[[str], object] = print,
        fast: bool = False,
        kafka_brokers: int = 1,
        kafka_topics: list[str] | None = None,
    ) -> None:
        self.root = pathlib.Path(root).absolute()
        self.log = log
        self._procs: dict[str, subprocess.Popen] = {}
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        previous = self._read_state()
        self.state: dict = previous or {"version": STATE_VERSION, "services": {}}
        self.state["root"] = str(self.root)
        services = self.state.setdefault("services", {})
        for name in SERVICES:
            services.setdefault(name, {})
        if kafka_binary is not None:
            self.state["kafka_binary"] = str(pathlib.Path(kafka_binary).absolute())
        self.state["fast"] = bool(fast)
        self.state["kafka_brokers"] = int(kafka_brokers)
        self.state["kafka_topics"] = list(kafka_topics or [])
        pg = services["postgres"]
        pg.setdefault("password", secrets.token_hex(16))
        pg.setdefault("admin_password", secrets.token_hex(16))
        if pg_port is not None:
            pg["port"] = int(pg_port)
            pg["port_fixed"] = True
        if redis_port is not None:
            services["redis"]["port"] = int(redis_port)
            services["redis"]["port_fixed"] = True
        self._save_state()

    @classmethod
    def load(cls, root: pathlib.Path, log: Callable[[str], object] = print) -> "Stack":
        """Reattaches to the stack recorded in ROOT/stack.json (e.g. from another process)."""
        root = pathlib.Path(root).absolute()
        path = root / STATE_FILE
        if not path.exists():
            raise StackError(f"no stack at {root} ({path} missing)")
        state = json.loads(path.read_text())
        binary = state.get("kafka_binary")
        return cls(
            root,
            pathlib.Path(binary) if binary else None,
            log=log,
            fast=state.get("fast", False),
            kafka_brokers=state.get("kafka_brokers", 1),
            kafka_topics=state.get("kafka_topics") or None,
        )

    # ------------------------------------------------------------------ public API

    def __enter__(self) -> "Stack":
        self.start_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start_all(self) -> None:
        started = []
        try:
            for name in SERVICES:
                if not self.is_running(name):
                    self.start(name)
                    started.append(name)
        except BaseException:
            for name in reversed(started):
                with contextlib.suppress(Exception):
                    self.stop(name)
            raise

    def stop_all(self) -> None:
        errors = []
        for name in reversed(SERVICES):
            try:
                self.stop(name)
            except Exception as e:  # keep stopping the others
                errors.append(f"{name}: {e}")
        if errors:
            raise StackError("; ".join(errors))

    def start(self, service: str) -> None:
        self._check_service(service)
        if self.is_running(service):
            self.log(f"{service}: already running (pid {self._svc(service)['pid']})")
            return
        t0 = time.monotonic()
        getattr(self, f"_start_{service}")()
        self.log(f"{service}: {self._describe(service)} (pid {self._svc(service)['pid']}, "
                 f"{time.monotonic() - t0:.1f}s)")
        if service == "kafka" and self.is_running("postgres"):
            self._forget_messages_of_an_earlier_log()

    def _forget_messages_of_an_earlier_log(self) -> None:
        """The dev broker keeps its log in memory: once restarted, chat.messages starts again
        at offset 0. Message ids are Kafka positions (SPEC §2), so the messages the `chat`
        database stored from the earlier log would share ids with new ones (chatd refuses to
        start then). Users and rooms stay; messages and read positions go."""
        try:
            exists = self._psql("SELECT to_regclass('public.messages') IS NOT NULL", dbname="chat").strip()
        except StackError as e:
            self.log(f"kafka: could not look for messages of an earlier log in database 'chat': {e}")
            return
        if exists != "t" or self._psql("SELECT EXISTS (SELECT 1 FROM messages)", dbname="chat").strip() != "t":
            return
        self._psql("BEGIN; TRUNCATE messages; "
                   "UPDATE chat_room_members SET last_read_message_id = 0, unread_count = 0; COMMIT;", dbname="chat")
        self.log("kafka: the dev broker started with an empty log, so the messages of database 'chat' from its "
                 "previous log were deleted (message ids are Kafka positions); users and rooms are kept")

    def stop(self, service: str) -> None:
        self._check_service(service)
        svc = self._svc(service)
        pid = svc.get("pid")
        if not pid:
            return
        if not self._is_ours(service):
            self.log(f"{service}: pid {pid} is gone or no longer ours; forgetting it")
        else:
            sig = signal.SIGINT if service == "postgres" else signal.SIGTERM
            timeout = PG_STOP_TIMEOUT if service == "postgres" else STOP_TIMEOUT
            self._terminate(service, pid, sig, timeout)
            self.log(f"{service}: stopped (pid {pid})")
        svc["pid"] = None
        svc["start_time"] = None
        self._procs.pop(service, None)
        if service == "kafka":
            with contextlib.suppress(FileNotFoundError):
                (self.root / "kafka" / "info.json").unlink()
        self._save_state()

    def is_running(self, service: str) -> bool:
        self._check_service(service)
        return self._is_ours(service)

    def healthy(self, service: str) -> bool:
        """Running and answering (pg_isready / PING / control ping)."""
        if not self.is_running(service):
            return False
        svc = self._svc(service)
        if service == "postgres":
            return self._pg_isready(svc["port"]) == 0
        if service == "redis":
            return redis_ping(svc["port"])
        try:
            return control_request(svc["control"], "ping", timeout=3).startswith("ok")
        except OSError:
            return False

    def env(self) -> dict[str, str]:
        services = self.state["services"]
        out: dict[str, str] = {}
        pg = services["postgres"]
        if pg.get("port"):
            out["CHATD_DATABASE_URL"] = self._db_url("chat")
        if services["redis"].get("port"):
            out["CHATD_REDIS_URL"] = f"redis://{HOST}:{services['redis']['port']}"
        kafka = services["kafka"]
        if kafka.get("bootstrap"):
            out["CHATD_KAFKA_BROKERS"] = kafka["bootstrap"]
        if kafka.get("control"):
            out["CHAT_KAFKA_CONTROL"] = kafka["control"]
        return out

    def write_env_file(self, path: pathlib.Path) -> None:
        path = pathlib.Path(path)
        lines = [
            "# Written by scripts/devstack.py; load into a shell with: set -a; . FILE; set +a",
            *(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env().items())),
        ]
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def kafka_control(self, cmd: str) -> str:
        """Sends one control line to chat-kafka-dev; returns its "ok ..." reply."""
        address = self._svc("kafka").get("control")
        if not address or not self.is_running("kafka"):
            raise StackError("kafka is not running")
        try:
            reply = control_request(address, cmd)
        except OSError as e:
            raise StackError(f"kafka control {address}: {e}") from e
        if not reply.startswith("ok"):
            raise StackError(f"kafka control {cmd!r}: {reply or 'no reply'}")
        return reply

    def create_database(self, name: str) -> str:
        """Creates a fresh database owned by role chat and returns its URL."""
        if not DB_NAME_RE.match(name):
            raise StackError(f"bad database name {name!r} (letters, digits, _; max 63)")
        if not self.is_running("postgres"):
            raise StackError("postgres is not running")
        self._psql(f'CREATE DATABASE "{name}" OWNER chat')
        return self._db_url(name)

    def drop_database(self, name: str) -> None:
        """Drops a database made by create_database(), disconnecting its sessions."""
        if not DB_NAME_RE.match(name) or name in ("chat", "postgres", "template0", "template1"):
            raise StackError(f"refusing to drop database {name!r}")
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log_paths(self) -> dict[str, pathlib.Path]:
        return {name: self._log_path(name) for name in SERVICES}

    # ------------------------------------------------------------------ state

    def _read_state(self) -> dict | None:
        path = self.root / STATE_FILE
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        if state.get("version") != STATE_VERSION:
            raise StackError(f"{path}: unsupported state version {state.get('version')}")
        return state

    def _save_state(self) -> None:
        path = self.root / STATE_FILE
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.state, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)

    def _svc(self, service: str) -> dict:
        return self.state["services"][service]

    @staticmethod
    def _check_service(service: str) -> None:
        if service not in SERVICES:
            raise StackError(f"unknown service {service!r} (one of {', '.join(SERVICES)})")

    def _log_path(self, service: str) -> pathlib.Path:
        return self.root / "logs" / f"{service}.log"

    def _describe(self, service: str) -> str:
        svc = self._svc(service)
        if service == "kafka":
            return f"bootstrap {svc.get('bootstrap')}, control {svc.get('control')}"
        return f"{HOST}:{svc.get('port')}"

    def _db_url(self, dbname: str) -> str:
        pg = self._svc("postgres")
        password = urllib.parse.quote(pg["password"], safe="")
        return f"postgresql://chat:{password}@{HOST}:{pg['port']}/{dbname}"

    # ------------------------------------------------------------------ processes

    def _spawn(self, service: str, argv: list[str], *, user: str | None = None,
               cwd: pathlib.Path | None = None, env: dict | None = None) -> subprocess.Popen:
        log_path = self._log_path(service)
        with open(log_path, "ab") as logf:
            logf.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: "
                       f"{' '.join(argv)}\n".encode())
            logf.flush()
            kwargs: dict = {}
            if user is not None:
                kwargs.update(user=user, group=pwd.getpwnam(user).pw_gid, extra_groups=[])
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                cwd=str(cwd) if cwd else None,
                env=env,
                # Own session: a Ctrl-C meant for the caller does not reach the services;
                # they are stopped in order through stop()/stop_all().
                start_new_session=True,
                close_fds=True,
                **kwargs,
            )
        self._procs[service] = proc
        svc = self._svc(service)
        svc["pid"] = proc.pid
        svc["start_time"] = None
        for _ in range(100):  # /proc entry appears with the fork; retry briefly
            svc["start_time"] = proc_start_time(proc.pid)
            if svc["start_time"] is not None or proc.poll() is not None:
                break
            time.sleep(0.01)
        self._save_state()
        return proc

    def _is_ours(self, service: str) -> bool:
        """The recorded pid is alive and is still the process this stack started."""
        svc = self._svc(service)
        pid = svc.get("pid")
        if not pid:
            return False
        proc = self._procs.get(service)
        if proc is not None and proc.poll() is not None:
            return False
        start_time = proc_start_time(pid)
        if start_time is None or start_time != svc.get("start_time"):
            return False
        cmdline = proc_cmdline(pid)
        if service == "postgres":
            return "postgres" in cmdline and str(self.root) in cmdline
        if service == "redis":
            return "redis-server" in cmdline
        return "chat-kafka-dev" in cmdline and str(self.root) in cmdline

    def _terminate(self, service: str, pid: int, sig: int, timeout: float) -> None:
        start_time = self._svc(service).get("start_time")
        proc = self._procs.get(service)

        def alive() -> bool:
            if proc is not None:
                return proc.poll() is None
            return proc_start_time(pid) == start_time

        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive():
            self.log(f"{service}: pid {pid} did not stop within {timeout:.0f}s; sending SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive():
                raise StackError(f"{service}: pid {pid} survived SIGKILL")

    def _fail(self, service: str, message: str) -> StackError:
        path = self._log_path(service)
        return StackError(f"{service}: {message}\n--- last lines of {path}:\n{log_tail(path)}")

    def _wait_ready(self, service: str, proc: subprocess.Popen, ready: Callable[[], bool],
                    timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise self._fail(service, f"exited with status {proc.returncode} during start")
            if ready():
                return
            if time.monotonic() > deadline:
                self._terminate(service, proc.pid, signal.SIGKILL, 5)
                self._svc(service)["pid"] = None
                self._save_state()
                raise self._fail(service, f"not ready within {timeout:.0f}s")
            time.sleep(0.05)

    def _pick_port(self, service: str) -> int:
        """The service's port: kept from before, or a new free one on first start."""
        svc = self._svc(service)
        if not svc.get("port"):
            svc["port"] = free_port()
            self._save_state()
        return svc["port"]

    def _retry_on_port_clash(self, service: str, start_once: Callable[[int], None]) -> None:
        """Runs start_once(port); when another process took an auto-chosen port between
        choosing and binding (several stacks start at once), picks another and retries."""
        svc = self._svc(service)
        for attempt in range(PORT_RETRIES):
            port = self._pick_port(service)
            if not port_is_free(port):
                if svc.get("port_fixed") or svc.get("port_used"):
                    raise StackError(f"{service}: port {port} on {HOST} is in use by another process")
                svc["port"] = None
                continue
            try:
                start_once(port)
            except StackError as e:
                clash = "in use" in str(e) or "Address already in use" in str(e)
                if clash and not svc.get("port_fixed") and not svc.get("port_used") \
                        and attempt + 1 < PORT_RETRIES:
                    self.log(f"{service}: port {port} was taken meanwhile; trying another")
                    svc["port"] = None
                    continue
                raise
            svc["port_used"] = True
            self._save_state()
            return
        raise StackError(f"{service}: could not find a free port")

    # ------------------------------------------------------------------ postgres

    def _pg_paths(self) -> dict[str, pathlib.Path]:
        base = self.root / "postgres"
        return {"base": base, "data": base / "data", "run": base / "run"}

    def _pg_user(self) -> str | None:
        """Run PostgreSQL as `postgres` when we are root (it refuses root), else as us."""
        return "postgres" if os.geteuid() == 0 else None

    def _make_traversable(self, path: pathlib.Path) -> None:
        """PostgreSQL runs as another user: every ancestor of its directories must be
        searchable by it (mkdtemp makes 0700 directories)."""
        if self._pg_user() is None:
            return
        for directory in [path, *path.parents]:
            mode = directory.stat().st_mode
            if not mode & 0o001:
                os.chmod(directory, (mode & 0o7777) | 0o001)
                self.log(f"postgres: chmod o+x {directory} (so the postgres user can reach its data)")

    def _pg_bin(self, name: str) -> str:
        pg = self._svc("postgres")
        if not pg.get("bindir") or not (pathlib.Path(pg["bindir"]) / name).exists():
            pg["bindir"] = str(newest_pg_bindir())
        return str(pathlib.Path(pg["bindir"]) / name)

    def _chown_pg(self, path: pathlib.Path) -> None:
        user = self._pg_user()
        if user is not None:
            pw = pwd.getpwnam(user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _pg_initdb(self) -> None:
        paths = self._pg_paths()
        pg = self._svc("postgres")
        paths["base"].mkdir(exist_ok=True)
        os.chmod(paths["base"], 0o755)
        self._make_traversable(paths["base"])
        paths["data"].mkdir(mode=0o700)
        self._chown_pg(paths["data"])
        pwfile = paths["base"] / "initdb.pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pg["admin_password"] + "\n")
        self._chown_pg(pwfile)
        argv = [
            self._pg_bin("initdb"), "-D", str(paths["data"]), "-U", "postgres",
            f"--pwfile={pwfile}", "--auth-local=peer", "--auth-host=scram-sha-256",
            "--encoding=UTF8", "--locale=C.UTF-8",
        ]
        if self.state.get("fast"):
            argv.append("--no-sync")
        self.log(f"postgres: initdb {paths['data']}")
        try:
            proc = self._spawn("postgres", argv, user=self._pg_user(), cwd=paths["base"])
            try:
                rc = proc.wait(timeout=PG_INIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise self._fail("postgres", f"initdb did not finish within {PG_INIT_TIMEOUT:.0f}s")
        finally:
            pwfile.unlink(missing_ok=True)
            pg["pid"] = None
            self._procs.pop("postgres", None)
        if rc != 0:
            shutil.rmtree(paths["data"], ignore_errors=True)
            raise self._fail("postgres", f"initdb failed with status {rc}")
        conf = paths["data"] / "postgresql.conf"
        with open(conf, "a") as f:
            f.write("\n# Settings of the dev stack (port, sockets, durability) live here:\n"
                    "include_if_exists = 'chat-stack.conf'\n")
        pg["bootstrapped"] = False
        self._save_state()

    def _pg_write_conf(self, port: int) -> None:
        paths = self._pg_paths()
        lines = [
            "# Rewritten by scripts/devstack.py at every start.",
            f"listen_addresses = '{HOST}'",
            f"port = {port}",
            f"unix_socket_directories = '{paths['run']}'",
            "logging_collector = off",
            "log_line_prefix = '%m [%p] %q%u@%d '",
        ]
        if self.state.get("fast"):
            lines += [
                "# fast=True (tests): durability off, data may be lost on a crash",
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
            ]
        target = paths["data"] / "chat-stack.conf"
        target.write_text("\n".join(lines) + "\n")
        self._chown_pg(target)

    def _pg_isready(self, port: int) -> int:
        try:
            return subprocess.run(
                [self._pg_bin("pg_isready"), "-q", "-h", HOST, "-p", str(port), "-t", "1"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=5,
            ).returncode
        except subprocess.TimeoutExpired:
            return 2

    def _psql(self, sql: str, dbname: str = "postgres") -> str:
        pg = self._svc("postgres")
        env = dict(os.environ, PGPASSWORD=pg["admin_password"], PGCONNECT_TIMEOUT="5")
        proc = subprocess.run(
            [self._pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At",
             "-h", HOST, "-p", str(pg["port"]), "-U", "postgres", "-d", dbname, "-c", sql],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60,
        )
        if proc.returncode != 0:
            raise StackError(f"postgres: {sql!r} failed: {proc.stderr.strip()}")
        return proc.stdout

    def _start_postgres(self) -> None:
        paths = self._pg_paths()
        pg = self._svc("postgres")
        if not (paths["data"] / "PG_VERSION").exists():
            if paths["data"].exists():
                shutil.rmtree(paths["data"])  # a failed initdb leaves a partial directory
            self._pg_initdb()
        paths["run"].mkdir(exist_ok=True)
        self._chown_pg(paths["run"])
        self._make_traversable(paths["run"])
        # A postmaster.pid left behind by a killed server whose pid is now unused: remove
        # it so the new server does not refuse to start. Never when ours is running.
        pidfile = paths["data"] / "postmaster.pid"
        if pidfile.exists():
            try:
                old = int(pidfile.read_text().split()[0])
            except (ValueError, IndexError, OSError):
                old = 0
            if old and proc_start_time(old) is not None and "postgres" in proc_cmdline(old):
                raise StackError(f"postgres: a server (pid {old}) already runs on {paths['data']}")
            pidfile.unlink(missing_ok=True)

        def start_once(port: int) -> None:
            self._pg_write_conf(port)
            proc = self._spawn("postgres", [self._pg_bin("postgres"), "-D", str(paths["data"])],
                               user=self._pg_user(), cwd=paths["base"])
            self._wait_ready("postgres", proc, lambda: self._pg_isready(port) == 0,
                             PG_START_TIMEOUT)

        self._retry_on_port_clash("postgres", start_once)
        if not pg.get("bootstrapped"):
            password = pg["password"].replace("'", "''")
            self._psql(f"CREATE ROLE chat LOGIN CREATEDB PASSWORD '{password}'")
            self._psql("CREATE DATABASE chat OWNER chat")
            pg["bootstrapped"] = True
        self._save_state()

    # ------------------------------------------------------------------ redis

    def _start_redis(self) -> None:
        workdir = self.root / "redis"
        workdir.mkdir(exist_ok=True)
        redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"

        def start_once(port: int) -> None:
            argv = [
                redis_server, "--port", str(port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir),
                "--logfile", "", "--protected-mode", "yes",
            ]
            proc = self._spawn("redis", argv, cwd=workdir)
            self._wait_ready("redis", proc, lambda: redis_ping(port), REDIS_START_TIMEOUT)

        self._retry_on_port_clash("redis", start_once)

    # ------------------------------------------------------------------ kafka

    def _start_kafka(self) -> None:
        binary = self.state.get("kafka_binary")
        if not binary:
            raise StackError("kafka: no chat-kafka-dev binary given (build it: ninja chat-kafka-dev)")
        if not os.access(binary, os.X_OK):
            raise StackError(f"kafka: {binary} is not an executable (build it: ninja chat-kafka-dev)")
        kafka = self._svc("kafka")
        workdir = self.root / "kafka"
        workdir.mkdir(exist_ok=True)
        info_path = workdir / "info.json"
        info_path.unlink(missing_ok=True)
        # Keep the control address across restarts when the port is still free; the
        # brokers' ports are picked by the mock cluster and change on every start.
        control_port = 0
        if kafka.get("control"):
            previous = int(kafka["control"].rsplit(":", 1)[1])
            if port_is_free(previous):
                control_port = previous
        argv = [binary, "--info-file", str(info_path), "--control-port", str(control_port),
                "--brokers", str(self.state.get("kafka_brokers", 1))]
        for topic in self.state.get("kafka_topics") or []:
            argv += ["--topic", topic]
        proc = self._spawn("kafka", argv, cwd=workdir)
        info: dict = {}

        def ready() -> bool:
            nonlocal info
            if not info_path.exists():
                return False
            info = json.loads(info_path.read_text())
            return True

        self._wait_ready("kafka", proc, ready, KAFKA_START_TIMEOUT)
        if info.get("pid") != proc.pid:
            raise self._fail("kafka", f"info file names pid {info.get('pid')}, started {proc.pid}")
        kafka["bootstrap"] = info["bootstrap"]
        kafka["control"] = info["control"]
        kafka["topics"] = info.get("topics", {})
        self._save_state()


# --------------------------------------------------------------------------- CLI


@contextlib.contextmanager
def locked(root: pathlib.Path) -> Iterator[None]:
    """Serialises CLI invocations on one directory."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _default_dir() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parent.parent / ".stack"


def _stderr_log(msg: str) -> None:
    print(f"devstack: {msg}", file=sys.stderr, flush=True)


def _print_status(stack: Stack) -> bool:
    all_ok = True
    for name in SERVICES:
        svc = stack.state["services"][name]
        running = stack.is_running(name)
        healthy = running and stack.healthy(name)
        all_ok = all_ok and healthy
        where = stack._describe(name)
        state = "up" if healthy else ("running, not answering" if running else "stopped")
        pid = f" pid {svc.get('pid')}" if running else ""
        print(f"{name:9} {state:22} {where}{pid}")
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stack", description="Local PostgreSQL, Redis and dev Kafka for the chat backend.")
    parser.add_argument("--dir", type=pathlib.Path, default=None,
                        help="stack directory (default: <repo>/.stack)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dir", type=pathlib.Path, default=argparse.SUPPRESS,
                       help="stack directory (default: <repo>/.stack)")

    up = sub.add_parser("up", help="start every service not running; print the environment")
    add_dir(up)
    up.add_argument("--pg-port", type=int)
    up.add_argument("--redis-port", type=int)
    up.add_argument("--kafka-binary", type=pathlib.Path,
                    help="chat-kafka-dev (default: $CHAT_KAFKA_DEV, <repo>/build*/..., PATH)")
    up.add_argument("--kafka-brokers", type=int, default=1)
    up.add_argument("--env-file", type=pathlib.Path, help="default: DIR/env")
    up.add_argument("--fast", action="store_true",
                    help="fsync=off, synchronous_commit=off (tests; data may be lost on a crash)")
    for name, text in (("down", "stop every service of the stack"),
                       ("status", "show services; exit 0 when all are up"),
                       ("env", "print the environment")):
        add_dir(sub.add_parser(name, help=text))
    for name in ("start", "stop"):
        p = sub.add_parser(name, help=f"{name} one service")
        add_dir(p)
        p.add_argument("service", choices=SERVICES)
    ctl = sub.add_parser("kafka-control", help="send a control command to chat-kafka-dev")
    add_dir(ctl)
    ctl.add_argument("words", nargs="+")
    psql = sub.add_parser("psql", help="run psql on the chat database (extra args go to psql)")
    add_dir(psql)

    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "psql":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    root = (args.dir or _default_dir()).absolute()
    try:
        with locked(root):
            if args.command == "up":
                binary = args.kafka_binary or find_kafka_binary()
                if (root / STATE_FILE).exists():
                    previous = Stack.load(root, log=_stderr_log)
                    binary = binary or (pathlib.Path(previous.state["kafka_binary"])
                                        if previous.state.get("kafka_binary") else None)
                if binary is None:
                    raise StackError("chat-kafka-dev not found: build it (ninja chat-kafka-dev) "
                                     "or pass --kafka-binary")
                t0 = time.monotonic()
                stack = Stack(root, binary, pg_port=args.pg_port, redis_port=args.redis_port,
                              log=_stderr_log, fast=args.fast, kafka_brokers=args.kafka_brokers)
                stack.start_all()
                env_file = args.env_file or root / "env"
                stack.write_env_file(env_file)
                _stderr_log(f"up in {time.monotonic() - t0:.1f}s; env written to {env_file}; "
                            f"logs in {root / 'logs'}")
                for key, value in sorted(stack.env().items()):
                    print(f"{key}={shlex.quote(value)}")
                return 0
            if not (root / STATE_FILE).exists():
                if args.command in ("down",):
                    _stderr_log(f"no stack at {root}")
                    return 0
                if args.command == "status":
                    print(f"no stack at {root}")
                    return 1
            stack = Stack.load(root, log=_stderr_log)
            if args.command == "down":
                stack.stop_all()
                return 0
            if args.command == "status":
                return 0 if _print_status(stack) else 1
            if args.command == "env":
                for key, value in sorted(stack.env().items()):
                    print(f"{key}={shlex.quote(value)}")
                return 0
            if args.command == "start":
                stack.start(args.service)
                stack.write_env_file(root / "env")
                return 0
            if args.command == "stop":
                stack.stop(args.service)
                return 0
            if args.command == "kafka-control":
                print(stack.kafka_control(" ".join(args.words)))
                return 0
            if args.command == "psql":
                env = dict(os.environ)
                url = stack.env().get("CHATD_DATABASE_URL")
                if not url:
                    raise StackError("postgres was never started")
                psql_bin = stack._pg_bin("psql")
                os.execve(psql_bin, [psql_bin, url, *extra], env)
    except StackError as e:
        print(f"devstack: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
