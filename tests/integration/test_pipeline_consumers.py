"""The Kafka consumers inside chatd (docs/architecture.md, docs/events.md, docs/topics.md, docs/topics.md, docs/schema.md): chat-persistence,
chat-broadcast and chat-read-receipts, driven by records produced straight to Kafka with
confluent-kafka and checked in PostgreSQL (psycopg) and Redis (redis-py).

The shared stack's Kafka is shared by every test: records another test left behind may
reach this test's chatd. Each test therefore moves its database's user and room ids to a
random high range, so foreign records name rooms that do not exist here (and are skipped
as poison), and checks only its own messageKeys and rooms."""
from __future__ import annotations

import datetime
import json
import random
import threading
import time
import uuid

import psycopg
import pytest
import redis
from confluent_kafka import Producer

from chatlib import create_room, create_user, message_id
from conftest import wait_for

MESSAGES = "chat.messages"
RECEIPTS = "chat.read-receipts"
PARTITIONS = 6


# ---------------------------------------------------------------------------- helpers


def iso_ms(ms: int) -> str:
    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def message_value(room: int, sender: int, content: str, key: str | None = None, nickname: str = "nick",
                  type_: str = "TEXT", created_ms: int | None = None) -> str:
    return json.dumps({
        "messageKey": key or str(uuid.uuid4()),
        "roomId": room,
        "senderId": sender,
        "senderNickname": nickname,
        "content": content,
        "type": type_,
        "createdAt": iso_ms(created_ms if created_ms is not None else int(time.time() * 1000)),
    })


class KafkaOut:
    """Produces like chatd's gateway (acks=all, idempotent, key = roomId, docs/topics.md headers) and
    records where every record landed."""

    def __init__(self, stack):
        self.bootstrap = stack.env()["CHATD_KAFKA_BROKERS"]
        self.producer = Producer({
            "bootstrap.servers": self.bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "partitioner": "murmur2_random",  # what chatd's producer uses
        })

    def send(self, topic: str, key: str, value: str | bytes, message_key: str | None = None,
             partition: int | None = None) -> dict:
        """Queues one record; the returned dict gets partition/offset once delivered."""
        where: dict = {}

        def delivered(err, msg):
            where["error"] = err
            if err is None:
                where["partition"] = msg.partition()
                where["offset"] = msg.offset()

        headers = [("sent-at", str(int(time.time() * 1000))), ("origin-node", "pytest")]
        if message_key:
            headers.insert(0, ("message-key", message_key))
        kwargs = {"key": key, "value": value, "headers": headers, "on_delivery": delivered}
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self.producer.produce(topic, **kwargs)
                break
            except BufferError:
                self.producer.poll(0.05)
        self.producer.poll(0)
        return where

    def message(self, room: int, sender: int, content: str, key: str | None = None, partition: int | None = None,
                **fields) -> dict:
        key = key or str(uuid.uuid4())
        where = self.send(MESSAGES, str(room), message_value(room, sender, content, key=key, **fields), key, partition)
        where["key"] = key
        where["room"] = room
        where["sender"] = sender
        where["content"] = content
        return where

    def receipt(self, room: int, user: int, last_read: int) -> dict:
        value = json.dumps({"roomId": room, "userId": user, "lastReadMessageId": last_read,
                            "at": iso_ms(int(time.time() * 1000))})
        return self.send(RECEIPTS, str(room), value)

    def flush(self, records=()):
        assert self.producer.flush(30) == 0, "records not acknowledged"
        for r in records:
            assert r.get("error") is None and "offset" in r, f"delivery failed: {r}"


def isolate_ids(db_url: str):
    """Moves user and room ids to a random high range (see the module docstring)."""
    base = random.randrange(10**9, 10**12)
    with psycopg.connect(db_url) as conn:
        conn.execute(f"ALTER TABLE users ALTER COLUMN id RESTART WITH {base}")
        conn.execute(f"ALTER TABLE chat_rooms ALTER COLUMN id RESTART WITH {base}")


