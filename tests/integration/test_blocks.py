"""Blocks (SPEC §15, docs/rest.md "Blocks", docs/stomp.md "Blocks") over two nodes:

- PUT/DELETE/GET /api/blocks: validation (self, bad ids, unknown users, no token), idempotency,
  the per-user limit (409 block_limit);
- DIRECT rooms: a blocked pair (either direction) cannot open one (403 blocked) nor write in the
  one they have, over REST and STOMP (a session that cached its membership before the block, on
  the other node, is refused too: the change reaches it through Redis); unblocking restores both;
- group rooms: the blocker's live subscription (on the other node), history and recovery with
  since-id lack the blocked user's messages, while another member gets everything; the unread
  count does not count them; unblocking restores live delivery and history;
- the blocker's live room list (/user/queue/rooms, on the other node): the blocked user's messages
  are never its lastMessage; a block made later replaces a lastMessage of theirs, a lift shows it;
- friend requests between a blocked pair: refused both ways, a pending one not acceptable;
- chatctl block / unblock / blocks (table, json, exit codes).

Clients the project did not write: python3-websocket (frames from stomp_ws.py), psycopg,
requests."""
from __future__ import annotations

import uuid

import psycopg
import requests

from chatlib import create_room, create_user, make_token
from conftest import wait_for
from test_chatctl import CHATCTL, ERROR, NOT_FOUND, OK, Cli
from test_rest_common import expect_error
from test_stomp_lifecycle import Raw, room_events, sentinel


def call(node, method: str, path: str, user: int | None, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {make_token(user)}"} if user else {}
    return requests.request(method, f"{node.url}{path}", headers=headers, timeout=30, **kw)


def block(node, user: int, target: int, on: bool = True):
    r = call(node, "PUT" if on else "DELETE", f"/api/blocks/{target}", user)
    assert r.status_code == 204, r.text


def send(tx: Raw, room: int, content: str) -> tuple[str, dict | None]:
    """A SEND with a receipt: ("ok", RECEIPT headers) or ("refused", the soft error)."""
    key = str(uuid.uuid4())
    tx.app("/app/chat.send", {"roomId": room, "content": content, "messageKey": key}, receipt=key)
    tx.wait(lambda: key in tx.receipts or any(e.get("receiptId") == key for e in tx.soft_errors()), 20,
            f"answer to {content}")
    if key in tx.receipts:
        return "ok", tx.receipts[key]
    return "refused", next(e for e in tx.soft_errors() if e.get("receiptId") == key)


def contents(client: Raw, room: int) -> list[str]:
    return [b.get("content") for h, b in room_events(client, room) if h.get("chat-event", "message") == "message"]


def history(node, user: int, room: int) -> list[dict]:
    r = call(node, "GET", f"/api/rooms/{room}/messages?size=100", user)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def test_block_routes_validate_are_idempotent_and_bounded(database, two_nodes):
    n1, n2 = two_nodes
    ann, bob = create_user(database, nickname="ann"), create_user(database, nickname="bob")

    expect_error(call(n1, "PUT", f"/api/blocks/{ann}", ann), 400, "validation_error")
    expect_error(call(n1, "DELETE", f"/api/blocks/{ann}", ann), 400, "validation_error")
    for bad in ("abc", "0", "-3", "01", "9223372036854775808"):
        expect_error(call(n1, "PUT", f"/api/blocks/{bad}", ann), 400)
        expect_error(call(n1, "DELETE", f"/api/blocks/{bad}", ann), 400)
    expect_error(call(n1, "PUT", "/api/blocks/999999999999", ann), 404, "not_found")
    assert call(n1, "PUT", f"/api/blocks/{bob}", None).status_code == 401
    assert call(n1, "GET", "/api/blocks", None).status_code == 401
    assert call(n1, "GET", "/api/blocks", ann).json() == []

    block(n1, ann, bob)
    block(n2, ann, bob)  # again, on the other node: nothing changes
    listed = call(n2, "GET", "/api/blocks", ann).json()
    assert [(b["userId"], b["nickname"]) for b in listed] == [(bob, "bob")]
    assert listed[0]["blockedAt"].endswith("Z")
    assert call(n1, "GET", "/api/blocks", bob).json() == []  # one direction only

    block(n1, ann, bob, on=False)
    block(n2, ann, bob, on=False)  # idempotent
    assert call(n1, "GET", "/api/blocks", ann).json() == []

    # The limit: 1000 blocks stored, the 1001st refused with a clear code.
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO users (email, password_hash, nickname) "
                     "SELECT 'bulk' || g || '@example.com', 'x', 'bulk' || g FROM generate_series(1, 1000) g")
        conn.execute("INSERT INTO user_blocks (blocker_id, blocked_id) "
                     "SELECT %s, id FROM users WHERE email LIKE 'bulk%%'", (ann,))
    expect_error(call(n1, "PUT", f"/api/blocks/{bob}", ann), 409, "block_limit")
    assert len(call(n1, "GET", "/api/blocks", ann).json()) == 1000


