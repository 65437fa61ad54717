"""People (SPEC §15, docs/rest.md "Profiles", "Search", "Friends"): profiles and their
validation, a nickname change reaching live sessions on both nodes while history keeps the old
one, lastSeenAt after the last session closes and after a SIGKILLed node's presence key
expires, the user search (prefix, case, literal % _ \\, limits, caller excluded), and friends
with live events over STOMP on two nodes and over SSE.

Clients the project did not write: requests, python3-websocket (frames from stomp_ws.py),
psycopg. Waits poll with deadlines."""
from __future__ import annotations

import re
import signal
import threading
import time
import uuid
from datetime import datetime, timezone

import psycopg
import pytest
import requests

from chatlib import create_room, create_user, make_token
from conftest import FAST, Chatd, share_logs, unshare_logs, wait_for
from test_pipeline_consumers import isolate_ids
from test_room_feed import Sse
from test_stomp_lifecycle import Raw

NOTIFICATIONS = "/user/queue/notifications"


@pytest.fixture(scope="module")
def people(stack, tmp_path_factory):
    """One database and two ready nodes for the whole module (starting a pair per test cost
    10 s each): (database, node 1, node 2, work directory). Every test makes its own users."""
    database = stack.create_database("people_" + uuid.uuid4().hex[:10])
    workdir = tmp_path_factory.mktemp("people")
    # A short SSE heart-beat: closing a reader at the end of a test takes up to one.
    env = {**stack.env(), **FAST, "CHATD_DATABASE_URL": database, "CHATD_SSE_HEARTBEAT": "300ms"}
    nodes = [Chatd(workdir, env, [], f"people-{i}") for i in (1, 2)]
    names = share_logs("people:", {n.name: n.log_path for n in nodes})
    try:
        for n in nodes:
            n.start()
        for n in nodes:
            n.wait_ready()
        isolate_ids(database)
        yield database, nodes[0], nodes[1], workdir
    finally:
        unshare_logs(names)
        for n in nodes:
            n.stop()


@pytest.fixture
def two_nodes(people):
    return people[1], people[2]


@pytest.fixture
def database(people):
    return people[0]


def auth(user: int) -> dict:
    return {"Authorization": f"Bearer {make_token(user)}"}


def call(node, method: str, path: str, user: int, **kw) -> requests.Response:
    return requests.request(method, node.url + path, headers=auth(user), timeout=10, **kw)


def parse_ts(text: str) -> float:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def error_code(r: requests.Response) -> str:
    return r.json()["error"]["code"]


def test_profile_patch_get_and_validation(two_nodes, database):
    n1, n2 = two_nodes
    ann = create_user(database, "ann")
    bo = create_user(database, "bo")

    r = call(n1, "PATCH", "/api/users/me", ann,
             json={"nickname": " Ann B ", "statusMessage": "out for lunch", "avatarUrl": "https://cdn.test/a.png"})
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["nickname"] == "Ann B" and me["statusMessage"] == "out for lunch"
    assert me["avatarUrl"] == "https://cdn.test/a.png" and me["id"] == ann and "email" in me
    assert call(n2, "GET", "/api/users/me", ann).json() == me

    seen = call(n2, "GET", f"/api/users/{ann}", bo)
    assert seen.status_code == 200, seen.text
    assert seen.json() == {"id": ann, "nickname": "Ann B", "statusMessage": "out for lunch",
                           "avatarUrl": "https://cdn.test/a.png", "online": False, "lastSeenAt": None}

    # Only what is given changes; null and "" clear.
    r = call(n1, "PATCH", "/api/users/me", ann, json={"statusMessage": None})
    assert r.status_code == 200 and r.json()["statusMessage"] is None and r.json()["nickname"] == "Ann B"
    r = call(n1, "PATCH", "/api/users/me", ann, json={"avatarUrl": ""})
    assert r.status_code == 200 and r.json()["avatarUrl"] is None

    bad = [
        b"", b"{}", b"[]", b"not json", b'{"theme":"dark"}', b'{"nickname":null}', b'{"nickname":5}',
        b'{"nickname":"' + b"x" * 41 + b'"}', b'{"statusMessage":"' + b"x" * 141 + b'"}',
        b'{"statusMessage":{"a":1}}', b'{"avatarUrl":"http://cdn.test/a.png"}',
        b'{"avatarUrl":"https://user@cdn.test/a.png"}', b'{"avatarUrl":"https://cdn.test/' + b"a" * 2100 + b'"}',
        b'{"avatarUrl":"javascript:alert(1)"}', b'{"nickname":"ok","avatarUrl":7}',
    ]
    for body in bad:
        r = requests.patch(n1.url + "/api/users/me", data=body, headers={**auth(ann), "Content-Type": "application/json"},
                           timeout=10)
        assert r.status_code == 400, (body[:60], r.status_code, r.text)
        assert error_code(r) in ("validation_error", "invalid_json"), r.text
    assert call(n1, "GET", "/api/users/me", ann).json()["nickname"] == "Ann B"  # nothing was taken

    for path, status in [("/api/users/abc", 400), ("/api/users/0", 400), ("/api/users/-1", 400),
                         ("/api/users/99999999999999999999", 400), (f"/api/users/{bo + 100000}", 404)]:
        r = call(n1, "GET", path, ann)
        assert r.status_code == status, (path, r.text)
        assert "error" in r.json()
    assert requests.get(f"{n1.url}/api/users/{ann}", timeout=10).status_code == 401


