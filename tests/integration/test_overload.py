"""Issue 18 (docs/stomp.md "Overload"): never silent, admission control, slow consumers that
really are slow. Raw STOMP frames, so nothing in a client library hides an unanswered SEND."""
from __future__ import annotations

import socket
import threading
import time
import uuid

import psycopg
import redis as redis_lib
import requests

from chatlib import create_room, create_user, make_token
from stomp_ws import Closed, RawStomp


# The per-user SEND rate limit is not what these tests are about.
NO_RATE_LIMIT = {"CHATD_RATE_LIMIT": "1000", "CHATD_RATE_BURST": "1000"}


def subscribe(c: RawStomp, destination: str, sub_id: str):
    c.send("SUBSCRIBE", {"id": sub_id, "destination": destination, "receipt": "sub-" + sub_id})
    c.expect("RECEIPT", receipt_id="sub-" + sub_id, timeout=20)


def metrics_text(node) -> str:
    return requests.get(node.metrics_url, timeout=5).text


def metric(node, name: str) -> float:
    total = 0.0
    for line in metrics_text(node).splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class Sender:
    """One session sending receipted SENDs from its own thread and recording every answer."""

    def __init__(self, port: int, token: str, room: int, name: str):
        self.c = RawStomp.tcp(port)
        self.c.connect(token)
        self.room, self.name = room, name
        self.sent: list[tuple[str, str]] = []  # (receipt, messageKey), in order
        self.answers: dict[str, object] = {}   # receipt -> Frame
        self.fatal: list = []                  # ERRORs that end the session
        self.error: Exception | None = None

    def _take(self, f):
        rid = f.headers.get("receipt-id")
        if f.command == "ERROR" and f.headers.get("session-closes") != "false":
            self.fatal.append(f)
        if rid is not None:
            assert rid not in self.answers, f"a second answer for {rid}: {f}"
            self.answers[rid] = f

    def _poll(self, timeout: float):
        try:
            self._take(self.c.recv(timeout))
            return True
        except TimeoutError:
            return False

    def run(self, count: int, interval: float):
        try:
            for i in range(count):
                key = str(uuid.uuid4())
                rid = f"{self.name}-{i}"
                body = '{"content":"%s-%d","messageKey":"%s"}' % (self.name, i, key)
                self.c.send("SEND", {"destination": f"/topic/room.{self.room}", "receipt": rid,
                                     "content-type": "application/json"}, body)
                self.sent.append((rid, key))
                until = time.monotonic() + interval
                while time.monotonic() < until:
                    self._poll(max(0.001, until - time.monotonic()))
            deadline = time.monotonic() + 90
            while len(self.answers) < len(self.sent) and time.monotonic() < deadline:
                self._poll(1)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def receipted(self) -> list[str]:
        return [key for rid, key in self.sent if getattr(self.answers.get(rid), "command", None) == "RECEIPT"]


def test_rate_limited_send_with_receipt_is_answered_without_an_errors_subscription(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database,
                         env={"CHATD_RATE_LIMIT": "1", "CHATD_RATE_BURST": "5", "CHATD_RATE_DISCONNECT_FACTOR": "100"})
    a = create_user(database)
    room = create_room(database, [a])
    c = RawStomp.tcp(node.stomp_port)
    c.connect(make_token(a))
    for i in range(30):
        c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": f"r{i}"}, f"burst {i}")
    answers = {}
    while len(answers) < 30:
        f = c.recv(20)
        answers[f.headers["receipt-id"]] = f
    receipts = [r for r, f in answers.items() if f.command == "RECEIPT"]
    limited = [f for f in answers.values() if f.command == "ERROR"]
    assert 5 <= len(receipts) <= 7, answers
    assert len(receipts) + len(limited) == 30
    for f in limited:
        assert f.headers["message"] == "rate limited", f
        assert f.headers["session-closes"] == "false", f
    # The session is still usable.
    time.sleep(1.1)
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "after"}, "after the burst")
    c.expect("RECEIPT", receipt_id="after", timeout=20)
    assert not c.wait_closed(0.5)


