"""Issue 4 (gateway): STOMP over TCP and WebSocket against a real chatd, PostgreSQL, Redis
and Kafka — CONNECT and authentication, membership, SEND -> Kafka -> RECEIPT, fan-out from
Redis to every subscriber, limits, malformed frames, heart-beats, typing, shutdown.

Clients the project did not write: stomp.py 8.0 (TCP) and python3-websocket (frames built by
tests/integration/stomp_ws.py). Presence lives in test_stomp_presence.py."""
from __future__ import annotations

import json
import queue
import signal
import socket
import time
import uuid

import pytest
import redis
import requests
import stomp

from chatlib import create_room, create_user, make_token
from conftest import wait_for
from stomp_ws import Closed, RawStomp, kafka_has_key

ISO = "2026-11-21T12:00:00.123Z"


# --------------------------------------------------------------------------- helpers

def redis_client(stk) -> redis.Redis:
    return redis.Redis.from_url(stk.env()["CHATD_REDIS_URL"])


def message_json(room: int, sender: int, mid: int, content: str = "hello", key: str | None = None) -> str:
    return json.dumps({"id": mid, "messageKey": key or str(uuid.uuid4()), "roomId": room, "senderId": sender,
                       "senderNickname": "nick", "content": content, "type": "TEXT", "createdAt": ISO},
                      separators=(",", ":"))


class Collector(stomp.ConnectionListener):
    """stomp.py listener: every frame into a queue."""

    def __init__(self):
        self.frames: queue.Queue = queue.Queue()
        self.disconnected = False

    def on_connected(self, frame):
        self.frames.put(("CONNECTED", frame))

    def on_message(self, frame):
        self.frames.put(("MESSAGE", frame))

    def on_receipt(self, frame):
        self.frames.put(("RECEIPT", frame))

    def on_error(self, frame):
        self.frames.put(("ERROR", frame))

    def on_disconnected(self):
        self.disconnected = True

    def next(self, timeout=10):
        return self.frames.get(timeout=timeout)

    def expect(self, kind, timeout=10):
        got, frame = self.next(timeout)
        assert got == kind, f"expected {kind}, got {got}: {frame.headers} {frame.body!r}"
        return frame


def stomp_py(node, token, version="1.2", via="passcode"):
    conn = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}[version](
        [("127.0.0.1", node.stomp_port)], **({} if version == "1.0" else {"heartbeats": (0, 0)}))
    listener = Collector()
    conn.set_listener("c", listener)
    conn.connect(**({"username": "any", "passcode": token} if via == "passcode"
                    else {"headers": {"Authorization": f"Bearer {token}"}}), wait=True)
    return conn, listener


@pytest.fixture
def users(database):
    """Two members of one room, an outsider, and the room."""
    a = create_user(database, nickname="alice")
    b = create_user(database, nickname="bob")
    outsider = create_user(database, nickname="mallory")
    room = create_room(database, [a, b])
    return {"a": a, "b": b, "outsider": outsider, "room": room, "db": database}


def subscribe(c: RawStomp, dest: str, sub_id: str):
    c.send("SUBSCRIBE", {"id": sub_id, "destination": dest, "receipt": "sub-" + sub_id})
    c.expect("RECEIPT", receipt_id="sub-" + sub_id)


# --------------------------------------------------------------------------- CONNECT

def test_connect_with_passcode_over_tcp_stomp_py(chatd, users):
    conn, listener = stomp_py(chatd, make_token(users["a"]))
    try:
        frame = listener.expect("CONNECTED")
        assert frame.headers["version"] == "1.2"
        assert frame.headers["server"].startswith("chatd/")
        assert frame.headers["user-name"] == str(users["a"])
        assert frame.headers["session"]
        assert frame.headers["heart-beat"] == "10000,10000"
    finally:
        conn.disconnect()


def test_connect_with_authorization_header_over_websocket(chatd, users):
    c = RawStomp.ws(chatd.http_port, subprotocols=("v10.stomp", "v12.stomp", "v11.stomp"))
    try:
        assert c.wsock.subprotocol == "v12.stomp"  # the client's best
        f = c.connect(make_token(users["b"]), via="header", version="1.1,1.2")
        assert f.headers["version"] == "1.2"
        assert f.headers["user-name"] == str(users["b"])
        assert f.headers["server"].startswith("chatd/")
    finally:
        c.close()


