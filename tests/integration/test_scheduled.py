"""Scheduled messages (SPEC §16, docs/rest.md "Scheduled messages", docs/operations.md
"Scheduler") on three chatd nodes that all run the scheduler role (--scheduler-tick 200ms) and
share one Kafka, one Redis (of the module's own: SharedPostgresStack) and one PostgreSQL database:

- POST/GET/DELETE /api/rooms/{id}/scheduled: validation, members only, the author only, the
  per-user limit, a DIRECT room of a blocked pair;
- a one-off is delivered live (on another node than the one it was scheduled on) and stored once,
  with the messageKey derived from (schedule, occurrence), and the schedule is done;
- the author left the room before it came due: cancelled, not sent;
- a node SIGKILLed while a dozen one-offs come due a second apart: every occurrence is stored
  exactly once (PostgreSQL) and delivered live once;
- every scheduler node down past a due time: the node started again sends it late, marked
  scheduledFor (live and in history); a daily schedule that missed three days sends only the
  newest of them;
- chatctl schedule add / list / rm.

Clients the project did not write: requests, psycopg, python3-websocket (frames from
stomp_ws.py)."""
from __future__ import annotations

import datetime
import re
import signal
import time
import uuid

import psycopg
import pytest
import requests
from confluent_kafka import Consumer, TopicPartition

from chatlib import create_room, create_user, make_token
from conftest import FAST, Chatd, SharedPostgresStack, share_logs, unshare_logs, wait_for
from test_chatctl import FORBIDDEN, NOT_FOUND, USAGE, Cli
from test_rest_common import expect_error
from test_stomp_lifecycle import Raw, room_events

TICK = "200ms"


@pytest.fixture(scope="module")
def cluster(stack, tmp_path_factory):
    root = tmp_path_factory.mktemp("scheduled")
    own = SharedPostgresStack(root / "stack", stack)
    nodes = []
    try:
        for i in (1, 2, 3):
            e = dict(own.env())
            e.update(FAST)
            e["CHATD_SCHEDULER_TICK"] = TICK
            nodes.append(Chatd(root, e, [], f"sched-{i}").start())
        for n in nodes:
            n.wait_ready()
        names = share_logs("scheduled", {**{n.name: n.log_path for n in nodes}, **own.own_log_paths()})
        yield {"nodes": nodes, "db": own.database_url, "root": root, "brokers": own.env()["CHATD_KAFKA_BROKERS"]}
        unshare_logs(names)
    finally:
        for n in nodes:
            n.stop()
        own.stop_all()


def call(node, method: str, path: str, user: int | None, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {make_token(user)}"} if user else {}
    return requests.request(method, f"{node.url}{path}", headers=headers, timeout=30, **kw)


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def occurrence_key(sid: int, occurrence_ms: int) -> str:
    """The messageKey chatd derives for an occurrence (docs/rest.md "Scheduled messages")."""
    high = ((occurrence_ms & ((1 << 48) - 1)) << 16) | (8 << 12) | 0x5CD
    low = (2 << 62) | (sid & ((1 << 62) - 1))
    h = f"{high:016x}{low:016x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def schedule(node, user: int, room: int, content: str, send_at_ms: int, repeat: str | None = None) -> dict:
    body = {"content": content, "sendAt": iso(send_at_ms)}
    if repeat:
        body["repeat"] = repeat
    r = call(node, "POST", f"/api/rooms/{room}/scheduled", user, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def stored_by_key(db: str, keys: list[str]) -> dict[str, int]:
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT message_key::text, count(*) FROM messages WHERE message_key = ANY(%s::uuid[]) "
                            "GROUP BY message_key", (keys,)).fetchall()
    return dict(rows)


def records_by_key(brokers: str, keys: list[str]) -> dict[str, int]:
    """How many records of chat.messages carry each of `keys` as their message-key header (the
    whole topic, read up to its end now)."""
    c = Consumer({"bootstrap.servers": brokers, "group.id": "t-" + uuid.uuid4().hex, "enable.auto.commit": False})
    try:
        partitions = c.list_topics("chat.messages", timeout=10).topics["chat.messages"].partitions
        ends = {p: c.get_watermark_offsets(TopicPartition("chat.messages", p), timeout=10)[1] for p in partitions}
        c.assign([TopicPartition("chat.messages", p, 0) for p, end in ends.items() if end > 0])
        left = {p for p, end in ends.items() if end > 0}
        counts: dict[str, int] = {}
        deadline = time.monotonic() + 30
        while left and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            key = dict(m.headers() or []).get("message-key", b"").decode()
            if key in keys:
                counts[key] = counts.get(key, 0) + 1
            if m.offset() + 1 >= ends[m.partition()]:
                left.discard(m.partition())
        assert not left, f"chat.messages not read to its end: partitions {left}"
        return counts
    finally:
        c.close()


def schedule_row(db: str, sid: int) -> dict:
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT status, cancel_reason, sent_count, floor(extract(epoch FROM next_at) * 1000)::bigint "
                           "FROM scheduled_messages WHERE id = %s", (sid,)).fetchone()
    return {"status": row[0], "reason": row[1], "sent": row[2], "next_ms": row[3]}


