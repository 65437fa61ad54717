"""Issue 18, unauthenticated work isolated (docs/operations.md "Signup and login under load"):
password hashing runs on its own bounded pool, so a login flood neither delays authenticated
REST nor STOMP CONNECT; a full password queue answers 503; signup and login are limited per
client address, and X-Forwarded-For counts only from a trusted proxy. Those 503s and 429s are
paced: answered a second after the request, so a client retrying at once cannot turn them
into thousands of requests per second.

Every request here comes from a loopback address: 127.0.0.1, or 127.0.0.2 as a second
client (Linux routes all of 127/8 to lo)."""
from __future__ import annotations

import http.client
import json
import os
import pathlib
import signal
import threading
import time
import uuid

import requests

from chatlib import create_user, make_token
from conftest import wait_for
from stomp_ws import RawStomp
from test_rest_common import expect_error


def post(node, path: str, body: dict, source: str = "127.0.0.1", headers: dict | None = None):
    """POST from `source` (a loopback address): (status, headers, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", node.http_port, timeout=60, source_address=(source, 0))
    try:
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Content-Type": "application/json", **(headers or {})})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(data) if data else None
    finally:
        conn.close()


def login(node, source="127.0.0.1", forwarded_for=None, email=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else None
    return post(node, "/api/auth/login",
                {"email": email or f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "password123"},
                source, headers)


def expect_rate_limited(answer):
    status, headers, body = answer
    assert status == 429, answer
    assert body["error"]["code"] == "rate_limited", body
    assert int(headers["retry-after"]) >= 1, headers


class Flood:
    """`threads` clients logging in with unknown emails, back to back, until the with-block ends."""

    def __init__(self, node, threads: int):
        self.node = node
        self.done: list[tuple[float, float, int, requests.Response]] = []  # (start, end, status, response)
        self.current: list[float | None] = [None] * threads  # each worker's request in flight: its start
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, i: int):
        with requests.Session() as s:
            while not self.stopping.is_set():
                start = time.monotonic()
                with self.lock:
                    self.current[i] = start
                r = s.post(self.node.url + "/api/auth/login", timeout=120,
                           json={"email": f"flood-{uuid.uuid4().hex[:10]}@example.com", "password": "password123"})
                with self.lock:
                    self.current[i] = None
                    self.done.append((start, time.monotonic(), r.status_code, r))

    def __enter__(self):
        for t in self.workers:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.workers:
            t.join(timeout=120)

    def answers(self):
        with self.lock:
            return list(self.done)

    def overtaken(self, t0: float, t1: float) -> int:
        """Logins sent before t0 and not answered by t1: the ones a request that ran from t0
        to t1 overtook. Call right after t1."""
        with self.lock:
            in_flight = sum(1 for start in self.current if start is not None and start < t0)
            answered_later = sum(1 for start, end, _, _ in self.done if start < t0 and end > t1)
        return in_flight + answered_later


def test_login_flood_neither_delays_authenticated_rest_nor_stomp_connect(stack, database, chatd_factory):
    """One password worker at the production cost, a queue of 12, and 24 clients logging in
    with unknown emails: the password queue stays full and the excess is answered 503, a
    second after it was asked (paced). Meanwhile GET /api/users/me and a STOMP CONNECT overtake the logins queued before
    them. While hashing ran on the database pool they waited behind every login queued
    before them (FIFO): when they finished, only the login the other database worker was
    hashing could still be unanswered, and no login was ever shed."""
    node = chatd_factory(stack, database_url=database,
                         args=["--password-workers", "1", "--password-queue", "12", "--db-pool-size", "2"],
                         env={"CHATD_PASSWORD_COST": "interactive"})
    user = create_user(database, nickname="steady")
    token = make_token(user)
    auth = {"Authorization": "Bearer " + token}
    assert requests.get(node.url + "/api/users/me", headers=auth, timeout=30).status_code == 200

    with Flood(node, threads=24) as flood:
        # The flood is on once the password queue is full: a login came back 503.
        wait_for(lambda: any(status == 503 for _, _, status, _ in flood.answers()), 60,
                 what="a login answered 503 (password queue full)")
        shed = next(r for _, _, status, r in flood.answers() if status == 503)
        expect_error(shed, 503, "unavailable")
        assert shed.headers["Retry-After"] == "1"

        for _ in range(3):
            t0 = time.monotonic()
            me = requests.get(node.url + "/api/users/me", headers=auth, timeout=60)
            t1 = time.monotonic()
            overtaken_by_me = flood.overtaken(t0, t1)
            assert me.status_code == 200, me.text
            assert me.json()["id"] == user

            t2 = time.monotonic()
            c = RawStomp.tcp(node.stomp_port, timeout=60)
            try:
                connected = c.connect(token)
            finally:
                c.close()
            t3 = time.monotonic()
            overtaken_by_connect = flood.overtaken(t2, t3)
            assert connected.headers["user-name"] == str(user), connected
            assert overtaken_by_me >= 6, overtaken_by_me
            assert overtaken_by_connect >= 6, overtaken_by_connect

        # The flood was still being shed after the last of them: they did not wait it out.
        wait_for(lambda: any(status == 503 and start > t3 for start, _, status, _ in flood.answers()), 60,
                 what="a login sent after the last CONNECT answered 503")
    # Unknown emails get 401; the excess 503; nothing else.
    assert {status for _, _, status, _ in flood.answers()} <= {401, 503}
    # Paced: no 503 came back sooner than the second the node waits before answering it
    # (without pacing they took milliseconds, and the flood's clients sent thousands a second).
    shed_seconds = [end - start for start, end, status, _ in flood.answers() if status == 503]
    assert min(shed_seconds) >= 0.9, sorted(shed_seconds)[:5]


def test_signup_and_login_are_limited_per_client_address(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database,
                         env={"CHATD_AUTH_RATE_LIMIT": "0.2", "CHATD_AUTH_RATE_BURST": "3"})
    for _ in range(2):
        assert login(node)[0] == 401
    status, _, body = post(node, "/api/auth/signup",
                           {"email": "first@example.com", "password": "password123", "nickname": "first"})
    assert status == 201, body
    # The burst is spent: logins and signups alike get 429 with Retry-After, a second after
    # the request (paced).
    t0 = time.monotonic()
    expect_rate_limited(login(node, email="first@example.com"))
    assert time.monotonic() - t0 >= 0.9
    answer = post(node, "/api/auth/signup",
                  {"email": "second@example.com", "password": "password123", "nickname": "second"})
    expect_rate_limited(answer)
    assert int(answer[1]["retry-after"]) >= 4  # one token every 5 s
    # Another client address has its own bucket; authenticated routes are not limited.
    status, _, body = login(node, source="127.0.0.2", email="first@example.com")
    assert status == 200, body
    me = requests.get(node.url + "/api/users/me", headers={"Authorization": "Bearer " + body["token"]}, timeout=30)
    assert me.status_code == 200


def test_forwarded_for_counts_only_from_a_trusted_proxy(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database,
                         env={"CHATD_AUTH_RATE_LIMIT": "0.1", "CHATD_AUTH_RATE_BURST": "2",
                              "CHATD_TRUSTED_PROXIES": "127.0.0.2/32, 10.0.0.0/8"})
    # 127.0.0.1 is no proxy of ours: a made-up X-Forwarded-For does not buy it new buckets.
    assert login(node, forwarded_for="203.0.113.1")[0] == 401
    assert login(node, forwarded_for="203.0.113.2")[0] == 401
    expect_rate_limited(login(node, forwarded_for="203.0.113.3"))

    # 127.0.0.2 is: the client is the right-most address that is not a trusted proxy.
    proxy = "127.0.0.2"
    assert login(node, proxy, forwarded_for="198.51.100.1")[0] == 401
    assert login(node, proxy, forwarded_for="1.2.3.4, 198.51.100.1")[0] == 401  # the left entry is the client's own
    expect_rate_limited(login(node, proxy, forwarded_for="198.51.100.1, 10.1.2.3"))  # via a second proxy of ours
    assert login(node, proxy, forwarded_for="198.51.100.2")[0] == 401
    # Without the header the proxy itself is the client (its own bucket, still full).
    assert login(node, proxy)[0] == 401


def test_bad_trusted_proxies_stop_the_start(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database, env={"CHATD_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"},
                         ready=False)
    wait_for(lambda: node.proc.poll() is not None, 30, what="chatd to exit")
    assert node.proc.returncode == 2
    assert "proxy.local" in node.log_path.read_text()


def hasher_children(pid: int) -> list[int]:
    """The `chatd --internal-password-hasher` children of process `pid`."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"--internal-password-hasher" in cmdline:
            found.append(int(entry.name))
    return found