def metric(node, line_prefix: str) -> float:
    for line in requests.get(node.metrics_url, timeout=5).text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{line_prefix} not in /metrics")


def test_sessions_gauge_per_transport(chatd, users):
    tcp = 'chat_websocket_sessions{transport="tcp"}'
    ws = 'chat_websocket_sessions{transport="websocket"}'
    assert (metric(chatd, tcp), metric(chatd, ws)) == (0, 0)
    a = RawStomp.tcp(chatd.stomp_port)
    a.connect(make_token(users["a"]))
    b = RawStomp.ws(chatd.http_port)
    b.connect(make_token(users["b"]))
    c = RawStomp.ws(chatd.http_port)
    c.connect(make_token(users["b"]))
    assert (metric(chatd, tcp), metric(chatd, ws)) == (1, 2)
    c.close()
    wait_for(lambda: metric(chatd, ws) == 1, 5, what="websocket gauge back to 1")
    a.send("SEND", {"destination": f"/topic/room.{users['room']}", "receipt": "m"}, "counted")
    a.expect("RECEIPT")
    assert metric(chatd, "chat_messages_sent_total") >= 1


def test_stomp_10_and_11_clients_are_accepted(chatd, users):
    for version in ("1.0", "1.1"):
        conn, listener = stomp_py(chatd, make_token(users["a"]), version=version)
        try:
            frame = listener.expect("CONNECTED")
            assert frame.headers.get("version") == version
            conn.subscribe(f"/topic/room.{users['room']}", id="s1", ack="auto", headers={"receipt": "r1"})
            assert listener.expect("RECEIPT").headers["receipt-id"] == "r1"
        finally:
            conn.disconnect()


def test_websocket_subprotocol_v11_and_unknown_path(chatd, users):
    c = RawStomp.ws(chatd.http_port, subprotocols=("v11.stomp",))
    assert c.wsock.subprotocol == "v11.stomp"
    c.close()
    import websocket as ws_lib
    with pytest.raises(ws_lib.WebSocketBadStatusException) as e:
        ws_lib.create_connection(f"ws://127.0.0.1:{chatd.http_port}/nope", subprotocols=["v12.stomp"], timeout=5)
    assert e.value.status_code == 404


@pytest.mark.parametrize("case", ["missing", "bad_signature", "expired", "garbage", "alg_none", "header_scheme"])
def test_bad_token_gets_error_unauthorized_and_close(chatd, users, stack, case):
    bystander = RawStomp.tcp(chatd.stomp_port)
    bystander.connect(make_token(users["b"]))
    subscribe(bystander, f"/topic/room.{users['room']}", "s1")

    token = {
        "missing": None,
        "bad_signature": make_token(users["a"], secret="another-secret-0123456789abcdef0123"),
        "expired": make_token(users["a"], iat=int(time.time()) - 7200, ttl=3600),
        "garbage": "not-a-jwt",
        "alg_none": make_token(users["a"], alg="none"),
        "header_scheme": make_token(users["a"]),
    }[case]
    c = RawStomp.ws(chatd.http_port) if case in ("expired", "header_scheme") else RawStomp.tcp(chatd.stomp_port)
    extra = {"Authorization": f"Basic {token}"} if case == "header_scheme" else None
    f = c.connect(None if case == "header_scheme" else token, expect_ok=False, extra=extra)
    assert f.command == "ERROR", f
    assert f.headers["message"] == "unauthorized"
    assert c.wait_closed(5), "server must close after ERROR"

    # The bystander's session is untouched: a message published now still reaches it.
    redis_client(stack).publish(f"chat:room:{users['room']}", message_json(users["room"], users["a"], 77))
    m = bystander.expect("MESSAGE")
    assert m.headers["subscription"] == "s1" and m.headers["message-id"] == "77"
    bystander.close()


def test_frames_before_connect_are_refused(chatd):
    c = RawStomp.tcp(chatd.stomp_port)
    c.send("SUBSCRIBE", {"id": "1", "destination": "/topic/presence"})
    f = c.expect("ERROR")
    assert f.headers["message"] == "not connected"
    assert c.wait_closed(5)


