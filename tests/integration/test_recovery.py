"""Recovery on SUBSCRIBE with since-id (docs/stomp.md "Recovery", SPEC §14), on real chatd nodes:

- a receiver that was away resubscribes with since-id while others keep sending: it gets every
  room event after the id exactly once, in order, the same ids as history, then live, and the
  RECEIPT says recovered:true;
- the same when the persistence consumer is behind (PostgreSQL was stopped during the gap): the
  recovery waits for the store to catch up with the log, then replays;
- more than --recovery-limit missed: the recovery.truncated marker, then the newest N,
  recovered:false;
- a non-member recovers nothing (ERROR forbidden); a bad since-id is an ERROR;
- replayed edits, deletes, reactions and an event the store dropped (applied = false) are the
  frames live delivery produced, byte for byte.

Clients the project did not write: python3-websocket (stomp_ws.py), confluent-kafka, psycopg."""
from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid

import psycopg
import pytest
import requests
from confluent_kafka import Consumer, Producer, TopicPartition

from chatlib import create_room, create_user, make_token
from conftest import Chatd, wait_for
from stomp_ws import Closed, RawStomp
from test_pipeline_consumers import isolate_ids

FAST = {"CHATD_RATE_LIMIT": "10000", "CHATD_RATE_BURST": "10000"}
MASK = (1 << 40) - 1


class Rx(threading.Thread):
    """A raw STOMP/TCP session read on its own thread: every frame in arrival order, with the
    raw bytes of MESSAGE bodies (to compare replayed frames with live ones byte for byte)."""

    def __init__(self, node, user: int, name: str):
        super().__init__(daemon=True, name=name)
        self.c = RawStomp.tcp(node.stomp_port)
        self.c.connect(make_token(user))
        self.frames: list = []
        self.closed = False
        self.stopping = False
        self.cond = threading.Condition()
        self.start()

    def send(self, command: str, headers: dict, body: str = ""):
        self.c.send(command, headers, body)

    def run(self):
        while not self.stopping:
            try:
                f = self.c.recv(0.5)
            except TimeoutError:
                continue
            except (Closed, Exception):  # noqa: BLE001 - closed by the server
                break
            with self.cond:
                self.frames.append(f)
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                assert left > 0, f"{self.name}: timed out after {timeout}s waiting for {what}; got {self.frames[-3:]}"
                assert not self.closed, f"{self.name}: closed while waiting for {what}: {self.frames[-3:]}"
                self.cond.wait(min(left, 0.5))

    def receipt(self, rid: str, timeout: float = 30) -> dict:
        def find():
            return next((f for f in self.frames if f.command == "RECEIPT" and f.headers.get("receipt-id") == rid),
                        None)
        self.wait(lambda: find() is not None, timeout, f"RECEIPT {rid}")
        return find().headers

    def error(self, timeout: float = 10):
        self.wait(lambda: any(f.command == "ERROR" for f in self.frames), timeout, "ERROR")
        return next(f for f in self.frames if f.command == "ERROR")

    def messages(self, sub: str | None = None) -> list:
        with self.cond:
            return [f for f in self.frames if f.command == "MESSAGE" and (sub is None or f.headers["subscription"] == sub)]

    def bodies(self, sub: str | None = None) -> list[dict]:
        return [f.json() for f in self.messages(sub)]

    def subscribe(self, room: int, sub: str, since: int | None = None, receipt: str | None = None):
        headers = {"id": sub, "destination": f"/topic/room.{room}", "receipt": receipt or f"r-{sub}"}
        if since is not None:
            headers["since-id"] = str(since)
        self.send("SUBSCRIBE", headers)

    def close(self):
        self.stopping = True
        self.c.close()
        self.join(timeout=5)


