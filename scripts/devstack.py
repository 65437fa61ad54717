#!/usr/bin/python3
"""Local development stack: PostgreSQL, Redis and the development Kafka broker.

For machines without Docker (docs/deployment.md). Starts the distribution's PostgreSQL and Redis and
`chat-kafka-dev` (librdkafka's mock cluster, in memory) on free or given ports inside one
directory, records what it started in ROOT/stack.json, and stops only those processes.

Used two ways:
  * as a command-line tool (through scripts/stack):
        devstack.py up [--dir D] [--pg-port N] [--redis-port N] [--kafka-binary PATH]
                       [--env-file PATH] [--fast]
        devstack.py down|status|env [--dir D]
        devstack.py stop|start SERVICE [--dir D]
        devstack.py check-messages [--dir D] [-q]     (exit 3: messages of an earlier log)
        devstack.py reset-messages [--dir D]
        devstack.py kafka-control [--dir D] COMMAND...
        devstack.py psql [--dir D] [PSQL ARGS...]
  * as a module, by the pytest harness:
        stack = Stack(tmp_path / "stack", kafka_binary, fast=True)
        stack.start_all(); url = stack.create_database("t_123"); ...; stack.stop_all()

Standard library only; run it with the system Python (/usr/bin/python3).

Each service (Postgres, Redis, KafkaDev) is one class with the same small interface
(Service: start, stop, is_running, healthy, env, describe, log_path); Stack composes them
and owns what concerns two of them (the dev broker's log against the stored messages).

Layout of ROOT:
  stack.json            state: ports, pids (+ start times), passwords (mode 0600)
  logs/<service>.log    each service's stdout/stderr (appended across restarts)
  postgres/data         the cluster (owned by the postgres user when run as root)
  postgres/run          its unix socket directory
  redis/                redis working directory (nothing is persisted)
  kafka/info.json       written by chat-kafka-dev once ready
  env                   KEY=VALUE file written by `up`

A new cluster is a copy of a template that initdb made once per machine, user and
PostgreSQL major version (PgTemplate; $CHAT_PG_TEMPLATE_DIR, default
<tmp>/chat-pg-template-<major>-<uid>). PostgreSQL data survives `down`/`up` of the same
directory; Redis and Kafka start empty. When the broker starts with an empty log while
database `chat` holds messages, the stack says so (chatd refuses to start then) and leaves
the rows alone; `reset-messages` deletes them on request.
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
import tempfile
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

PG_TEMPLATE_ENV = "CHAT_PG_TEMPLATE_DIR"

# Exit status of `check-messages` when database `chat` holds messages of an earlier log
# (1 is any other failure of the command).
EXIT_EARLIER_LOG = 3

DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# What reset_messages() runs in database `chat`: the rows whose ids (Kafka positions) a new
# log would hand out again, and the read positions that point at them.
# room_events hold Kafka positions too; CASCADE empties what points at messages (reactions,
# pins, bookmarks, hidden-for-me).
RESET_MESSAGES_SQL = ("BEGIN; TRUNCATE {tables} CASCADE; "
                      "UPDATE chat_room_members SET last_read_message_id = 0, unread_count = 0; COMMIT;")


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


def pg_major_version(bindir: pathlib.Path) -> str:
    """"15" for /usr/lib/postgresql/15/bin; else from `postgres --version`."""
    if bindir.parent.name.isdigit():
        return bindir.parent.name
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True,
                         timeout=10).stdout
    match = re.search(r"\) (\d+)", out)
    if not match:
        raise StackError(f"cannot tell the version of {bindir / 'postgres'} from {out.strip()!r}")
    return match.group(1)


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


def pg_os_user() -> str | None:
    """Run PostgreSQL as `postgres` when we are root (it refuses root), else as us."""
    return "postgres" if os.geteuid() == 0 else None


def chown_to(path: pathlib.Path, user: str | None) -> None:
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def as_user(user: str | None) -> dict:
    """subprocess keyword arguments that run a child as `user` (None: as us)."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def make_traversable(path: pathlib.Path, user: str | None, log: Callable[[str], object]) -> None:
    """PostgreSQL runs as another user: every ancestor of its directories must be
    searchable by it (mkdtemp makes 0700 directories)."""
    if user is None:
        return
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & 0o001:
            os.chmod(directory, (mode & 0o7777) | 0o001)
            log(f"postgres: chmod o+x {directory} (so the postgres user can reach its data)")