def test_nickname_change_reaches_new_messages_on_both_nodes_history_keeps_the_old(two_nodes, database, closing):
    n1, n2 = two_nodes
    ann = create_user(database, "ann")
    bo = create_user(database, "bo")
    room = create_room(database, [ann, bo])
    s1 = Raw("ws", n1, ann, "ann@1")
    s2 = Raw("tcp", n2, ann, "ann@2")
    watcher = Raw("ws", n1, bo, "bo@1")
    closing.extend([s1, s2, watcher])
    watcher.sub("r", f"/topic/room.{room}")

    def send(session: Raw, content: str) -> dict:
        session.app("/app/chat.send", {"roomId": room, "content": content}, receipt=content)
        session.receipt(content)
        watcher.wait(lambda: any(b.get("content") == content for _, b in watcher.on(f"/topic/room.{room}")), 20,
                     content)
        return next(b for _, b in watcher.on(f"/topic/room.{room}") if b.get("content") == content)

    assert send(s1, "before-1")["senderNickname"] == "ann"
    assert send(s2, "before-2")["senderNickname"] == "ann"

    changed_at = time.monotonic()
    r = call(n1, "PATCH", "/api/users/me", ann, json={"nickname": "Annie"})
    assert r.status_code == 200, r.text
    # Live sessions on both nodes learn it over chat:profile within milliseconds; poll briefly.
    for session, node_name in ((s1, "n1"), (s2, "n2")):
        n = 0

        def stamped():
            nonlocal n
            n += 1
            return send(session, f"after-{node_name}-{n}")["senderNickname"] == "Annie"

        wait_for(stamped, timeout=5, interval=0.05, what=f"the new nickname on {node_name}")
    assert time.monotonic() - changed_at < 5
    # REST reads the nickname from the store each time.
    r = call(n2, "POST", f"/api/rooms/{room}/messages", ann, json={"content": "after-rest"})
    assert r.status_code == 201, r.text

    def history() -> dict:
        h = call(n1, "GET", f"/api/rooms/{room}/messages?size=100", bo).json()["messages"]
        return {m["content"]: m["senderNickname"] for m in h}

    wait_for(lambda: "after-rest" in history(), timeout=20, what="the REST message stored")
    stored = history()
    assert stored["before-1"] == "ann" and stored["before-2"] == "ann"
    assert stored["after-rest"] == "Annie"


def profile(node, viewer: int, user: int) -> dict:
    r = call(node, "GET", f"/api/users/{user}", viewer)
    assert r.status_code == 200, r.text
    return r.json()


def test_last_seen_after_the_last_session_closes(two_nodes, database):
    n1, n2 = two_nodes
    ann = create_user(database, "ann")
    bo = create_user(database, "bo")
    assert profile(n1, bo, ann)["lastSeenAt"] is None  # never seen
    s1 = Raw("ws", n1, ann, "ann@1")
    s2 = Raw("tcp", n2, ann, "ann@2")
    try:
        wait_for(lambda: profile(n2, bo, ann)["online"], timeout=10, what="ann online")
        assert profile(n2, bo, ann)["lastSeenAt"] is None
        s1.close()
        time.sleep(0.5)  # what would be written when one of two sessions closes has had time to be
        p = profile(n1, bo, ann)
        assert p["online"] is True and p["lastSeenAt"] is None, p
        with psycopg.connect(database) as conn:
            assert conn.execute("SELECT last_seen_at FROM users WHERE id = %s", (ann,)).fetchone()[0] is None
        before = time.time()
        s2.close()
        p = wait_for(lambda: (lambda q: q if not q["online"] and q["lastSeenAt"] else None)(profile(n1, bo, ann)),
                     timeout=10, what="lastSeenAt after the last session closed")
        assert before - 1 <= parse_ts(p["lastSeenAt"]) <= time.time() + 1
    finally:
        s1.close()
        s2.close()
    # Online again: null while online, and the old time comes back only after.
    s3 = Raw("ws", n2, ann, "ann@3")
    try:
        wait_for(lambda: profile(n1, bo, ann)["online"], timeout=10, what="ann online again")
        assert profile(n1, bo, ann)["lastSeenAt"] is None
    finally:
        s3.close()