def test_unsupported_version_is_refused(chatd, users):
    c = RawStomp.tcp(chatd.stomp_port)
    f = c.connect(make_token(users["a"]), version="2.0", expect_ok=False)
    assert f.command == "ERROR"
    assert f.headers["version"] == "1.0,1.1,1.2"
    assert c.wait_closed(5)


def test_handshake_timeout(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database, env={"CHATD_HANDSHAKE_TIMEOUT": "700ms"})
    c = RawStomp.tcp(node.stomp_port)
    t0 = time.monotonic()
    f = c.expect("ERROR", timeout=5)
    assert f.headers["message"] == "handshake timeout"
    assert c.wait_closed(5)
    assert 0.5 < time.monotonic() - t0 < 8  # upper bound generous: CI machines stall


# --------------------------------------------------------------------------- membership

def test_subscribe_to_a_room_of_others_is_forbidden(chatd, users):
    c = RawStomp.tcp(chatd.stomp_port)
    c.connect(make_token(users["outsider"]))
    c.send("SUBSCRIBE", {"id": "s1", "destination": f"/topic/room.{users['room']}", "receipt": "r1"})
    f = c.expect("ERROR")
    assert f.headers["message"] == "forbidden"
    assert f.headers["receipt-id"] == "r1"
    assert c.wait_closed(5)


@pytest.mark.parametrize("dest", ["topic", "app", "typing-sub"])
def test_room_actions_of_a_non_member_are_forbidden(chatd, users, dest):
    c = RawStomp.ws(chatd.http_port)
    c.connect(make_token(users["outsider"]))
    room = users["room"]
    if dest == "topic":
        c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "x"}, "hi")
    elif dest == "app":
        c.send("SEND", {"destination": "/app/chat.send", "receipt": "x", "content-type": "application/json"},
               json.dumps({"roomId": room, "content": "hi"}))
    else:
        c.send("SUBSCRIBE", {"id": "t", "destination": f"/topic/room.{room}.typing", "receipt": "x"})
    f = c.expect("ERROR")
    assert f.headers["message"] == "forbidden"
    assert c.wait_closed(5)


def test_leaving_a_room_ends_its_subscriptions_on_every_session_of_the_leaver(stack, database, chatd_factory):
    """docs/stomp.md: membership is checked on every room action, and a subscription does not outlive the
    membership: after DELETE /members/me the leaver's sessions (both nodes, both transports) get
    the "left" notice and nothing of the room after it; the other member keeps chatting."""
    n1 = chatd_factory(stack, database_url=database)
    n2 = chatd_factory(stack, database_url=database)
    a, b = create_user(database, nickname="alice"), create_user(database, nickname="bob")
    room = create_room(database, [a, b])
    leaver_tcp, leaver_ws = RawStomp.tcp(n1.stomp_port), RawStomp.ws(n2.http_port)
    stays = RawStomp.tcp(n2.stomp_port)
    for c, user in ((leaver_tcp, a), (leaver_ws, a), (stays, b)):
        c.connect(make_token(user))
        subscribe(c, f"/topic/room.{room}", "r")

    r = requests.delete(f"{n1.url}/api/rooms/{room}/members/me", headers={"Authorization": f"Bearer {make_token(a)}"},
                        timeout=10)
    assert r.status_code == 204, r.text

    def system_left(f):
        return f.command == "MESSAGE" and f.json()["type"] == "SYSTEM" and f.json()["content"] == "alice left"

    for c in (leaver_tcp, leaver_ws, stays):
        notice, _ = c.recv_until(system_left, timeout=30)
        assert notice.json()["senderId"] == a and notice.json()["roomId"] == room

    key = str(uuid.uuid4())
    stays.send("SEND", {"destination": "/app/chat.send", "receipt": "after"},
               json.dumps({"roomId": room, "content": "after alice left", "messageKey": key}))
    stays.recv_until(lambda f: f.command == "RECEIPT", timeout=20)
    stays.recv_until(lambda f: f.command == "MESSAGE" and f.json()["messageKey"] == key, timeout=20)
    # Same room, same nodes, same fan-out: had the leaver still been subscribed, their copy
    # would have been queued with bob's. A second more for good measure.
    for c in (leaver_tcp, leaver_ws):
        with pytest.raises(TimeoutError):
            c.recv(1.0)
    # And the room is closed to them: a SEND is checked again (no cached membership).
    leaver_tcp.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "x"}, "let me back in")
    assert leaver_tcp.expect("ERROR").headers["message"] == "forbidden"
    for c in (leaver_tcp, leaver_ws, stays):
        c.close()