def stored(db_url: str, keys) -> dict:
    """messageKey -> row dict, for the given keys."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT message_key::text, id, room_id, sender_id, sender_nickname, content, type, "
            "kafka_partition, kafka_offset, floor(extract(epoch FROM created_at) * 1000)::bigint "
            "FROM messages WHERE message_key = ANY(%s::uuid[])", (list(keys),)).fetchall()
    cols = ("key", "id", "room", "sender", "nickname", "content", "type", "partition", "offset", "created_ms")
    return {r[0]: dict(zip(cols, r)) for r in rows}


def members(db_url: str, room: int) -> dict:
    """user_id -> (unread_count, last_read_message_id)"""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT user_id, unread_count, last_read_message_id FROM chat_room_members "
                            "WHERE room_id = %s", (room,)).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def redis_client(stack) -> redis.Redis:
    return redis.Redis.from_url(stack.env()["CHATD_REDIS_URL"], decode_responses=True)


class Subscriber:
    """Collects what chatd PUBLISHes on chat:room:{id} channels, on its own thread."""

    def __init__(self, stack, rooms):
        self.client = redis_client(stack)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(*[f"chat:room:{r}" for r in rooms])
        self.messages: list[tuple[str, dict, float]] = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                m = self.pubsub.get_message(timeout=0.2)
            except (redis.ConnectionError, OSError):
                time.sleep(0.1)  # Redis restarting; redis-py re-subscribes on the next call
                continue
            if m and m["type"] == "message":
                with self.lock:
                    self.messages.append((m["channel"], json.loads(m["data"]), time.time()))

    def by_key(self) -> dict:
        out: dict = {}
        with self.lock:
            for channel, body, _ in self.messages:
                out.setdefault(body["messageKey"], []).append((channel, body))
        return out

    def keys_in_order(self, room: int) -> list[str]:
        with self.lock:
            return [b["messageKey"] for c, b, _ in self.messages if c == f"chat:room:{room}"]

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.pubsub.close()


def log_lines(node, msg: str) -> list[dict]:
    out = []
    for line in node.log_path.read_text(errors="replace").splitlines():
        if f'"msg":"{msg}"' in line:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


ALL_GROUPS = ("chat-persistence", "chat-broadcast", "chat-read-receipts")


def wait_assigned(node, groups=ALL_GROUPS, timeout: float = 150):
    """Waits until the node's consumers of `groups` have partitions. Usually 3-5 s; on the
    shared stack much longer right after tests that start and stop many chatd nodes
    within a second each: every member that joins and vanishes mid-rebalance makes the dev
    broker's coordinator wait another session timeout."""
    wait_for(lambda: set(groups) <= {l["group"] for l in log_lines(node, "partitions assigned")}, timeout,
             what=f"{node.name}: partitions assigned to {groups}")


def three_member_room(db_url: str):
    users = [create_user(db_url, nickname=f"member{i}") for i in range(3)]
    return create_room(db_url, users), users


@pytest.fixture
def node(stack, database, chatd_factory):
    n = chatd_factory(stack, database_url=database)
    isolate_ids(database)
    wait_assigned(n)
    return n


@pytest.fixture
def kafka_out(stack):
    k = KafkaOut(stack)
    yield k
    k.producer.flush(10)


@pytest.fixture
def subscriber_factory(stack):
    subs = []

    def make(rooms):
        s = Subscriber(stack, rooms)
        subs.append(s)
        return s

    yield make
    for s in subs:
        s.close()


# ---------------------------------------------------------------------------- persistence


