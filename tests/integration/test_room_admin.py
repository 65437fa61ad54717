"""Issue 17, room administration (SPEC §16, docs/rest.md "Room administration", docs/stomp.md
"Room administration events"): roles OWNER / ADMIN / MEMBER, renames and the notice, role changes
and ownership transfer, removing members, deleting rooms, the owner's hand-on and the last member
deleting the room -- each a room event through chat.messages, live in room order with its
chat-event header, in history as a SYSTEM item and replayed by recovery; what a removal or a
deletion ends (live subscriptions on both nodes, cached memberships, room feeds); and the
persistence consumer's race with a deletion (no orphan rows, no dead letters). chatctl's
room rename|notice|role|kick|delete at the end.

Two chatd nodes for the module with a Redis and a dev Kafka of their own (SharedPostgresStack):
the deletion test reads chat.messages.dlt, which must hold nobody else's records, and room ids
of a fresh database would meet other modules' on a shared broker.

Clients the project did not write: python3-websocket (frames from stomp_ws.py), psycopg,
requests, confluent-kafka."""
from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg
import pytest
import requests
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from chatlib import create_user, make_token
from conftest import FAST, Chatd, SharedPostgresStack, share_logs, unshare_logs, wait_for
from test_chatctl import FORBIDDEN, NOT_FOUND, USAGE, Cli
from test_rest_common import expect_error
from test_stomp_lifecycle import Raw, room_events

# Every table that holds rows of a room (sql/0001, 0002, 0008): after a deletion none may remain.
ROOM_TABLES = ("chat_room_members", "messages", "room_events", "room_pins", "bookmarks", "message_hidden")


@pytest.fixture(scope="module")
def env(stack, tmp_path_factory):
    root = tmp_path_factory.mktemp("room-admin")
    own = SharedPostgresStack(root / "stack", stack)
    nodes = []
    try:
        for i in (1, 2):
            e = dict(own.env())
            e.update(FAST)
            nodes.append(Chatd(root, e, [], f"admin-{i}").start())
        for n in nodes:
            n.wait_ready()
        names = share_logs("room-admin", {**{n.name: n.log_path for n in nodes}, **own.own_log_paths()})
        yield {"nodes": nodes, "stack": own, "db": own.database_url, "brokers": own.env()["CHATD_KAFKA_BROKERS"]}
        unshare_logs(names)
    finally:
        for n in nodes:
            n.stop()
        own.stop_all()


@pytest.fixture
def closing():
    clients = []
    yield clients
    for c in clients:
        c.close()