def test_passwords_are_hashed_in_a_child_process_that_is_replaced_and_ends_with_chatd(stack, database,
                                                                                    chatd_factory):
    """Argon2 runs in a `chatd --internal-password-hasher` child at idle CPU priority (its
    memory mappings inside chatd stalled the I/O threads): signup and login work through it,
    a child killed is replaced for the next login, and no child outlives chatd."""
    node = chatd_factory(stack, database_url=database, env={"CHATD_AUTH_RATE_LIMIT": "0"})
    status, _, body = post(node, "/api/auth/signup",
                           {"email": "hashed@example.com", "password": "password123", "nickname": "hashed"})
    assert status == 201, body
    children = hasher_children(node.proc.pid)
    assert len(children) == 1, children
    policy = os.sched_getscheduler(children[0])
    assert policy == os.SCHED_IDLE, policy
    assert login(node, email="hashed@example.com")[0] == 200
    assert hasher_children(node.proc.pid) == children, "one child serves every request of its worker"
    os.kill(children[0], signal.SIGKILL)
    status, _, body = post(node, "/api/auth/login", {"email": "hashed@example.com", "password": "password123"})
    assert status == 200, body
    replaced = hasher_children(node.proc.pid)
    assert len(replaced) == 1 and replaced != children, replaced
    status, _, body = post(node, "/api/auth/login", {"email": "hashed@example.com", "password": "password124"})
    assert status == 401, "a wrong password is still refused"
    node.stop()
    wait_for(lambda: not pathlib.Path(f"/proc/{replaced[0]}").exists(), 10, what="the hasher child to end with chatd")