class Tx:
    """A sender: SENDs with receipts, the RECEIPT's message-id by receipt id."""

    def __init__(self, node, user: int, name: str):
        self.rx = Rx(node, user, name)

    def send(self, room: int, content: str, rid: str):
        self.rx.send("SEND", {"destination": "/app/chat.send", "content-type": "application/json", "receipt": rid},
                     json.dumps({"roomId": room, "content": content, "messageKey": str(uuid.uuid4())}))

    def app(self, destination: str, body: dict, rid: str) -> int:
        self.rx.send("SEND", {"destination": destination, "content-type": "application/json", "receipt": rid},
                     json.dumps(body))
        return int(self.rx.receipt(rid)["message-id"])

    def burst(self, room: int, n: int, prefix: str) -> list[int]:
        """n messages, then every RECEIPT: their ids in the room's order."""
        for i in range(n):
            self.send(room, f"{prefix} {i}", f"{prefix}-{i}")
        return [int(self.rx.receipt(f"{prefix}-{i}", 60)["message-id"]) for i in range(n)]

    def close(self):
        self.rx.close()


def stored_ids(db: str, room: int, after: int) -> list[int]:
    """The room's events after an id, as the store has them: messages and room_events."""
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT id FROM messages WHERE room_id = %s AND id > %s "
                            "UNION ALL SELECT id FROM room_events WHERE room_id = %s AND id > %s ORDER BY 1",
                            (room, after, room, after)).fetchall()
    return [r[0] for r in rows]


def check_frame(f, room: int):
    assert f.headers["destination"] == f"/topic/room.{room}"
    assert f.headers["content-type"] == "application/json"
    body = f.json()
    if f.headers["chat-event"] == "recovery.truncated":
        assert f.headers["message-id"] == f"t{room}-{body['fromId']}"
        return
    assert f.headers["chat-event"] == body.get("event", "message"), f
    assert f.headers["message-id"] == str(body["id"]), f


@pytest.fixture(scope="module")
def nodes(stack, tmp_path_factory):
    """Two nodes on one fresh database: n1 with the default --recovery-limit, n2 with 5."""
    db = stack.create_database("t_recovery_" + uuid.uuid4().hex[:8])
    work = tmp_path_factory.mktemp("recovery")
    env = {**stack.env(), "CHATD_DATABASE_URL": db, **FAST}
    started = []
    try:
        for name, extra in (("rec-1", {}), ("rec-2", {"CHATD_RECOVERY_LIMIT": "5"})):
            node = Chatd(work, {**env, **extra}, [], name)
            started.append(node)
            node.start()
        for node in started:
            node.wait_ready()
        isolate_ids(db)
        yield db, started[0], started[1]
    finally:
        for node in started:
            node.stop()


def test_resubscribing_with_since_id_while_others_send_gets_every_message_once_in_order(nodes, closing):
    db, n1, n2 = nodes
    alice, bob = create_user(db, nickname="alice"), create_user(db, nickname="bob")
    room = create_room(db, [alice, bob], name="recovery")
    tx = Tx(n2, alice, "alice@2")
    closing.append(tx)
    # Not the partition's first record: id 0 would leave no since-id before it (-1 is invalid).
    tx.burst(room, 1, "warm")
    first = tx.burst(room, 1, "first")[0]

    # bob saw the first message, then went away.
    away = Rx(n1, bob, "bob@1 before")
    closing.append(away)
    away.subscribe(room, "room", since=first - 1)
    away.receipt("r-room")
    assert [b["id"] for b in away.bodies()] == [first]
    away.close()

    missed = tx.burst(room, 200, "missed")
    # He comes back (on the other node than the sender) while alice sends 200 more.
    during: list[int] = []
    sender = threading.Thread(target=lambda: during.extend(tx.burst(room, 200, "during")), daemon=True)
    back = Rx(n1, bob, "bob@1 back")
    closing.append(back)
    sender.start()
    back.subscribe(room, "room", since=first)
    receipt = back.receipt("r-room")
    assert receipt["recovered"] == "true", receipt
    sender.join(90)
    assert len(during) == 200
    back.wait(lambda: len(back.messages()) >= 400, 60, "400 messages")
    time.sleep(0.5)  # nothing more may come
    got = [b["id"] for b in back.bodies()]
    assert len(got) == 400, f"{len(got)} messages; duplicates: {len(got) - len(set(got))}"
    assert got == sorted(got), "in the room's order"
    assert got == missed + during
    wait_for(lambda: stored_ids(db, room, first) == got, 30, what="history equal to what bob got")
    for f in back.messages():
        check_frame(f, room)
    # The RECEIPT came after the replayed frames: everything before it was from the store.
    receipt_at = next(i for i, f in enumerate(back.frames) if f.command == "RECEIPT")
    assert all(f.command == "MESSAGE" for f in back.frames[:receipt_at])
    assert receipt_at >= 200