def test_last_seen_after_the_node_is_killed(people, stack):
    """The node holding the user's only session dies (SIGKILL): nobody closes the session; the
    presence key it kept alive expires after its short --presence-ttl, and a surviving node
    writes lastSeenAt."""
    database, n1, _, workdir = people
    doomed = Chatd(workdir, {**stack.env(), **FAST, "CHATD_DATABASE_URL": database, "CHATD_PRESENCE_TTL": "2s",
                             "CHATD_PRESENCE_REFRESH": "1s",
                             # Not a consumer: its death must not make the others' groups rebalance.
                             "CHATD_ROLES": "gateway"}, [], "people-doomed")
    names = share_logs("people:", {doomed.name: doomed.log_path})
    doomed.start()
    doomed.wait_ready()
    ann = create_user(database, "ann")
    bo = create_user(database, "bo")
    s = Raw("ws", doomed, ann, "ann@doomed")
    try:
        wait_for(lambda: profile(n1, bo, ann)["online"], timeout=10, what="ann online")
        killed = time.time()
        doomed.stop(signal.SIGKILL)
        p = wait_for(lambda: (lambda q: q if not q["online"] and q["lastSeenAt"] else None)(profile(n1, bo, ann)),
                     timeout=15, what="lastSeenAt after the presence key expired")
        # Written when the key expired: within the TTL (and the expiry sweep) of the kill.
        assert killed - 1 <= parse_ts(p["lastSeenAt"]) <= killed + 10
    finally:
        s.close()
        doomed.stop()
        unshare_logs(names)


# --------------------------------------------------------------------------- search

def search(node, user: int, q: str, limit=None) -> requests.Response:
    params = {"q": q} if limit is None else {"q": q, "limit": limit}
    return requests.get(node.url + "/api/users/search", params=params, headers=auth(user), timeout=10)


def test_search_prefix_case_literal_wildcards_limits_and_caller(two_nodes, database):
    n1, _ = two_nodes
    tag = "q" + uuid.uuid4().hex[:6]
    caller = create_user(database, f"{tag}me", email=f"{tag}me@example.com")
    ann = create_user(database, f"{tag}_ann")
    pct = create_user(database, f"{tag}%bob")
    xcarl = create_user(database, f"{tag}xcarl")
    dora = create_user(database, f"{tag.upper()}Dora")
    back = create_user(database, f"{tag}\\eve")
    mailed = create_user(database, "someone else", email=f"{tag}mail@example.com")

    def ids(q: str, limit=None) -> list[int]:
        r = search(n1, caller, q, limit)
        assert r.status_code == 200, r.text
        for item in r.json():
            assert set(item) == {"id", "nickname", "statusMessage", "avatarUrl", "online", "lastSeenAt"}, item
        return [u["id"] for u in r.json()]

    assert set(ids(tag)) == {ann, pct, xcarl, dora, back, mailed}  # caller excluded, any case
    assert set(ids(tag.upper())) == {ann, pct, xcarl, dora, back, mailed}
    assert ids(tag + "_") == [ann]  # "_" is no wildcard: not xcarl
    assert ids(tag + "%") == [pct]  # "%" is no wildcard
    assert ids(tag + "\\") == [back]
    assert ids(tag + "MAIL") == [mailed]  # the email's prefix; the email is not shown
    assert ids(tag + "mail@example.com") == [mailed]
    assert ids(tag + "zz") == []
    assert len(ids(tag, limit=2)) == 2
    # Case-insensitive on non-ASCII letters too.
    utag = "\u00c9" + uuid.uuid4().hex[:5]
    accented = create_user(database, utag + "lise")
    assert ids(utag.lower()) == [accented]

    for q, limit in [("a", None), ("", None), (" a ", None), ("x" * 101, None), ("x" * 10240, None),
                     (tag, 0), (tag, 51), (tag, "ten"), (tag, -1)]:
        r = search(n1, caller, q, limit)
        assert r.status_code == 400, (q[:20], limit, r.text)
        assert error_code(r) == "validation_error"
    r = requests.get(n1.url + "/api/users/search", headers=auth(caller), timeout=10)
    assert r.status_code == 400

    # At most 50, 20 by default.
    many = "m" + uuid.uuid4().hex[:6]
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO users (email, password_hash, nickname) "
                     "SELECT %s || g || '@example.com', 'x', %s || g FROM generate_series(1, 60) g", (many, many))
    assert len(ids(many)) == 20
    assert len(ids(many, limit=50)) == 50