def call(node, method: str, path: str, user: int | None, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {make_token(user)}"} if user else {}
    return requests.request(method, f"{node.url}{path}", headers=headers, timeout=30, **kw)


def ok(r: requests.Response, status: int) -> requests.Response:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r


def group(node, owner: int, members: list[int], name: str = "crew") -> int:
    return ok(call(node, "POST", "/api/rooms/group", owner, json={"name": name, "memberIds": members}), 201).json()["id"]


def detail(node, user: int, room: int) -> dict:
    return ok(call(node, "GET", f"/api/rooms/{room}", user), 200).json()


def roles(node, user: int, room: int) -> dict[int, str]:
    return {m["userId"]: m["role"] for m in detail(node, user, room)["members"]}


def post_message(node, user: int, room: int, content: str) -> int:
    return ok(call(node, "POST", f"/api/rooms/{room}/messages", user, json={"content": content}), 201).json()["id"]


def history(node, user: int, room: int) -> list[dict]:
    """Oldest first."""
    return ok(call(node, "GET", f"/api/rooms/{room}/messages?size=100", user), 200).json()["messages"][::-1]


def sql(db: str, query: str, args=()) -> list[tuple]:
    with psycopg.connect(db) as conn:
        return conn.execute(query, args).fetchall()


def admin_events(client, room: int) -> list[tuple[dict, dict]]:
    return [(h, b) for h, b in room_events(client, room) if h.get("chat-event", "message") != "message"]


def sentinel(sender: Raw, room: int, receivers, timeout: float = 30) -> str:
    """One more message; returns its key once every receiver has it (all before it arrived)."""
    key = str(uuid.uuid4())
    sender.app("/app/chat.send", {"roomId": room, "content": "sentinel", "messageKey": key}, receipt=key)
    sender.receipt(key)
    for rx in receivers:
        wait_for(lambda: any(b.get("messageKey") == key for _, b in room_events(rx, room)), timeout,
                 what=f"{rx.name}: sentinel")
    return key


def refused_forbidden(client: Raw, room: int) -> bool:
    """A SEND into `room` is refused: ERROR forbidden (the membership is checked in the store)."""
    client.app("/app/chat.send", {"roomId": room, "content": "still here?"}, receipt=f"x-{uuid.uuid4()}")
    client.wait(lambda: any(f.headers.get("message") == "forbidden" for f in client.errors) or client.closed, 20,
                "a refusal")
    return any(f.headers.get("message") == "forbidden" for f in client.errors)


# ---------------------------------------------------------------------------------- permissions

def test_every_action_by_every_role(env):
    """The matrix of docs/rest.md "Room administration": owner, admin, member, outsider and a
    removed member on rename, notice, roles, removing, pinning, deleting others' messages and
    deleting the room; then the refusals of bad input."""
    n1, n2 = env["nodes"]
    db = env["db"]
    owner, admin, member, other, outsider, removed = (create_user(db, nickname=n) for n in
                                                      ("olga", "adam", "mia", "max", "xena", "rob"))
    room = group(n1, owner, [admin, member, other, removed])
    assert roles(n1, owner, room) == {owner: "OWNER", admin: "MEMBER", member: "MEMBER", other: "MEMBER",
                                      removed: "MEMBER"}
    ok(call(n1, "PUT", f"/api/rooms/{room}/members/{admin}/role", owner, json={"role": "ADMIN"}), 200)
    ok(call(n2, "DELETE", f"/api/rooms/{room}/members/{removed}", admin), 204)  # an admin removes a member
    assert roles(n2, member, room) == {owner: "OWNER", admin: "ADMIN", member: "MEMBER", other: "MEMBER"}
    by_member = post_message(n1, member, room, "mia's words")
    by_owner = post_message(n1, owner, room, "olga's words")

    # (route, method, body) -> expected (status, code) per actor
    rename = lambda who: call(n1, "PATCH", f"/api/rooms/{room}", who, json={"name": f"crew-{who}"})  # noqa: E731
    notice = lambda who: call(n2, "PATCH", f"/api/rooms/{room}", who, json={"notice": f"hi from {who}"})  # noqa: E731
    set_role = lambda who: call(n1, "PUT", f"/api/rooms/{room}/members/{other}/role", who,  # noqa: E731
                                json={"role": "ADMIN"})
    pin = lambda who: call(n2, "PUT", f"/api/rooms/{room}/pins/{by_member}", who)  # noqa: E731
    expected = {
        owner: {"rename": (200, None), "notice": (200, None), "role": (200, None), "pin": (202, None)},
        admin: {"rename": (200, None), "notice": (200, None), "role": (403, "not_allowed"), "pin": (202, None)},
        member: {"rename": (403, "not_allowed"), "notice": (403, "not_allowed"), "role": (403, "not_allowed"),
                 "pin": (403, "not_allowed")},
        outsider: {"rename": (403, "forbidden"), "notice": (403, "forbidden"), "role": (403, "forbidden"),
                   "pin": (403, "not_a_member")},
        removed: {"rename": (403, "forbidden"), "notice": (403, "forbidden"), "role": (403, "forbidden"),
                  "pin": (403, "not_a_member")},
    }
    for who, answers in expected.items():
        for action, fn in (("rename", rename), ("notice", notice), ("role", set_role), ("pin", pin)):
            status, code = answers[action]
            r = fn(who)
            if code is None:
                ok(r, status)
            else:
                expect_error(r, status, code)
        if who == owner:  # the role change took: back to MEMBER for the admin's turn
            ok(call(n1, "PUT", f"/api/rooms/{room}/members/{other}/role", owner, json={"role": "MEMBER"}), 200)
    shown = detail(n1, member, room)
    assert shown["name"] == f"crew-{admin}" and shown["notice"] == f"hi from {admin}"
    wait_for(lambda: detail(n1, member, room)["pinned"] == [by_member], 30, what="the pin stored")

    # Removing: an admin removes members only; the owner anyone but themselves.
    ok(call(n1, "PUT", f"/api/rooms/{room}/members/{other}/role", owner, json={"role": "ADMIN"}), 200)
    expect_error(call(n1, "DELETE", f"/api/rooms/{room}/members/{other}", admin), 403, "not_allowed")  # an admin
    expect_error(call(n1, "DELETE", f"/api/rooms/{room}/members/{owner}", admin), 403, "not_allowed")  # the owner
    expect_error(call(n1, "DELETE", f"/api/rooms/{room}/members/{admin}", admin), 400, "validation_error")  # oneself
    for who, code in ((member, "not_allowed"), (outsider, "forbidden"), (removed, "forbidden")):
        expect_error(call(n2, "DELETE", f"/api/rooms/{room}/members/{other}", who), 403, code)
    expect_error(call(n1, "DELETE", f"/api/rooms/{room}/members/{owner}", owner), 400, "validation_error")
    expect_error(call(n1, "DELETE", f"/api/rooms/{room}/members/{outsider}", owner), 404, "not_found")
    ok(call(n1, "DELETE", f"/api/rooms/{room}/members/{other}", owner), 204)  # the owner removes an admin

    # Deleting others' messages: admins (and the owner), not members.
    expect_error(call(n1, "DELETE", f"/api/rooms/{room}/messages/{by_owner}", member), 403, "not_allowed")
    ok(call(n2, "DELETE", f"/api/rooms/{room}/messages/{by_member}", admin), 202)

    # Bad input, and what is not a group room.
    for body in ({}, {"name": ""}, {"name": "x" * 101}, {"notice": "n" * 501}, {"notice": 5}, {"name": None}):
        expect_error(call(n1, "PATCH", f"/api/rooms/{room}", owner, json=body), 400)
    for body in ({}, {"role": "KING"}, {"role": "admin"}, {"role": None}):
        expect_error(call(n1, "PUT", f"/api/rooms/{room}/members/{member}/role", owner, json=body), 400)
    expect_error(call(n1, "PUT", f"/api/rooms/{room}/members/{owner}/role", owner, json={"role": "ADMIN"}), 400)
    expect_error(call(n1, "PUT", f"/api/rooms/{room}/members/{outsider}/role", owner, json={"role": "ADMIN"}), 404)
    for bad in ("abc", "0", "01", "-2"):
        expect_error(call(n1, "PATCH", f"/api/rooms/{bad}", owner, json={"name": "x"}), 400)
        expect_error(call(n1, "DELETE", f"/api/rooms/{room}/members/{bad}", owner), 400)
    expect_error(call(n1, "PATCH", "/api/rooms/900000000", owner, json={"name": "x"}), 404, "not_found")
    expect_error(call(n1, "DELETE", "/api/rooms/900000000", owner), 404, "not_found")
    assert call(n1, "PATCH", f"/api/rooms/{room}", None, json={"name": "x"}).status_code == 401
    direct = ok(call(n1, "POST", "/api/rooms/direct", owner, json={"targetUserId": member}), 201).json()["id"]
    expect_error(call(n1, "PATCH", f"/api/rooms/{direct}", owner, json={"name": "x"}), 400, "validation_error")
    expect_error(call(n1, "DELETE", f"/api/rooms/{direct}", owner), 400, "validation_error")
    expect_error(call(n1, "DELETE", f"/api/rooms/{direct}/members/{member}", owner), 400, "validation_error")
    assert roles(n1, owner, direct) == {owner: "ADMIN", member: "ADMIN"}  # both act as its admins

    # Deleting the room: the owner only.
    for who, code in ((admin, "not_allowed"), (member, "not_allowed"), (outsider, "forbidden"),
                      (removed, "forbidden")):
        expect_error(call(n2, "DELETE", f"/api/rooms/{room}", who), 403, code)
    ok(call(n2, "DELETE", f"/api/rooms/{room}", owner), 204)
    for who in (owner, admin, member):
        expect_error(call(n1, "GET", f"/api/rooms/{room}", who), 404, "not_found")
        assert room not in [x["id"] for x in ok(call(n1, "GET", "/api/rooms", who), 200).json()]
    expect_error(call(n1, "DELETE", f"/api/rooms/{room}", owner), 404, "not_found")


def test_transferring_the_ownership(env):
    n1, n2 = env["nodes"]
    db = env["db"]
    owner, heir, member = (create_user(db, nickname=n) for n in ("ola", "hal", "meg"))
    room = group(n1, owner, [heir, member])
    after = ok(call(n2, "PUT", f"/api/rooms/{room}/members/{heir}/role", owner, json={"role": "OWNER"}), 200).json()
    assert {m["userId"]: m["role"] for m in after["members"]} == {owner: "ADMIN", heir: "OWNER", member: "MEMBER"}
    # The former owner is an admin now: no longer allowed what only the owner may do.
    expect_error(call(n1, "DELETE", f"/api/rooms/{room}", owner), 403, "not_allowed")
    expect_error(call(n1, "PUT", f"/api/rooms/{room}/members/{member}/role", owner, json={"role": "ADMIN"}), 403)
    # …and the new owner may demote them.
    ok(call(n1, "PUT", f"/api/rooms/{room}/members/{owner}/role", heir, json={"role": "MEMBER"}), 200)
    assert roles(n1, member, room) == {owner: "MEMBER", heir: "OWNER", member: "MEMBER"}
    assert sql(db, "SELECT count(*) FROM chat_room_members WHERE room_id = %s AND role = 'OWNER'", (room,)) == [(1,)]


# ---------------------------------------------------------------------------- live: removal

def test_a_removed_member_loses_the_room_on_every_node(env, closing):
    """The removed member's subscriptions end on both nodes right after their member.removed
    (nothing of the room after it reaches them), their next SEND is refused -- also on a session
    that never subscribed the room and had its membership cached (CONNECT primes it) -- and their
    room list loses the room; the others keep chatting."""
    n1, n2 = env["nodes"]
    db = env["db"]
    owner, gone, stays = (create_user(db, nickname=n) for n in ("ona", "gus", "sid"))
    room = group(n1, owner, [gone, stays])
    gone_tcp, gone_ws, gone_idle = Raw("tcp", n1, gone, "gus@1/tcp"), Raw("ws", n2, gone, "gus@2/ws"), \
        Raw("tcp", n2, gone, "gus@2/idle")
    stays1, stays2 = Raw("ws", n1, stays, "sid@1/ws"), Raw("tcp", n2, stays, "sid@2/tcp")
    closing.extend([gone_tcp, gone_ws, gone_idle, stays1, stays2])
    for c in (gone_tcp, gone_ws):
        c.sub("rooms", "/user/queue/rooms")
    for c in (gone_tcp, gone_ws, stays1, stays2):
        c.sub("room", f"/topic/room.{room}")
    # The idle session sends once: its membership is cached (no room subscription).
    gone_idle.app("/app/chat.send", {"roomId": room, "content": "hello"}, receipt="hello")
    gone_idle.receipt("hello")
    sentinel(stays2, room, [gone_tcp, gone_ws, stays1])

    ok(call(n2, "DELETE", f"/api/rooms/{room}/members/{gone}", owner), 204)

    for c in (gone_tcp, gone_ws, stays1, stays2):
        wait_for(lambda: any(h.get("chat-event") == "member.removed" for h, _ in room_events(c, room)), 30,
                 what=f"{c.name}: member.removed")
        h, body = next((h, b) for h, b in room_events(c, room) if h.get("chat-event") == "member.removed")
        assert body["event"] == "member.removed" and body["userId"] == gone and body["senderId"] == owner
        assert body["content"] == "ona removed gus" and body["type"] == "SYSTEM"
        assert h["message-id"] == str(body["id"])
    after = sentinel(stays1, room, [stays1, stays2])
    # Had they still been subscribed, their copies would have been queued with the others' (same
    # nodes, same fan-out); half a second more for the reading threads.
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        for c in (gone_tcp, gone_ws):
            assert not any(b.get("messageKey") == after for _, b in room_events(c, room)), c.name
        time.sleep(0.05)
    for c in (gone_tcp, gone_ws):
        assert room_events(c, room)[-1][0]["chat-event"] == "member.removed", c.name
        wait_for(lambda: any(b.get("event") == "room.removed" and b["room"]["id"] == room
                             for _, b in c.on("/user/queue/rooms")), 30, what=f"{c.name}: room.removed")
    # Nothing of the room reaches them any more, and they cannot write in it.
    assert refused_forbidden(gone_idle, room), "the idle session's cached membership was not revoked"
    assert refused_forbidden(gone_tcp, room)
    expect_error(call(n1, "POST", f"/api/rooms/{room}/messages", gone, json={"content": "x"}), 403, "not_a_member")
    expect_error(call(n2, "GET", f"/api/rooms/{room}", gone), 403, "forbidden")
    assert room not in [x["id"] for x in ok(call(n1, "GET", "/api/rooms", gone), 200).json()]
    # A new SUBSCRIBE is refused as well.
    late = Raw("ws", n1, gone, "gus@1/late")
    closing.append(late)
    late.send("SUBSCRIBE", {"id": "r", "destination": f"/topic/room.{room}", "receipt": "r"})
    late.wait(lambda: late.errors or late.closed, 20, "the refusal")
    assert late.errors and late.errors[0].headers["message"] == "forbidden"


# ----------------------------------------------------------------- leaving: hand-on, deletion

def test_the_owner_leaving_hands_the_room_on_and_the_last_member_deletes_it(env, closing):
    n1, n2 = env["nodes"]
    db = env["db"]
    owner, first, admin, last = (create_user(db, nickname=n) for n in ("otto", "fay", "abe", "lou"))
    room = group(n1, owner, [first, admin, last])  # joining order: owner, first, admin, last
    ok(call(n1, "PUT", f"/api/rooms/{room}/members/{admin}/role", owner, json={"role": "ADMIN"}), 200)
    watch = Raw("ws", n2, first, "fay@2")
    closing.append(watch)
    watch.sub("room", f"/topic/room.{room}")

    # The owner leaves: the longest-standing ADMIN (not the longest-standing member) owns it.
    ok(call(n1, "DELETE", f"/api/rooms/{room}/members/me", owner), 204)
    assert roles(n2, first, room) == {first: "MEMBER", admin: "OWNER", last: "MEMBER"}
    # (The promotion's member.role may arrive live after the SUBSCRIBE: skip what came before.)
    def left_then_handed():
        seen = admin_events(watch, room)
        at = next((i for i, (h, _) in enumerate(seen) if h["chat-event"] == "member.left"), None)
        return seen[at:at + 2] if at is not None and len(seen) >= at + 2 else None
    (h1, left), (h2, handed) = wait_for(left_then_handed, 30, what="member.left and member.role")
    assert (h1["chat-event"], left["userId"], left["content"]) == ("member.left", owner, "otto left")
    assert (h2["chat-event"], handed["userId"], handed["role"]) == ("member.role", admin, "OWNER")
    assert handed["content"] == "abe is now the owner" and left["id"] < handed["id"]

    # No admin left: the longest-standing member.
    ok(call(n2, "DELETE", f"/api/rooms/{room}/members/me", admin), 204)
    assert roles(n1, first, room) == {first: "OWNER", last: "MEMBER"}
    ok(call(n1, "DELETE", f"/api/rooms/{room}/members/me", last), 204)
    assert roles(n1, first, room) == {first: "OWNER"}
    # The last member leaves: the room and its history are gone.
    ok(call(n2, "DELETE", f"/api/rooms/{room}/members/me", first), 204)
    expect_error(call(n1, "GET", f"/api/rooms/{room}", first), 404, "not_found")
    wait_for(lambda: any(h.get("chat-event") == "room.deleted" for h, _ in room_events(watch, room)), 30,
             what="room.deleted")
    for table in ROOM_TABLES:
        assert sql(db, f"SELECT count(*) FROM {table} WHERE room_id = %s", (room,)) == [(0,)], table
    assert sql(db, "SELECT count(*) FROM chat_rooms WHERE id = %s", (room,)) == [(0,)]
    assert sql(db, "SELECT deleted_by FROM deleted_rooms WHERE id = %s", (room,)) == [(first,)]


# ------------------------------------------------------------- deletion with records in flight

def test_deleting_a_room_while_messages_are_in_flight_leaves_no_rows_and_no_dead_letters(env, closing):
    """A member keeps sending while the owner deletes the room: records that reach the
    persistence consumer after the deletion (the sender's last ones, and one produced straight to
    Kafka afterwards, as a late producer would) are dropped and logged, never dead-lettered; no
    row of the room is left in any table."""
    n1, n2 = env["nodes"]
    db = env["db"]
    owner, talker = create_user(db, nickname="oz"), create_user(db, nickname="tal")
    room = group(n1, owner, [talker])
    first = post_message(n1, owner, room, "pin me")
    ok(call(n1, "PUT", f"/api/rooms/{room}/pins/{first}", owner), 202)
    ok(call(n1, "PUT", f"/api/rooms/{room}/messages/{first}/reactions/%F0%9F%91%8D", talker), 202)
    wait_for(lambda: sql(db, "SELECT count(*) FROM room_pins WHERE room_id = %s", (room,)) == [(1,)], 30,
             what="the pin stored")
    ok(call(n1, "PUT", f"/api/bookmarks/{first}", talker), 204)

    tx = Raw("tcp", n2, talker, "tal@2")
    closing.append(tx)
    stop = threading.Event()
    sent = []

    def talk():
        while not stop.is_set() and not tx.closed:
            key = str(uuid.uuid4())
            tx.app("/app/chat.send", {"roomId": room, "content": f"m{len(sent)}", "messageKey": key})
            sent.append(key)
            time.sleep(0.003)

    talker_thread = threading.Thread(target=talk, daemon=True)
    talker_thread.start()
    try:
        wait_for(lambda: sql(db, "SELECT count(*) FROM messages WHERE room_id = %s", (room,))[0][0] >= 20, 30,
                 what="messages stored while sending")
        ok(call(n1, "DELETE", f"/api/rooms/{room}", owner), 204)
        # The talker goes on until its SEND is refused (its session learns of the deletion).
        tx.wait(lambda: any(f.headers.get("message") == "forbidden" for f in tx.errors), 30, "the refusal")
    finally:
        stop.set()
        talker_thread.join(timeout=10)

    # One more record of the deleted room, produced around chatd (a late producer).
    delivered = {}
    producer = Producer({"bootstrap.servers": env["brokers"], "enable.idempotence": True})
    late = {"messageKey": str(uuid.uuid4()), "roomId": room, "senderId": talker, "senderNickname": "tal",
            "content": "too late", "type": "TEXT", "createdAt": "2026-12-08T00:00:00.000Z"}
    producer.produce("chat.messages", key=str(room), value=json.dumps(late),
                     on_delivery=lambda err, msg: delivered.update(err=err, partition=msg.partition(),
                                                                   offset=msg.offset()))
    producer.flush(20)
    assert delivered.get("err") is None and "offset" in delivered, delivered

    def stored_through() -> bool:
        rows = sql(db, "SELECT next_offset FROM persistence_progress WHERE topic = 'chat.messages' AND partition = %s",
                   (delivered["partition"],))
        return bool(rows) and rows[0][0] > delivered["offset"]
    wait_for(stored_through, 60, what="the persistence consumer past the late record")

    for table in ROOM_TABLES:
        assert sql(db, f"SELECT count(*) FROM {table} WHERE room_id = %s", (room,)) == [(0,)], table
    assert sql(db, "SELECT count(*) FROM message_reactions r WHERE r.message_id = %s", (first,)) == [(0,)]
    assert sql(db, "SELECT count(*) FROM chat_rooms WHERE id = %s", (room,)) == [(0,)]
    assert sql(db, "SELECT count(*) FROM deleted_rooms WHERE id = %s", (room,)) == [(1,)]
    # The late record was dropped on purpose: logged, not dead-lettered.
    logs = "".join(n.log_path.read_text(errors="replace") for n in (n1, n2))
    dropped = [json.loads(line) for line in logs.splitlines()
               if '"room record dropped"' in line and f'"room_id":{room},' in line]
    assert any(d["offset"] == delivered["offset"] and d["reason"] == "room_deleted" for d in dropped), dropped
    consumer = Consumer({"bootstrap.servers": env["brokers"], "group.id": "t-" + uuid.uuid4().hex,
                         "enable.auto.commit": False})
    try:
        meta = consumer.list_topics("chat.messages.dlt", timeout=10).topics["chat.messages.dlt"]
        consumer.assign([TopicPartition("chat.messages.dlt", p, OFFSET_BEGINNING) for p in meta.partitions])
        dead = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error() and msg.key() == str(room).encode():
                dead.append(msg.value())
        assert dead == []
    finally:
        consumer.close()


# ------------------------------------------------------ events live, in order, in history, replayed

def test_events_are_live_in_room_order_in_history_and_in_recovery(env, closing):
    n1, n2 = env["nodes"]
    db = env["db"]
    owner, bea, cal = (create_user(db, nickname=n) for n in ("ora", "bea", "cal"))
    room = group(n1, owner, [bea])
    rx = Raw("ws", n2, bea, "bea@2/ws")
    closing.append(rx)
    rx.sub("rooms", "/user/queue/rooms")
    rx.sub("room", f"/topic/room.{room}")

    ok(call(n1, "POST", f"/api/rooms/{room}/members", owner, json={"userIds": [cal]}), 200)
    ok(call(n2, "PATCH", f"/api/rooms/{room}", owner, json={"name": "renamed"}), 200)
    ok(call(n1, "PATCH", f"/api/rooms/{room}", owner, json={"notice": "be kind\nand brief"}), 200)
    ok(call(n1, "PATCH", f"/api/rooms/{room}", owner, json={"name": "renamed"}), 200)  # no change: no event
    ok(call(n2, "PUT", f"/api/rooms/{room}/members/{cal}/role", owner, json={"role": "ADMIN"}), 200)
    post_message(n1, owner, room, "a plain message")
    ok(call(n1, "DELETE", f"/api/rooms/{room}/members/{cal}", owner), 204)
    ok(call(n2, "PUT", f"/api/rooms/{room}/members/{bea}/role", owner, json={"role": "OWNER"}), 200)
    ok(call(n1, "PATCH", f"/api/rooms/{room}", bea, json={"notice": None}), 200)
    key = sentinel(rx, room, [rx])

    live = [(h, b) for h, b in room_events(rx, room)]
    assert [h["chat-event"] for h, _ in live] == [
        "member.joined", "room.updated", "room.updated", "member.role", "message", "member.removed", "member.role",
        "member.role", "room.updated", "message"]
    for h, b in live:
        assert h["chat-event"] == b.get("event", "message") and h["message-id"] == str(b["id"]), (h, b)
        assert b["type"] == ("TEXT" if h["chat-event"] == "message" else "SYSTEM")
    ids = [b["id"] for _, b in live]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    texts = [b["content"] for _, b in live]
    assert texts[:4] == ["cal joined", "ora renamed the room to renamed", "ora changed the notice",
                         "cal is now an admin"]
    assert texts[5:9] == ["ora removed cal", "bea is now the owner", "ora is now an admin", "bea cleared the notice"]
    joined, renamed, noticed = live[0][1], live[1][1], live[2][1]
    assert (joined["userId"], joined["role"], joined["senderId"]) == (cal, "MEMBER", cal)
    assert renamed["name"] == "renamed" and "notice" not in renamed
    assert noticed["notice"] == "be kind\nand brief" and "name" not in noticed
    assert live[8][1]["notice"] == "" and live[-1][1]["messageKey"] == key
    shown = detail(n1, bea, room)
    assert (shown["name"], shown["notice"]) == ("renamed", None)
    assert {m["userId"]: m["role"] for m in shown["members"]} == {owner: "ADMIN", bea: "OWNER"}

    # History: every one of them a SYSTEM item with its text (room.deleted aside, none is missing).
    def stored():
        items = history(n1, bea, room)
        return items if [i["id"] for i in items] == ids else None
    items = wait_for(stored, 30, what="history with every event")
    for item, (_, b) in zip(items, live):
        assert (item["content"], item["senderId"], item["createdAt"]) == (b["content"], b["senderId"], b["createdAt"])
        assert "event" not in item and item["type"] == b["type"]
    # Recovery replays them as they were live (from the store): same headers, same bodies.
    again = Raw("tcp", n1, bea, "bea@1/recover")
    closing.append(again)
    again.send("SUBSCRIBE", {"id": "r", "destination": f"/topic/room.{room}", "since-id": str(ids[0] - 1),
                             "receipt": "r"})
    again.receipt("r", 30)
    replay = room_events(again, room)
    assert [(h["chat-event"], b["id"]) for h, b in replay] == [(h["chat-event"], b["id"]) for h, b in live]
    for (_, got), (_, want) in zip(replay, live):
        if want.get("event"):
            assert got == want
    # The room list: the rename shows as room.updated with the new name.
    wait_for(lambda: any(b.get("event") == "room.updated" and b["room"]["name"] == "renamed"
                         for _, b in rx.on("/user/queue/rooms")), 30, what="room.updated with the name")


# ----------------------------------------------------------------------------------- chatctl

def test_chatctl_room_administration(env, tmp_path):
    n1, _ = env["nodes"]
    ann, bo, cy = (Cli(tmp_path / n, n1.url, n1.stomp_port).signup(n) for n in ("ann", "bo", "cy"))
    room = ann.json("room", "group", "--name", "crew", "--member", bo.email, "--member", cy.email)["id"]
    assert ann.json("room", "rename", "crew", "crew two")["name"] == "crew two"
    assert ann.json("room", "notice", room, "be kind")["notice"] == "be kind"
    assert ann.json("room", "notice", "crew two", "--clear")["notice"] is None
    assert ann.run("room", "notice", room).returncode == USAGE
    assert ann.run("room", "notice", room, "x", "--clear").returncode == USAGE
    assert ann.run("room", "role", room, bo.email, "king").returncode == USAGE
    assert bo.run("room", "rename", room, "mine").returncode == FORBIDDEN

    shown = ann.json("room", "role", room, bo.email, "admin")
    assert {m["userId"]: m["role"] for m in shown["members"]} == {ann.user_id: "OWNER", bo.user_id: "ADMIN",
                                                                  cy.user_id: "MEMBER"}
    table = ann.ok("room", "members", room).stdout  # piped: tab-separated rows, no header
    assert f"{ann.user_id}\tann\tOWNER" in table and f"{bo.user_id}\tbo\tADMIN" in table
    assert "ann (" in ann.ok("room", "show", room).stdout and "owner)" in ann.ok("room", "show", room).stdout

    assert cy.run("room", "kick", room, bo.email).returncode == FORBIDDEN  # a member removes nobody
    assert bo.json("room", "kick", room, cy.email) == {"roomId": room, "userId": cy.user_id, "removed": True}
    assert cy.run("room", "show", room).returncode == FORBIDDEN
    assert ann.run("room", "kick", room, cy.email).returncode == NOT_FOUND  # no member any more

    assert bo.run("room", "delete", room, "--yes").returncode == FORBIDDEN  # an admin, not the owner
    assert ann.json("room", "role", room, bo.email, "owner")["id"] == room  # hand it over
    assert ann.run("room", "delete", room, "--yes").returncode == FORBIDDEN
    assert bo.json("room", "delete", room, "--yes") == {"roomId": room, "deleted": True}
    assert bo.run("room", "show", room).returncode == NOT_FOUND