def test_a_blocked_pair_cannot_open_nor_write_in_their_direct_room(database, two_nodes, closing):
    n1, n2 = two_nodes
    ann, bob = create_user(database, nickname="ann"), create_user(database, nickname="bob")
    r = call(n1, "POST", "/api/rooms/direct", ann, json={"targetUserId": bob})
    assert r.status_code == 201, r.text
    room = r.json()["id"]

    # Sessions that know their membership before the block (CONNECT primes it; a SEND uses it).
    a_tx = Raw("ws", n2, ann, "ann@2/ws")
    b_tx = Raw("tcp", n1, bob, "bob@1/tcp")
    closing.extend([a_tx, b_tx])
    for c in (a_tx, b_tx):
        c.sub("errors", "/user/queue/errors")
    assert send(a_tx, room, "hi bob")[0] == "ok"
    assert send(b_tx, room, "hi ann")[0] == "ok"

    block(n1, bob, ann)  # bob blocks ann, on node 1: ann's session is on node 2

    for who, other in ((ann, bob), (bob, ann)):
        for node in (n1, n2):
            expect_error(call(node, "POST", "/api/rooms/direct", who, json={"targetUserId": other}), 403, "blocked")
        expect_error(call(n1, "POST", f"/api/rooms/{room}/messages", who, json={"content": "x"}), 403, "blocked")

    # STOMP, both directions: the cached gate follows the block (live, across nodes).
    for tx in (a_tx, b_tx):
        wait_for(lambda: send(tx, room, "still there?")[0] == "refused", 10, what=f"{tx.name}: SEND refused")
        outcome, error = send(tx, room, "and now?")
        assert outcome == "refused" and error["code"] == "blocked", error
    assert not a_tx.closed and not b_tx.closed  # a refusal, not an ERROR that ends the session
    # A session connected after the block is refused as well (from its CONNECT lookup).
    late = Raw("tcp", n1, ann, "ann@1/tcp")
    closing.append(late)
    late.sub("errors", "/user/queue/errors")
    outcome, error = send(late, room, "hello?")
    assert outcome == "refused" and error["code"] == "blocked"
    # Reading stays allowed.
    assert len(history(n1, ann, room)) >= 1

    block(n2, bob, ann, on=False)
    r = call(n1, "POST", "/api/rooms/direct", ann, json={"targetUserId": bob})
    assert r.status_code == 200 and r.json()["id"] == room, r.text
    wait_for(lambda: send(a_tx, room, "friends again")[0] == "ok", 10, what="ann may write again")
    assert send(b_tx, room, "yes")[0] == "ok"
    assert call(n2, "POST", f"/api/rooms/{room}/messages", ann, json={"content": "over REST"}).status_code == 201