# --------------------------------------------------------------------------- friends

def friend_events(client: Raw) -> list[dict]:
    return [b for h, b in client.on(NOTIFICATIONS) if h.get("chat-event", "").startswith("friend.")]


def wait_friend(client: Raw, event: str, what: str, **fields) -> dict:
    def found():
        return next((b for b in friend_events(client)
                     if b["event"] == event and all(b.get(k) == v for k, v in fields.items())), None)

    client.wait(lambda: found() is not None, 10, f"{event} {what}")
    return found()


def test_friends_flow_with_live_events_on_two_nodes_and_sse(two_nodes, database, closing):
    n1, n2 = two_nodes
    ann = create_user(database, "ann")
    bo = create_user(database, "bo")
    cy = create_user(database, "cy")
    ann_s = Raw("ws", n1, ann, "ann@1")
    bo_s = Raw("tcp", n2, bo, "bo@2")
    closing.extend([ann_s, bo_s])
    ann_s.sub("n", NOTIFICATIONS)
    bo_s.sub("n", NOTIFICATIONS)
    bo_sse = Sse(n1, bo)
    closing.append(bo_sse)
    bo_sse.wait(lambda: any(e == "snapshot" for _, e, _ in bo_sse.events), "snapshot")

    # Bad requests first.
    for body, status in [({"userId": ann}, 400), ({"userId": bo + 100000}, 404), ({}, 400), ({"userId": "x"}, 400),
                         ({"userId": 0}, 400)]:
        r = call(n1, "POST", "/api/friends/requests", ann, json=body)
        assert r.status_code == status, (body, r.text)

    r = call(n1, "POST", "/api/friends/requests", ann, json={"userId": bo})
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["fromUserId"] == ann and req["toUserId"] == bo and req["status"] == "pending"
    assert req["fromNickname"] == "ann" and req["toNickname"] == "bo"
    parse_ts(req["createdAt"])
    for client in (ann_s, bo_s):
        e = wait_friend(client, "friend.requested", "live", requestId=req["id"])
        assert e["fromUserId"] == ann and e["toUserId"] == bo
    bo_sse.wait(lambda: any(e == "friend.requested" and d["requestId"] == req["id"] for _, e, d in bo_sse.events),
                "friend.requested on SSE")

    # One pending request per pair, whichever way.
    r = call(n2, "POST", "/api/friends/requests", ann, json={"userId": bo})
    assert r.status_code == 409 and error_code(r) == "request_pending", r.text
    r = call(n2, "POST", "/api/friends/requests", bo, json={"userId": ann})
    assert r.status_code == 409 and error_code(r) == "request_pending", r.text
    assert str(req["id"]) in r.json()["error"]["message"]

    incoming = call(n2, "GET", "/api/friends/requests?direction=incoming", bo).json()
    assert [x["id"] for x in incoming] == [req["id"]]
    assert [x["id"] for x in call(n1, "GET", "/api/friends/requests", bo).json()] == [req["id"]]  # default
    assert [x["id"] for x in call(n1, "GET", "/api/friends/requests?direction=outgoing", ann).json()] == [req["id"]]
    assert call(n1, "GET", "/api/friends/requests?direction=outgoing", bo).json() == []
    assert call(n1, "GET", "/api/friends/requests?direction=sideways", bo).status_code == 400

    # Only the addressee answers; a stranger does not even learn it exists.
    assert call(n1, "POST", f"/api/friends/requests/{req['id']}/accept", ann).status_code == 403
    assert call(n1, "POST", f"/api/friends/requests/{req['id']}/accept", cy).status_code == 404
    assert call(n1, "DELETE", f"/api/friends/requests/{req['id']}", bo).status_code == 403
    assert call(n1, "POST", "/api/friends/requests/abc/accept", bo).status_code == 400
    r = call(n2, "POST", f"/api/friends/requests/{req['id']}/accept", bo)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["id"] == req["id"]
    for client in (ann_s, bo_s):
        wait_friend(client, "friend.accepted", "live", requestId=req["id"])
    bo_sse.wait(lambda: any(e == "friend.accepted" for _, e, _ in bo_sse.events), "friend.accepted on SSE")
    assert call(n1, "POST", f"/api/friends/requests/{req['id']}/accept", bo).status_code == 404  # gone

    friends = call(n1, "GET", "/api/friends", bo).json()
    assert [f["id"] for f in friends] == [ann]
    assert friends[0]["online"] is True and friends[0]["nickname"] == "ann" and "email" not in friends[0]
    assert [f["id"] for f in call(n2, "GET", "/api/friends", ann).json()] == [bo]
    r = call(n1, "POST", "/api/friends/requests", ann, json={"userId": bo})
    assert r.status_code == 409 and error_code(r) == "already_friends"

    # Remove: both hear it; a second time is 404.
    assert call(n1, "DELETE", f"/api/friends/{bo}", ann).status_code == 204
    for client in (ann_s, bo_s):
        wait_friend(client, "friend.removed", "live", fromUserId=ann, toUserId=bo)
    assert call(n1, "DELETE", f"/api/friends/{bo}", ann).status_code == 404
    assert call(n1, "GET", "/api/friends", bo).json() == []

    # Reject and cancel.
    r = call(n1, "POST", "/api/friends/requests", cy, json={"userId": bo})
    assert r.status_code == 201
    rejected = call(n2, "POST", f"/api/friends/requests/{r.json()['id']}/reject", bo)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    wait_friend(bo_s, "friend.rejected", "live", requestId=r.json()["id"])
    r = call(n1, "POST", "/api/friends/requests", cy, json={"userId": ann})
    assert r.status_code == 201
    assert call(n1, "DELETE", f"/api/friends/requests/{r.json()['id']}", ann).status_code == 403
    assert call(n1, "DELETE", f"/api/friends/requests/{r.json()['id']}", cy).status_code == 204
    wait_friend(ann_s, "friend.cancelled", "live", requestId=r.json()["id"])
    assert call(n1, "GET", "/api/friends/requests", ann).json() == []
    # The SSE reader got its events in order.
    names = [e for _, e, _ in bo_sse.events if e.startswith("friend.")]
    bo_sse.wait(lambda: [e for _, e, _ in bo_sse.events if e.startswith("friend.")][:4] ==
                ["friend.requested", "friend.accepted", "friend.removed", "friend.requested"], "SSE order")
    assert names[:2] == ["friend.requested", "friend.accepted"]