def test_kafka_down_for_10s_costs_latency_not_sessions(own_stack, chatd_factory):
    """Every SEND answered, no session closed; every receipted message stored once and
    delivered once, in each sender's order, over two nodes."""
    database = own_stack.create_database("kafka_outage")
    n1 = chatd_factory(own_stack, database_url=database, name="outage-1", env=NO_RATE_LIMIT)
    n2 = chatd_factory(own_stack, database_url=database, name="outage-2", env=NO_RATE_LIMIT)
    users = [create_user(database) for _ in range(5)]
    room = create_room(database, users)
    reader = RawStomp.tcp(n2.stomp_port)
    reader.connect(make_token(users[4]))
    subscribe(reader, f"/topic/room.{room}", "r")
    senders = [Sender((n1 if i % 2 == 0 else n2).stomp_port, make_token(users[i]), room, f"s{i}") for i in range(4)]
    for s in senders:  # warm up: producer id and metadata before the outage
        s.c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "warm"}, "warm up")
        s.c.expect("RECEIPT", receipt_id="warm", timeout=30)

    delivered: list[dict] = []
    stop_reading = threading.Event()

    def read():
        while not stop_reading.is_set():
            try:
                f = reader.recv(0.5)
            except TimeoutError:
                continue
            except Closed:
                return
            if f.command == "MESSAGE":
                delivered.append(f.json())

    reader_thread = threading.Thread(target=read, daemon=True)
    reader_thread.start()
    threads = [threading.Thread(target=s.run, args=(100, 0.1), daemon=True) for s in senders]
    for t in threads:
        t.start()
    time.sleep(2)
    own_stack.kafka_control("broker-down 1")
    try:
        time.sleep(10)
    finally:
        own_stack.kafka_control("broker-up 1")
    for t in threads:
        t.join(120)
    for s in senders:
        assert s.error is None, f"{s.name}: {s.error!r}"
        unanswered = [rid for rid, _ in s.sent if rid not in s.answers]
        assert not unanswered, f"{s.name}: {len(unanswered)} SENDs without an answer, e.g. {unanswered[:3]}"
        assert not s.fatal, f"{s.name} was disconnected: {s.fatal[:2]}"
        assert not s.c.closed
    receipted = {key: s.name for s in senders for key in s.receipted()}
    assert len(receipted) > 200, f"only {len(receipted)} of 400 receipted"

    def stored():
        with psycopg.connect(database) as conn:
            rows = conn.execute("SELECT message_key, count(*) FROM messages GROUP BY message_key").fetchall()
        return {str(k): n for k, n in rows}

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        counts = stored()
        if all(k in counts for k in receipted):
            break
        time.sleep(0.5)
    counts = stored()
    missing = [k for k in receipted if k not in counts]
    assert not missing, f"{len(missing)} receipted messages not stored"
    assert all(n == 1 for n in counts.values()), "a message was stored twice"

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not set(receipted) <= {m["messageKey"] for m in delivered}:
        time.sleep(0.5)
    stop_reading.set()
    reader_thread.join(5)
    keys = [m["messageKey"] for m in delivered if m.get("messageKey") in receipted]
    assert set(keys) == set(receipted), f"{len(set(receipted) - set(keys))} receipted messages not delivered"
    assert len(keys) == len(set(keys)), "a message was delivered twice"
    for s in senders:
        mine = [int(m["content"].rsplit("-", 1)[1]) for m in delivered
                if m.get("messageKey") in receipted and receipted[m["messageKey"]] == s.name]
        assert mine == sorted(mine), f"{s.name}: delivered out of order"


def test_admission_control_blocks_senders_then_receipts_them(own_stack, chatd_factory):
    """A slow broker: at --max-inflight-sends the senders wait (their sockets are not read),
    then every SEND gets its RECEIPT; nothing is refused or lost."""
    database = own_stack.create_database("admission")
    node = chatd_factory(own_stack, database_url=database,
                         env={"CHATD_MAX_INFLIGHT_SENDS": "3", "CHATD_ADMISSION_TIMEOUT": "60s", **NO_RATE_LIMIT})
    users = [create_user(database) for _ in range(2)]
    room = create_room(database, users)
    clients = [RawStomp.tcp(node.stomp_port) for _ in users]
    for c, u in zip(clients, users):
        c.connect(make_token(u))
        c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "warm"}, "warm up")
        c.expect("RECEIPT", receipt_id="warm", timeout=30)
    own_stack.kafka_control("broker-rtt 1 400")
    try:
        for c in clients:
            for i in range(10):
                c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": f"m{i}"}, f"slow broker {i}")
        waited = 0.0
        deadline = time.monotonic() + 60
        while waited == 0 and time.monotonic() < deadline:
            waited = metric(node, "chat_admission_waits_total")
            time.sleep(0.2)
        assert waited > 0, "no SEND waited for a slot: the bound did not apply"
        for c in clients:
            for i in range(10):
                c.expect("RECEIPT", receipt_id=f"m{i}", timeout=60)
    finally:
        own_stack.kafka_control("broker-rtt 1 0")
    assert metric(node, "chat_admission_refused_total") == 0
    with psycopg.connect(database) as conn:
        n = conn.execute("SELECT count(*) FROM messages WHERE content LIKE 'slow broker %'").fetchone()[0]
    deadline = time.monotonic() + 30
    while n < 20 and time.monotonic() < deadline:
        time.sleep(0.3)
        with psycopg.connect(database) as conn:
            n = conn.execute("SELECT count(*) FROM messages WHERE content LIKE 'slow broker %'").fetchone()[0]
    assert n == 20