def history(node, user: int, room: int) -> list[dict]:
    r = call(node, "GET", f"/api/rooms/{room}/messages?size=100", user)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def metric_sum(nodes, series: str) -> float:
    """The sum over the running `nodes` of one series ('name' or 'name{labels}') of /metrics."""
    total = 0.0
    for node in nodes:
        if node.proc is None or node.proc.poll() is not None:
            continue
        for line in requests.get(node.metrics_url, timeout=10).text.splitlines():
            name, _, value = line.rpartition(" ")
            if name == series:
                total += float(value)
    return total


# --------------------------------------------------------------------------- the routes


def test_create_list_cancel_validate_and_check_permissions(cluster):
    n1, n2, n3 = cluster["nodes"]
    db = cluster["db"]
    ann, bob, carl = (create_user(db, nickname=n) for n in ("ann", "bob", "carl"))
    room = create_room(db, [ann, bob], name="ops")
    later = now_ms() + 3_600_000
    path = f"/api/rooms/{room}/scheduled"

    created = schedule(n1, ann, room, "stand-up", later, "weekly")
    assert created["roomId"] == room and created["authorId"] == ann and created["content"] == "stand-up"
    assert created["repeat"] == "weekly" and created["sendAt"] == iso(later) == created["firstSendAt"]
    assert created["createdAt"].endswith("Z") and created["id"] > 0
    once = schedule(n2, ann, room, "retro", later + 60_000)
    assert once["repeat"] is None
    theirs = schedule(n3, bob, room, "bob's", later)
    # An offset is taken as what it means in UTC.
    r = call(n1, "POST", path, ann, json={"content": "offset", "sendAt": iso(later)[:-1] + "+00:00"})
    assert r.status_code == 201 and r.json()["sendAt"] == iso(later), r.text
    assert call(n1, "DELETE", f"{path}/{r.json()['id']}", ann).status_code == 204

    # Validation (400), before anything is stored.
    for body, code in (
        ({"sendAt": iso(later)}, "validation_error"),
        ({"content": "   ", "sendAt": iso(later)}, "validation_error"),
        ({"content": "x" * 4001, "sendAt": iso(later)}, "validation_error"),
        ({"content": "x"}, "validation_error"),
        ({"content": "x", "sendAt": "tomorrow"}, "validation_error"),
        ({"content": "x", "sendAt": later}, "validation_error"),
        ({"content": "x", "sendAt": iso(now_ms() - 120_000)}, "validation_error"),  # in the past
        ({"content": "x", "sendAt": iso(now_ms() + 400 * 86_400_000)}, "validation_error"),  # > 366 days
        ({"content": "x", "sendAt": iso(later), "repeat": "hourly"}, "validation_error"),
    ):
        expect_error(call(n1, "POST", path, ann, json=body), 400, code)
    r = requests.post(n1.url + path, data="{nope", timeout=10,
                      headers={"Authorization": f"Bearer {make_token(ann)}", "Content-Type": "application/json"})
    expect_error(r, 400, "invalid_json")
    for bad in ("abc", "0", "-1"):
        expect_error(call(n1, "POST", f"/api/rooms/{bad}/scheduled", ann, json={"content": "x", "sendAt": iso(later)}),
                     400)
        expect_error(call(n1, "DELETE", f"{path}/{bad}", ann), 400)
    expect_error(call(n1, "POST", "/api/rooms/999999999/scheduled", ann, json={"content": "x", "sendAt": iso(later)}),
                 404, "room_not_found")
    for method in ("GET", "POST"):
        assert call(n1, method, path, None, json={"content": "x", "sendAt": iso(later)}).status_code == 401

    # Members only: an outsider can neither schedule, nor list, nor cancel.
    expect_error(call(n2, "POST", path, carl, json={"content": "x", "sendAt": iso(later)}), 403, "not_a_member")
    expect_error(call(n2, "GET", path, carl), 403, "not_a_member")
    expect_error(call(n2, "DELETE", f"{path}/{once['id']}", carl), 403, "not_a_member")

    # Each member lists their own, next due first.
    assert [s["id"] for s in call(n3, "GET", path, ann).json()] == [created["id"], once["id"]]
    assert [s["id"] for s in call(n1, "GET", path, bob).json()] == [theirs["id"]]

    # The author only; a schedule of another room, or an unknown one, is not found.
    expect_error(call(n1, "DELETE", f"{path}/{theirs['id']}", ann), 403, "not_allowed")
    other_room = create_room(db, [ann], name="other")
    expect_error(call(n1, "DELETE", f"/api/rooms/{other_room}/scheduled/{once['id']}", ann), 404, "schedule_not_found")
    expect_error(call(n1, "DELETE", f"{path}/987654321", ann), 404, "schedule_not_found")
    assert call(n2, "DELETE", f"{path}/{once['id']}", ann).status_code == 204
    expect_error(call(n2, "DELETE", f"{path}/{once['id']}", ann), 404, "schedule_not_found")  # again
    assert [s["id"] for s in call(n3, "GET", path, ann).json()] == [created["id"]]
    assert schedule_row(db, once["id"])["reason"] == "deleted"

    # At most 100 active schedules per user, over all rooms: the 101st is refused with a clear code.
    with psycopg.connect(db) as conn:
        conn.execute("INSERT INTO scheduled_messages (room_id, author_id, content, first_at, next_at) "
                     "SELECT %s, %s, 'bulk', now() + interval '1 day', now() + interval '1 day' "
                     "FROM generate_series(1, 99)", (other_room, ann))
    expect_error(call(n1, "POST", path, ann, json={"content": "one too many", "sendAt": iso(later)}), 409,
                 "schedule_limit")
    assert call(n1, "POST", path, bob, json={"content": "bob still can", "sendAt": iso(later)}).status_code == 201

    # A DIRECT room of a blocked pair: refused as a message would be.
    direct = create_room(db, [bob, carl], direct=True)
    assert call(n1, "PUT", f"/api/blocks/{bob}", carl).status_code == 204
    expect_error(call(n1, "POST", f"/api/rooms/{direct}/scheduled", bob, json={"content": "hi", "sendAt": iso(later)}),
                 403, "blocked")