def metric(node, name: str) -> float:
    for line in requests.get(node.metrics_url, timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_a_short_gap_is_replayed_from_the_nodes_memory(nodes, closing):
    """--recovery-memory (64): a node whose room channel stayed subscribed (another member is on
    it) remembers the room's newest events and answers a since-id among them from memory, with
    no store query: the frames live delivery made, once, in order, then live; a since-id older
    than what it remembers goes to the store as before."""
    db, n1, n2 = nodes
    alice, bob, carol = create_user(db), create_user(db), create_user(db)
    room = create_room(db, [alice, bob, carol])
    tx = Tx(n2, alice, "alice@2")
    closing.append(tx)
    # So that before[0] is not the partition's first record (since-id before[0] - 1 must be >= 0),
    # and out of n1's memory: published on the bus (seen live on n2) before n1 subscribes the room.
    tx.rx.subscribe(room, "own")
    tx.rx.receipt("r-own")
    tx.burst(room, 1, "warm")
    tx.rx.wait(lambda: len(tx.rx.messages("own")) == 1, 30, "the warm-up message live")
    carol_rx = Rx(n1, carol, "carol@1")  # keeps chat:room:{room} subscribed on n1
    closing.append(carol_rx)
    carol_rx.subscribe(room, "room")
    carol_rx.receipt("r-room")
    before = tx.burst(room, 3, "before")
    carol_rx.wait(lambda: len(carol_rx.messages()) >= 3, 30, "3 messages")

    away = Rx(n1, bob, "bob@1 before")
    closing.append(away)
    away.subscribe(room, "room")
    away.receipt("r-room")
    away.close()
    missed = tx.burst(room, 20, "missed")
    carol_rx.wait(lambda: len(carol_rx.messages()) >= 23, 30, "23 messages")

    from_memory = metric(n1, "chat_recoveries_from_memory_total")
    back = Rx(n1, bob, "bob@1 back")
    closing.append(back)
    back.subscribe(room, "room", since=before[-1])
    assert back.receipt("r-room")["recovered"] == "true"
    assert metric(n1, "chat_recoveries_from_memory_total") == from_memory + 1
    during = tx.burst(room, 5, "during")
    back.wait(lambda: len(back.messages()) >= 25, 30, "25 messages")
    time.sleep(0.3)
    got = [f.json()["id"] for f in back.messages()]
    assert got == missed + during
    live = {f.headers["message-id"]: f.body for f in carol_rx.messages()}
    for f in back.messages():
        check_frame(f, room)
        assert f.body == live[f.headers["message-id"]], "the live frame's body, byte for byte"
    wait_for(lambda: stored_ids(db, room, before[-1]) == got, 30, what="history equal to what bob got")

    # Older than the channel's memory on n1 (it was subscribed after the first message): the store.
    again = Rx(n1, bob, "bob@1 again")
    closing.append(again)
    again.subscribe(room, "room", since=before[0] - 1)
    assert again.receipt("r-room")["recovered"] == "true"
    assert metric(n1, "chat_recoveries_from_memory_total") == from_memory + 1
    assert [f.json()["id"] for f in again.messages()] == before + missed + during


def test_more_than_the_limit_gives_the_marker_then_the_newest(nodes, closing):
    db, n1, n2 = nodes  # n2: --recovery-limit 5
    alice, bob = create_user(db), create_user(db)
    room = create_room(db, [alice, bob])
    tx = Tx(n1, alice, "alice@1")
    closing.append(tx)
    ids = tx.burst(room, 12, "m")
    wait_for(lambda: len(stored_ids(db, room, -1)) == 12, 30, what="stored")
    rx = Rx(n2, bob, "bob@2")
    closing.append(rx)
    rx.subscribe(room, "room", since=ids[2])
    assert rx.receipt("r-room")["recovered"] == "false"
    frames = rx.messages()
    assert [f.headers["chat-event"] for f in frames] == ["recovery.truncated"] + ["message"] * 5
    assert frames[0].json() == {"event": "recovery.truncated", "roomId": room, "fromId": ids[7]}
    assert [f.json()["id"] for f in frames[1:]] == ids[7:]
    for f in frames:
        check_frame(f, room)
    # Within the limit: everything, recovered.
    rx.subscribe(room, "again", since=ids[8], receipt="again")
    assert rx.receipt("again")["recovered"] == "true"
    assert [b["id"] for b in rx.bodies("again")] == ids[9:]


def test_a_non_member_recovers_nothing_and_a_bad_since_id_is_an_error(nodes, closing):
    db, n1, _ = nodes
    alice, mallory = create_user(db), create_user(db)
    room = create_room(db, [alice])
    tx = Tx(n1, alice, "alice@1")
    closing.append(tx)
    tx.burst(room, 3, "secret")
    rx = Rx(n1, mallory, "mallory@1")
    closing.append(rx)
    rx.subscribe(room, "room", since=0)
    err = rx.error()
    assert err.headers["message"] == "forbidden"
    assert rx.messages() == []
    bad = Rx(n1, alice, "alice@1 bad")
    closing.append(bad)
    bad.send("SUBSCRIBE", {"id": "x", "destination": f"/topic/room.{room}", "since-id": "-3", "receipt": "x"})
    err = bad.error()
    assert err.headers["message"] == "invalid since-id"
    assert err.headers["receipt-id"] == "x"


def produce_raw(stack, room: int, value: dict):
    """A record of chat.messages produced around the gateway (key = room id, as chatd does)."""
    p = Producer({"bootstrap.servers": stack.env()["CHATD_KAFKA_BROKERS"], "partitioner": "murmur2_random"})
    p.produce("chat.messages", key=str(room), value=json.dumps(value))
    assert p.flush(10) == 0


def test_replayed_room_events_are_the_live_frames(stack, nodes, closing):
    db, n1, n2 = nodes
    alice, bob = create_user(db, nickname="alice"), create_user(db, nickname="bob")
    room = create_room(db, [alice, bob], name="events")
    tx = Tx(n1, alice, "alice@1")
    live = Rx(n2, bob, "bob@2 live")
    closing.extend([tx, live])
    before = tx.burst(room, 1, "before")[0]
    live.subscribe(room, "room", since=before)
    live.receipt("r-room")
    m1, m2, m3 = tx.burst(room, 3, "m")
    tx.app("/app/chat.react", {"roomId": room, "targetId": m1, "emoji": "👍"}, "react")
    tx.app("/app/chat.react", {"roomId": room, "targetId": m1, "emoji": "👍", "remove": True}, "unreact")
    tx.app("/app/chat.edit", {"roomId": room, "targetId": m1, "content": "edited"}, "edit")
    tx.app("/app/chat.send", {"roomId": room, "content": "a reply", "replyToId": m3}, "reply")
    tx.app("/app/chat.delete", {"roomId": room, "targetId": m2}, "delete")
    # An edit of the deleted message, produced around the gateway: delivered live, stored
    # dropped (room_events.applied = false), replayed all the same.
    produce_raw(stack, room, {"event": "message.edited", "messageKey": str(uuid.uuid4()), "roomId": room,
                              "senderId": alice, "senderNickname": "alice", "targetId": m2, "content": "too late",
                              "createdAt": "2026-12-07T12:00:00.000Z"})
    last = tx.burst(room, 1, "last")[0]
    live.wait(lambda: any(b["id"] == last for b in live.bodies()), 30, "the last message live")
    seen_ids = [b["id"] for b in live.bodies()]
    try:
        wait_for(lambda: stored_ids(db, room, before) == seen_ids, 30, what="all stored")
    except AssertionError:
        raise AssertionError(f"stored {stored_ids(db, room, before)} live {live.bodies()}")
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM room_events WHERE room_id = %s AND NOT applied",
                            (room,)).fetchone()[0] == 1

    rx = Rx(n1, bob, "bob@1 recovering")
    closing.append(rx)
    rx.subscribe(room, "room", since=before)
    assert rx.receipt("r-room")["recovered"] == "true"
    replayed = rx.messages()
    seen = live.messages()
    assert [f.headers["message-id"] for f in replayed] == [f.headers["message-id"] for f in seen]
    events = 0
    for r, l in zip(replayed, seen):
        assert r.headers["chat-event"] == l.headers["chat-event"]
        assert r.headers["destination"] == l.headers["destination"]
        assert r.headers["content-type"] == l.headers["content-type"]
        body = l.json()
        if body["id"] == m1:
            # A message edited since: its latest content (the edit follows in the replay).
            assert r.json() == {**body, "content": "edited"}
        elif body["id"] == m2:
            # Deleted since: the tombstone, as history shows it; nothing of what was deleted.
            t = r.json()
            assert t["deleted"] is True and t["content"] == "" and t["id"] == m2
        else:
            assert r.body == l.body, (r, l)  # byte for byte
            events += l.headers["chat-event"] != "message"
    assert events == 5, "reaction.added, reaction.removed, message.edited x2 (one dropped), message.deleted"


