"""Room events in chat-persistence (issue 14, SPEC §13, docs/pipeline.md "Room events"): raw event
records produced straight to chat.messages on the shared dev broker (as test_pipeline_consumers.py
does) and checked in PostgreSQL: edits, deletes, reactions, pins, replies, exactly-once by
messageKey, what the consumer drops (room_events.applied = false, never dead-lettered) and the
unread counts, which only `message` events change.

One chatd for the module on a fresh database whose ids start in a random high range (foreign
records on the shared broker name rooms that do not exist here). Each test waits for a sentinel
message of its room produced after its events: a room is one partition, so once the sentinel is
stored every earlier record of the room was applied."""
from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
from confluent_kafka import Consumer

from chatlib import create_room, create_user, message_id
from conftest import Chatd, wait_for
from test_pipeline_consumers import (KafkaOut, Subscriber, iso_ms, isolate_ids, log_lines, members, redis_client,
                                     wait_assigned)

MESSAGES = "chat.messages"
DLT = "chat.messages.dlt"
HOUR_MS = 3600 * 1000


@pytest.fixture(scope="module")
def env(stack, tmp_path_factory):
    database = stack.create_database("t_" + uuid.uuid4().hex[:12])
    workdir = tmp_path_factory.mktemp("lifecycle-persist")
    e = dict(stack.env())
    e["CHATD_DATABASE_URL"] = database
    node = Chatd(workdir, e, [], "chatd-lifecycle").start()
    try:
        node.wait_ready()
        isolate_ids(database)
        wait_assigned(node)
        out = KafkaOut(stack)
        # The record at partition 0, offset 0 has message id 0, which a reply cannot name
        # (replyToId 0 means "not a reply"): take that position with a message no test targets.
        users = [create_user(database) for _ in range(2)]
        first = out.message(create_room(database, users), users[0], "first", partition=0)
        out.flush([first])

        def first_stored():
            with psycopg.connect(database) as conn:
                return conn.execute("SELECT 1 FROM messages WHERE message_key = %s", (first["key"],)).fetchone()
        wait_for(first_stored, 60, what="first stored")
        yield database, node, out
        out.producer.flush(10)
    finally:
        node.stop()


def now_ms() -> int:
    return int(time.time() * 1000)