# --------------------------------------------------------------------------- SEND -> Kafka -> RECEIPT

def test_send_receipt_only_after_kafka_has_the_record(chatd, users, stack):
    c = RawStomp.tcp(chatd.stomp_port)
    c.connect(make_token(users["a"]))
    key = str(uuid.uuid4())
    c.send("SEND", {"destination": "/app/chat.send", "receipt": "m1", "content-type": "application/json"},
           json.dumps({"roomId": users["room"], "content": "hello kafka", "messageKey": key}))
    c.expect("RECEIPT", receipt_id="m1")
    rec = kafka_has_key(stack, key)
    v = rec["value"]
    assert v["messageKey"] == key and v["roomId"] == users["room"] and v["content"] == "hello kafka"
    assert v["senderId"] == users["a"] and v["senderNickname"] == "alice" and v["type"] == "TEXT"
    assert "id" not in v
    assert rec["key"] == str(users["room"]).encode()
    assert rec["headers"]["origin-node"] == chatd.name.encode()

    # A generic STOMP client chats by sending plain text to what it subscribed to.
    conn, listener = stomp_py(chatd, make_token(users["b"]))
    listener.expect("CONNECTED")
    conn.send(f"/topic/room.{users['room']}", "plain text from stomp.py", headers={"receipt": "p1"})
    assert listener.expect("RECEIPT").headers["receipt-id"] == "p1"
    conn.disconnect()


def test_send_and_live_delivery_end_to_end_across_nodes(stack, database, chatd_factory):
    """SEND on node 1; the pipeline (Kafka -> broadcast -> Redis) delivers on node 2."""
    n1 = chatd_factory(stack, database_url=database)
    n2 = chatd_factory(stack, database_url=database)
    a, b = create_user(database, nickname="ann"), create_user(database, nickname="ben")
    room = create_room(database, [a, b])
    rx = RawStomp.ws(n2.http_port)
    rx.connect(make_token(b))
    subscribe(rx, f"/topic/room.{room}", "r")
    tx = RawStomp.tcp(n1.stomp_port)
    tx.connect(make_token(a))
    key = str(uuid.uuid4())
    tx.send("SEND", {"destination": "/app/chat.send", "receipt": "1"}, json.dumps(
        {"roomId": room, "content": "across nodes", "messageKey": key}))
    tx.expect("RECEIPT")
    # Room ids repeat across tests (fresh databases, one Kafka): skip other tests' records.
    m, _ = rx.recv_until(lambda f: f.command == "MESSAGE" and f.json()["messageKey"] == key, timeout=20)
    body = m.json()
    assert body["messageKey"] == key and body["content"] == "across nodes" and body["senderId"] == a
    assert m.headers["message-id"] == str(body["id"]) and body["id"] > 0
    assert m.headers["destination"] == f"/topic/room.{room}"
    assert m.headers["content-type"] == "application/json"


def test_invalid_send_bodies(chatd, users):
    room = users["room"]
    # With a /user/queue/errors subscription: soft errors, the session stays.
    c = RawStomp.tcp(chatd.stomp_port)
    c.connect(make_token(users["a"]))
    subscribe(c, "/user/queue/errors", "e")
    c.send("SEND", {"destination": "/app/chat.send", "receipt": "bad"}, json.dumps({"roomId": room, "content": " "}))
    m = c.expect("MESSAGE")
    assert m.headers["subscription"] == "e" and m.headers["destination"] == "/user/queue/errors"
    err = m.json()
    assert err["code"] == "validation_error" and err["receiptId"] == "bad"
    c.send("SEND", {"destination": "/app/chat.send", "receipt": "long"},
           json.dumps({"roomId": room, "content": "x" * 4001}))
    assert c.expect("MESSAGE").json()["code"] == "validation_error"
    c.send("SEND", {"destination": "/app/chat.send", "receipt": "ok"}, json.dumps({"roomId": room, "content": "é" * 4000}))
    c.expect("RECEIPT", receipt_id="ok")
    # Without one: ERROR and close.
    d = RawStomp.tcp(chatd.stomp_port)
    d.connect(make_token(users["a"]))
    d.send("SEND", {"destination": "/app/chat.send"}, "{not json")
    f = d.expect("ERROR")
    assert f.headers["message"] == "invalid message"
    assert d.wait_closed(5)