def write_private(path: pathlib.Path, text: str) -> None:
    """Writes a file readable by its owner only, atomically."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- services


class Workspace:
    """What the services of one stack share: its directory, its state file, its log."""

    def __init__(self, root: pathlib.Path, state: dict, log: Callable[[str], object]) -> None:
        self.root = root
        self.state = state
        self.log = log

    def save(self) -> None:
        write_private(self.root / STATE_FILE, json.dumps(self.state, indent=2, sort_keys=True) + "\n")

    def log_path(self, service: str) -> pathlib.Path:
        return self.root / "logs" / f"{service}.log"


class Service:
    """One server process of a stack, started in its own session with its output in
    logs/<name>.log; its pid and start time are kept in the state so that another process
    (the CLI) can tell whether the pid still names the process this stack started.

    A subclass says how to start its process (`_launch`), how to recognise it in /proc
    (`_owns`), whether it answers (`_answers`) and what a client needs (`env`)."""

    name = ""
    stop_signal = signal.SIGTERM
    stop_timeout = STOP_TIMEOUT

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._proc: subprocess.Popen | None = None

    # ------------------------------------------------------------------ the interface

    @property
    def state(self) -> dict:
        return self.ws.state["services"][self.name]

    @property
    def log_path(self) -> pathlib.Path:
        return self.ws.log_path(self.name)

    def start(self) -> bool:
        """Starts the service unless it runs; whether it started it."""
        if self.is_running():
            self.ws.log(f"{self.name}: already running (pid {self.state['pid']})")
            return False
        t0 = time.monotonic()
        self._launch()
        self.ws.log(f"{self.name}: {self.describe()} (pid {self.state['pid']}, {time.monotonic() - t0:.1f}s)")
        return True

    def stop(self) -> None:
        pid = self.state.get("pid")
        if not pid:
            return
        if not self.is_running():
            self.ws.log(f"{self.name}: pid {pid} is gone or no longer ours; forgetting it")
        else:
            self._terminate(pid, self.stop_signal, self.stop_timeout)
            self.ws.log(f"{self.name}: stopped (pid {pid})")
        self.state["pid"] = None
        self.state["start_time"] = None
        self._proc = None
        self._stopped()
        self.ws.save()

    def is_running(self) -> bool:
        """The recorded pid is alive and is still the process this stack started."""
        pid = self.state.get("pid")
        if not pid:
            return False
        if self._proc is not None and self._proc.poll() is not None:
            return False
        start_time = proc_start_time(pid)
        if start_time is None or start_time != self.state.get("start_time"):
            return False
        return self._owns(proc_cmdline(pid))

    def healthy(self) -> bool:
        return self.is_running() and self._answers()

    def env(self) -> dict[str, str]:
        return {}

    def describe(self) -> str:
        return f"{HOST}:{self.state.get('port')}"

    # ------------------------------------------------------------------ for subclasses

    def _launch(self) -> None:
        raise NotImplementedError

    def _owns(self, cmdline: str) -> bool:
        raise NotImplementedError

    def _answers(self) -> bool:
        raise NotImplementedError

    def _stopped(self) -> None:
        """Cleans up after the process ended."""

    def _spawn(self, argv: list[str], *, user: str | None = None,
               cwd: pathlib.Path | None = None) -> subprocess.Popen:
        with open(self.log_path, "ab") as logf:
            logf.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
            logf.flush()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                cwd=str(cwd) if cwd else None,
                # Own session: a Ctrl-C meant for the caller does not reach the services;
                # they are stopped in order through stop()/stop_all().
                start_new_session=True,
                close_fds=True,
                **as_user(user),
            )
        self._proc = proc
        self.state["pid"] = proc.pid
        self.state["start_time"] = None
        for _ in range(100):  # /proc entry appears with the fork; retry briefly
            self.state["start_time"] = proc_start_time(proc.pid)
            if self.state["start_time"] is not None or proc.poll() is not None:
                break
            time.sleep(0.01)
        self.ws.save()
        return proc

    def _terminate(self, pid: int, sig: int, timeout: float) -> None:
        start_time = self.state.get("start_time")
        proc = self._proc

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
            self.ws.log(f"{self.name}: pid {pid} did not stop within {timeout:.0f}s; sending SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive():
                raise StackError(f"{self.name}: pid {pid} survived SIGKILL")

    def _fail(self, message: str) -> StackError:
        return StackError(f"{self.name}: {message}\n--- last lines of {self.log_path}:\n{log_tail(self.log_path)}")

    def _wait_ready(self, proc: subprocess.Popen, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise self._fail(f"exited with status {proc.returncode} during start")
            if ready():
                return
            if time.monotonic() > deadline:
                self._terminate(proc.pid, signal.SIGKILL, 5)
                self.state["pid"] = None
                self.ws.save()
                raise self._fail(f"not ready within {timeout:.0f}s")
            time.sleep(0.05)

    def _pick_port(self) -> int:
        """The service's port: kept from before, or a new free one on first start."""
        if not self.state.get("port"):
            self.state["port"] = free_port()
            self.ws.save()
        return self.state["port"]

    def _retry_on_port_clash(self, start_once: Callable[[int], None]) -> None:
        """Runs start_once(port); when another process took an auto-chosen port between
        choosing and binding (several stacks start at once), picks another and retries.
        Ports are kept across restarts, so a test may stop a service and start it again at
        the same address."""
        svc = self.state
        for attempt in range(PORT_RETRIES):
            port = self._pick_port()
            if not port_is_free(port):
                if svc.get("port_fixed") or svc.get("port_used"):
                    raise StackError(f"{self.name}: port {port} on {HOST} is in use by another process")
                svc["port"] = None
                continue
            try:
                start_once(port)
            except StackError as e:
                clash = "in use" in str(e) or "Address already in use" in str(e)
                if clash and not svc.get("port_fixed") and not svc.get("port_used") \
                        and attempt + 1 < PORT_RETRIES:
                    self.ws.log(f"{self.name}: port {port} was taken meanwhile; trying another")
                    svc["port"] = None
                    continue
                raise
            svc["port_used"] = True
            self.ws.save()
            return
        raise StackError(f"{self.name}: could not find a free port")


