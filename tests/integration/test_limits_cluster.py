"""Issue 18 (limits across nodes): the per-user SEND rate, sessions per user and typing
throttle hold for a user connected to two chatd nodes of one cluster (same database, same
Redis), and fall back to per-node limits while Redis is down (docs/stomp.md "Limits across
nodes").

Each check could fail: without the cluster-wide view, every node grants the user its own
budget."""
from __future__ import annotations

import json
import time

import redis
import requests

from chatlib import create_room, create_user, make_token
from conftest import wait_for
from stomp_ws import Closed, RawStomp

# Long enough that no bucket refills noticeably and no typing throttle lapses in a test.
SLOW = {"CHATD_RATE_LIMIT": "0.1", "CHATD_RATE_BURST": "4", "CHATD_TYPING_INTERVAL": "30s"}
# Sync intervals are 50 ms: after this long both nodes have synced many times over.
SYNCS = 1.0


def redis_client(stk) -> redis.Redis:
    return redis.Redis.from_url(stk.env()["CHATD_REDIS_URL"], decode_responses=True)


def scope_of(database_url: str) -> str:
    return database_url.rsplit("/", 1)[1].split("?")[0]


def subscribe(c: RawStomp, dest: str, sub_id: str):
    c.send("SUBSCRIBE", {"id": sub_id, "destination": dest, "receipt": "sub-" + sub_id})
    c.expect("RECEIPT", receipt_id="sub-" + sub_id)


def session(node, user: int, transport: str = "tcp") -> RawStomp:
    c = RawStomp.tcp(node.stomp_port) if transport == "tcp" else RawStomp.ws(node.http_port)
    c.connect(make_token(user))
    subscribe(c, "/user/queue/errors", "errs")
    return c


def send_burst(c: RawStomp, room: int, tag: str, n: int) -> tuple[set, set]:
    """n SENDs with receipts: (receipted ids, rate-limited ids)."""
    for i in range(n):
        c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": f"{tag}{i}"}, f"{tag} {i}")
    receipts, limited = set(), set()
    while len(receipts) + len(limited) < n:
        f = c.recv(15)
        if f.command == "RECEIPT":
            receipts.add(f.headers["receipt-id"])
        elif f.command == "MESSAGE" and f.headers.get("destination") == "/user/queue/errors":
            err = f.json()
            assert err["code"] == "rate_limited", err
            limited.add(err["receiptId"])
        elif f.command == "MESSAGE":
            continue  # the room's own messages (the sessions are not subscribed: none expected)
        else:
            raise AssertionError(f"unexpected frame {f}")
    return receipts, limited


def shared_available(node) -> float | None:
    """chat_limits_shared_available from the node's /metrics (None when absent)."""
    for line in requests.get(node.metrics_url, timeout=10).text.splitlines():
        if line.startswith("chat_limits_shared_available "):
            return float(line.split()[1])
    return None


def sessions_hash(r: redis.Redis, database: str, user: int) -> dict:
    return r.hgetall(f"chat:limit:{scope_of(database)}:sessions:{user}")


def test_send_rate_holds_across_two_nodes(stack, database, chatd_factory):
    n1 = chatd_factory(stack, database_url=database, env=SLOW)
    n2 = chatd_factory(stack, database_url=database, env=SLOW)
    a = create_user(database)
    room = create_room(database, [a])
    on1, on2 = session(n1, a), session(n2, a, "ws")
    r = redis_client(stack)
    wait_for(lambda: len(sessions_hash(r, database, a)) == 2, 10, what="both nodes counted the user's sessions")

    # 3 of the burst of 4 on node 1: each node alone stays under the limit ...
    receipts, limited = send_burst(on1, room, "one-", 3)
    assert receipts == {"one-0", "one-1", "one-2"} and not limited
    bucket = f"chat:limit:{scope_of(database)}:send:{a}"
    wait_for(lambda: float(r.hget(bucket, "s") or 99) < 1.5, 10, what="node 1's SENDs in the cluster bucket")
    time.sleep(SYNCS)  # node 2 syncs the user every 50 ms (it has a session on node 1 too)

    # ... but the budget is the user's: node 2 has about one SEND left, not four.
    receipts, limited = send_burst(on2, room, "two-", 3)
    assert len(limited) >= 2, (receipts, limited)
    assert len(receipts) <= 1, (receipts, limited)
    # Node 1 has learnt what node 2 took.
    time.sleep(SYNCS)
    receipts, limited = send_burst(on1, room, "again-", 1)
    assert limited == {"again-0"}, (receipts, limited)