def test_disconnect_with_receipt(chatd, users):
    c = RawStomp.ws(chatd.http_port)
    c.connect(make_token(users["a"]))
    c.send("SEND", {"destination": f"/topic/room.{users['room']}", "receipt": "s"}, "bye")
    c.send("DISCONNECT", {"receipt": "d"})
    # The DISCONNECT receipt vouches for everything before it: it comes after the SEND's.
    c.expect("RECEIPT", receipt_id="s")
    c.expect("RECEIPT", receipt_id="d")
    assert c.wait_closed(5)


# --------------------------------------------------------------------------- fan-out

def test_redis_message_reaches_every_subscriber_on_every_node_once(stack, database, chatd_factory):
    n1 = chatd_factory(stack, database_url=database)
    n2 = chatd_factory(stack, database_url=database)
    a, b, c_ = (create_user(database) for _ in range(3))
    room = create_room(database, [a, b, c_])
    other = create_room(database, [a, b])

    s1 = RawStomp.tcp(n1.stomp_port)  # two subscriptions to the room in one session
    s1.connect(make_token(a))
    subscribe(s1, f"/topic/room.{room}", "one")
    subscribe(s1, f"/topic/room.{room}", "two")
    s2 = RawStomp.ws(n1.http_port)
    s2.connect(make_token(b))
    subscribe(s2, f"/topic/room.{room}", "b-room")
    subscribe(s2, f"/topic/room.{other}", "b-other")
    conn, listener = stomp_py(n2, make_token(c_))  # a foreign client on the other node
    listener.expect("CONNECTED")
    conn.subscribe(f"/topic/room.{room}", id="c-room", headers={"receipt": "armed"})
    assert listener.expect("RECEIPT").headers["receipt-id"] == "armed"

    r = redis_client(stack)
    payload = message_json(room, a, 4242, content="fan out ✓")
    assert r.publish(f"chat:room:{room}", payload) == 2  # one subscriber connection per node
    sentinel = message_json(other, a, 4243, content="sentinel")
    r.publish(f"chat:room:{other}", sentinel)
    r.publish(f"chat:room:{room}", message_json(room, a, 4244, content="after"))

    got1 = [s1.expect("MESSAGE") for _ in range(2)]
    assert sorted(f.headers["subscription"] for f in got1) == ["one", "two"]
    for f in got1:
        assert f.body.decode() == payload
        assert f.headers["message-id"] == "4242"
        assert f.headers["destination"] == f"/topic/room.{room}"
        assert f.headers["content-length"] == str(len(payload.encode()))
    nxt = s1.expect("MESSAGE")
    assert nxt.headers["message-id"] == "4244"  # not a duplicate of 4242

    f = s2.expect("MESSAGE")
    assert (f.headers["subscription"], f.body.decode()) == ("b-room", payload)
    f = s2.expect("MESSAGE")
    assert (f.headers["subscription"], f.headers["message-id"]) == ("b-other", "4243")
    assert s2.expect("MESSAGE").headers["message-id"] == "4244"

    f = listener.expect("MESSAGE")
    assert f.headers["subscription"] == "c-room" and json.loads(f.body)["content"] == "fan out ✓"
    assert listener.expect("MESSAGE").headers["message-id"] == "4244"
    conn.disconnect()