class PgTemplate:
    """A cluster that initdb made once per machine, user and PostgreSQL major version, with
    the superuser password it was made with. New stacks copy it (a fraction of a second)
    instead of running initdb (seconds), which matters when every pytest worker starts
    stacks. Made under a file lock (several workers start stacks at the same moment) in a
    temporary directory that is renamed when complete, so a half-made template is never
    found. It has role and database `chat` already (without a password): CREATE DATABASE
    in every stack would copy a database inside the server once more. Its manifest
    (template.json, 0600) holds the superuser's password, the version, the layout and the
    number of entries, so that a template that a temp-dir cleaner thinned out is made again;
    so is a deleted one."""

    MANIFEST = "template.json"
    LAYOUT = 2  # 2: with role and database `chat`

    def __init__(self, path: pathlib.Path, manifest: dict) -> None:
        self.path = path
        self.data = path / "data"
        self.admin_password: str = manifest["admin_password"]

    @staticmethod
    def location(major: str) -> pathlib.Path:
        override = os.environ.get(PG_TEMPLATE_ENV)
        if override:
            return pathlib.Path(override).absolute()
        return pathlib.Path(tempfile.gettempdir()) / f"chat-pg-template-{major}-{os.getuid()}"

    @classmethod
    def ensure(cls, bindir: pathlib.Path, log: Callable[[str], object]) -> "PgTemplate":
        major = pg_major_version(bindir)
        path = cls.location(major)
        found = cls._existing(path, major)
        if found is not None:
            return found
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = cls._existing(path, major)
            if found is not None:
                return found
            if path.exists():
                log(f"postgres: {path} is not a complete template of PostgreSQL {major}; making it again")
                shutil.rmtree(path)
            for leftover in path.parent.glob(path.name + ".tmp-*"):
                shutil.rmtree(leftover, ignore_errors=True)  # a maker that died; we hold the lock
            cls._make(path, bindir, major, log)
            found = cls._existing(path, major)
            if found is None:
                raise StackError(f"postgres: the template {path} just made does not check out")
            return found

    @staticmethod
    def _count_entries(data: pathlib.Path) -> int:
        return sum(len(dirs) + len(files) for _, dirs, files in os.walk(data))

    @classmethod
    def _existing(cls, path: pathlib.Path, major: str) -> "PgTemplate | None":
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        # The default lives in the shared temp dir: use only a directory of our own.
        if os.path.islink(path) or not path.is_dir() or st.st_uid != os.getuid():
            raise StackError(f"postgres: {path} is not a directory of uid {os.getuid()}; remove it "
                             f"or set {PG_TEMPLATE_ENV}")
        try:
            manifest = json.loads((path / cls.MANIFEST).read_text())
            version = (path / "data" / "PG_VERSION").read_text().strip()
        except (OSError, ValueError):
            return None
        if version != major or manifest.get("pg_version") != major or manifest.get("layout") != cls.LAYOUT \
                or manifest.get("entries") != cls._count_entries(path / "data"):
            return None
        return cls(path, manifest)

    @classmethod
    def _make(cls, path: pathlib.Path, bindir: pathlib.Path, major: str, log: Callable[[str], object]) -> None:
        t0 = time.monotonic()
        user = pg_os_user()
        tmp = pathlib.Path(tempfile.mkdtemp(prefix=path.name + ".tmp-", dir=path.parent))
        try:
            os.chmod(tmp, 0o711)  # the postgres user enters it to write data/
            make_traversable(tmp, user, log)
            password = secrets.token_hex(16)
            data = tmp / "data"
            data.mkdir(mode=0o700)
            chown_to(data, user)
            pwfile = tmp / "initdb.pw"
            write_private(pwfile, password + "\n")
            chown_to(pwfile, user)

            def run(argv: list[str], sql: str = "") -> None:
                try:
                    proc = subprocess.run(argv, input=sql, capture_output=True, text=True, cwd=tmp,
                                          timeout=PG_INIT_TIMEOUT, **as_user(user))
                except subprocess.TimeoutExpired as e:
                    raise StackError(f"postgres: {argv[0]} did not finish within {PG_INIT_TIMEOUT:.0f}s") from e
                # A single-user backend reports a failed statement and goes on with status 0.
                failed = re.search(r"\b(ERROR|FATAL|PANIC):", proc.stdout + proc.stderr) if sql else None
                if proc.returncode != 0 or failed:
                    raise StackError(f"postgres: {' '.join(argv)} failed with status {proc.returncode}:\n"
                                     f"{proc.stdout}{proc.stderr}")

            # --no-sync, then one --sync-only once the configuration is complete: the
            # template is flushed once, when made.
            run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}",
                 "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8",
                 "--no-sync"])
            pwfile.unlink()
            with open(data / "postgresql.conf", "a") as f:
                f.write("\n# Settings of the dev stack (port, sockets, durability) live here:\n"
                        "include_if_exists = 'chat-stack.conf'\n")
            # One statement per line; -F: no fsync until the --sync-only below.
            run([str(bindir / "postgres"), "--single", "-F", "-D", str(data), "postgres"],
                "CREATE ROLE chat LOGIN CREATEDB\nCREATE DATABASE chat OWNER chat\n")
            run([str(bindir / "initdb"), "--sync-only", "-D", str(data)])
            manifest = {"admin_password": password, "pg_version": major, "layout": cls.LAYOUT,
                        "entries": cls._count_entries(data)}
            write_private(tmp / cls.MANIFEST, json.dumps(manifest) + "\n")
            os.rename(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        log(f"postgres: made the cluster template {path} ({time.monotonic() - t0:.1f}s)")


class Postgres(Service):
    """The distribution's PostgreSQL, one cluster per stack with role and database `chat`.

    Its superuser (`postgres`, over TCP with a password) is how the stack administers it."""

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: aborts sessions, no waiting for clients
    stop_timeout = PG_STOP_TIMEOUT

    def __init__(self, ws: Workspace, fast: bool) -> None:
        super().__init__(ws)
        self.fast = fast
        self.base = ws.root / "postgres"
        self.data = self.base / "data"
        self.run_dir = self.base / "run"
        self.os_user = pg_os_user()

    def env(self) -> dict[str, str]:
        return {"CHATD_DATABASE_URL": self.url("chat")} if self.state.get("port") else {}

    def url(self, dbname: str) -> str:
        password = urllib.parse.quote(self.state["password"], safe="")
        return f"postgresql://chat:{password}@{HOST}:{self.state['port']}/{dbname}"

    def bin(self, name: str) -> str:
        if not self.state.get("bindir") or not (pathlib.Path(self.state["bindir"]) / name).exists():
            self.state["bindir"] = str(newest_pg_bindir())
        return str(pathlib.Path(self.state["bindir"]) / name)

    def psql(self, sql: str, dbname: str = "postgres", password: str | None = None) -> str:
        """Runs SQL as the superuser; its output rows, unaligned. The text goes to psql's
        standard input, so it may hold several statements and psql meta-commands."""
        env = dict(os.environ, PGPASSWORD=password or self.state["admin_password"], PGCONNECT_TIMEOUT="5")
        argv = [self.bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At",
                "-h", HOST, "-p", str(self.state["port"]), "-U", "postgres", "-d", dbname, "-f", "-"]
        proc = subprocess.run(argv, input=sql, capture_output=True, text=True, env=env, timeout=60)
        if proc.returncode != 0:
            raise StackError(f"postgres: {sql!r} failed: {proc.stderr.strip()}")
        return proc.stdout

    def _owns(self, cmdline: str) -> bool:
        return "postgres" in cmdline and str(self.ws.root) in cmdline

    def _answers(self) -> bool:
        return self._isready(self.state["port"])

    def _isready(self, port: int) -> bool:
        try:
            return subprocess.run(
                [self.bin("pg_isready"), "-q", "-h", HOST, "-p", str(port), "-t", "1"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=5,
            ).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def _launch(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            if self.data.exists():
                shutil.rmtree(self.data)  # left by a failed copy of an older version
            self._create_cluster()
        self.run_dir.mkdir(exist_ok=True)
        chown_to(self.run_dir, self.os_user)
        make_traversable(self.run_dir, self.os_user, self.ws.log)
        # A postmaster.pid left behind by a killed server whose pid is now unused: remove
        # it so the new server does not refuse to start. Never when ours is running.
        pidfile = self.data / "postmaster.pid"
        if pidfile.exists():
            try:
                old = int(pidfile.read_text().split()[0])
            except (ValueError, IndexError, OSError):
                old = 0
            if old and proc_start_time(old) is not None and "postgres" in proc_cmdline(old):
                raise StackError(f"postgres: a server (pid {old}) already runs on {self.data}")
            pidfile.unlink(missing_ok=True)

        def start_once(port: int) -> None:
            self._write_conf(port)
            proc = self._spawn([self.bin("postgres"), "-D", str(self.data)], user=self.os_user, cwd=self.base)
            self._wait_ready(proc, lambda: self._isready(port), PG_START_TIMEOUT)

        self._retry_on_port_clash(start_once)
        if not self.state.get("bootstrapped"):
            self._bootstrap()
        self.ws.save()

    def _create_cluster(self) -> None:
        """data/ as a copy of the template; the superuser keeps the template's password until
        _bootstrap() gives it this stack's own."""
        template = PgTemplate.ensure(pathlib.Path(self.bin("initdb")).parent, self.ws.log)
        self.base.mkdir(exist_ok=True)
        os.chmod(self.base, 0o755)
        make_traversable(self.base, self.os_user, self.ws.log)
        partial = self.base / "data.partial"
        if partial.exists():
            shutil.rmtree(partial)
        t0 = time.monotonic()
        # -a keeps the owner (the postgres user when we are root) and the 0700 modes.
        subprocess.run(["cp", "-a", "--reflink=auto", str(template.data), str(partial)], check=True,
                       stdin=subprocess.DEVNULL)
        if not self.fast:
            # The template was flushed once; this copy is not yet (initdb flushes its own).
            subprocess.run([self.bin("initdb"), "--sync-only", "-D", str(partial)], check=True,
                           stdin=subprocess.DEVNULL, capture_output=True, **as_user(self.os_user))
        os.rename(partial, self.data)
        self.state["bootstrap_password"] = template.admin_password
        self.state["bootstrapped"] = False
        self.ws.save()
        self.ws.log(f"postgres: {self.data} copied from {template.path} ({time.monotonic() - t0:.1f}s)")

    def _bootstrap(self) -> None:
        """This stack's passwords for `chat` and the superuser; role and database `chat`
        where the cluster lacks them (made by initdb before the template had them). The
        superuser's password comes last: until then the recorded one still works."""
        chat_password = self.state["password"].replace("'", "''")
        admin_password = self.state["admin_password"].replace("'", "''")
        self.psql("SELECT 'CREATE ROLE chat LOGIN CREATEDB' WHERE NOT EXISTS "
                  "(SELECT FROM pg_roles WHERE rolname = 'chat') \\gexec\n"
                  f"ALTER ROLE chat PASSWORD '{chat_password}';\n"
                  "SELECT 'CREATE DATABASE chat OWNER chat' WHERE NOT EXISTS "
                  "(SELECT FROM pg_database WHERE datname = 'chat') \\gexec\n"
                  f"ALTER ROLE postgres PASSWORD '{admin_password}';\n",
                  password=self.state.get("bootstrap_password"))
        self.state.pop("bootstrap_password", None)
        self.state["bootstrapped"] = True
        self.ws.save()

    def _write_conf(self, port: int) -> None:
        lines = [
            "# Rewritten by scripts/devstack.py at every start.",
            f"listen_addresses = '{HOST}'",
            f"port = {port}",
            f"unix_socket_directories = '{self.run_dir}'",
            "logging_collector = off",
            "log_line_prefix = '%m [%p] %q%u@%d '",
        ]
        if self.fast:
            lines += [
                "# fast=True (tests): durability off, data may be lost on a crash",
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
            ]
        target = self.data / "chat-stack.conf"
        target.write_text("\n".join(lines) + "\n")
        chown_to(target, self.os_user)


class Redis(Service):
    """redis-server without persistence: every start is empty."""

    name = "redis"

    def env(self) -> dict[str, str]:
        return {"CHATD_REDIS_URL": f"redis://{HOST}:{self.state['port']}"} if self.state.get("port") else {}

    def _owns(self, cmdline: str) -> bool:
        return "redis-server" in cmdline

    def _answers(self) -> bool:
        return redis_ping(self.state["port"])

    def _launch(self) -> None:
        workdir = self.ws.root / "redis"
        workdir.mkdir(exist_ok=True)
        redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"

        def start_once(port: int) -> None:
            argv = [
                redis_server, "--port", str(port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir),
                "--logfile", "", "--protected-mode", "yes",
            ]
            proc = self._spawn(argv, cwd=workdir)
            self._wait_ready(proc, lambda: redis_ping(port), REDIS_START_TIMEOUT)

        self._retry_on_port_clash(start_once)


class KafkaDev(Service):
    """chat-kafka-dev: a Kafka broker (or several) in memory, so every start begins with
    empty logs. Its binary, broker count and topics are settings of the stack (top level
    of the state)."""

    name = "kafka"

    def env(self) -> dict[str, str]:
        out = {}
        if self.state.get("bootstrap"):
            out["CHATD_KAFKA_BROKERS"] = self.state["bootstrap"]
        if self.state.get("control"):
            out["CHAT_KAFKA_CONTROL"] = self.state["control"]
        return out

    def describe(self) -> str:
        return f"bootstrap {self.state.get('bootstrap')}, control {self.state.get('control')}"

    def control(self, cmd: str) -> str:
        """Sends one control line; returns its "ok ..." reply."""
        address = self.state.get("control")
        if not address or not self.is_running():
            raise StackError("kafka is not running")
        try:
            reply = control_request(address, cmd)
        except OSError as e:
            raise StackError(f"kafka control {address}: {e}") from e
        if not reply.startswith("ok"):
            raise StackError(f"kafka control {cmd!r}: {reply or 'no reply'}")
        return reply

    def _owns(self, cmdline: str) -> bool:
        return "chat-kafka-dev" in cmdline and str(self.ws.root) in cmdline

    def _answers(self) -> bool:
        try:
            return control_request(self.state["control"], "ping", timeout=3).startswith("ok")
        except OSError:
            return False

    def _stopped(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.ws.root / "kafka" / "info.json").unlink()

    def _launch(self) -> None:
        binary = self.ws.state.get("kafka_binary")
        if not binary:
            raise StackError("kafka: no chat-kafka-dev binary given (build it: ninja chat-kafka-dev)")
        if not os.access(binary, os.X_OK):
            raise StackError(f"kafka: {binary} is not an executable (build it: ninja chat-kafka-dev)")
        workdir = self.ws.root / "kafka"
        workdir.mkdir(exist_ok=True)
        info_path = workdir / "info.json"
        info_path.unlink(missing_ok=True)
        # Keep the control address across restarts when the port is still free; the
        # brokers' ports are picked by the mock cluster and change on every start.
        control_port = 0
        if self.state.get("control"):
            previous = int(self.state["control"].rsplit(":", 1)[1])
            if port_is_free(previous):
                control_port = previous
        argv = [binary, "--info-file", str(info_path), "--control-port", str(control_port),
                "--brokers", str(self.ws.state.get("kafka_brokers", 1))]
        for topic in self.ws.state.get("kafka_topics") or []:
            argv += ["--topic", topic]
        proc = self._spawn(argv, cwd=workdir)
        info: dict = {}

        def ready() -> bool:
            nonlocal info
            if not info_path.exists():
                return False
            info = json.loads(info_path.read_text())
            return True

        self._wait_ready(proc, ready, KAFKA_START_TIMEOUT)
        if info.get("pid") != proc.pid:
            raise self._fail(f"info file names pid {info.get('pid')}, started {proc.pid}")
        self.state["bootstrap"] = info["bootstrap"]
        self.state["control"] = info["control"]
        self.state["topics"] = info.get("topics", {})
        self.ws.save()


# --------------------------------------------------------------------------- the stack


class Stack:
    """PostgreSQL, Redis and chat-kafka-dev for one directory.

    Ports are chosen once (given or free) and kept across restarts of a service. Not
    thread-safe; one process at a time should drive one ROOT (the CLI takes a lock file).
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
        self._ws = Workspace(self.root, self.state, lambda msg: self.log(msg))
        self.postgres = Postgres(self._ws, fast=bool(fast))
        self.redis = Redis(self._ws)
        self.kafka = KafkaDev(self._ws)
        self._services: dict[str, Service] = {"postgres": self.postgres, "redis": self.redis, "kafka": self.kafka}
        self._ws.save()

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
        if not self._service(service).start():
            return
        if service == "kafka":
            # The dev broker's log begins empty: compare it with database `chat` (now, or
            # when PostgreSQL runs again).
            self.state["message_log_checked"] = False
            self._ws.save()
        if not self.state.get("message_log_checked", True):
            self._check_message_log()

    def stop(self, service: str) -> None:
        self._service(service).stop()

    def is_running(self, service: str) -> bool:
        return self._service(service).is_running()

    def healthy(self, service: str) -> bool:
        """Running and answering (pg_isready / PING / control ping)."""
        return self._service(service).healthy()

    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for service in self._services.values():
            out.update(service.env())
        return out

    def write_env_file(self, path: pathlib.Path) -> None:
        lines = [
            "# Written by scripts/devstack.py; load into a shell with: set -a; . FILE; set +a",
            *(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env().items())),
        ]
        write_private(pathlib.Path(path), "\n".join(lines) + "\n")

    def kafka_control(self, cmd: str) -> str:
        """Sends one control line to chat-kafka-dev; returns its "ok ..." reply."""
        return self.kafka.control(cmd)

    def create_database(self, name: str) -> str:
        """Creates a fresh database owned by role chat and returns its URL."""
        if not DB_NAME_RE.match(name):
            raise StackError(f"bad database name {name!r} (letters, digits, _; max 63)")
        if not self.is_running("postgres"):
            raise StackError("postgres is not running")
        self.postgres.psql(f'CREATE DATABASE "{name}" OWNER chat')
        return self.postgres.url(name)

    def drop_database(self, name: str) -> None:
        """Drops a database made by create_database(), disconnecting its sessions."""
        if not DB_NAME_RE.match(name) or name in ("chat", "postgres", "template0", "template1"):
            raise StackError(f"refusing to drop database {name!r}")
        self.postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log_paths(self) -> dict[str, pathlib.Path]:
        return {name: service.log_path for name, service in self._services.items()}

    def messages_of_an_earlier_log(self) -> dict | None:
        """What database `chat` held of the broker's previous log when the broker started
        again with an empty one: {"messages": N, "stored_end_offsets": {partition: end}},
        or None. Recorded until reset_messages(), or until the database has no messages."""
        if not self.state.get("message_log_checked", True):
            self._check_message_log()
        found = self.state.get("messages_of_an_earlier_log")
        if found and self.is_running("postgres"):
            try:
                if not self._stored_log_ends():  # emptied by hand
                    self.state.pop("messages_of_an_earlier_log", None)
                    self._ws.save()
                    return None
            except StackError:
                pass
        return found

    def explain_earlier_log(self, found: dict, command: str = "scripts/stack reset-messages") -> str:
        ends = sorted(found["stored_end_offsets"].items(), key=lambda kv: int(kv[0]))
        where = ", ".join(f"{p} up to offset {end - 1}" for p, end in ends)
        return (f"the dev Kafka broker keeps its log in memory and started with an empty one, but database "
                f"'chat' still holds {found['messages']} message(s) of its previous log (chat.messages "
                f"partition{'s' if len(ends) > 1 else ''} {where}). Message ids are Kafka positions, so new "
                f"messages would get the ids of stored ones: chatd with the persist or broadcast role refuses "
                f"to start ('chat.messages starts over where PostgreSQL already has messages'). To go on, run "
                f"`{command}`: it deletes every message and read position (last_read_message_id, "
                f"unread_count) of database 'chat'; users and rooms stay.")

    def reset_messages(self) -> int:
        """Deletes every message of database `chat` and resets its read positions (users and
        rooms stay): what a broker whose log started over needs. Returns how many messages
        there were."""
        if not self.is_running("postgres"):
            raise StackError("postgres is not running (scripts/stack start postgres)")
        count = 0
        if self._table_exists("messages"):
            count = int(self.postgres.psql("SELECT count(*) FROM messages", dbname="chat").strip())
            tables = "messages, room_events" if self._table_exists("room_events") else "messages"
            if self._table_exists("persistence_progress"):
                # The consumer's progress in the old log (schema 4 on): a new log starts at 0.
                tables += ", persistence_progress"
            self.postgres.psql(RESET_MESSAGES_SQL.format(tables=tables), dbname="chat")
        self.state.pop("messages_of_an_earlier_log", None)
        self._ws.save()
        self.log(f"postgres: deleted {count} message(s) and every read position of database 'chat'; "
                 f"users and rooms are kept")
        return count

    # ------------------------------------------------------------------ the broker's log against the database

    def _table_exists(self, name: str) -> bool:
        return self.postgres.psql(f"SELECT to_regclass('public.{name}') IS NOT NULL", dbname="chat").strip() == "t"

    def _stored_log_ends(self) -> dict[str, tuple[int, int]]:
        """partition -> (messages, newest offset + 1) stored in database `chat`; ids are
        (partition << 40) | offset (docs/events.md), as chatd reads them."""
        if not self._table_exists("messages"):
            return {}
        # Room events (schema 2 on) take their ids from Kafka positions like messages do.
        ids = "SELECT id FROM messages"
        if self._table_exists("room_events"):
            ids += " UNION ALL SELECT id FROM room_events"
        rows = self.postgres.psql("SELECT id >> 40, count(*), max(id & 1099511627775) + 1 "
                                  f"FROM ({ids}) AS stored GROUP BY 1 ORDER BY 1", dbname="chat")
        out = {}
        for line in rows.splitlines():
            partition, count, end = line.split("|")
            out[partition] = (int(count), int(end))
        return out

    def _check_message_log(self) -> None:
        """Called once the broker started with an empty log and both it and PostgreSQL run:
        every message stored in `chat` then belongs to an earlier log."""
        if not (self.is_running("postgres") and self.is_running("kafka")):
            return
        try:
            ends = self._stored_log_ends()
        except StackError as e:
            self.log(f"kafka: could not look for messages of an earlier log in database 'chat': {e}")
            return
        self.state["message_log_checked"] = True
        if ends:
            found = {"messages": sum(count for count, _ in ends.values()),
                     "stored_end_offsets": {p: end for p, (_, end) in ends.items()}}
            self.state["messages_of_an_earlier_log"] = found
            self.log(f"kafka: {self.explain_earlier_log(found, self._reset_command())}")
        else:
            self.state.pop("messages_of_an_earlier_log", None)
        self._ws.save()

    def _reset_command(self) -> str:
        default = _default_dir()
        return "scripts/stack reset-messages" + ("" if self.root == default else f" --dir {shlex.quote(str(self.root))}")

    # ------------------------------------------------------------------ kept for callers of the old names

    def _psql(self, sql: str, dbname: str = "postgres") -> str:
        return self.postgres.psql(sql, dbname=dbname)

    def _svc(self, service: str) -> dict:
        return self._service(service).state

    # ------------------------------------------------------------------ state

    def _service(self, name: str) -> Service:
        if name not in SERVICES:
            raise StackError(f"unknown service {name!r} (one of {', '.join(SERVICES)})")
        return self._services[name]

    def _read_state(self) -> dict | None:
        path = self.root / STATE_FILE
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        if state.get("version") != STATE_VERSION:
            raise StackError(f"{path}: unsupported state version {state.get('version')}")
        return state


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
        service = stack._service(name)
        running = service.is_running()
        healthy = running and service.healthy()
        all_ok = all_ok and healthy
        state = "up" if healthy else ("running, not answering" if running else "stopped")
        pid = f" pid {service.state.get('pid')}" if running else ""
        print(f"{name:9} {state:22} {service.describe()}{pid}")
    found = stack.messages_of_an_earlier_log()
    if found:
        print(f"{'messages':9} {'of an earlier log':22} {found['messages']} in database 'chat'; chatd refuses "
              f"to start; see `scripts/stack check-messages`")
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
    check = sub.add_parser("check-messages",
                           help=f"exit {EXIT_EARLIER_LOG} (and say why) when database chat holds messages of the "
                                "dev broker's previous log, so that chatd would refuse to start")
    add_dir(check)
    check.add_argument("-q", "--quiet", action="store_true", help="only the exit status")
    add_dir(sub.add_parser("reset-messages",
                           help="delete every message and read position of database chat (users and rooms "
                                "stay), e.g. after the dev broker started again with an empty log"))
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
                if args.command in ("status", "check-messages"):
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
            if args.command == "check-messages":
                found = stack.messages_of_an_earlier_log()
                if found and not args.quiet:
                    _stderr_log(stack.explain_earlier_log(found, stack._reset_command()))
                return EXIT_EARLIER_LOG if found else 0
            if args.command == "reset-messages":
                stack.reset_messages()
                return 0
            if args.command == "kafka-control":
                print(stack.kafka_control(" ".join(args.words)))
                return 0
            if args.command == "psql":
                env = dict(os.environ)
                url = stack.env().get("CHATD_DATABASE_URL")
                if not url:
                    raise StackError("postgres was never started")
                psql_bin = stack.postgres.bin("psql")
                os.execve(psql_bin, [psql_bin, url, *extra], env)
    except StackError as e:
        print(f"devstack: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