def test_sessions_per_user_hold_across_two_nodes(stack, database, chatd_factory):
    env = {"CHATD_MAX_SESSIONS_PER_USER": "2"}
    n1 = chatd_factory(stack, database_url=database, env=env)
    n2 = chatd_factory(stack, database_url=database, env=env)
    a = create_user(database)
    r = redis_client(stack)
    first = RawStomp.tcp(n1.stomp_port)
    first.connect(make_token(a))
    second = RawStomp.ws(n2.http_port)
    second.connect(make_token(a))
    wait_for(lambda: sorted(sessions_hash(r, database, a).values()) == ["1", "1"], 10,
             what="one session counted on each node")

    for node in (n1, n2):  # each node alone has one session: only the cluster count refuses
        third = RawStomp.tcp(node.stomp_port)
        f = third.connect(make_token(a), expect_ok=False)
        assert f.command == "ERROR" and f.headers["message"] == "too many sessions", f
        assert third.wait_closed(5)

    second.close()
    wait_for(lambda: len(sessions_hash(r, database, a)) == 1, 10, what="node 2's session gone from the count")
    again = RawStomp.tcp(n1.stomp_port)
    assert again.connect(make_token(a), expect_ok=False).command == "CONNECTED"
    assert not first.closed


def test_typing_throttle_holds_across_two_nodes(stack, database, chatd_factory):
    n1 = chatd_factory(stack, database_url=database, env=SLOW)
    n2 = chatd_factory(stack, database_url=database, env=SLOW)
    a, b, z = create_user(database), create_user(database), create_user(database)
    room = create_room(database, [a, b, z])
    rx = RawStomp.tcp(n2.stomp_port)
    rx.connect(make_token(b))
    subscribe(rx, f"/topic/room.{room}.typing", "t")
    on1, on2 = RawStomp.tcp(n1.stomp_port), RawStomp.ws(n2.http_port)
    on1.connect(make_token(a))
    on2.connect(make_token(a))

    def typing(c: RawStomp, receipt: str):
        c.send("SEND", {"destination": "/app/chat.typing", "receipt": receipt}, json.dumps({"roomId": room}))
        c.expect("RECEIPT", receipt_id=receipt)

    typing(on1, "t1")
    m = rx.expect("MESSAGE")
    assert m.json()["userId"] == a
    # The same user and room on the other node, within --typing-interval: not relayed.
    typing(on2, "t2")
    typing(on1, "t3")
    # A notice by someone else marks the end: nothing else from `a` came before it.
    other = RawStomp.tcp(n1.stomp_port)
    other.connect(make_token(z))
    typing(other, "z")
    m = rx.expect("MESSAGE")
    assert m.json()["userId"] == z, m


def test_redis_down_limits_fall_back_to_each_node(own_stack, chatd_factory):
    database = own_stack.create_database("limits_redis_down")
    env = dict(SLOW, CHATD_MAX_SESSIONS_PER_USER="2")
    n1 = chatd_factory(own_stack, database_url=database, env=env)
    n2 = chatd_factory(own_stack, database_url=database, env=env)
    a, b = create_user(database), create_user(database)
    room = create_room(database, [a, b])
    on1 = session(n1, a)
    wait_for(lambda: shared_available(n1) == 1.0, 10, what="chat_limits_shared_available 1")
    own_stack.stop("redis")
    wait_for(lambda: "shared limits unavailable" in n1.log_path.read_text(errors="replace"), 15,
             what="node 1 says the limits are per node")
    assert shared_available(n1) == 0.0

    # Per node: a second session on node 1, a third refused there; node 2 has its own two.
    on1b = session(n1, a, "ws")
    third = RawStomp.tcp(n1.stomp_port)
    f = third.connect(make_token(a), expect_ok=False)
    assert f.command == "ERROR" and f.headers["message"] == "too many sessions", f
    on2 = session(n2, a)
    # The rate limit still holds per node: node 1's burst of 4, then rate-limited.
    receipts, limited = send_burst(on1, room, "down-", 6)
    assert len(receipts) == 4 and len(limited) == 2, (receipts, limited)
    receipts, limited = send_burst(on2, room, "other-", 2)
    assert len(receipts) == 2 and not limited, (receipts, limited)
    for c in (on1, on1b, on2):
        assert not c.closed
        try:
            subscribe(c, f"/topic/room.{room}", "room")
        except Closed as e:
            raise AssertionError("a session was closed while Redis was down") from e

    own_stack.start("redis")
    wait_for(lambda: "shared limits available again" in n1.log_path.read_text(errors="replace"), 20,
             what="node 1 back to cluster-wide limits")
    wait_for(lambda: shared_available(n1) == 1.0, 10, what="chat_limits_shared_available back to 1")
    assert n1.log_path.read_text(errors="replace").count("shared limits unavailable") == 1, "logged once"