def test_node_subscribes_to_room_channels_only_while_local_subscribers_exist(chatd, users, stack):
    r = redis_client(stack)
    channel = f"chat:room:{users['room']}"
    assert r.pubsub_numsub(channel)[0][1] == 0
    c = RawStomp.tcp(chatd.stomp_port)
    c.connect(make_token(users["a"]))
    subscribe(c, f"/topic/room.{users['room']}", "x")
    subscribe(c, f"/topic/room.{users['room']}", "y")
    assert r.pubsub_numsub(channel)[0][1] == 1
    c.send("UNSUBSCRIBE", {"id": "x", "receipt": "u1"})
    c.expect("RECEIPT")
    assert r.pubsub_numsub(channel)[0][1] == 1
    c.send("UNSUBSCRIBE", {"id": "y", "receipt": "u2"})
    c.expect("RECEIPT")
    wait_for(lambda: r.pubsub_numsub(channel)[0][1] == 0, 5, what="unsubscribed after the last local subscriber")
    subscribe(c, f"/topic/room.{users['room']}", "z")
    assert r.pubsub_numsub(channel)[0][1] == 1
    c.close()
    wait_for(lambda: r.pubsub_numsub(channel)[0][1] == 0, 5, what="unsubscribed after the session closed")


def test_slow_consumer_is_disconnected_without_slowing_others(stack, database, chatd_factory):
    # A client that does not read is recognised by its stalled write (issue 18), not by its
    # queue alone: a short stall timeout keeps this test short.
    node = chatd_factory(stack, database_url=database,
                         env={"CHATD_MAX_OUTBOUND_BYTES": "65536", "CHATD_WRITE_STALL_TIMEOUT": "2s",
                              "CHATD_SOCKET_SEND_BUFFER": "65536"})
    a, b = create_user(database), create_user(database)
    room = create_room(database, [a, b])
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no autotuning
    slow.connect(("127.0.0.1", node.stomp_port))
    slow.sendall(f"CONNECT\naccept-version:1.2\npasscode:{make_token(a)}\n\n\0".encode())
    slow.sendall(f"SUBSCRIBE\nid:s\ndestination:/topic/room.{room}\nreceipt:r\n\n\0".encode())
    fast = RawStomp.tcp(node.stomp_port)
    fast.connect(make_token(b))
    subscribe(fast, f"/topic/room.{room}", "f")
    time_to_arm = time.monotonic() + 5
    r = redis_client(stack)
    while r.pubsub_numsub(f"chat:room:{room}")[0][1] == 0 and time.monotonic() < time_to_arm:
        time.sleep(0.05)
    big = "x" * 3000
    # 1.2 MB in paced bursts of 30 KB: the fast reader keeps up (its queue stays far below
    # the 64 KiB bound), the slow one never reads and overflows its queue.
    for chunk in range(40):
        for i in range(10):
            r.publish(f"chat:room:{room}", message_json(room, a, 10_000 + chunk * 10 + i, content=big))
        for i in range(10):
            assert fast.expect("MESSAGE").headers["message-id"] == str(10_000 + chunk * 10 + i)
    # The slow one was cut off (reads end with EOF or a reset once its buffers drain).
    slow.settimeout(10)
    deadline = time.monotonic() + 15
    closed = False
    while time.monotonic() < deadline:
        try:
            if slow.recv(65536) == b"":
                closed = True
                break
        except (ConnectionResetError, socket.timeout):
            closed = True
            break
    assert closed


# --------------------------------------------------------------------------- malformed frames

