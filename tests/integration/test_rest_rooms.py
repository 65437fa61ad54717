"""Issue 3 — REST rooms: direct rooms (dedup, also under concurrency), group rooms, the room
list (one SQL statement for any number of rooms), room detail, invitations and leaving
(SYSTEM messages through Kafka)."""
import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from conftest import Chatd
from test_rest_common import expect_error, wait_for

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def find_system_message(api, room: int, content: str, timeout: float = 20) -> dict:
    """The chat.messages record of `room` whose content is `content` (read from the start of
    every partition, without a consumer group)."""
    consumer = Consumer({"bootstrap.servers": api.stack.env()["CHATD_KAFKA_BROKERS"],
                         "group.id": "rest-test-" + uuid.uuid4().hex, "enable.auto.commit": False})
    try:
        meta = consumer.list_topics("chat.messages", timeout=10).topics["chat.messages"]
        consumer.assign([TopicPartition("chat.messages", p, OFFSET_BEGINNING) for p in meta.partitions])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            value = json.loads(msg.value())
            if value.get("roomId") == room and value.get("content") == content:
                value["_key"] = msg.key().decode()
                value["_headers"] = {k: v.decode() for k, v in (msg.headers() or [])}
                return value
        raise AssertionError(f"no chat.messages record {content!r} for room {room} within {timeout}s")
    finally:
        consumer.close()


# ---------------------------------------------------------------------------- direct


def test_direct_room_created_once_and_found_from_both_sides(api):
    a, b = api.signup(), api.signup()
    r = api.post("/api/rooms/direct", a, json={"targetUserId": b.id})
    assert r.status_code == 201, r.text
    room = r.json()
    assert room["type"] == "DIRECT"
    assert room["name"] is None
    assert room["createdBy"] == a.id
    assert ISO_MS.match(room["createdAt"])
    assert sorted(m["userId"] for m in room["members"]) == sorted([a.id, b.id])
    assert {m["userId"]: m["nickname"] for m in room["members"]} == {a.id: a.nickname, b.id: b.nickname}

    again = api.post("/api/rooms/direct", a, json={"targetUserId": b.id})
    reverse = api.post("/api/rooms/direct", b, json={"targetUserId": a.id})
    assert again.status_code == 200 and reverse.status_code == 200, (again.text, reverse.text)
    assert again.json()["id"] == reverse.json()["id"] == room["id"]


def test_direct_room_concurrent_calls_from_both_sides_yield_one_room(api):
    for _ in range(3):
        a, b = api.signup(), api.signup()
        calls = 40
        barrier = threading.Barrier(calls)

        def call(i):
            caller, target = (a, b) if i % 2 else (b, a)
            with requests.Session() as s:
                s.get(api.url + "/healthz", timeout=10)  # connect before the barrier
                barrier.wait(timeout=30)
                r = s.post(api.url + "/api/rooms/direct", headers=caller.auth, json={"targetUserId": target.id},
                           timeout=30)
            return r.status_code, r.json()["id"]

        with ThreadPoolExecutor(calls) as pool:
            results = list(pool.map(call, range(calls)))
        ids = {room_id for _, room_id in results}
        codes = [code for code, _ in results]
        assert len(ids) == 1, results
        assert codes.count(201) == 1 and codes.count(200) == calls - 1, codes
        lo, hi = sorted([a.id, b.id])
        assert api.sql("SELECT count(*) FROM chat_rooms WHERE direct_low = %s AND direct_high = %s", (lo, hi)) == [(1,)]
        assert api.sql("SELECT count(*) FROM chat_room_members WHERE room_id = %s", (ids.pop(),)) == [(2,)]


def test_direct_room_uniqueness_is_enforced_by_the_database(api):
    """Not only in code: a second row for the same pair is refused by PostgreSQL itself."""
    a, b = api.signup(), api.signup()
    room = api.post("/api/rooms/direct", a, json={"targetUserId": b.id}).json()["id"]
    lo, hi = sorted([a.id, b.id])
    with pytest.raises(psycopg.errors.UniqueViolation):
        api.sql("INSERT INTO chat_rooms (type, created_by, direct_low, direct_high) VALUES ('DIRECT', %s, %s, %s)",
                (b.id, lo, hi))
    assert api.post("/api/rooms/direct", b, json={"targetUserId": a.id}).json()["id"] == room


