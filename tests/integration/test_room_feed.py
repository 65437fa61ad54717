"""The live room list (SPEC §14, docs/stomp.md "The live room list"): /user/queue/rooms on two
nodes -- room.added when the user is invited over REST on the other node, room.updated for the
messages of others (lastMessage, unreadCount) and the user's own read marks, room.removed when
they leave -- without a database query per message; the same as Server-Sent Events
(GET /api/rooms/stream: snapshot, heart-beat, replay with Last-Event-ID, a reader that does not
read dropped); chatctl rooms watch.

Clients the project did not write: python3-websocket (frames from stomp_ws.py), requests."""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from chatlib import create_room, create_user, make_token
from test_pipeline_consumers import isolate_ids
from test_stomp_lifecycle import FAST, Raw

ROOMS = "/user/queue/rooms"


def auth(user: int) -> dict:
    return {"Authorization": f"Bearer {make_token(user)}"}


def post_message(node, user: int, room: int, content: str) -> int:
    r = requests.post(f"{node.url}/api/rooms/{room}/messages", json={"content": content}, headers=auth(user),
                      timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def feed_events(client: Raw) -> list[tuple[dict, dict]]:
    return client.on(ROOMS)


def wait_event(client: Raw, predicate, what: str, timeout: float = 10) -> tuple[dict, dict]:
    found = []

    def seen():
        found[:] = [(h, b) for h, b in feed_events(client) if predicate(b)]
        return bool(found)

    client.wait(seen, timeout, what)
    return found[0]


def test_room_list_live_across_nodes(two_nodes, database, closing):
    n1, n2 = two_nodes
    alice = create_user(database, "alice")
    bob = create_user(database, "bob")
    known = create_room(database, [alice, bob], name="known")
    watcher = Raw("tcp", n1, alice, "alice-tcp")
    closing.append(watcher)
    ws = Raw("ws", n1, alice, "alice-ws")
    closing.append(ws)
    watcher.sub("rooms", ROOMS)  # its RECEIPT: the list is loaded and live
    ws.sub("rooms", ROOMS)

    # A message in a room of the loaded list, sent on the other node.
    post_message(n2, bob, known, "in known")
    h, b = wait_event(watcher, lambda b: b["room"]["id"] == known, "room.updated of the known room")
    assert h["chat-event"] == "room.updated" and h["message-id"].startswith("f")
    assert b["event"] == "room.updated"
    assert b["room"]["unreadCount"] == 1 and b["room"]["lastMessage"]["content"] == "in known"
    assert b["room"]["name"] == "known" and b["room"]["memberCount"] == 2 and b["room"]["type"] == "GROUP"

    # Invited on node 2 -> room.added on node 1, the GET /api/rooms item.
    r = requests.post(f"{n2.url}/api/rooms/group", json={"name": "party", "memberIds": []}, headers=auth(bob),
                      timeout=10)
    assert r.status_code == 201, r.text
    room = r.json()["id"]
    r = requests.post(f"{n2.url}/api/rooms/{room}/members", json={"userIds": [alice]}, headers=auth(bob), timeout=10)
    assert r.status_code == 200, r.text
    h, b = wait_event(watcher, lambda b: b["event"] == "room.added", "room.added")
    assert h["chat-event"] == "room.added"
    assert b["room"]["id"] == room and b["room"]["name"] == "party" and b["room"]["memberCount"] == 2
    assert b["room"]["unreadCount"] == 0
    listed = {x["id"]: x for x in requests.get(f"{n1.url}/api/rooms", headers=auth(alice), timeout=10).json()}
    assert set(listed) == {known, room}

    # Others' messages: lastMessage and unreadCount 1, 2 (alice's own "joined" notice is not unread).
    post_message(n2, bob, room, "one")
    _, b = wait_event(watcher, lambda b: b["room"]["id"] == room and (b["room"].get("lastMessage") or {}).get(
        "content") == "one", "room.updated one")
    assert b["room"]["unreadCount"] == 1
    post_message(n2, bob, room, "two")
    _, b = wait_event(watcher, lambda b: b["room"]["id"] == room and (b["room"].get("lastMessage") or {}).get(
        "content") == "two", "room.updated two")
    assert b["room"]["unreadCount"] == 2 and b["room"]["lastMessage"]["senderId"] == bob
    # Her own message changes lastMessage, not unreadCount.
    own = post_message(n1, alice, room, "mine")
    _, b = wait_event(watcher, lambda b: (b["room"].get("lastMessage") or {}).get("id") == own, "own message")
    assert b["room"]["unreadCount"] == 2
    # Her own read receipt (the receipts consumer's chat-event:read): unreadCount 0.
    r = requests.post(f"{n1.url}/api/rooms/{room}/read", json={"lastReadMessageId": own}, headers=auth(alice),
                      timeout=10)
    assert r.status_code == 202, r.text
    wait_event(watcher, lambda b: b["room"]["id"] == room and b["room"]["unreadCount"] == 0 and (
        b["room"].get("lastMessage") or {}).get("id") == own, "read: unread 0")

    # Both sessions of the user got the same events, in the same order.
    ws.wait(lambda: len(feed_events(ws)) >= len(feed_events(watcher)), 10, "the same events on the WebSocket")
    assert [b for _, b in feed_events(ws)][:len(feed_events(watcher))] == [b for _, b in feed_events(watcher)]

    # Leaving (REST, node 2) -> room.removed with only the id.
    r = requests.delete(f"{n2.url}/api/rooms/{room}/members/me", headers=auth(alice), timeout=10)
    assert r.status_code == 204, r.text
    h, b = wait_event(watcher, lambda b: b["event"] == "room.removed", "room.removed")
    assert b == {"event": "room.removed", "room": {"id": room}}
    # Nothing of that room any more.
    count = len(feed_events(watcher))
    post_message(n2, bob, room, "after she left")
    post_message(n2, bob, known, "still known")
    wait_event(watcher, lambda b: (b["room"].get("lastMessage") or {}).get("content") == "still known", "known")
    assert not [b for _, b in feed_events(watcher)[count:] if b["room"]["id"] == room]


def test_room_list_cannot_be_sent_to(two_nodes, database, closing):
    n1, _ = two_nodes
    alice = create_user(database, "alice")
    c = Raw("tcp", n1, alice, "alice")
    closing.append(c)
    c.sub("rooms", ROOMS)  # an empty list is live too
    # Nobody SENDs to it.
    c.send("SEND", {"destination": ROOMS, "receipt": "s1"}, "x")
    c.wait(lambda: c.errors, 10, "ERROR for a SEND to /user/queue/rooms")
    assert c.errors[0].headers["message"] == "unknown destination"
    time.sleep(0.1)


# --------------------------------------------------------------------------- SSE

SSE_ENV = {**FAST, "CHATD_SSE_HEARTBEAT": "300ms", "CHATD_SSE_MAX_BUFFER": "4096"}


class Sse(threading.Thread):
    """GET /api/rooms/stream read on its own thread: events as (id, event, data) and the
    comment lines, in arrival order."""

    def __init__(self, node, user: int, last_event_id: str | None = None):
        super().__init__(daemon=True)
        headers = auth(user)
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.r = requests.get(f"{node.url}/api/rooms/stream", headers=headers, stream=True, timeout=(5, 30))
        self.events: list[tuple[str, str, object]] = []
        self.comments: list[str] = []
        self.ended = False
        self.cond = threading.Condition()
        if self.r.status_code == 200:
            self.start()

    def run(self):
        ev: dict = {}
        try:
            for raw in self.r.iter_lines(chunk_size=None, decode_unicode=True):
                line = raw if isinstance(raw, str) else raw.decode()
                with self.cond:
                    if line.startswith(":"):
                        self.comments.append(line)
                    elif line == "":
                        if ev:
                            self.events.append((ev.get("id"), ev.get("event"), json.loads(ev.get("data", "null"))))
                        ev = {}
                    else:
                        k, _, v = line.partition(":")
                        ev[k] = v[1:] if v.startswith(" ") else v
                    self.cond.notify_all()
        except Exception:  # noqa: BLE001 - closed
            pass
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def wait(self, predicate, what: str, timeout: float = 10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                assert left > 0, f"timed out waiting for {what}; events {self.events}"
                self.cond.wait(min(left, 0.5))

    def close(self):
        self.r.close()


def metric(node, name: str) -> float:
    text = requests.get(node.metrics_url, timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def sse_nodes(stack, database, chatd_factory):
    n1 = chatd_factory(stack, database_url=database, env=SSE_ENV, name="sse-1")
    n2 = chatd_factory(stack, database_url=database, env=SSE_ENV, name="sse-2")
    isolate_ids(database)
    return n1, n2


def test_sse_snapshot_events_heartbeat_and_replay(sse_nodes, database, closing):
    n1, n2 = sse_nodes
    alice = create_user(database, "alice")
    bob = create_user(database, "bob")
    known = create_room(database, [alice, bob], name="known")

    r = requests.get(f"{n1.url}/api/rooms/stream", timeout=5)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"

    s = Sse(n1, alice)
    closing.append(s)
    assert s.r.status_code == 200 and s.r.headers["Content-Type"].startswith("text/event-stream")
    s.wait(lambda: s.events, "the snapshot")
    sid, kind, data = s.events[0]
    assert kind == "snapshot" and sid
    assert [x["id"] for x in data] == [known] and data[0]["unreadCount"] == 0
    s.wait(lambda: s.comments, "a heart-beat comment")

    post_message(n2, bob, known, "hello")
    s.wait(lambda: len(s.events) >= 2, "room.updated")
    eid, kind, data = s.events[1]
    assert kind == "room.updated" and data["event"] == "room.updated"
    assert data["room"]["id"] == known and data["room"]["unreadCount"] == 1
    assert data["room"]["lastMessage"]["content"] == "hello"
    s.close()

    # Missed while away, then a reconnect with Last-Event-ID: exactly those, no snapshot.
    post_message(n2, bob, known, "missed 1")
    post_message(n2, bob, known, "missed 2")
    time.sleep(1)  # the node's list has seen them (delivered within the fan-out's delay)
    again = Sse(n1, alice, last_event_id=eid)
    closing.append(again)
    again.wait(lambda: len(again.events) >= 2, "the replay")
    assert [k for _, k, _ in again.events[:2]] == ["room.updated", "room.updated"]
    assert [d["room"]["lastMessage"]["content"] for _, _, d in again.events[:2]] == ["missed 1", "missed 2"]
    assert again.events[1][2]["room"]["unreadCount"] == 3
    # An id it cannot honour: a snapshot.
    other = Sse(n1, alice, last_event_id="nosuch-1")
    closing.append(other)
    other.wait(lambda: other.events, "snapshot")
    assert other.events[0][1] == "snapshot" and other.events[0][2][0]["unreadCount"] == 3
    assert metric(n1, "chat_sse_connections") >= 2
    assert metric(n1, "chat_sse_events_sent_total") >= 5


def curl_stream(node, user: int, *extra: str) -> subprocess.Popen:
    """curl -N on GET /api/rooms/stream: the raw SSE lines on its stdout, as a shell user sees them."""
    return subprocess.Popen(["curl", "-sS", "-N", "--max-time", "60", "-H", f"Authorization: Bearer {make_token(user)}",
                             *extra, f"{node.url}/api/rooms/stream"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def raw_lines_until(proc: subprocess.Popen, predicate, what: str, timeout: float = 15) -> list[str]:
    """Reads curl's stdout a byte at a time (select sees the pipe) until predicate(lines)."""
    lines: list[str] = []
    line = bytearray()
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    while not predicate(lines):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {what}; lines {lines}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        byte = os.read(fd, 1)
        assert byte, f"curl ended ({proc.poll()}) waiting for {what}: {proc.stderr.read()!r}; lines {lines}"
        if byte == b"\n":
            lines.append(line.decode())
            line.clear()
        else:
            line += byte
    return lines


def has_event(lines: list[str], name: str) -> bool:
    """The `event: name` line and the data line after it have come."""
    return f"event: {name}" in lines and len(lines) > lines.index(f"event: {name}") + 1


def test_sse_with_curl_raw_lines_and_a_reconnect_with_last_event_id(sse_nodes, database):
    n1, n2 = sse_nodes
    alice, bob = create_user(database, "alice"), create_user(database, "bob")
    room = create_room(database, [alice, bob], name="curl")
    curl = curl_stream(n1, alice)
    try:
        lines = raw_lines_until(curl, lambda ls: has_event(ls, "snapshot") and any(x.startswith(":") for x in ls),
                                "the snapshot and a heart-beat comment")
        i = lines.index("event: snapshot")
        assert lines[i - 1].startswith("id: "), lines
        assert lines[i + 1].startswith("data: ") and json.loads(lines[i + 1][6:])[0]["id"] == room
        post_message(n2, bob, room, "over curl")
        lines = raw_lines_until(curl, lambda ls: has_event(ls, "room.updated"), "room.updated")
        j = lines.index("event: room.updated")
        last_id = lines[j - 1][4:]
        assert lines[j - 1].startswith("id: ") and last_id
        data = json.loads(lines[j + 1][6:])
        assert data["room"]["lastMessage"]["content"] == "over curl" and data["room"]["unreadCount"] == 1
    finally:
        os.killpg(curl.pid, signal.SIGTERM)
        curl.wait(10)

    post_message(n2, bob, room, "while curl was away")
    time.sleep(1)  # the node's list has seen it
    again = curl_stream(n1, alice, "-H", f"Last-Event-ID: {last_id}")
    try:
        lines = raw_lines_until(again, lambda ls: has_event(ls, "room.updated"), "the missed room.updated")
        assert "event: snapshot" not in lines, lines
        k = lines.index("event: room.updated")
        assert json.loads(lines[k + 1][6:])["room"]["lastMessage"]["content"] == "while curl was away"
        assert int(lines[k - 1][4:].rsplit("-", 1)[1]) > int(last_id.rsplit("-", 1)[1])
    finally:
        os.killpg(again.pid, signal.SIGTERM)
        again.wait(10)


def test_sse_reader_that_does_not_read_is_dropped(sse_nodes, database):
    n1, n2 = sse_nodes
    alice = create_user(database, "alice")
    bob = create_user(database, "bob")
    room = create_room(database, [alice, bob], name="busy")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", n1.http_port))
    sock.sendall((f"GET /api/rooms/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {make_token(alice)}\r\n\r\n")
                 .encode())
    before = metric(n1, "chat_slow_consumer_disconnects_total")
    big = "x" * 3900
    deadline = time.monotonic() + 60
    sent = 0
    while metric(n1, "chat_sse_dropped_total") < 1:
        assert time.monotonic() < deadline, f"not dropped after {sent} events"
        for _ in range(10):
            post_message(n2, bob, room, big)
            sent += 1
        time.sleep(0.2)
    assert metric(n1, "chat_slow_consumer_disconnects_total") >= before + 1
    # The connection is closed: reading drains what was sent, then ends.
    sock.settimeout(10)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    sock.close()


# --------------------------------------------------------------------------- chatctl


def test_chatctl_rooms_watch(sse_nodes, tmp_path):
    from test_chatctl import CHATCTL, Cli, read_line_with_deadline, wait_for_stderr
    if not CHATCTL.exists():
        pytest.fail(f"{CHATCTL} is missing: build it first (ninja chatctl)")
    n1, n2 = sse_nodes
    alice = Cli(tmp_path / "alice", n1.url, n1.stomp_port).signup("alice")
    bob = Cli(tmp_path / "bob", n2.url, n2.stomp_port).signup("bob")
    room = bob.json("room", "group", "--name", "watched", "--member", alice.email)["id"]
    watch = alice.popen("rooms", "watch", "-o", "jsonl", "--count", "1")
    try:
        first = json.loads(read_line_with_deadline(watch.stdout, 30, watch, "the snapshot line"))
        assert first["event"] == "snapshot" and [r["id"] for r in first["rooms"]] == [room]
        wait_for_stderr(watch, "Watching your rooms")
        bob.ok("send", room, input="hello alice\n")
        e = json.loads(read_line_with_deadline(watch.stdout, 30, watch, "room.updated"))
        assert e["event"] == "room.updated" and e["room"]["id"] == room
        assert e["room"]["lastMessage"]["content"] == "hello alice" and e["room"]["unreadCount"] == 1
        watch.wait(timeout=20)
        assert watch.returncode == 0, watch.stderr.read()
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    r = alice.run("room", "watch", "--help")
    assert r.returncode == 0 and "Example:" in r.stdout