class Room:
    """A GROUP room of three members (the first is its creator, i.e. its admin) and what was produced to it."""

    def __init__(self, env):
        self.db, self.node, self.out = env
        self.users = [create_user(self.db, nickname=f"m{i}") for i in range(3)]
        self.id = create_room(self.db, self.users)
        self.sent: list[dict] = []

    def message(self, sender: int, content: str = "hello", **fields) -> dict:
        key = str(uuid.uuid4())
        value = {"messageKey": key, "roomId": self.id, "senderId": sender, "senderNickname": f"n{sender}",
                 "content": content, "type": fields.pop("type", "TEXT"),
                 "createdAt": iso_ms(fields.pop("created_ms", None) or now_ms())}
        value.update(fields)
        return self._send(value)

    def event(self, kind: str, sender: int, target: int, key: str | None = None, created_ms: int | None = None,
              **fields) -> dict:
        value = {"event": kind, "messageKey": key or str(uuid.uuid4()), "roomId": self.id, "senderId": sender,
                 "senderNickname": f"n{sender}", "targetId": target, **fields,
                 "createdAt": iso_ms(created_ms or now_ms())}
        return self._send(value)

    def _send(self, value: dict) -> dict:
        where = self.out.send(MESSAGES, str(self.id), json.dumps(value), value["messageKey"])
        where["key"] = value["messageKey"]
        self.sent.append(where)
        return where

    def settle(self, timeout: float = 60) -> None:
        """Produces a sentinel message and waits until it is stored (so is everything before it)."""
        s = self.message(self.users[2], "sentinel")
        self.out.flush(self.sent)
        wait_for(lambda: self.query("SELECT 1 FROM messages WHERE message_key = %s", s["key"]), timeout,
                 what="sentinel stored")

    def id_of(self, where: dict) -> int:
        self.out.flush([where])
        return message_id(where["partition"], where["offset"])

    def stored(self, where: dict) -> int:
        """Flushes, waits until the message is stored and returns its id."""
        mid = self.id_of(where)
        wait_for(lambda: self.query("SELECT 1 FROM messages WHERE id = %s", mid), 60, what="message stored")
        return mid

    def query(self, sql: str, *args) -> list[tuple]:
        with psycopg.connect(self.db) as conn:
            return conn.execute(sql, args).fetchall()

    def row(self, mid: int) -> dict:
        cols = ("content", "deleted", "edited_ms", "attachment", "file_id", "forwarded_from", "reply_to_id",
                "thread_root_id", "reply_count", "last_reply_ms", "type")
        r = self.query("SELECT content, deleted, floor(extract(epoch FROM edited_at) * 1000)::bigint, attachment, "
                       "attachment_file_id::text, forwarded_from, reply_to_id, thread_root_id, reply_count, "
                       "floor(extract(epoch FROM last_reply_at) * 1000)::bigint, type FROM messages WHERE id = %s",
                       mid)
        assert r, f"message {mid} not stored"
        return dict(zip(cols, r[0]))

    def applied(self, where: dict):
        """room_events.applied of an event record (None: no row)."""
        r = self.query("SELECT applied FROM room_events WHERE message_key = %s", where["key"])
        return r[0][0] if r else None

    def reactions(self, mid: int) -> set:
        return set(self.query("SELECT emoji, user_id FROM message_reactions WHERE message_id = %s", mid))

    def pins(self) -> set:
        return {r[0] for r in self.query("SELECT message_id FROM room_pins WHERE room_id = %s", self.id)}

    def unread(self) -> dict:
        return {u: n for u, (n, _) in members(self.db, self.id).items()}


def dead_lettered(node, records) -> list[dict]:
    """The persistence consumer's dead-letter log lines for these records."""
    where = {(r["partition"], r["offset"]) for r in records}
    return [l for l in log_lines(node, "record dead-lettered") if (l.get("partition"), l.get("offset")) in where]