def test_direct_room_errors(api):
    a = api.signup()
    expect_error(api.post("/api/rooms/direct", a, json={"targetUserId": a.id}), 400, "validation_error")
    expect_error(api.post("/api/rooms/direct", a, json={"targetUserId": 9_000_000_000}), 404, "not_found")
    for body in ({}, {"targetUserId": "2"}, {"targetUserId": 0}, {"targetUserId": -5}, {"targetUserId": 1.5},
                 {"targetUserId": None}, {"targetUserId": 2 ** 63}):
        expect_error(api.post("/api/rooms/direct", a, json=body), 400)
    expect_error(api.post("/api/rooms/direct", a, data=b"[1]"), 400, "invalid_json")


# ---------------------------------------------------------------------------- group


def test_group_room_includes_the_creator_and_dedups_members(api):
    a, b, c = api.signup(), api.signup(), api.signup()
    r = api.post("/api/rooms/group", a, json={"name": "  Team 🚀  ", "memberIds": [b.id, c.id, b.id, a.id]})
    assert r.status_code == 201, r.text
    room = r.json()
    assert room["type"] == "GROUP"
    assert room["name"] == "Team 🚀"
    assert room["createdBy"] == a.id
    assert [m["userId"] for m in room["members"]] == [a.id, b.id, c.id]
    alone = api.post("/api/rooms/group", a, json={"name": "solo"})
    assert alone.status_code == 201, alone.text
    assert [m["userId"] for m in alone.json()["members"]] == [a.id]


def test_group_room_unknown_member_is_404_and_creates_nothing(api):
    a, b = api.signup(), api.signup()
    before = api.sql("SELECT count(*) FROM chat_rooms")[0][0]
    err = expect_error(api.post("/api/rooms/group", a, json={"name": "x", "memberIds": [b.id, 8_000_000_001]}), 404,
                       "not_found")
    assert "8000000001" in err["error"]["message"]
    assert api.sql("SELECT count(*) FROM chat_rooms")[0][0] == before


@pytest.mark.parametrize("body", [
    {"memberIds": []}, {"name": "", "memberIds": []}, {"name": "n" * 101}, {"name": 5}, {"name": "x", "memberIds": 3},
    {"name": "x", "memberIds": ["1"]}, {"name": "x", "memberIds": [0]}, {"name": "x", "memberIds": [1.5]},
    {"name": "x", "memberIds": list(range(1, 1002))}, {"name": "tab\there"},
])
def test_group_room_validation_is_400(api, body):
    a = api.signup()
    expect_error(api.post("/api/rooms/group", a, json=body), 400, "validation_error")


# ---------------------------------------------------------------------------- list


def test_room_list_counts_unread_and_last_message(api):
    a, b, c = api.signup(), api.signup(), api.signup()
    direct = api.post("/api/rooms/direct", a, json={"targetUserId": b.id}).json()["id"]
    group = api.group(a, [b, c], name="group")
    quiet = api.group(b, [a], name="quiet")
    other = api.group(b, [c], name="not mine")
    ids = api.seed_messages(direct, b, 3, content="direct {n}")
    api.seed_messages(group, c, 2, content="group {n}")
    newest_group = api.seed_messages(group, b, 1, content="group newest \"quoted\"")[0]
    api.sql("UPDATE chat_room_members SET unread_count = 2 WHERE room_id = %s AND user_id = %s", (group, a.id))

    r = api.get("/api/rooms", a)
    assert r.status_code == 200, r.text
    rooms = {room["id"]: room for room in r.json()}
    assert set(rooms) == {direct, group, quiet}  # not `other`
    for room in rooms.values():
        assert set(room) == {"id", "type", "name", "memberCount", "unreadCount", "lastMessage"}
    assert rooms[direct]["type"] == "DIRECT" and rooms[direct]["name"] is None
    assert rooms[direct]["memberCount"] == 2
    assert rooms[group]["memberCount"] == 3
    assert rooms[group]["unreadCount"] == 2
    assert rooms[direct]["unreadCount"] == 0
    assert rooms[quiet]["lastMessage"] is None
    last = rooms[group]["lastMessage"]
    assert last["id"] == newest_group
    assert last["content"] == "group newest \"quoted\""
    assert last["senderId"] == b.id and last["senderNickname"] == b.nickname
    assert last["roomId"] == group and last["type"] == "TEXT"
    assert ISO_MS.match(last["createdAt"])
    assert rooms[direct]["lastMessage"]["id"] == ids[-1]
    # Most recent activity first: the group's message is newer than the direct room's.
    order = [room["id"] for room in r.json()]
    assert order.index(group) < order.index(direct)
    assert other not in order