def kafka_end(stack, partition: int) -> int:
    c = Consumer({"bootstrap.servers": stack.env()["CHATD_KAFKA_BROKERS"], "group.id": "t-" + uuid.uuid4().hex})
    try:
        return c.get_watermark_offsets(TopicPartition("chat.messages", partition), timeout=10)[1]
    finally:
        c.close()


def progress(db: str, partition: int) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT next_offset FROM persistence_progress WHERE topic = 'chat.messages' "
                           "AND partition = %s", (partition,)).fetchone()
    return row[0] if row else 0


def test_recovery_waits_for_a_persistence_consumer_that_is_behind(own_stack, chatd_factory):
    """PostgreSQL is stopped while the receiver is away: live delivery goes on, storing stops.
    When it is back, the receiver resubscribes before the consumer (retrying every 3 s) has
    stored the backlog: the recovery waits for the store, then replays everything."""
    db = own_stack.create_database("recovery_pg")
    env = {**FAST, "CHATD_CONSUMER_RETRY_BACKOFF": "3s"}
    n1 = chatd_factory(own_stack, database_url=db, env=env, name="pg-1")
    n2 = chatd_factory(own_stack, database_url=db, env=env, name="pg-2")
    alice, bob = create_user(db, nickname="alice"), create_user(db, nickname="bob")
    room = create_room(db, [alice, bob])
    tx = Tx(n1, alice, "alice@1")
    watcher = Rx(n1, alice, "alice@1 watcher")
    try:
        # A room without a message yet, since-id 0: its partition comes from the producer's
        # partitioner (nothing to wait for on a fresh log): recovered at once, then live.
        empty = create_room(db, [alice, bob])
        fresh = Rx(n2, bob, "bob@2 empty room")
        fresh.subscribe(empty, "e", since=0)
        assert fresh.receipt("r-e", 10)["recovered"] == "true"
        assert fresh.messages() == []
        hello = tx.burst(empty, 1, "hello")[0]
        fresh.wait(lambda: [b["id"] for b in fresh.bodies()] == [hello], 20, "the first message of the room, live")
        fresh.close()
        first = tx.burst(room, 1, "first")[0]
        partition = first >> 40
        wait_for(lambda: progress(db, partition) > (first & MASK), 30, what="the first message stored")
        watcher.subscribe(room, "w", since=first)
        watcher.receipt("r-w")
        own_stack.stop("postgres")
        missed = tx.burst(room, 200, "missed")  # live delivery goes on
        watcher.wait(lambda: len(watcher.messages()) >= 200, 30, "live delivery during the outage")
        own_stack.start("postgres")
        wait_for(lambda: own_stack.healthy("postgres"), 30, what="postgres back")
        end = kafka_end(own_stack, partition)
        during: list[int] = []
        sender = threading.Thread(target=lambda: during.extend(tx.burst(room, 200, "during")), daemon=True)
        rx = Rx(n2, bob, "bob@2 back")
        sender.start()
        rx.subscribe(room, "room", since=first)
        behind = progress(db, partition)
        assert behind < end, f"the consumer caught up before the resubscription ({behind} >= {end}): no test"
        assert rx.receipt("r-room", 60)["recovered"] == "true"
        sender.join(90)
        rx.wait(lambda: len(rx.messages()) >= 400, 60, "400 messages")
        time.sleep(0.5)
        got = [b["id"] for b in rx.bodies()]
        assert got == missed + during, f"{len(got)} messages"
        wait_for(lambda: stored_ids(db, room, first) == got, 60, what="history equal to what bob got")
        rx.close()
    finally:
        tx.close()
        watcher.close()


