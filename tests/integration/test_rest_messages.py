"""Issue 3 — REST history (cursor pagination), read receipts (POST /read through Kafka,
applied by the receipts consumer, never backwards), unread counts (Redis cache with a
PostgreSQL fallback) and the online-members lookup."""
import json
import re
import uuid

import psycopg
import pytest
import requests

from conftest import Chatd
from test_rest_common import expect_error, mid, wait_for

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MESSAGE_KEYS = {"id", "messageKey", "roomId", "senderId", "senderNickname", "content", "type", "createdAt"}


def page(api, user, room, **params):
    r = api.get(f"/api/rooms/{room}/messages", user, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"messages", "hasMore", "nextCursor"}
    return body


# ---------------------------------------------------------------------------- history


def test_history_walks_250_messages_in_pages_of_20_without_gap_or_repeat(api):
    a, b = api.signup(), api.signup()
    room = api.group(a, [b], name="history")
    ids = api.seed_messages(room, b, 250, partition=3)
    other = api.group(a, [b], name="other room")
    api.seed_messages(other, a, 30, partition=3)  # interleaved ids of another room must not leak in

    seen, pages, cursor = [], 0, None
    while True:
        params = {"size": 20}
        if cursor is not None:
            params["cursor"] = cursor
        body = page(api, a, room, **params)
        pages += 1
        got = [m["id"] for m in body["messages"]]
        assert got == sorted(got, reverse=True), "newest first"
        assert all(m["roomId"] == room for m in body["messages"])
        seen += got
        if not body["hasMore"]:
            assert body["nextCursor"] is None
            break
        assert len(got) == 20
        assert body["nextCursor"] == got[-1]
        cursor = body["nextCursor"]
        assert pages < 20, "pagination does not end"
    assert pages == 13  # 12 full pages + 10
    assert len(seen) == len(set(seen)) == 250
    assert seen == list(reversed(ids))


def test_history_message_shape_and_default_page_size(api):
    a = api.signup()
    room = api.group(a, [], name="shape")
    ids = api.seed_messages(room, a, 25, content="héllo \"{n}\" <b>")
    body = page(api, a, room)
    assert len(body["messages"]) == 20
    assert body["hasMore"] is True and body["nextCursor"] == ids[5]
    m = body["messages"][0]
    assert set(m) == MESSAGE_KEYS | {"editedAt", "deleted", "pinned", "replyCount", "lastReplyAt", "reactions",
                                     "preview"}  # a history item (SPEC §13)
    assert m["preview"] is None
    assert m["id"] == ids[-1]
    assert m["content"] == "héllo \"24\" <b>"
    assert (m["roomId"], m["senderId"], m["senderNickname"], m["type"]) == (room, a.id, a.nickname, "TEXT")
    assert ISO_MS.match(m["createdAt"])
    rest = page(api, a, room, cursor=body["nextCursor"])
    assert [x["id"] for x in rest["messages"]] == list(reversed(ids[:5]))
    assert rest["hasMore"] is False and rest["nextCursor"] is None


def test_history_exact_multiple_and_edges(api):
    a = api.signup()
    room = api.group(a, [], name="edges")
    empty = page(api, a, room)
    assert empty == {"messages": [], "hasMore": False, "nextCursor": None}
    ids = api.seed_messages(room, a, 40)
    first = page(api, a, room, size=20)
    second = page(api, a, room, size=20, cursor=first["nextCursor"])
    assert second["hasMore"] is False and second["nextCursor"] is None and len(second["messages"]) == 20
    assert page(api, a, room, size=100)["messages"][-1]["id"] == ids[0]
    one = page(api, a, room, size=1)
    assert [m["id"] for m in one["messages"]] == [ids[-1]] and one["hasMore"] is True
    # A cursor is any id: below the oldest -> nothing; above the newest -> the newest page.
    assert page(api, a, room, cursor=ids[0])["messages"] == []
    assert page(api, a, room, cursor=0)["messages"] == []
    assert page(api, a, room, cursor=mid(9, 0), size=2)["messages"][0]["id"] == ids[-1]
    assert page(api, a, room, cursor="")["messages"][0]["id"] == ids[-1]


@pytest.mark.parametrize("query", ["size=0", "size=101", "size=-1", "size=abc", "size=1.5", "size=" + "9" * 30,
                                   "cursor=abc", "cursor=-1", "cursor=01", "cursor=1.5", "cursor=%zz",
                                   "cursor=1%27%20OR%20%271%27=%271", "cursor=" + "9" * 10_000])
def test_history_bad_query_is_400(api, query):
    a = api.signup()
    room = api.group(a, [], name="bad query")
    expect_error(api.get(f"/api/rooms/{room}/messages?{query}", a), 400, "validation_error")