def test_room_list_is_one_sql_statement_for_many_rooms(api, tmp_path):
    """Runs a second chatd on a database that logs every statement, and counts the
    statements one GET /api/rooms causes: 1 whether the user has 1 room or 25."""
    name = "rest_log_" + uuid.uuid4().hex[:8]
    db = api.stack.create_database(name)
    api.stack._psql(f"ALTER DATABASE \"{name}\" SET log_statement = 'all'")
    env = dict(api.stack.env(), CHATD_DATABASE_URL=db, CHATD_PASSWORD_COST="minimum")
    node = Chatd(tmp_path, env, [], "chatd-sqllog").start()
    try:
        node.wait_ready()
        base = node.url
        users = []
        for _ in range(2):
            tag = uuid.uuid4().hex[:8]
            r = requests.post(base + "/api/auth/signup", timeout=30,
                              json={"email": f"s{tag}@example.com", "password": "password123", "nickname": tag})
            users.append(r.json())
        a, b = users
        ha = {"Authorization": "Bearer " + a["token"]}
        log = api.stack.log_paths()["postgres"]
        statement = re.compile(r"@" + name + r" LOG:\s+(statement|execute [^:]*):(.*)$")

        def statements_of_one_list_call():
            start = log.stat().st_size
            r = requests.get(base + "/api/rooms", headers=ha, timeout=30)
            assert r.status_code == 200, r.text

            def logged():
                with open(log, "rb") as f:
                    f.seek(start)
                    lines = f.read().decode(errors="replace").splitlines()
                hits = [m.group(1) + ":" + m.group(2) for m in map(statement.search, lines) if m]
                hits = [s for s in hits if re.search(r"chat_room|messages|users", s)]
                return hits if any("chat_list_rooms" in s for s in hits) else None

            # The backend logs a statement before it runs it; poll in case the write lags.
            return wait_for(logged, 10, what="the room list statement in the PostgreSQL log"), len(r.json())

        requests.post(base + "/api/rooms/group", headers=ha, json={"name": "r0", "memberIds": [b["userId"]]},
                      timeout=30)
        one, n1 = statements_of_one_list_call()
        for i in range(24):
            requests.post(base + "/api/rooms/group", headers=ha, json={"name": f"r{i + 1}", "memberIds": [b["userId"]]},
                          timeout=30)
        many, n25 = statements_of_one_list_call()
        assert (n1, n25) == (1, 25)
        assert len(one) == 1, one
        assert len(many) == 1, many
    finally:
        node.stop()


def test_created_rooms_are_counted_in_metrics(api):
    def created():
        text = requests.get(api.node.metrics_url, timeout=10).text
        return int(float(re.search(r"^chat_rooms_created_total (\S+)$", text, re.M).group(1)))

    a, b = api.signup(), api.signup()
    before = created()
    api.group(a, [b])
    api.post("/api/rooms/direct", a, json={"targetUserId": b.id})
    api.post("/api/rooms/direct", b, json={"targetUserId": a.id})  # existing: not counted
    api.post("/api/rooms/group", a, json={"name": "x", "memberIds": [9_000_000_001]})  # refused: not counted
    assert created() == before + 2


# ---------------------------------------------------------------------------- detail


def test_room_detail_members_only(api):
    a, b, outsider = api.signup(), api.signup(), api.signup()
    room = api.group(a, [b], name="detail")
    r = api.get(f"/api/rooms/{room}", b)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "type", "name", "createdBy", "createdAt", "notice", "pinned", "members"}
    assert (body["id"], body["type"], body["name"], body["createdBy"]) == (room, "GROUP", "detail", a.id)
    assert (body["notice"], body["pinned"]) == (None, [])
    assert body["members"] == [{"userId": a.id, "nickname": a.nickname, "role": "OWNER"},
                               {"userId": b.id, "nickname": b.nickname, "role": "MEMBER"}]
    expect_error(api.get(f"/api/rooms/{room}", outsider), 403, "forbidden")
    expect_error(api.get("/api/rooms/900000000", a), 404, "not_found")
    for bad in ("abc", "0", "-1", "01", "1.5", "99999999999999999999"):
        expect_error(api.get(f"/api/rooms/{bad}", a), 400, "validation_error")


# ---------------------------------------------------------------------------- invite