def test_in_a_group_room_the_blocker_gets_nothing_of_the_blocked_user(database, two_nodes, closing):
    n1, n2 = two_nodes
    ann, bob, cat = (create_user(database, nickname=n) for n in ("ann", "bob", "cat"))
    room = create_room(database, [ann, bob, cat], name="trio")
    b_tx = Raw("tcp", n1, bob, "bob@1/tcp")
    c_rx = Raw("ws", n1, cat, "cat@1/ws")
    a_rx = Raw("ws", n2, ann, "ann@2/ws")  # the blocker, on the OTHER node
    closing.extend([b_tx, c_rx, a_rx])
    c_rx.sub("room", f"/topic/room.{room}")
    a_rx.sub("room", f"/topic/room.{room}")
    assert send(b_tx, room, "before")[0] == "ok"
    sentinel(c_rx, room, [a_rx])
    assert "before" in contents(a_rx, room)

    block(n1, ann, bob)

    # The change reaches ann's session on node 2 through Redis: bob's probes stop arriving.
    probes = []

    def filtered() -> bool:
        probes.append(f"probe-{len(probes)}")
        assert send(b_tx, room, probes[-1])[0] == "ok"
        sentinel(c_rx, room, [a_rx])
        return probes[-1] not in contents(a_rx, room)

    wait_for(filtered, 15, what="ann's session filters bob")
    _, last_before = send(c_rx, room, "cat: after the block")
    assert send(b_tx, room, "bob: after the block")[0] == "ok"
    last = sentinel(c_rx, room, [a_rx, c_rx])
    seen_by_ann, seen_by_cat = contents(a_rx, room), contents(c_rx, room)
    assert "cat: after the block" in seen_by_ann and "bob: after the block" not in seen_by_ann
    assert {"cat: after the block", "bob: after the block", probes[-1]} <= set(seen_by_cat)
    # Nobody else notices: bob got his RECEIPT and no error; cat got every probe.
    assert set(probes) <= set(seen_by_cat)
    assert not b_tx.errors and not b_tx.soft_errors()

    # History: ann's lacks every message of bob's (also those before the block); cat's has them.
    def persisted():
        return any(m["content"] == "bob: after the block" for m in history(n2, cat, room))
    wait_for(persisted, 30, what="the messages stored")
    ann_history = history(n2, ann, room)
    assert all(m["senderId"] != bob for m in ann_history), ann_history
    assert any(m["content"] == "cat: after the block" for m in ann_history)
    assert sum(m["senderId"] == bob for m in history(n1, cat, room)) >= 3
    # GET /api/rooms: ann's lastMessage is never bob's.
    rows = {r["id"]: r for r in call(n1, "GET", "/api/rooms", ann).json()}
    assert rows[room]["lastMessage"]["senderId"] != bob

    # Recovery with since-id on the other node skips bob's messages too.
    since = int(last_before["message-id"]) - 1
    rec = Raw("tcp", n1, ann, "ann@1/recover")
    closing.append(rec)
    rec.send("SUBSCRIBE", {"id": "r", "destination": f"/topic/room.{room}", "since-id": str(since), "receipt": "rec"})
    assert rec.receipt("rec", 30)["recovered"] == "true"
    replayed = contents(rec, room)
    assert "cat: after the block" in replayed and "bob: after the block" not in replayed
    assert all(b.get("senderId") != bob for _, b in room_events(rec, room))

    # Unread: bob's messages after ann's read mark do not count for her; cat's do.
    r = call(n1, "POST", f"/api/rooms/{room}/read", ann, json={"lastReadMessageId": int(last["message-id"])})
    assert r.status_code == 202
    wait_for(lambda: call(n1, "GET", f"/api/rooms/{room}/unread", ann).json()["unreadCount"] == 0, 30,
             what="ann's unread count after her read mark")
    assert send(b_tx, room, "bob: unread?")[0] == "ok"
    _, cat_unread = send(c_rx, room, "cat: unread!")
    # Stored with the unread counts in one transaction (the same partition: bob's came first).
    wait_for(lambda: any(m["id"] == int(cat_unread["message-id"]) for m in history(n2, cat, room)), 30,
             what="cat's message stored")
    with psycopg.connect(database) as conn:
        counts = dict(conn.execute("SELECT user_id, unread_count FROM chat_room_members WHERE room_id = %s",
                                   (room,)).fetchall())
    assert counts[ann] == 1, counts
    wait_for(lambda: call(n2, "GET", f"/api/rooms/{room}/unread", ann).json()["unreadCount"] == 1, 10,
             what="ann's unread count over REST")

    # Unblock (on node 2): live delivery and history come back.
    block(n2, ann, bob, on=False)
    after = []

    def delivered() -> bool:
        after.append(f"bob again {len(after)}")
        assert send(b_tx, room, after[-1])[0] == "ok"
        sentinel(c_rx, room, [a_rx])
        return after[-1] in contents(a_rx, room)

    wait_for(delivered, 15, what="ann gets bob's messages again")
    assert any(m["senderId"] == bob for m in history(n1, ann, room))


