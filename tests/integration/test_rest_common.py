"""Shared helpers of the REST API tests (test_rest_*.py); this module holds no tests.

Each REST module runs one chatd on a fresh database of the worker's shared PostgreSQL
server, with a Redis and a dev Kafka of its own (conftest.SharedPostgresStack): the tests
publish SYSTEM messages and read receipts and plant cache keys, which must neither reach
other tests' consumers nor meet their room ids (every database has a room 1). Accounts go
through HTTP (signup), while messages are seeded with SQL at ids far above any offset the
dev broker hands out, so the persistence consumer never collides with them."""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import uuid

import psycopg
import redis as redis_lib
import requests

from conftest import Chatd, SharedPostgresStack, share_logs, tail, unshare_logs, wait_for

# Seeded message ids: (partition << 40) | (SEED_OFFSET_BASE + n). Real offsets in a test run
# stay far below this, so seeded and pipeline-stored ids never collide.
SEED_OFFSET_BASE = 1_000_000_000
_seed_counter = itertools.count()


def mid(partition: int, offset: int) -> int:
    """docs/events.md: the id of the record at (partition, offset) of chat.messages."""
    return (partition << 40) | offset


@dataclasses.dataclass
class User:
    id: int
    email: str
    nickname: str
    token: str
    password: str = "password123"

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class RestEnv:
    """A module's Redis and Kafka, its database on the shared PostgreSQL and one chatd node
    on them; `stack` is the SharedPostgresStack."""

    def __init__(self, stack, db_url: str, node: Chatd):
        self.stack = stack
        self.db = db_url
        self.node = node
        self.url = node.url
        self.http = requests.Session()

    # ---- HTTP
    def request(self, method: str, path: str, user: User | None = None, headers: dict | None = None,
                **kwargs) -> requests.Response:
        h = dict(user.auth) if user else {}
        h.update(headers or {})
        return self.http.request(method, self.url + path, headers=h, timeout=30, **kwargs)

    def get(self, path, user=None, **kw):
        return self.request("GET", path, user, **kw)

    def post(self, path, user=None, **kw):
        return self.request("POST", path, user, **kw)

    def delete(self, path, user=None, **kw):
        return self.request("DELETE", path, user, **kw)

    def signup(self, nickname: str | None = None, email: str | None = None, password: str = "password123") -> User:
        tag = uuid.uuid4().hex[:10]
        nickname = nickname or f"user-{tag}"
        email = email or f"u{tag}@example.com"
        r = self.post("/api/auth/signup", json={"email": email, "password": password, "nickname": nickname})
        assert r.status_code == 201, r.text
        body = r.json()
        return User(body["userId"], body["email"], body["nickname"], body["token"], password)

    def group(self, owner: User, members: list[User], name: str = "room") -> int:
        r = self.post("/api/rooms/group", owner, json={"name": name, "memberIds": [m.id for m in members]})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    # ---- data
    def sql(self, query: str, params=()) -> list[tuple]:
        with psycopg.connect(self.db, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def seed_messages(self, room: int, sender: User, count: int, partition: int = 0,
                      content: str = "message {n}") -> list[int]:
        """Stores `count` messages in `room` (oldest first) straight into PostgreSQL and
        returns their ids in ascending order."""
        base = SEED_OFFSET_BASE + next(_seed_counter) * 1_000_000
        ids = [mid(partition, base + n) for n in range(count)]
        rows = [(i, str(uuid.uuid4()), room, sender.id, sender.nickname, content.format(n=n), "TEXT", partition,
                 base + n, n) for n, i in enumerate(ids)]
        with psycopg.connect(self.db) as conn:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
                    "kafka_partition, kafka_offset, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                    "        now() - interval '1 hour' + %s * interval '1 millisecond')", rows)
        return ids

    def redis(self) -> redis_lib.Redis:
        host, port = self.stack.env()["CHATD_REDIS_URL"].removeprefix("redis://").split(":")
        return redis_lib.Redis(host=host, port=int(port), socket_timeout=5)

    def log_tail(self) -> str:
        return tail(self.node.log_path)


@contextlib.contextmanager
def rest_env(tmp_path_factory, postgres, env: dict | None = None, args=()):
    """Redis + Kafka of its own + a fresh database on `postgres` (a devstack.Stack shared
    with other tests) + a ready chatd, torn down afterwards (the database stays, as the
    `database` fixture's do)."""
    root = tmp_path_factory.mktemp("rest-stack")
    stack = SharedPostgresStack(root, postgres)
    node = None
    names: list[str] = []
    try:
        db = stack.database_url
        e = dict(stack.env())
        e["CHATD_PASSWORD_COST"] = "minimum"
        e.update(env or {})
        node = Chatd(root, e, list(args), "chatd-rest")
        names = share_logs("rest stack:", {**stack.own_log_paths(), node.name: node.log_path})
        node.start()
        node.wait_ready()
        yield RestEnv(stack, db, node)
    finally:
        unshare_logs(names)
        if node is not None:
            node.stop()
        stack.stop_all()


def error_of(r: requests.Response) -> str:
    """The docs/rest.md error code of a response, asserting the body has exactly that shape."""
    assert r.headers.get("Content-Type", "").startswith("application/json"), (r.status_code, r.headers, r.text)
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]["code"]


def expect_error(r: requests.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:500]}"
    got = error_of(r)
    if code is not None:
        assert got == code, r.text
    return r.json()


__all__ = ["RestEnv", "User", "error_of", "expect_error", "mid", "rest_env", "wait_for"]