MALFORMED = {
    "bad_grammar": (b"SEND\ndestination/app/chat.send\n\nhi\0", "malformed header"),
    "unknown_command": (b"SHOUT\n\n\0", None),
    "bad_escape": (b"SEND\ndestination:/topic/room.1\\t\n\nhi\0", "escape"),
    "content_length_lie": (b"SEND\ndestination:/topic/room.1\ncontent-length:2\n\nhello\0", None),
    "bad_utf8_header": (b"SEND\ndestination:/topic/room.\xff\xfe\n\nhi\0", None),
    "huge_frame": (b"SEND\ndestination:/topic/room.1\n\n" + b"x" * (1024 * 1024) + b"\0", None),
    "huge_content_length": (b"SEND\ndestination:/topic/room.1\ncontent-length:1048576\n\n", None),
    "too_many_headers": (b"SEND\n" + b"".join(b"h%d:v\n" % i for i in range(60)) + b"\n\0", None),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_frame_gets_error_and_close_of_that_session_only(chatd, users, stack, case):
    data, message = MALFORMED[case]
    bystander = RawStomp.ws(chatd.http_port)
    bystander.connect(make_token(users["b"]))
    subscribe(bystander, f"/topic/room.{users['room']}", "s")

    bad = RawStomp.tcp(chatd.stomp_port)
    bad.connect(make_token(users["a"]))
    try:
        bad.send_raw(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    f = bad.recv(10)
    assert f.command == "ERROR", f
    assert f.headers["message"]
    if message:
        assert message in f.headers["message"]
    assert bad.wait_closed(10)

    redis_client(stack).publish(f"chat:room:{users['room']}", message_json(users["room"], users["a"], 5150))
    assert bystander.expect("MESSAGE").headers["message-id"] == "5150"
    # and the node still accepts new sessions
    again = RawStomp.tcp(chatd.stomp_port)
    again.connect(make_token(users["a"]))
    again.close()


def test_malformed_frame_over_websocket(chatd, users):
    c = RawStomp.ws(chatd.http_port)
    c.connect(make_token(users["a"]))
    c.send_raw(b"SUBSCRIBE\nid:1\ndestination:/topic/presence\\x\n\n\0")
    f = c.expect("ERROR")
    assert "escape" in f.headers["message"]
    assert c.wait_closed(5)


# --------------------------------------------------------------------------- limits

def test_rate_limit_soft_errors_then_disconnect(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database, env={
        "CHATD_RATE_LIMIT": "1", "CHATD_RATE_BURST": "3", "CHATD_RATE_DISCONNECT_FACTOR": "2"})
    a, b = create_user(database), create_user(database)
    room = create_room(database, [a, b])
    c = RawStomp.tcp(node.stomp_port)
    c.connect(make_token(a))
    subscribe(c, "/user/queue/errors", "errs")
    for i in range(6):
        c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": f"m{i}"}, f"msg {i}")
    receipts, limited = set(), []
    for _ in range(6):
        f = c.recv(10)
        if f.command == "RECEIPT":
            receipts.add(f.headers["receipt-id"])
        else:
            assert f.command == "MESSAGE" and f.headers["destination"] == "/user/queue/errors", f
            limited.append(f.json())
    assert receipts == {"m0", "m1", "m2"}  # the burst
    assert [e["code"] for e in limited] == ["rate_limited"] * 3
    assert sorted(e["receiptId"] for e in limited) == ["m3", "m4", "m5"]
    # Past 2x the limit (disconnect bucket: burst 6, 2/s): ERROR and close, within a burst.
    for i in range(10):
        c.send("SEND", {"destination": f"/topic/room.{room}"}, f"flood {i}")
    f, before = c.recv_until(lambda fr: fr.command == "ERROR", timeout=10)
    assert f.headers["message"] == "rate limit exceeded"
    assert all(fr.command == "MESSAGE" and fr.json()["code"] == "rate_limited" for fr in before)
    assert c.wait_closed(5)


def test_sessions_per_user_and_subscriptions_per_session(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database, env={"CHATD_MAX_SESSIONS_PER_USER": "2",
                                                            "CHATD_MAX_SUBSCRIPTIONS": "3"})
    a = create_user(database)
    first, second = RawStomp.tcp(node.stomp_port), RawStomp.ws(node.http_port)
    first.connect(make_token(a))
    second.connect(make_token(a))
    third = RawStomp.tcp(node.stomp_port)
    f = third.connect(make_token(a), expect_ok=False)
    assert f.command == "ERROR" and f.headers["message"] == "too many sessions"
    assert third.wait_closed(5)
    second.close()
    wait_for(lambda: RawStomp.tcp(node.stomp_port).connect(make_token(a), expect_ok=False).command == "CONNECTED",
             10, what="a slot after a session closed")

    for i in range(3):
        subscribe(first, "/user/queue/errors", f"e{i}")
    first.send("SUBSCRIBE", {"id": "e3", "destination": "/topic/presence"})
    f = first.expect("ERROR")
    assert f.headers["message"] == "too many subscriptions"


# --------------------------------------------------------------------------- heart-beats

def test_heart_beats_negotiated_and_silent_peer_dropped(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database, env={"CHATD_HEARTBEAT": "200,300"})
    a = create_user(database)
    # Client: can send every 400 ms, wants one every 100 ms.
    c = RawStomp.tcp(node.stomp_port)
    f = c.connect(make_token(a), heart_beat="400,100")
    assert f.headers["heart-beat"] == "200,300"
    # Server -> client every max(200, 100) = 200 ms; client -> server expected every
    # max(400, 300) = 400 ms, so silence beyond 800 ms ends the session.
    t0 = time.monotonic()
    with pytest.raises((Closed, TimeoutError)):
        while True:
            c.recv(3)
    silent_for = time.monotonic() - t0
    assert c.heartbeats >= 2, "server heart-beats"
    assert 0.7 < silent_for < 6  # upper bound generous: CI machines stall
    assert c.closed

    # A peer that beats in time stays.
    d = RawStomp.ws(node.http_port)
    d.connect(make_token(a), heart_beat="400,0")
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        d.heartbeat()
        time.sleep(0.2)  # the client's own cadence, not synchronisation
    subscribe(d, "/topic/presence", "still-here")


def test_no_heart_beats_when_client_offers_none(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database, env={"CHATD_HEARTBEAT": "100,100"})
    a = create_user(database)
    c = RawStomp.tcp(node.stomp_port)
    c.connect(make_token(a), heart_beat="0,0")
    with pytest.raises(TimeoutError):
        c.recv(1.0)
    assert c.heartbeats == 0 and not c.closed


def test_idle_timeout_closes_a_silent_session_without_heart_beats(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database, env={"CHATD_IDLE_TIMEOUT": "1s"})
    a = create_user(database)
    silent = RawStomp.tcp(node.stomp_port)
    silent.connect(make_token(a), heart_beat="0,0")
    chatty = RawStomp.ws(node.http_port)
    chatty.connect(make_token(a), heart_beat="0,0")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.5:
        chatty.heartbeat()  # any input keeps a session without negotiated heart-beats alive
        time.sleep(0.3)  # the client's own cadence, not synchronisation
    f = silent.expect("ERROR", timeout=10)
    assert f.headers["message"] == "idle timeout"
    assert silent.wait_closed(5)
    assert not chatty.closed
    subscribe(chatty, "/topic/presence", "still-here")


# --------------------------------------------------------------------------- typing

def test_typing_is_relayed_between_nodes_and_throttled(stack, database, chatd_factory):
    n1 = chatd_factory(stack, database_url=database)
    n2 = chatd_factory(stack, database_url=database)
    a, b, z = create_user(database, nickname="typist"), create_user(database), create_user(database)
    room = create_room(database, [a, b, z])
    rx = RawStomp.ws(n2.http_port)
    rx.connect(make_token(b))
    subscribe(rx, f"/topic/room.{room}.typing", "t")
    tx = RawStomp.tcp(n1.stomp_port)
    tx.connect(make_token(a))
    for i in range(5):
        tx.send("SEND", {"destination": "/app/chat.typing", "receipt": f"t{i}"}, json.dumps({"roomId": room}))
    for i in range(5):
        tx.expect("RECEIPT", receipt_id=f"t{i}")
    m = rx.expect("MESSAGE")
    assert m.headers["destination"] == f"/topic/room.{room}.typing"
    ev = m.json()
    assert ev["roomId"] == room and ev["userId"] == a and ev["nickname"] == "typist" and ev["at"]
    # A notice by someone else marks the end: nothing else from `a` came before it.
    other = RawStomp.tcp(n1.stomp_port)
    other.connect(make_token(z))
    other.send("SEND", {"destination": "/app/chat.typing", "receipt": "z"}, json.dumps({"roomId": room}))
    other.expect("RECEIPT")
    m = rx.expect("MESSAGE")
    assert m.json()["userId"] == z


# --------------------------------------------------------------------------- shutdown

def test_sigterm_tells_sessions_and_exits_cleanly(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database)
    a = create_user(database)
    room = create_room(database, [a])
    c = RawStomp.tcp(node.stomp_port)
    c.connect(make_token(a))
    w = RawStomp.ws(node.http_port)
    w.connect(make_token(a))
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "last"}, "last words")
    c.expect("RECEIPT", receipt_id="last")
    node.proc.send_signal(signal.SIGTERM)
    for s in (c, w):
        f, _ = s.recv_until(lambda fr: fr.command == "ERROR", timeout=20)
        assert f.headers["message"] == "server shutting down"
        assert s.wait_closed(10)
    assert node.proc.wait(timeout=35) == 0
