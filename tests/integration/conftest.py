"""Integration harness: starts real PostgreSQL, Redis and the dev Kafka broker (via
scripts/devstack.py) in temp dirs on free ports, starts chatd nodes, and stops only
what it started. On a failing test the tail of every involved server log is printed."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import devstack  # noqa: E402

BUILD = pathlib.Path(os.environ.get("CHAT_BUILD_DIR", REPO / "build"))
CHATD = BUILD / "apps" / "chatd" / "chatd"
KAFKA_DEV = BUILD / "tools" / "kafka-dev" / "chat-kafka-dev"
JWT_SECRET = "integration-test-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Polls `predicate` until it returns a truthy value or `timeout` passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - polling through transient errors
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def tail(path: pathlib.Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"<cannot read {path}: {e}>"


class Chatd:
    """One chatd process started by a test."""

    def __init__(self, workdir: pathlib.Path, env: dict, args: list[str], name: str):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        # chatd binds port 0 and reports what it bound in the ports file: no test races
        # another process for a "free" port.
        self.ports_path = workdir / f"{name}.ports.json"
        self._ports: dict | None = None
        self.env = dict(os.environ)
        self.env.update({
            "CHATD_HTTP_HOST": "127.0.0.1",
            "CHATD_HTTP_PORT": "0",
            "CHATD_STOMP_HOST": "127.0.0.1",
            "CHATD_STOMP_PORT": "0",
            # /metrics has a listener of its own (never the public port): a free one here.
            "CHATD_METRICS_HOST": "127.0.0.1",
            "CHATD_METRICS_PORT": "0",
            "CHATD_PORTS_FILE": str(self.ports_path),
            "CHATD_NODE_ID": name,
            "CHATD_HEALTH_INTERVAL": "200ms",
            "CHATD_DEPENDENCY_TIMEOUT": "1s",
            # The dev broker completes a rebalance only after the old member's session
            # timeout: keep it short so node restarts in tests take seconds, not 45 s.
            "CHATD_KAFKA_SESSION_TIMEOUT": "6s",
            "CHATD_PASSWORD_COST": "minimum",
            # Tests sign up and log in many users from 127.0.0.1; test_auth_flood sets its own.
            "CHATD_AUTH_RATE_LIMIT": "0",
            # Rate control by delivery delay would turn a CI machine's slow moments into
            # "server overloaded" refusals; the tests that are about it turn it on.
            "CHATD_ADMISSION_TARGET_DELAY": "0",
            # Link previews (docs/operations.md "Link previews"): tests post text with URLs, and
            # no test may make chatd send a packet beyond this machine, not even a DNS query. So
            # every node fetches only the hosts of --preview-allow-hosts (none by default) and
            # refuses any other URL before looking it up; test_previews.py runs its own node with
            # the address check, on a Kafka of its own, against servers it runs on loopback.
            "CHATD_PREVIEW_ALLOW_HOSTS_ONLY": "true",
        })
        self.env.update(env)  # a test's own settings win over the harness defaults
        self.env.setdefault("CHATD_JWT_SECRET", JWT_SECRET)
        self.args = args
        self.proc: subprocess.Popen | None = None

    def bound_ports(self, timeout: float = 60) -> dict:
        """{"http": N, "stomp": N, "metrics": N} from the ports file chatd writes once it listens."""
        if self._ports is None:
            deadline = time.monotonic() + timeout
            while not self.ports_path.exists():
                if self.proc is None or self.proc.poll() is not None:
                    code = None if self.proc is None else self.proc.returncode
                    raise AssertionError(f"{self.name} exited ({code}) before listening:\n{tail(self.log_path)}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} wrote no {self.ports_path} in {timeout}s")
                time.sleep(0.02)
            self._ports = json.loads(self.ports_path.read_text())
        return self._ports

    @property
    def http_port(self) -> int:
        return self.bound_ports()["http"]

    @property
    def stomp_port(self) -> int:
        return self.bound_ports()["stomp"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def metrics_port(self) -> int:
        return self.bound_ports()["metrics"]

    @property
    def metrics_url(self) -> str:
        """Where /metrics is served (its own listener; the public port answers 404)."""
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self):
        self.ports_path.unlink(missing_ok=True)
        self._ports = None
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(CHATD), *self.args], env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def wait_ready(self, timeout: float = 60):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"chatd exited with {self.proc.returncode}:\n{tail(self.log_path)}")
            return requests.get(self.url + "/readyz", timeout=2).status_code == 200
        wait_for(ready, timeout, what=f"{self.name} /readyz")
        return self

    def stop(self, sig=signal.SIGTERM, timeout: float = 35) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request) -> bool:
    rep = getattr(request.node, "rep_call", None)
    return rep is not None and rep.failed


def _print_logs(title: str, paths: dict):
    for name, path in paths.items():
        print(f"\n----- {title}: {name} ({path}) -----\n{tail(pathlib.Path(path))}")


def make_stack(root: pathlib.Path) -> devstack.Stack:
    for binary in (CHATD, KAFKA_DEV):
        if not binary.exists():
            pytest.exit(f"{binary} is missing: build first (scripts/build)", returncode=1)
    stack = devstack.Stack(root, KAFKA_DEV, fast=True, log=lambda *a: None)
    stack.start_all()
    return stack


class SharedPostgresStack:
    """A Redis and a dev Kafka of its own, and a fresh database on a PostgreSQL server that
    other tests share (the worker's session stack): what a test needs that breaks Redis or
    Kafka, or must not meet other tests' records and keys, but leaves PostgreSQL alone.
    A private PostgreSQL is the dear part of a stack (a copy of the cluster template, the
    server's start, its passwords: most of a second, more on a busy machine; a database is a
    fifth of that); Redis and the dev broker start in a fraction of that. Private Redis and
    Kafka, because ids of different databases overlap (room 1 is in every one): Redis keys
    and channels (chat:room:{id}, presence, unread) and Kafka records (read by chatd's
    consumer groups into their database) carry them.

    Offers what tests use of devstack.Stack: env() (CHATD_DATABASE_URL names the fresh
    database), create_database(), stop()/start()/is_running()/healthy() of redis and kafka,
    kafka_control(), log_paths(), root. PostgreSQL cannot be stopped here: a test that stops
    it takes own_stack."""

    OWN = ("redis", "kafka")

    def __init__(self, root: pathlib.Path, postgres: devstack.Stack):
        self.root = root
        self._postgres = postgres
        self._own = devstack.Stack(root, KAFKA_DEV, fast=True, log=lambda *a: None)
        try:
            for service in self.OWN:
                self._own.start(service)
            self.database_url = self.create_database("s_" + uuid.uuid4().hex[:12])
        except BaseException:
            self._own.stop_all()
            raise

    def env(self) -> dict[str, str]:
        e = self._own.env()  # its PostgreSQL never started: no CHATD_DATABASE_URL of its own
        e["CHATD_DATABASE_URL"] = self.database_url
        return e

    def create_database(self, name: str) -> str:
        """A fresh database of that name on the shared server (one left there by an earlier
        run of the same test is dropped first: names are unique per test, not per server);
        its URL."""
        if not devstack.DB_NAME_RE.match(name) or name in ("chat", "postgres", "template0", "template1"):
            raise devstack.StackError(f"bad database name {name!r}")
        self._postgres.postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\n'
                                     f'CREATE DATABASE "{name}" OWNER chat;\n')
        return self._postgres.postgres.url(name)

    def drop_database(self, name: str) -> None:
        self._postgres.drop_database(name)

    def _psql(self, sql: str, dbname: str = "postgres") -> str:
        return self._postgres._psql(sql, dbname=dbname)

    def stop(self, service: str) -> None:
        self._own.stop(self._owned(service))

    def start(self, service: str) -> None:
        self._own.start(self._owned(service))

    def is_running(self, service: str) -> bool:
        return (self._own if service in self.OWN else self._postgres).is_running(service)

    def healthy(self, service: str) -> bool:
        return (self._own if service in self.OWN else self._postgres).healthy(service)

    def kafka_control(self, cmd: str) -> str:
        return self._own.kafka_control(cmd)

    def log_paths(self) -> dict[str, pathlib.Path]:
        return {"postgres": self._postgres.log_paths()["postgres"], **self.own_log_paths()}

    def own_log_paths(self) -> dict[str, pathlib.Path]:
        """The logs of its own services (the shared server's log is a shared log already)."""
        return {s: p for s, p in self._own.log_paths().items() if s in self.OWN}

    def stop_all(self) -> None:
        self._own.stop_all()

    def _owned(self, service: str) -> str:
        if service not in self.OWN:
            raise devstack.StackError(f"{service} is shared with other tests here; a test that stops it "
                                      f"takes own_stack")
        return service


# Logs of servers that outlive one test (the session stack, a REST module's Redis, Kafka
# and chatd): a failing test prints their tails too. name -> path.
SHARED_LOGS: dict[str, pathlib.Path] = {}


def share_logs(prefix: str, paths: dict) -> list[str]:
    names = [f"{prefix} {name}" for name in paths]
    SHARED_LOGS.update({f"{prefix} {name}": pathlib.Path(path) for name, path in paths.items()})
    return names


def unshare_logs(names: list[str]):
    for n in names:
        SHARED_LOGS.pop(n, None)


@pytest.fixture(autouse=True)
def _print_shared_logs_on_failure(request):
    yield
    if _failed(request) and SHARED_LOGS:
        _print_logs("shared server log", dict(SHARED_LOGS))


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """PostgreSQL + Redis + dev Kafka shared by the tests that do not disturb them."""
    s = make_stack(tmp_path_factory.mktemp("stack"))
    names = share_logs("session stack:", s.log_paths())
    yield s
    unshare_logs(names)
    s.stop_all()


@pytest.fixture
def own_stack(tmp_path_factory, request):
    """A private stack (PostgreSQL, Redis, dev Kafka) for a test that stops or breaks
    PostgreSQL or uses what only a whole stack has (its database `chat`, the broker's log
    against it). A test that breaks only Redis or Kafka takes own_redis_kafka: cheaper."""
    s = make_stack(tmp_path_factory.mktemp("own-stack"))
    yield s
    if _failed(request):
        _print_logs("service log", s.log_paths())
    s.stop_all()


@pytest.fixture
def own_redis_kafka(stack, tmp_path_factory, request):
    """A Redis and a dev Kafka of the test's own and a fresh database on the worker's shared
    PostgreSQL (SharedPostgresStack): for a test that stops or breaks Redis or Kafka, or
    must not meet other tests' Redis keys or Kafka records."""
    s = SharedPostgresStack(tmp_path_factory.mktemp("own-redis-kafka"), stack)
    yield s
    if _failed(request):
        _print_logs("service log", s.own_log_paths())
    s.stop_all()


@pytest.fixture
def database(stack):
    """A fresh, empty database on the shared PostgreSQL."""
    return stack.create_database("t_" + uuid.uuid4().hex[:12])


@pytest.fixture
def chatd_factory(tmp_path, request):
    """Starts chatd nodes: factory(stack, database_url=None, args=[], env={}, ready=True)."""
    started: list[Chatd] = []

    def factory(stk, database_url=None, args=(), env=None, ready=True, name=None):
        e = dict(stk.env())
        if database_url:
            e["CHATD_DATABASE_URL"] = database_url
        e.update(env or {})
        node = Chatd(tmp_path, e, list(args), name or f"chatd-{len(started) + 1}")
        started.append(node)
        node.start()
        if ready:
            node.wait_ready()
        return node

    yield factory
    if _failed(request):
        _print_logs("chatd log", {n.name: n.log_path for n in started})
    for node in started:
        node.stop()


# Rate limits of the multi-node STOMP tests: a test sends faster than a person.
FAST = {"CHATD_RATE_LIMIT": "1000", "CHATD_RATE_BURST": "1000"}


@pytest.fixture
def two_nodes(request, stack, database, chatd_factory):
    """Two ready chatd nodes (FAST limits) on the test's database, named after the module
    (<module>-1, <module>-2); user and room ids moved to a random range (isolate_ids)."""
    from test_pipeline_consumers import isolate_ids
    prefix = request.module.__name__.removeprefix("test_")
    nodes = tuple(chatd_factory(stack, database_url=database, env=FAST, name=f"{prefix}-{i}") for i in (1, 2))
    isolate_ids(database)
    return nodes


@pytest.fixture
def closing():
    """Clients to close at the end of the test, whatever happens."""
    clients = []
    yield clients
    for c in clients:
        c.close()


@pytest.fixture
def chatd(stack, database, chatd_factory):
    """One ready chatd node on the shared stack with its own database."""
    return chatd_factory(stack, database_url=database)


@pytest.fixture(scope="module")
def api(stack, tmp_path_factory):
    """The REST modules' environment (test_rest_common.RestEnv): one ready chatd for the
    module on a fresh database of the worker's shared PostgreSQL, with a Redis and a dev
    Kafka of the module's own (SharedPostgresStack). Own Redis and Kafka because the REST
    tests publish SYSTEM messages and read receipts and plant cache keys: on a broker shared
    with other modules, another chatd of the same consumer groups could consume them into
    its database, and their room ids (every database has a room 1) would meet other tests'
    in Redis keys and in records read back from chat.messages. Its logs print on failure
    (shared logs)."""
    from test_rest_common import rest_env
    with rest_env(tmp_path_factory, stack) as env:
        yield env