# --------------------------------------------------------------------------- chatctl tail


def json_lines_of(path) -> list[dict]:
    """The complete lines a process wrote to `path` so far (stdout to a file: no pipe buffering
    between a select() and a readline())."""
    text = path.read_text() if path.exists() else ""
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def test_chatctl_tail_since_id_prints_the_missed_messages(nodes, tmp_path):
    from test_chatctl import Cli
    db, n1, _ = nodes
    alice = Cli(tmp_path / "alice", n1.url).signup("alice")
    room = alice.json("room", "group", "--name", "since")["id"]
    tx = Tx(n1, alice.user_id, "alice@1")
    try:
        ids = tx.burst(room, 5, "m")
    finally:
        tx.close()
    got = alice.jsonl("tail", room, "--since-id", ids[1], "--count", 3)
    assert [m["id"] for m in got] == ids[2:]
    assert [m["content"] for m in got] == ["m 2", "m 3", "m 4"]
    bad = alice.run("tail", room, "--since-id", "-1")
    assert bad.returncode == 2, bad.stderr


def test_chatctl_tail_resumes_after_a_dropped_connection_printing_nothing_twice(stack, nodes, tmp_path):
    """tail follows a room on a node that restarts: it reconnects by itself and subscribes again
    with since-id = the last id it printed; what was sent meanwhile is printed once, in order."""
    from conftest import free_port
    from test_chatctl import CHATCTL, Cli, wait_for_stderr
    db, n1, _ = nodes
    env = {**stack.env(), "CHATD_DATABASE_URL": db, **FAST, "CHATD_ROLES": "gateway",
           "CHATD_HTTP_PORT": str(free_port()), "CHATD_STOMP_PORT": str(free_port())}
    n3 = Chatd(tmp_path, env, [], "rec-restart")
    n3.start().wait_ready()
    tail = None
    tx = None
    try:
        alice = Cli(tmp_path / "alice", n3.url).signup("alice")
        room = alice.json("room", "group", "--name", "resume")["id"]
        tx = Tx(n1, alice.user_id, "alice@1")
        out_path = tmp_path / "tail.out"
        with open(out_path, "w") as out_file:
            tail = subprocess.Popen([str(CHATCTL), "tail", str(room), "--count", "6", "-o", "jsonl"], env=alice.env,
                                    text=True, start_new_session=True, stdout=out_file, stderr=subprocess.PIPE)
        wait_for_stderr(tail, "Following room")
        sent = tx.burst(room, 2, "before")
        wait_for(lambda: len(json_lines_of(out_path)) >= 2, 30, what="the first two messages printed")
        assert n3.stop() == 0
        wait_for_stderr(tail, "lost the connection")
        sent += tx.burst(room, 2, "away")
        n3.start().wait_ready()
        wait_for_stderr(tail, "Resumed room")
        sent += tx.burst(room, 2, "after")
        _, err = tail.communicate(timeout=30)
        assert tail.returncode == 0, err
        got = json_lines_of(out_path)
        assert [m["id"] for m in got] == sent, err
        assert [m["content"] for m in got] == ["before 0", "before 1", "away 0", "away 1", "after 0", "after 1"]
    finally:
        if tail is not None and tail.poll() is None:
            tail.kill()
            tail.wait()
        if tx is not None:
            tx.close()
        n3.stop()