def test_invite_adds_members_idempotently_and_announces_them(api):
    a, b = api.signup(), api.signup()
    carol = api.signup(nickname="carol-" + uuid.uuid4().hex[:6])
    room = api.group(a, [b], name="invite")
    older = api.seed_messages(room, a, 2)
    r = api.post(f"/api/rooms/{room}/members", b, json={"userIds": [carol.id, a.id]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["added"] == [carol.id]
    assert [m["userId"] for m in body["members"]] == [a.id, b.id, carol.id]
    assert api.get(f"/api/rooms/{room}", carol).status_code == 200
    # A new member starts with everything before joining counted as read.
    assert api.sql("SELECT last_read_message_id, unread_count FROM chat_room_members WHERE room_id = %s AND "
                   "user_id = %s", (room, carol.id)) == [(older[-1], 0)]

    again = api.post(f"/api/rooms/{room}/members", a, json={"userIds": [carol.id]})
    assert again.status_code == 200, again.text
    assert again.json()["added"] == []
    assert api.sql("SELECT count(*) FROM chat_room_members WHERE room_id = %s", (room,)) == [(3,)]

    system = find_system_message(api, room, f"{carol.nickname} joined")
    assert system["type"] == "SYSTEM"
    assert system["senderId"] == carol.id
    assert system["senderNickname"] == carol.nickname
    assert system["_key"] == str(room)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", system["messageKey"])
    assert system["_headers"].get("message-key") == system["messageKey"]


def test_invite_errors(api):
    a, b, outsider = api.signup(), api.signup(), api.signup()
    room = api.group(a, [b])
    direct = api.post("/api/rooms/direct", a, json={"targetUserId": b.id}).json()["id"]
    expect_error(api.post(f"/api/rooms/{room}/members", outsider, json={"userIds": [outsider.id]}), 403, "forbidden")
    expect_error(api.post(f"/api/rooms/{direct}/members", a, json={"userIds": [outsider.id]}), 400,
                 "validation_error")
    expect_error(api.post(f"/api/rooms/{room}/members", a, json={"userIds": [outsider.id, 7_000_000_000]}), 404,
                 "not_found")
    expect_error(api.post("/api/rooms/800000000/members", a, json={"userIds": [b.id]}), 404, "not_found")
    for body in ({}, {"userIds": []}, {"userIds": "1"}, {"userIds": [0]}, {"userIds": [None]}):
        expect_error(api.post(f"/api/rooms/{room}/members", a, json=body), 400)
    expect_error(api.post("/api/rooms/x/members", a, json={"userIds": [b.id]}), 400)
    # Nothing of the failed attempts stuck.
    assert api.sql("SELECT count(*) FROM chat_room_members WHERE room_id = %s", (room,)) == [(2,)]


# ---------------------------------------------------------------------------- leave


def test_leave_removes_membership_and_announces_it(api):
    a = api.signup()
    b = api.signup(nickname="bob-" + uuid.uuid4().hex[:6])
    room = api.group(a, [b], name="leave")
    r = api.delete(f"/api/rooms/{room}/members/me", b)
    assert r.status_code == 204, r.text
    assert r.content == b""
    expect_error(api.get(f"/api/rooms/{room}", b), 403, "forbidden")
    assert room not in [x["id"] for x in api.get("/api/rooms", b).json()]
    assert [m["userId"] for m in api.get(f"/api/rooms/{room}", a).json()["members"]] == [a.id]
    system = find_system_message(api, room, f"{b.nickname} left")
    assert system["type"] == "SYSTEM" and system["senderId"] == b.id
    # Leaving again: not a member any more.
    expect_error(api.delete(f"/api/rooms/{room}/members/me", b), 403, "forbidden")


def test_leave_errors(api):
    a, b = api.signup(), api.signup()
    direct = api.post("/api/rooms/direct", a, json={"targetUserId": b.id}).json()["id"]
    expect_error(api.delete(f"/api/rooms/{direct}/members/me", a), 400, "validation_error")
    assert api.sql("SELECT count(*) FROM chat_room_members WHERE room_id = %s", (direct,)) == [(2,)]
    expect_error(api.delete("/api/rooms/700000000/members/me", a), 404, "not_found")
    expect_error(api.delete("/api/rooms/abc/members/me", a), 400)


def test_unknown_routes_404_and_wrong_methods_405(api):
    a = api.signup()
    expect_error(api.get("/api/nothing", a), 404, "not_found")
    expect_error(api.get("/api/rooms/1/nothing", a), 404, "not_found")
    r = api.request("PUT", "/api/rooms", a)
    expect_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]
    r = api.request("PATCH", "/api/rooms/1/members/me", a)
    expect_error(r, 405)
    assert r.headers["Allow"] == "DELETE"