def test_pipeline_persists_in_partition_order_with_ids_and_unread_counts(stack, database, node, kafka_out):
    rooms = [three_member_room(database) for _ in range(4)]
    sent = []
    for i in range(60):
        room, users = rooms[i % len(rooms)]
        sender = users[i % 3]
        sent.append(kafka_out.message(room, sender, f"hello {i} \"quoted\" {{braces}} \\ NULL ünïcødé", nickname=f"n{sender}"))
    kafka_out.flush(sent)

    keys = [s["key"] for s in sent]
    rows = wait_for(lambda: (r := stored(database, keys)) and len(r) == len(keys) and r, 60, what="60 rows")

    for s in sent:
        row = rows[s["key"]]
        assert row["id"] == message_id(s["partition"], s["offset"]), "id = (partition << 40) | offset"
        assert (row["partition"], row["offset"]) == (s["partition"], s["offset"])
        assert (row["room"], row["sender"], row["content"]) == (s["room"], s["sender"], s["content"])
        assert row["nickname"] == f"n{s['sender']}" and row["type"] == "TEXT"
    # A room's messages are in one partition; ordered by id they are in produce order.
    for room, _ in rooms:
        mine = [s for s in sent if s["room"] == room]
        assert len({s["partition"] for s in mine}) == 1
        with psycopg.connect(database) as conn:
            by_id = [r[0] for r in conn.execute(
                "SELECT message_key::text FROM messages WHERE room_id = %s ORDER BY id", (room,)).fetchall()]
        assert by_id == [s["key"] for s in mine]

    # Every member's unread count = messages others sent; the cache says the same.
    r = redis_client(stack)
    for room, users in rooms:
        expected = {u: sum(1 for s in sent if s["room"] == room and s["sender"] != u) for u in users}
        wait_for(lambda: {u: c for u, (c, _) in members(database, room).items()} == expected, 10,
                 what=f"unread counts of room {room}")
        for u in users:
            cached = wait_for(lambda: r.get(f"unread:{room}:{u}"), 10, what="unread cache")
            assert json.loads(cached) == {"unreadCount": expected[u], "lastReadMessageId": 0}


def test_pipeline_stores_and_publishes_a_repeated_message_key_once(stack, database, node, kafka_out,
                                                                    subscriber_factory):
    room, (a, b, c) = three_member_room(database)
    sub = subscriber_factory([room])
    key = str(uuid.uuid4())
    # A client retry, then the same record re-produced twice more.
    copies = [kafka_out.message(room, a, f"copy {i}", key=key) for i in range(3)]
    kafka_out.flush(copies)
    # Later records of the same room (same partition): once they are through, the copies were too.
    sentinel = kafka_out.message(room, b, "sentinel")
    kafka_out.flush([sentinel])

    wait_for(lambda: sentinel["key"] in sub.by_key(), 60, what="sentinel published")
    got = sub.by_key()
    assert len(got[key]) == 1, f"published {len(got[key])} times"
    first_id = message_id(copies[0]["partition"], copies[0]["offset"])
    assert got[key][0][1]["id"] == first_id
    assert got[key][0][1]["content"] == "copy 0"
    assert sub.keys_in_order(room) == [key, sentinel["key"]]

    rows = wait_for(lambda: (r := stored(database, [key, sentinel["key"]])) and len(r) == 2 and r, 30,
                    what="rows stored")
    assert rows[key]["id"] == first_id and rows[key]["content"] == "copy 0"
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM messages WHERE room_id = %s", (room,)).fetchone()[0] == 2
    # b and c got one unread message from a's key (not three); a and c one from b's sentinel.
    wait_for(lambda: {u: n for u, (n, _) in members(database, room).items()} == {a: 1, b: 1, c: 2}, 10,
             what="unread counts")