# --------------------------------------------------------------------------- sending


def test_a_one_off_is_delivered_live_and_stored_once(cluster, closing):
    n1, n2, _ = cluster["nodes"]
    db = cluster["db"]
    ann, bob = create_user(db, nickname="ann"), create_user(db, nickname="bob")
    room = create_room(db, [ann, bob], name="live")
    rx = Raw("ws", n2, bob, "bob@2")
    closing.append(rx)
    rx.sub("r", f"/topic/room.{room}")
    sent_before = metric_sum(cluster["nodes"], "chat_scheduled_sends_total")

    due = now_ms() + 1500
    s = schedule(n1, ann, room, "scheduled hello", due)
    key = occurrence_key(s["id"], due)
    rx.wait(lambda: any(b.get("messageKey") == key for _, b in room_events(rx, room)), 30, "the scheduled message")
    live = [b for _, b in room_events(rx, room) if b.get("messageKey") == key]
    assert live[0]["content"] == "scheduled hello" and live[0]["senderId"] == ann
    assert live[0]["senderNickname"] == "ann" and live[0]["type"] == "TEXT"
    assert "scheduledFor" not in live[0]  # on time

    wait_for(lambda: stored_by_key(db, [key]).get(key) == 1, 30, what="the message stored")
    wait_for(lambda: schedule_row(db, s["id"])["status"] == "done", 10, what="the schedule done")
    row = schedule_row(db, s["id"])
    assert row["sent"] == 1 and row["next_ms"] is None
    items = [m for m in history(n1, bob, room) if m["messageKey"] == key]
    assert len(items) == 1 and items[0]["id"] == live[0]["id"] and "scheduledFor" not in items[0]
    assert call(n1, "GET", f"/api/rooms/{room}/scheduled", ann).json() == []
    # A few more ticks of three schedulers: nothing is sent again.
    time.sleep(1.0)
    assert len([1 for _, b in room_events(rx, room) if b.get("messageKey") == key]) == 1
    assert stored_by_key(db, [key]) == {key: 1}
    # Three schedulers, one record: no node sent what another had claimed.
    assert records_by_key(cluster["brokers"], [key]) == {key: 1}
    assert metric_sum(cluster["nodes"], "chat_scheduled_sends_total") == sent_before + 1