def dlt_keys(bootstrap: str) -> set[str]:
    """The message-key headers of every record on chat.messages.dlt (read from the beginning)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "pytest-" + uuid.uuid4().hex,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    keys: set[str] = set()
    try:
        c.subscribe([DLT])
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 3:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            idle_since = time.monotonic()
            for k, v in m.headers() or []:
                if k == "message-key" and v:
                    keys.add(v.decode())
    finally:
        c.close()
    return keys


# ---------------------------------------------------------------------------- edits, exactly once


def test_edits_apply_once_per_message_key_and_the_rules_drop_what_a_race_allows(env, stack):
    room = Room(env)
    a, b, _ = room.users
    sub = Subscriber(stack, [room.id])
    m = room.stored(room.message(a, "original"))
    old = room.stored(room.message(a, "old", created_ms=now_ms() - 49 * HOUR_MS))

    edit_key = str(uuid.uuid4())
    edit = room.event("message.edited", a, m, key=edit_key, content="edited once")
    again = room.event("message.edited", a, m, key=edit_key, content="edited twice?")  # same messageKey
    foreign = room.event("message.edited", b, m, content="not mine")
    late = room.event("message.edited", a, old, content="too late")  # 49 h after the message: window is 48 h
    room.settle()

    r = room.row(m)
    assert r["content"] == "edited once" and not r["deleted"]
    assert r["edited_ms"] is not None and abs(r["edited_ms"] - now_ms()) < 120_000
    assert room.query("SELECT count(*) FROM room_events WHERE message_key = %s", edit_key)[0][0] == 1
    assert room.query("SELECT id, content FROM room_events WHERE message_key = %s", edit_key)[0] == (
        room.id_of(edit), "edited once"), "the first record's id wins"
    assert room.applied(edit) is True
    assert room.applied(foreign) is False and room.applied(late) is False
    assert room.row(old)["content"] == "old" and room.row(old)["edited_ms"] is None
    assert again["key"] == edit_key
    # Dropped, not dead-lettered: the drops are logged at info with their reason.
    reasons = {(l["offset"], l["reason"]) for l in log_lines(room.node, "room event dropped")
               if l.get("room_id") == room.id}
    assert {(foreign["offset"], "not_sender"), (late["offset"], "edit_window_closed")} <= reasons
    assert dead_lettered(room.node, [edit, again, foreign, late]) == []

    # chat-broadcast delivers events live like messages, once per messageKey, with their id;
    # it does not apply the rules (a dropped event is delivered too: history has the outcome).
    try:
        wait_for(lambda: len(sub.keys_in_order(room.id)) >= 6, 30, what="published")
        got = sub.by_key()
        assert len(got[edit_key]) == 1, "the repeated messageKey is published once"
        body = got[edit_key][0][1]
        assert (body["event"], body["id"], body["targetId"], body["content"]) == (
            "message.edited", room.id_of(edit), m, "edited once")
        assert "type" not in body
        assert got[foreign["key"]][0][1]["event"] == "message.edited"
    finally:
        sub.close()


# ---------------------------------------------------------------------------- deletes


def test_delete_is_terminal_edits_after_it_are_dropped_not_dead_lettered(env):
    room = Room(env)
    a, b, c = room.users
    file_id = str(uuid.uuid4())
    attachment = {"url": f"/api/files/{file_id}", "name": "cat.png", "size": 1234, "mimeType": "image/png",
                  "width": 10, "height": 20}
    m = room.stored(room.message(a, "caption", type="IMAGE", attachment=attachment,
                                 forwardedFrom={"roomId": 1, "messageId": 2, "senderNickname": "x"}))
    r = room.row(m)
    assert r["attachment"] == attachment and r["file_id"] == file_id and r["type"] == "IMAGE"
    assert r["forwarded_from"] == {"roomId": 1, "messageId": 2, "senderNickname": "x"}

    # A reaction and a pin stored first, then in one go: delete, edit (the race), reaction, pin.
    room.event("reaction.added", b, m, emoji="👍")
    room.event("message.pinned", a, m)
    room.settle()
    assert room.reactions(m) == {("👍", b)} and room.pins() == {m}

    delete = room.event("message.deleted", a, m)
    edit_same_batch = room.event("message.edited", a, m, content="resurrected?")
    react = room.event("reaction.added", c, m, emoji="🎉")
    pin = room.event("message.pinned", a, m)
    room.settle()
    edit_later = room.event("message.edited", a, m, content="again?")  # a later batch
    room.settle()

    r = room.row(m)
    assert r["deleted"] is True and r["content"] == ""
    assert r["attachment"] is None and r["file_id"] is None, "the file can be cleaned up"
    assert room.reactions(m) == set() and room.pins() == set()
    assert room.applied(delete) is True
    assert [room.applied(e) for e in (edit_same_batch, react, pin, edit_later)] == [False] * 4
    events = [delete, edit_same_batch, react, pin, edit_later]
    assert dead_lettered(room.node, events) == []
    assert not {e["key"] for e in events} & dlt_keys(room.out.bootstrap), "nothing on chat.messages.dlt"


# ---------------------------------------------------------------------------- reactions


def test_reactions_are_net_per_message_emoji_and_user(env):
    room = Room(env)
    a, b, c = room.users
    m = room.stored(room.message(a, "react to me"))
    add_key = str(uuid.uuid4())
    room.event("reaction.added", b, m, key=add_key, emoji="👍")
    room.event("reaction.added", b, m, emoji="👍")  # twice: nothing more
    room.event("reaction.added", c, m, emoji="🎉")
    room.event("reaction.removed", c, m, emoji="🎉")
    room.event("reaction.removed", a, m, emoji="❤️")  # not there: nothing
    room.event("reaction.added", c, m, emoji="🎉")  # add, remove, add
    room.event("reaction.removed", b, m, emoji="👍")
    room.event("reaction.added", b, m, key=add_key, emoji="👍")  # a redelivery of the first add: applies nothing
    room.settle()
    assert room.reactions(m) == {("🎉", c)}

    room.event("reaction.added", a, m, emoji="👍")  # a later batch
    room.settle()
    assert room.reactions(m) == {("🎉", c), ("👍", a)}
    assert room.query("SELECT count(*) FROM room_events WHERE room_id = %s AND NOT applied", room.id)[0][0] == 0


# ---------------------------------------------------------------------------- pins


def test_a_room_has_at_most_three_pins(env):
    room = Room(env)
    a, _, _ = room.users
    ms = [room.message(a, f"m{i}") for i in range(5)]
    ids = [room.id_of(w) for w in ms]
    room.settle()
    pins = [room.event("message.pinned", a, mid) for mid in ids[:4]]
    room.event("message.pinned", a, ids[0])  # pinned already: nothing
    room.settle()
    assert room.pins() == set(ids[:3])
    assert [room.applied(p) for p in pins] == [True, True, True, False]

    room.event("message.unpinned", a, ids[0])
    room.event("message.pinned", a, ids[4])
    room.event("message.pinned", a, ids[3])  # the room has 3 again: dropped
    room.event("message.unpinned", a, ids[0])  # not pinned any more: nothing
    room.settle()
    assert room.pins() == {ids[1], ids[2], ids[4]}
    assert room.query("SELECT pinned_by FROM room_pins WHERE message_id = %s", ids[4]) == [(a,)]


# ---------------------------------------------------------------------------- replies


def test_replies_count_on_their_thread_root(env):
    room = Room(env)
    a, b, c = room.users
    root_w = room.message(a, "root")
    root = room.id_of(root_w)
    t1 = now_ms()
    x = room.message(b, "reply 1", replyToId=root, threadRootId=root, created_ms=t1)
    x_id = room.id_of(x)  # root and first reply may share a batch
    room.message(c, "reply 2", replyToId=root, threadRootId=root, created_ms=t1 + 10)
    dup = room.message(c, "reply 3", replyToId=x_id, threadRootId=root, created_ms=t1 + 20)
    room.settle()
    # The same reply again (a client retry): inserted nothing, counts nothing.
    room.out.send(MESSAGES, str(room.id), json.dumps({
        "messageKey": dup["key"], "roomId": room.id, "senderId": c, "senderNickname": "n", "content": "reply 3",
        "type": "TEXT", "replyToId": x_id, "threadRootId": root, "createdAt": iso_ms(t1 + 20)}), dup["key"])
    room.settle()

    r = room.row(root)
    assert r["reply_count"] == 3 and r["last_reply_ms"] == t1 + 20
    assert r["thread_root_id"] is None and r["reply_to_id"] is None
    reply = room.row(room.id_of(dup))
    assert (reply["reply_to_id"], reply["thread_root_id"]) == (x_id, root)
    assert room.row(x_id)["reply_count"] == 0, "a reply to a reply counts on the root only"


# ---------------------------------------------------------------------------- unread counts


def test_only_message_events_count_as_unread(env, stack):
    room = Room(env)
    a, b, c = room.users
    m = room.stored(room.message(a, "one"))
    wait_for(lambda: room.unread() == {a: 0, b: 1, c: 1}, 30, what="one unread for b and c")
    before = room.unread()
    room.event("message.edited", a, m, content="one, edited")
    room.event("reaction.added", b, m, emoji="👍")
    room.event("message.pinned", a, m)
    room.event("message.unpinned", a, m)
    room.event("message.deleted", a, m)
    # settle() sends a message from c: b and a get one unread more, nothing else.
    room.settle()
    expected = {a: before[a] + 1, b: before[b] + 1, c: before[c]}
    assert room.unread() == expected
    r = redis_client(stack)
    for u in (a, b):
        wait_for(lambda: json.loads(r.get(f"unread:{room.id}:{u}") or "{}").get("unreadCount") == expected[u], 10,
                 what="the unread cache agrees")