def test_the_blockers_live_room_list_never_shows_the_blocked_users_message(database, two_nodes, closing):
    n1, n2 = two_nodes
    ann, bob, cat = (create_user(database, nickname=n) for n in ("ann", "bob", "cat"))
    room = create_room(database, [ann, bob, cat], name="list")
    rooms = "/user/queue/rooms"
    b_tx = Raw("tcp", n1, bob, "bob@1/tcp")
    c_tx = Raw("tcp", n1, cat, "cat@1/tcp")
    watcher = Raw("ws", n2, ann, "ann@2/rooms")  # the blocker's list, on the OTHER node
    closing.extend([b_tx, c_tx, watcher])
    assert send(c_tx, room, "cat first")[0] == "ok"
    block(n1, ann, bob)
    watcher.sub("rooms", rooms)  # its RECEIPT: the list (and ann's blocks) loaded and live

    def updates() -> list[dict]:
        return [b["room"] for _, b in watcher.on(rooms) if b.get("room", {}).get("id") == room]

    # Loaded with the block: bob's message changes nothing; cat's then shows.
    assert send(b_tx, room, "bob hidden")[0] == "ok"
    assert send(c_tx, room, "cat second")[0] == "ok"
    watcher.wait(lambda: any(r["lastMessage"]["content"] == "cat second" for r in updates()), 15,
                 "room.updated with cat's message")
    assert all(r["lastMessage"]["senderId"] != bob for r in updates()), updates()

    # Lifted (on node 1): bob's next message shows. Blocked again (on node 2): the list is read
    # again and his message leaves lastMessage for cat's, the newest one not his.
    block(n1, ann, bob, on=False)

    def shows_bob() -> bool:
        assert send(b_tx, room, "bob visible")[0] == "ok"
        return any(r["lastMessage"]["content"] == "bob visible" for r in updates())

    wait_for(shows_bob, 15, what="bob's message in ann's list after the lift")
    wait_for(lambda: any(m["content"] == "bob visible" for m in history(n1, cat, room)), 30,
             what="bob's message stored")
    before = len(updates())
    block(n2, ann, bob)
    watcher.wait(lambda: len(updates()) > before and updates()[-1]["lastMessage"]["senderId"] != bob, 15,
                 "room.updated replacing bob's lastMessage after the block")
    assert updates()[-1]["lastMessage"]["content"] == "cat second"
    assert send(b_tx, room, "bob hidden again")[0] == "ok"
    assert send(c_tx, room, "cat third")[0] == "ok"
    watcher.wait(lambda: updates()[-1]["lastMessage"]["content"] == "cat third", 15, "cat's third message")
    assert all(r["lastMessage"]["content"] != "bob hidden again" for r in updates())


def test_friend_requests_between_a_blocked_pair_are_refused(database, two_nodes):
    n1, n2 = two_nodes
    ann, bob = create_user(database, nickname="ann"), create_user(database, nickname="bob")
    r = call(n1, "POST", "/api/friends/requests", bob, json={"userId": ann})
    assert r.status_code == 201, r.text
    pending = r.json()["id"]

    block(n2, ann, bob)
    for who, other in ((ann, bob), (bob, ann)):
        expect_error(call(n1, "POST", "/api/friends/requests", who, json={"userId": other}), 403, "blocked")
    # The request sent before the block cannot be accepted while it stands; it stays pending.
    expect_error(call(n2, "POST", f"/api/friends/requests/{pending}/accept", ann), 403, "blocked")
    incoming = call(n1, "GET", "/api/friends/requests?direction=incoming", ann).json()
    assert [x["id"] for x in incoming] == [pending]
    assert call(n1, "GET", "/api/friends", ann).json() == []

    block(n1, ann, bob, on=False)
    r = call(n2, "POST", f"/api/friends/requests/{pending}/accept", ann)
    assert r.status_code == 200, r.text
    assert [f["id"] for f in call(n1, "GET", "/api/friends", ann).json()] == [bob]


def test_chatctl_block_unblock_blocks(database, two_nodes, tmp_path):
    n1, _ = two_nodes
    ann = Cli(tmp_path / "ann", n1.url, n1.stomp_port).signup("ann")
    bob = Cli(tmp_path / "bob", n1.url, n1.stomp_port).signup("bob")

    assert ann.json("blocks") == []
    assert ann.json("block", bob.user_id) == {"userId": bob.user_id, "blocked": True}
    ann.ok("block", bob.email)  # by email, again: idempotent
    listed = ann.json("blocks")
    assert [(b["userId"], b["nickname"]) for b in listed] == [(bob.user_id, "bob")]
    # Not a terminal: the table is tab-separated rows without a header (docs/chatctl.md "Output").
    row = ann.ok("blocks").stdout.splitlines()
    assert len(row) == 1 and row[0].split("\t")[:2] == [str(bob.user_id), "bob"], row
    assert [b["userId"] for b in ann.jsonl("blocks")] == [bob.user_id]

    r = ann.run("room", "direct", "--user", bob.email)
    assert r.returncode == 5 and "blocked" in r.stderr, r.stderr  # 403 blocked: forbidden
    r = ann.run("block", ann.user_id)
    assert r.returncode == ERROR and "yourself" in r.stderr, r.stderr
    assert ann.run("block", "999999999999").returncode == NOT_FOUND
    assert ann.run("block", "nobody@example.com").returncode == NOT_FOUND
    assert ann.run("block", "not-a-user").returncode == 2

    ann.ok("unblock", bob.user_id)
    assert ann.run("unblock", bob.user_id).returncode == OK
    assert ann.json("blocks") == []
    assert ann.ok("room", "direct", "--user", bob.email).returncode == OK
    assert CHATCTL.exists()