def test_a_schedule_whose_author_left_is_cancelled_not_sent(cluster):
    n1, n2, _ = cluster["nodes"]
    db = cluster["db"]
    ann, bob = create_user(db, nickname="ann"), create_user(db, nickname="bob")
    room = create_room(db, [ann, bob], name="leaving")
    cancelled_before = metric_sum(cluster["nodes"], 'chat_scheduled_cancellations_total{reason="not_member"}')
    due = now_ms() + 2000
    s = schedule(n1, ann, room, "from someone who left", due)
    assert call(n2, "DELETE", f"/api/rooms/{room}/members/me", ann).status_code == 204

    wait_for(lambda: schedule_row(db, s["id"])["status"] == "cancelled", 30, what="the schedule cancelled")
    assert schedule_row(db, s["id"])["reason"] == "not_member"
    assert stored_by_key(db, [occurrence_key(s["id"], due)]) == {}
    assert not any(m["content"] == "from someone who left" for m in history(n1, bob, room))
    assert metric_sum(cluster["nodes"], 'chat_scheduled_cancellations_total{reason="not_member"}') >= \
        cancelled_before + 1


def test_a_node_killed_while_schedules_come_due_sends_each_once(cluster, closing):
    nodes = cluster["nodes"]
    n1, n2, n3 = nodes
    db = cluster["db"]
    ann, bob = create_user(db, nickname="ann"), create_user(db, nickname="bob")
    room = create_room(db, [ann, bob], name="kill")
    rx = Raw("tcp", n1, bob, "bob@1")
    closing.append(rx)
    rx.sub("r", f"/topic/room.{room}")

    start = now_ms() + 1500
    expected = {}  # messageKey -> content
    for i in range(12):
        due = start + i * 800
        s = schedule(nodes[i % 3], ann, room, f"tick {i}", due)
        expected[occurrence_key(s["id"], due)] = f"tick {i}"
    # Kill node 3 mid-way, while it may hold claimed rows or records in flight.
    while now_ms() < start + 4000:
        time.sleep(0.05)
    n3.stop(sig=signal.SIGKILL)

    keys = list(expected)
    wait_for(lambda: len(stored_by_key(db, keys)) == len(keys), 60, what="every occurrence stored")
    assert stored_by_key(db, keys) == {k: 1 for k in keys}
    with psycopg.connect(db) as conn:
        contents = [r[0] for r in conn.execute("SELECT content FROM messages WHERE room_id = %s", (room,))]
        statuses = dict(conn.execute("SELECT status, count(*) FROM scheduled_messages WHERE room_id = %s "
                                     "GROUP BY status", (room,)).fetchall())
    assert sorted(contents) == sorted(expected.values())  # no copy under another key
    assert statuses == {"done": 12}

    rx.wait(lambda: {b.get("messageKey") for _, b in room_events(rx, room)} >= set(keys), 60,
            "every occurrence live")
    live_keys = [b["messageKey"] for _, b in room_events(rx, room)]
    assert sorted(live_keys) == sorted(keys), "each occurrence is delivered live once"

    n3.start().wait_ready()  # the cluster whole again for what follows