def test_admission_timeout_refuses_in_plain_words_and_keeps_the_session(own_stack, chatd_factory):
    database = own_stack.create_database("admission_timeout")
    node = chatd_factory(own_stack, database_url=database,
                         env={"CHATD_MAX_INFLIGHT_SENDS": "1", "CHATD_ADMISSION_TIMEOUT": "500ms"})
    a = create_user(database)
    room = create_room(database, [a])
    c = RawStomp.tcp(node.stomp_port)
    c.connect(make_token(a))
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "warm"}, "warm up")
    c.expect("RECEIPT", receipt_id="warm", timeout=30)
    own_stack.kafka_control("broker-rtt 1 3000")
    try:
        c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "first"}, "holds the only slot")
        c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "second"}, "waits, then is refused")
        f = c.recv(20)
        assert f.command == "ERROR", f
        assert f.headers["receipt-id"] == "second"
        assert f.headers["message"] == "server overloaded"
        assert f.headers["session-closes"] == "false"
        assert "not stored" in f.body.decode()
        c.expect("RECEIPT", receipt_id="first", timeout=30)
    finally:
        own_stack.kafka_control("broker-rtt 1 0")
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "third"}, "after")
    c.expect("RECEIPT", receipt_id="third", timeout=30)


def test_a_client_that_stops_reading_is_dropped_a_node_that_falls_behind_drops_no_one(stack, database,
                                                                                      chatd_factory):
    # A small kernel send buffer: the one that does not read fills it with a few hundred KB,
    # not the megabytes of the kernel's autotuning.
    node = chatd_factory(stack, database_url=database, env={"CHATD_WRITE_STALL_TIMEOUT": "2s",
                                                            "CHATD_SOCKET_SEND_BUFFER": "65536", **NO_RATE_LIMIT})
    users = [create_user(database) for _ in range(4)]
    room = create_room(database, users)
    readers = []
    for u in users[:3]:
        c = RawStomp.tcp(node.stomp_port)
        c.connect(make_token(u))
        subscribe(c, f"/topic/room.{room}", "r")
        readers.append(c)
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", node.stomp_port))
    stalled.sendall(f"CONNECT\naccept-version:1.2\npasscode:{make_token(users[3])}\n\n\0".encode())
    stalled.sendall(f"SUBSCRIBE\nid:s\ndestination:/topic/room.{room}\nreceipt:r\n\n\0".encode())
    # CONNECTED and the SUBSCRIBE's RECEIPT, then it reads nothing more.
    stalled.settimeout(20)
    seen = b""
    while b"receipt-id:r" not in seen:
        chunk = stalled.recv(4096)
        assert chunk, f"closed before the subscription: {seen!r}"
        seen += chunk
    r = redis_lib.Redis.from_url(stack.env()["CHATD_REDIS_URL"])

    # The node falls behind: Redis holds the fan-out for 2 s, then delivers a burst at once.
    sender = RawStomp.tcp(node.stomp_port)
    sender.connect(make_token(users[0]))
    r.execute_command("CLIENT", "PAUSE", "2000", "ALL")
    for i in range(200):
        sender.send("SEND", {"destination": f"/topic/room.{room}"}, f"burst {i} " + "x" * 400)
    # Then 1.2 MB more: beyond what the kernel buffers of the one that does not read take.
    for i in range(400):
        sender.send("SEND", {"destination": f"/topic/room.{room}"}, f"burst {200 + i} " + "y" * 3000)
    got = {id(c): [] for c in readers}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(len(v) < 600 for v in got.values()):
        for c in readers:
            try:
                f = c.recv(0.05)
            except TimeoutError:
                continue
            if f.command == "MESSAGE" and f.json().get("content", "").startswith("burst "):
                got[id(c)].append(f.json()["content"])
    for c in readers:
        assert not c.closed, "a client that reads was disconnected"
        assert len(got[id(c)]) == 600, f"a reader got {len(got[id(c)])} of 600"
    # The one that never read is gone: the server closes it once its write stalled for
    # --write-stall-timeout. Reading it before that would let the stalled write finish.
    deadline = time.monotonic() + 60
    while metric(node, "chat_slow_consumer_disconnects_total") < 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    stalled.settimeout(15)
    closed = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if stalled.recv(65536) == b"":
                closed = True
                break
        except ConnectionResetError:
            closed = True
            break
        except socket.timeout:
            break
    assert closed, "a client that never reads was kept"
    assert metric(node, "chat_slow_consumer_disconnects_total") == 1