def test_friend_requests_race_and_pending_cap(two_nodes, database):
    n1, n2 = two_nodes
    ann = create_user(database, "ann")
    bo = create_user(database, "bo")
    # A->B and B->A at once, over and over on two nodes: exactly one pending request.
    for _ in range(5):
        with psycopg.connect(database) as conn:
            conn.execute("DELETE FROM friend_requests WHERE %s IN (from_user_id, to_user_id)", (ann,))
        results = []
        barrier = threading.Barrier(2)

        def go(node, frm, to):
            barrier.wait()
            results.append(call(node, "POST", "/api/friends/requests", frm, json={"userId": to}).status_code)

        threads = [threading.Thread(target=go, args=(n1, ann, bo)), threading.Thread(target=go, args=(n2, bo, ann))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [201, 409], results
        with psycopg.connect(database) as conn:
            assert conn.execute("SELECT count(*) FROM friend_requests WHERE %s IN (from_user_id, to_user_id)",
                                (ann,)).fetchone()[0] == 1

    # At most 100 pending outgoing requests per user.
    dave = create_user(database, "dave")
    with psycopg.connect(database) as conn:
        targets = [conn.execute("INSERT INTO users (email, password_hash, nickname) VALUES (%s, 'x', 't') "
                                "RETURNING id", (f"t{uuid.uuid4().hex[:10]}@example.com",)).fetchone()[0]
                   for _ in range(101)]
        conn.execute("INSERT INTO friend_requests (from_user_id, to_user_id) SELECT %s, unnest(%s::bigint[])",
                     (dave, targets[:100]))
    r = call(n1, "POST", "/api/friends/requests", dave, json={"userId": targets[100]})
    assert r.status_code == 409 and error_code(r) == "pending_limit", r.text
    assert "100" in r.json()["error"]["message"]
    assert len(call(n1, "GET", "/api/friends/requests?direction=outgoing", dave).json()) == 100
    # Cancelling one makes room.
    one = call(n1, "GET", "/api/friends/requests?direction=outgoing", dave).json()[0]["id"]
    assert call(n1, "DELETE", f"/api/friends/requests/{one}", dave).status_code == 204
    assert call(n1, "POST", "/api/friends/requests", dave, json={"userId": targets[100]}).status_code == 201


# --------------------------------------------------------------------------- chatctl

def test_chatctl_profile_search_and_friends(people, tmp_path):
    from test_chatctl import CONFLICT, ERROR, FORBIDDEN, NOT_FOUND, USAGE, Cli

    database, n1, n2, _ = people
    tag = "c" + uuid.uuid4().hex[:6]
    ann = create_user(database, f"{tag}ann", email=f"{tag}ann@example.com")
    bo = create_user(database, f"{tag}bo", email=f"{tag}bo@example.com")
    a = Cli(tmp_path / "ann", n1.url)
    a.env["CHAT_TOKEN"] = make_token(ann)
    b = Cli(tmp_path / "bo", n2.url)
    b.env["CHAT_TOKEN"] = make_token(bo)

    me = a.json("profile", "set", "--nickname", f"{tag}Ann", "--status", "hello there")
    assert me["id"] == ann and me["nickname"] == f"{tag}Ann" and me["statusMessage"] == "hello there"
    shown = b.json("profile", "show", str(ann))
    assert shown == {"id": ann, "nickname": f"{tag}Ann", "statusMessage": "hello there", "avatarUrl": None,
                     "online": False, "lastSeenAt": None}
    assert b.json("profile", "show", f"{tag}ann@example.com")["id"] == ann
    assert a.json("profile", "show")["id"] == ann
    row = a.ok("profile", "show").stdout.strip().split("\t")  # piped: tab-separated, no header
    assert row[:3] == [str(ann), f"{tag}Ann", "hello there"]
    assert a.json("profile", "set", "--status", "")["statusMessage"] is None
    assert a.run("profile", "set").returncode == USAGE
    r = a.run("profile", "set", "--avatar", "http://insecure.test/a.png")
    assert r.returncode == ERROR and "avatarUrl" in r.stderr
    assert a.run("profile", "show", str(bo + 100000)).returncode == NOT_FOUND

    found = b.jsonl("users", "search", tag.upper(), "--limit", "5")
    assert [u["id"] for u in found] == [ann] and "email" not in found[0]  # bo is the caller
    assert b.run("users", "search", "x").returncode == ERROR  # the server's 400
    assert b.run("users", "search", "ab", "--limit", "51").returncode == USAGE

    req = a.json("friends", "add", f"{tag}bo@example.com")
    assert req["fromUserId"] == ann and req["toUserId"] == bo and req["status"] == "pending"
    assert a.run("friends", "add", str(bo)).returncode == CONFLICT
    assert [r["id"] for r in b.jsonl("friends", "requests")] == [req["id"]]
    assert [r["id"] for r in a.jsonl("friends", "requests", "--outgoing")] == [req["id"]]
    assert b.run("friends", "requests", "--incoming", "--outgoing").returncode == USAGE
    assert a.run("friends", "accept", str(req["id"])).returncode == FORBIDDEN
    assert a.run("friends", "accept", "nope").returncode == USAGE
    assert b.json("friends", "accept", str(req["id"]))["status"] == "accepted"
    listed = b.jsonl("friends", "list")
    assert [f["id"] for f in listed] == [ann] and listed[0]["nickname"] == f"{tag}Ann"
    assert b.ok("friends", "list").stdout.split("\t")[:2] == [str(ann), f"{tag}Ann"]
    a.ok("friends", "rm", str(bo))
    assert a.run("friends", "rm", str(bo)).returncode == NOT_FOUND
    assert b.jsonl("friends", "list") == []

    again = b.json("friends", "add", str(ann))
    assert a.json("friends", "reject", str(again["id"]))["status"] == "rejected"
    mine = a.json("friends", "add", str(bo))
    a.ok("friends", "cancel", str(mine["id"]))
    assert b.jsonl("friends", "requests") == []