def test_pipeline_skips_poison_records_and_keeps_the_partition_moving(stack, database, node, kafka_out,
                                                                      subscriber_factory):
    room, (a, b, _) = three_member_room(database)
    sub = subscriber_factory([room])
    partition = random.randrange(PARTITIONS)
    good1 = kafka_out.message(room, a, "before", partition=partition)
    kafka_out.flush([good1])
    poison = [
        kafka_out.send(MESSAGES, str(room), b"{not json", partition=partition),
        kafka_out.send(MESSAGES, str(room), json.dumps({"messageKey": str(uuid.uuid4()), "roomId": room}),
                       partition=partition),  # schema-invalid: no sender, content, ...
        kafka_out.send(MESSAGES, str(room), message_value(room, a, "x" * 4001), partition=partition),  # too long
        kafka_out.send(MESSAGES, "1", message_value(room + 987654321, a, "no such room"), partition=partition),
        kafka_out.message(room, a + 987654321, "no such sender", partition=partition),
    ]
    kafka_out.flush(poison)
    good = [kafka_out.message(room, b, f"after {i}", partition=partition) for i in range(3)]
    kafka_out.flush(good)

    keys = [good1["key"]] + [g["key"] for g in good]
    rows = wait_for(lambda: (r := stored(database, keys)) and len(r) == 4 and r, 60, what="good records stored")
    for g in [good1, *good]:
        assert rows[g["key"]]["id"] == message_id(partition, g["offset"])
    # Broadcast needs no database: a record of an unknown sender is well-formed, so it is
    # delivered live (only records produced around chatd's gateway can be like that).
    live = [good1["key"], poison[4]["key"]] + [g["key"] for g in good]
    wait_for(lambda: sub.keys_in_order(room) == live, 30, what="good records published in order")
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 4

    # Each poison record was dead-lettered (logged with its position) by both consumer groups that read it
    # (unknown room/sender only matter to persistence).
    def skipped(group):
        return {(l["partition"], l["offset"]) for l in log_lines(node, "record dead-lettered")
                if l.get("group") == group}
    expected = {(partition, p["offset"]) for p in poison}
    wait_for(lambda: expected <= skipped("chat-persistence"), 10, what="persistence logged every poison record")
    assert {(partition, p["offset"]) for p in poison[:3]} <= skipped("chat-broadcast")
    classes = {l["error_class"] for l in log_lines(node, "record dead-lettered")
               if l.get("group") == "chat-persistence" and (l["partition"], l["offset"]) in expected}
    assert {"invalid_json", "unknown_room", "unknown_sender", "bad_length"} <= classes


# ---------------------------------------------------------------------------- read receipts


def test_pipeline_read_receipts_move_forward_only_and_recompute_unread(stack, database, node, kafka_out):
    room, (a, b, c) = three_member_room(database)
    sent = [kafka_out.message(room, a, f"m{i}") for i in range(5)]
    kafka_out.flush(sent)
    ids = [message_id(s["partition"], s["offset"]) for s in sent]
    wait_for(lambda: members(database, room)[b] == (5, 0), 60, what="b has 5 unread")

    r = redis_client(stack)
    kafka_out.flush([kafka_out.receipt(room, b, ids[2])])
    wait_for(lambda: members(database, room)[b] == (2, ids[2]), 30, what="b read up to the third")
    wait_for(lambda: json.loads(r.get(f"unread:{room}:{b}") or "{}") == {"unreadCount": 2, "lastReadMessageId": ids[2]},
             10, what="cache follows")

    # An older receipt, then receipts of a non-member and an unknown room (poison), then c's
    # receipt in the same room (same partition): once c's is applied, the others were too.
    outsider = create_user(database)
    kafka_out.flush([kafka_out.receipt(room, b, ids[0]),
                     kafka_out.receipt(room, outsider, ids[4]),
                     kafka_out.receipt(room + 987654321, b, ids[4]),
                     kafka_out.receipt(room, c, ids[4])])
    wait_for(lambda: members(database, room)[c] == (0, ids[4]), 30, what="c read everything")
    assert members(database, room)[b] == (2, ids[2]), "last-read never moves backwards"
    assert members(database, room)[a] == (0, 0)
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM chat_room_members WHERE user_id = %s", (outsider,)).fetchone()[0] == 0
    wait_for(lambda: len([l for l in log_lines(node, "record dead-lettered")
                          if l.get("group") == "chat-read-receipts" and l.get("error_class") == "not_a_member"]) >= 2,
             10, what="two poison receipts dead-lettered")

    # New messages after the receipt count again for b; a's own do not count for a.
    more = [kafka_out.message(room, a, "m5"), kafka_out.message(room, c, "m6")]
    kafka_out.flush(more)
    wait_for(lambda: members(database, room) == {a: (1, 0), b: (4, ids[2]), c: (1, ids[4])}, 30,
             what="unread after more messages")


# ---------------------------------------------------------------------------- roles


def test_pipeline_roles_start_only_the_enabled_consumers(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database, args=["--roles", "gateway,broadcast"])
    started = wait_for(lambda: log_lines(node, "consumer started"), 10, what="consumer started")
    assert {l["group"] for l in started} == {"chat-broadcast"}
    wait_assigned(node, ["chat-broadcast"])
    assert {l["group"] for l in log_lines(node, "consumer started")} == {"chat-broadcast"}