def iso_ms(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def test_delivery_behind_the_target_delay_lowers_admission_then_lifts_it(stack, database, chatd_factory):
    """Rate control: events arriving 2 s after their createdAt (a node behind) make the node
    admit fewer SENDs; the excess is refused at once in plain words, every SEND answered, the
    session kept. Once delivery is on time again the limit is lifted."""
    node = chatd_factory(stack, database_url=database,
                         env={"CHATD_ADMISSION_TARGET_DELAY": "200ms", "CHATD_ADMISSION_TIMEOUT": "300ms",
                              **NO_RATE_LIMIT})
    a, b = create_user(database), create_user(database)
    room = create_room(database, [a, b])
    watcher = RawStomp.tcp(node.stomp_port)
    watcher.connect(make_token(b))
    subscribe(watcher, f"/topic/room.{room}", "w")
    r = redis_lib.Redis.from_url(stack.env()["CHATD_REDIS_URL"])
    behind = threading.Event()
    behind.set()

    def late_events():
        # Most deliveries late (the node steers by a percentile of an interval's delays, and
        # ignores intervals with fewer than 10 deliveries): about 200 a second.
        n = 0
        while behind.is_set():
            for _ in range(4):
                n += 1
                r.publish(f"chat:room:{room}", '{"id":%d,"messageKey":"%s","roomId":%d,"senderId":%d,'
                          '"senderNickname":"nick","content":"late","type":"TEXT","createdAt":"%s"}'
                          % (900_000 + n, uuid.uuid4(), room, b, iso_ms(time.time() - 2)))
            time.sleep(0.02)

    injector = threading.Thread(target=late_events, daemon=True)
    injector.start()
    try:
        deadline = time.monotonic() + 20
        while metric(node, "chat_admission_rate") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert metric(node, "chat_admission_rate") > 0, "the delay did not limit admission"
        # Many sessions at once: one session alone is only slowed down (it waits for a token
        # before its next frame); with many waiting, those without a chance in time are refused.
        clients = [RawStomp.tcp(node.stomp_port) for _ in range(20)]
        for c in clients:
            c.connect(make_token(a))
        for i in range(15):
            for n, c in enumerate(clients):
                c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": f"m{n}-{i}"}, f"flood {i}")
        answers = {}
        for c in clients:
            for _ in range(15):
                f = c.recv(30)
                assert f.command in ("RECEIPT", "ERROR"), f
                answers[f.headers["receipt-id"]] = f
        assert len(answers) == 300
        refused = [f for f in answers.values() if f.command == "ERROR"]
        assert refused, "nothing was refused although admission was limited"
        for f in refused:
            assert f.headers["message"] == "server overloaded", f
            assert f.headers["session-closes"] == "false", f
        assert any(f.command == "RECEIPT" for f in answers.values()), "admission let nothing through"
    finally:
        behind.clear()
        injector.join(5)
    deadline = time.monotonic() + 30
    while metric(node, "chat_admission_rate") != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metric(node, "chat_admission_rate") == 0, "the limit stayed after delivery caught up"
    assert metric(node, "chat_admission_refused_total") == len(refused)
    c = clients[0]
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "after"}, "after")
    c.expect("RECEIPT", receipt_id="after", timeout=20)