def test_history_members_only(api):
    a, outsider = api.signup(), api.signup()
    room = api.group(a, [], name="private")
    api.seed_messages(room, a, 3)
    expect_error(api.get(f"/api/rooms/{room}/messages", outsider), 403, "forbidden")
    expect_error(api.get("/api/rooms/600000000/messages", a), 404, "not_found")
    expect_error(api.get("/api/rooms/zero/messages", a), 400, "validation_error")


def test_message_lookups_use_the_room_index_when_one_room_dominates(api, tmp_path):
    """With one busy room dominating the statistics, PostgreSQL likes to answer "newest
    messages of room X" by scanning the primary key backwards and filtering by room, which
    reads the whole table for a quiet room. History and the room list must stay on
    messages(room_id, id DESC): the primary key may be probed (the planner reads the current
    maximum id for its estimates) but must not be scanned through."""
    name = "rest_plan_" + uuid.uuid4().hex[:8]
    db = api.stack.create_database(name)
    node = Chatd(tmp_path, dict(api.stack.env(), CHATD_DATABASE_URL=db), [], "chatd-plan").start()
    try:
        node.wait_ready()
        tokens = []
        for _ in range(2):
            tag = uuid.uuid4().hex[:8]
            r = requests.post(node.url + "/api/auth/signup", timeout=30,
                              json={"email": f"p{tag}@example.com", "password": "password123", "nickname": tag})
            tokens.append(r.json())
        a, b = tokens
        auth = {"Authorization": "Bearer " + a["token"]}
        rooms = [requests.post(node.url + "/api/rooms/group", headers=auth, timeout=30,
                               json={"name": n, "memberIds": [b["userId"]]}).json()["id"] for n in ("busy", "quiet")]
        busy, quiet = rooms
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
                "kafka_partition, kafka_offset, created_at) "
                "SELECT (1::bigint << 40) | (1000000000 + g), gen_random_uuid(), CASE WHEN g <= 3 THEN %s ELSE %s END, "
                "       %s, 'b', 'm' || g, 'TEXT', 1, 1000000000 + g, now() "
                "FROM generate_series(1, 30000) g", (quiet, busy, b["userId"]))
            conn.execute("ANALYZE messages")

            def scans():
                return {name: (n, tuples) for name, n, tuples in conn.execute(
                    "SELECT indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes "
                    "WHERE relname = 'messages'").fetchall()}

            before = scans()
            for _ in range(10):
                r = requests.get(f"{node.url}/api/rooms/{quiet}/messages", headers=auth, timeout=30)
                assert [m["content"] for m in r.json()["messages"]] == ["m3", "m2", "m1"]
                r = requests.get(node.url + "/api/rooms", headers=auth, timeout=30)
                assert {x["id"]: x["lastMessage"]["content"] for x in r.json()} == {busy: "m30000", quiet: "m3"}
            # Statistics reach the shared counters when the backend goes idle (within seconds).
            def flushed():
                s = scans()
                return sum(n for n, _ in s.values()) >= sum(n for n, _ in before.values()) + 30 and s

            after = wait_for(flushed, 30, what="index scan statistics")
            # The bad plan reads ~30,000 primary-key entries per lookup of the quiet room.
            assert after["messages_pkey"][1] - before["messages_pkey"][1] < 1000, (before, after)
    finally:
        node.stop()


# ---------------------------------------------------------------------------- read / unread


def test_read_is_accepted_for_members_only(api):
    a, outsider = api.signup(), api.signup()
    room = api.group(a, [], name="read")
    r = api.post(f"/api/rooms/{room}/read", a, json={"lastReadMessageId": 5})
    assert r.status_code == 202, r.text
    assert r.json() == {"roomId": room, "lastReadMessageId": 5}
    expect_error(api.post(f"/api/rooms/{room}/read", outsider, json={"lastReadMessageId": 5}), 403, "forbidden")
    expect_error(api.post("/api/rooms/500000000/read", a, json={"lastReadMessageId": 5}), 404, "not_found")
    for body in ({}, {"lastReadMessageId": -1}, {"lastReadMessageId": "5"}, {"lastReadMessageId": 1.5},
                 {"lastReadMessageId": None}, {"lastReadMessageId": 2 ** 63}):
        expect_error(api.post(f"/api/rooms/{room}/read", a, json=body), 400)


def test_unread_falls_back_to_postgres_and_fills_the_cache(api):
    a, b = api.signup(), api.signup()
    room = api.group(a, [b], name="unread")
    ids = api.seed_messages(room, b, 4)
    api.sql("UPDATE chat_room_members SET unread_count = 3, last_read_message_id = %s WHERE room_id = %s AND "
            "user_id = %s", (ids[0], room, a.id))
    cache = api.redis()
    key = f"unread:{room}:{a.id}"
    cache.delete(key)
    r = api.get(f"/api/rooms/{room}/unread", a)
    assert r.status_code == 200, r.text
    assert r.json() == {"unreadCount": 3, "lastReadMessageId": ids[0]}
    assert json.loads(cache.get(key)) == {"unreadCount": 3, "lastReadMessageId": ids[0]}
    assert 0 < cache.ttl(key) <= 3600