def test_occurrences_missed_while_every_node_was_down_are_sent_late(cluster):
    nodes = cluster["nodes"]
    n1 = nodes[0]
    db = cluster["db"]
    ann, bob = create_user(db, nickname="ann"), create_user(db, nickname="bob")
    room = create_room(db, [ann, bob], name="outage")
    due = now_ms() + 1500
    once = schedule(n1, ann, room, "sent late", due)
    for n in nodes:  # all at once: the due time passes while they stop
        n.proc.send_signal(signal.SIGTERM)
    for n in nodes:
        n.stop()
    # A daily schedule whose occurrences of the last three days were all missed (rows as a node
    # would have left them: due three days ago, created before that).
    first = now_ms() - 3 * 86_400_000 - 3_600_000
    with psycopg.connect(db) as conn:
        daily = conn.execute(
            "INSERT INTO scheduled_messages (room_id, author_id, content, repeat, first_at, next_at, created_at) "
            "VALUES (%s, %s, 'daily digest', 'daily', to_timestamp(%s / 1000.0), to_timestamp(%s / 1000.0), "
            "to_timestamp(%s / 1000.0) - interval '1 hour') RETURNING id",
            (room, ann, first, first, first)).fetchone()[0]
    assert stored_by_key(db, [occurrence_key(once["id"], due)]) == {}
    while now_ms() < due + 6000:  # past the lateness threshold (5 s) with every node down
        time.sleep(0.1)

    n1.start().wait_ready()
    late_key = occurrence_key(once["id"], due)
    newest = first + 3 * 86_400_000
    daily_key = occurrence_key(daily, newest)
    wait_for(lambda: stored_by_key(db, [late_key, daily_key]) == {late_key: 1, daily_key: 1}, 60,
             what="the missed occurrences sent")
    items = {m["messageKey"]: m for m in history(n1, bob, room)}
    assert items[late_key]["scheduledFor"] == iso(due) and items[late_key]["content"] == "sent late"
    assert items[daily_key]["scheduledFor"] == iso(newest)
    # Only the newest missed occurrence of the daily schedule; it goes on tomorrow.
    assert [m["content"] for m in items.values()].count("daily digest") == 1
    assert schedule_row(db, daily)["next_ms"] == first + 4 * 86_400_000
    assert schedule_row(db, once["id"])["status"] == "done"
    assert metric_sum([n1], "chat_scheduled_late_sends_total") >= 2
    assert metric_sum([n1], "chat_scheduled_skipped_occurrences_total") >= 2
    for n in nodes[1:]:
        n.start()
    for n in nodes[1:]:
        n.wait_ready()


# --------------------------------------------------------------------------- chatctl


def test_chatctl_schedule_add_list_rm(cluster, tmp_path):
    n1 = cluster["nodes"][0]
    ann = Cli(tmp_path / "ann", n1.url, n1.stomp_port).signup("ann")
    bob = Cli(tmp_path / "bob", n1.url, n1.stomp_port).signup("bob")
    room = ann.json("room", "group", "--name", f"sched-{uuid.uuid4().hex[:6]}", "--member", bob.email)["id"]
    at = iso(now_ms() + 3_600_000)

    added = ann.json("schedule", "add", room, "--at", at, "--repeat", "daily", "stand-up", "in", "5")
    assert added["content"] == "stand-up in 5" and added["repeat"] == "daily" and added["sendAt"] == at
    # Plain output: the new schedule's id only (scripts capture it).
    sid = int(ann.ok("schedule", "add", room, "--at", at, "retro").stdout.strip())
    listed = ann.json("schedule", "list", room)
    assert [s["id"] for s in listed] == [added["id"], sid]
    table = ann.ok("schedule", "list", room).stdout
    assert re.search(rf"^{sid}\t", table, re.M) and "retro" in table and "daily" in table
    assert bob.json("schedule", "list", room) == []

    assert bob.run("schedule", "rm", room, sid).returncode == FORBIDDEN  # not the author
    ann.ok("schedule", "rm", room, sid)
    assert ann.run("schedule", "rm", room, sid).returncode == NOT_FOUND
    assert [s["id"] for s in ann.json("schedule", "list", room)] == [added["id"]]
    # Bad input: a time that is not one, a past time, an unknown repeat.
    assert ann.run("schedule", "add", room, "--at", "soon", "x").returncode == USAGE
    assert ann.run("schedule", "add", room, "--at", iso(now_ms() - 600_000), "x").returncode == 1
    assert ann.run("schedule", "add", room, "--at", at, "--repeat", "hourly", "x").returncode == USAGE