def test_unread_answers_from_the_cache_when_present(api):
    a = api.signup()
    room = api.group(a, [], name="cached")
    api.redis().set(f"unread:{room}:{a.id}", json.dumps({"unreadCount": 42, "lastReadMessageId": 77}), ex=60)
    r = api.get(f"/api/rooms/{room}/unread", a)
    assert r.json() == {"unreadCount": 42, "lastReadMessageId": 77}  # the database says 0/0
    # An unreadable cache value is a miss, not an error.
    api.redis().set(f"unread:{room}:{a.id}", "garbage", ex=60)
    assert api.get(f"/api/rooms/{room}/unread", a).json() == {"unreadCount": 0, "lastReadMessageId": 0}


def test_unread_members_only(api):
    a, outsider = api.signup(), api.signup()
    room = api.group(a, [], name="unread-private")
    expect_error(api.get(f"/api/rooms/{room}/unread", outsider), 403, "forbidden")
    expect_error(api.get("/api/rooms/400000000/unread", a), 404, "not_found")


def test_read_receipts_move_forward_only_and_recompute_unread(api):
    """Needs the read-receipts consumer (pipeline/) running in chatd: POST /read publishes to
    chat.read-receipts, the consumer applies it. An older id after a newer one is ignored."""
    a, b = api.signup(), api.signup()
    room = api.group(a, [b], name="receipts")
    ids = api.seed_messages(room, b, 10)
    api.sql("UPDATE chat_room_members SET unread_count = 10 WHERE room_id = %s AND user_id = %s", (room, a.id))

    def row(user):
        return api.sql("SELECT last_read_message_id, unread_count FROM chat_room_members WHERE room_id = %s AND "
                       "user_id = %s", (room, user.id))[0]

    def unread(user):
        r = api.get(f"/api/rooms/{room}/unread", user)
        assert r.status_code == 200, r.text
        return r.json()

    assert api.post(f"/api/rooms/{room}/read", a, json={"lastReadMessageId": ids[6]}).status_code == 202
    wait_for(lambda: row(a) == (ids[6], 3), 30, what="receipt applied to chat_room_members (consumer running?)")
    wait_for(lambda: unread(a) == {"unreadCount": 3, "lastReadMessageId": ids[6]}, 15, what="GET /unread follows")

    # Older after newer: must not move back. b's receipt for the same room (same partition,
    # so it is consumed after a's older one) tells when the older one has been processed.
    assert api.post(f"/api/rooms/{room}/read", a, json={"lastReadMessageId": ids[2]}).status_code == 202
    assert api.post(f"/api/rooms/{room}/read", b, json={"lastReadMessageId": ids[9]}).status_code == 202
    wait_for(lambda: row(b)[0] == ids[9], 30, what="b's later receipt applied")
    assert row(a) == (ids[6], 3)
    assert unread(a) == {"unreadCount": 3, "lastReadMessageId": ids[6]}

    assert api.post(f"/api/rooms/{room}/read", a, json={"lastReadMessageId": ids[9]}).status_code == 202
    wait_for(lambda: row(a) == (ids[9], 0), 30, what="newest receipt applied")
    wait_for(lambda: unread(a) == {"unreadCount": 0, "lastReadMessageId": ids[9]}, 15, what="GET /unread at 0")


# ---------------------------------------------------------------------------- online


def test_online_members_from_presence_keys(api):
    a, b, c, outsider = api.signup(), api.signup(), api.signup(), api.signup()
    room = api.group(a, [b, c], name="online")
    cache = api.redis()
    cache.set(f"user:presence:{b.id}", "1", ex=60)
    cache.sadd(f"user:presence:{c.id}", "session-1")  # the key's type does not matter
    cache.expire(f"user:presence:{c.id}", 60)
    cache.set(f"user:presence:{outsider.id}", "1", ex=60)  # online, but not a member
    r = api.get(f"/api/rooms/{room}/members/online", a)
    assert r.status_code == 200, r.text
    assert sorted(r.json()) == sorted([b.id, c.id])
    cache.delete(f"user:presence:{b.id}")
    assert api.get(f"/api/rooms/{room}/members/online", a).json() == [c.id]
    expect_error(api.get(f"/api/rooms/{room}/members/online", outsider), 403, "forbidden")
    expect_error(api.get("/api/rooms/300000000/members/online", a), 404, "not_found")
