"""Read state for senders and members (SPEC §14 "Delivery status", docs/stomp.md, docs/rest.md):

- a read receipt moves a member's mark; the read-receipts consumer then publishes a live read
  event, which every node delivers to the room's subscribers as MESSAGE `chat-event:read`
  (`message-id:r<room>-<user>-<mark>`, body `{"event":"read",…}`): once per mark that moved —
  a repeated or older receipt publishes nothing — and never mistaken for a room event;
- GET /api/rooms/{id}/reads lists every member's mark, for members only (403, 404, 400, 401);
- chatctl reads prints it (table, json, jsonl; exit 5 for a non-member), and chatctl tail shows
  read marks as "✓ alice read up to ID" lines.

Clients the project did not write: python3-websocket (frames from stomp_ws.py), psycopg,
requests."""
from __future__ import annotations

import json
import signal
import subprocess
import uuid

import requests

from chatlib import create_room, create_user, make_token
from conftest import wait_for
from test_rest_common import expect_error
from test_stomp_lifecycle import Raw, room_events, sentinel


def mark_read(node, user: int, room: int, last: int):
    r = requests.post(f"{node.url}/api/rooms/{room}/read", json={"lastReadMessageId": last},
                      headers={"Authorization": f"Bearer {make_token(user)}"}, timeout=30)
    assert r.status_code == 202, r.text


def read_events(client, room: int) -> list[tuple[dict, dict]]:
    return [(h, b) for h, b in room_events(client, room) if h.get("chat-event") == "read"]


def send(tx: Raw, room: int, content: str) -> int:
    key = str(uuid.uuid4())
    tx.app("/app/chat.send", {"roomId": room, "content": content, "messageKey": key}, receipt=key)
    return int(tx.receipt(key)["message-id"])


def test_a_read_receipt_reaches_the_other_node_live_as_chat_event_read(stack, database, two_nodes, closing):
    n1, n2 = two_nodes
    alice, bob = create_user(database, nickname="alice"), create_user(database, nickname="bob")
    room = create_room(database, [alice, bob], name="reads")
    a_rx = Raw("ws", n1, alice, "alice@1/ws")  # the sender, watching on node 1
    b_tx = Raw("tcp", n2, bob, "bob@2/tcp")  # the reader, on node 2
    closing.extend([a_rx, b_tx])
    a_rx.sub("room", f"/topic/room.{room}")
    # Message id 0 (the first record of partition 0) is also the mark "nothing read": reading
    # it moves nothing. One message first, so m1 is never id 0.
    send(a_rx, room, "warm-up")
    m1 = send(a_rx, room, "one")
    m2 = send(a_rx, room, "two")

    mark_read(n2, bob, room, m1)
    wait_for(lambda: len(read_events(a_rx, room)) == 1, 30, what="bob's read event on node 1")
    headers, body = read_events(a_rx, room)[0]
    assert body == {"event": "read", "roomId": room, "userId": bob, "lastReadMessageId": m1}
    assert headers["message-id"] == f"r{room}-{bob}-{m1}"
    assert headers["destination"] == f"/topic/room.{room}"
    assert headers["content-type"] == "application/json"

    # The same mark again and an older one move nothing: no event. Then a newer one, over
    # STOMP this time (/app/chat.read). Receipts of one room are in one partition, so once
    # m2's event arrived the two before it were applied.
    mark_read(n2, bob, room, m1)
    mark_read(n1, bob, room, 0)
    b_tx.app("/app/chat.read", {"roomId": room, "lastReadMessageId": m2}, receipt="read-m2")
    b_tx.receipt("read-m2")
    wait_for(lambda: len(read_events(a_rx, room)) >= 2, 30, what="bob's second read event")
    sentinel(b_tx, room, [a_rx])
    marks = [b["lastReadMessageId"] for _, b in read_events(a_rx, room)]
    assert marks == [m1, m2]

    # The room's events are untouched: every other MESSAGE is a chat message with its id.
    others = [(h, b) for h, b in room_events(a_rx, room) if h.get("chat-event") != "read"]
    assert [b["id"] for _, b in others][1:3] == [m1, m2]
    for h, b in others:
        assert h["message-id"] == str(b["id"]) and h["chat-event"] == "message"

    # The same marks over REST, on either node.
    want = sorted([{"userId": alice, "lastReadMessageId": 0}, {"userId": bob, "lastReadMessageId": m2}],
                  key=lambda x: x["userId"])
    for node in (n1, n2):
        r = get_reads(node, alice, room)
        assert r.status_code == 200 and r.json() == want, r.text

    # chat_read_events_total{outcome}: both events published by one node's receipts consumer or
    # the other's (at least once: a rebalance may publish one again), none lost.
    def outcome(name: str) -> float:
        return sum(metric(node, f'chat_read_events_total{{outcome="{name}"}}') for node in (n1, n2))
    assert outcome("published") >= 2
    assert outcome("lost") == 0


def metric(node, series: str) -> float:
    for line in requests.get(node.metrics_url, timeout=10).text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[1])
    raise AssertionError(f"{series} not on {node.metrics_url}")


def get_reads(node, user: int, room) -> requests.Response:
    return requests.get(f"{node.url}/api/rooms/{room}/reads", headers={"Authorization": f"Bearer {make_token(user)}"},
                        timeout=10)


def test_get_reads_is_every_members_mark_for_members_only(stack, database, chatd):
    alice, bob, carol = (create_user(database, nickname=n) for n in ("alice", "bob", "carol"))
    room = create_room(database, [alice, bob], name="reads")
    other = create_room(database, [carol], name="carol's")
    r = get_reads(chatd, alice, room)
    assert r.status_code == 200, r.text
    assert r.json() == sorted([{"userId": alice, "lastReadMessageId": 0}, {"userId": bob, "lastReadMessageId": 0}],
                              key=lambda x: x["userId"])
    mark_read(chatd, bob, room, 5)
    mark_read(chatd, bob, room, 3)  # older: changes nothing
    mark_read(chatd, alice, room, 2)
    want = sorted([{"userId": alice, "lastReadMessageId": 2}, {"userId": bob, "lastReadMessageId": 5}],
                  key=lambda x: x["userId"])
    wait_for(lambda: get_reads(chatd, bob, room).json() == want, 30, what="both marks applied")

    expect_error(get_reads(chatd, carol, room), 403, "forbidden")
    expect_error(get_reads(chatd, alice, other + 1_000_000), 404, "not_found")
    for bad in ("abc", "0", "-1", "01"):
        expect_error(get_reads(chatd, alice, bad), 400)
    expect_error(requests.get(f"{chatd.url}/api/rooms/{room}/reads", timeout=10), 401)


def test_chatctl_reads_and_tail_shows_read_marks(stack, database, chatd, tmp_path):
    from test_chatctl import FORBIDDEN, Cli, read_line_with_deadline, wait_for_stderr
    alice = Cli(tmp_path / "alice", chatd.url, chatd.stomp_port).signup("alice")
    bob = Cli(tmp_path / "bob", chatd.url, chatd.stomp_port).signup("bob")
    carol = Cli(tmp_path / "carol", chatd.url, chatd.stomp_port).signup("carol")
    room = alice.json("room", "group", "--name", "marks", "--member", bob.email)["id"]

    tail = bob.popen("tail", room)  # table, not a terminal: tab-separated
    try:
        wait_for_stderr(tail, "Following room")
        alice.json("send", room, "warm-up")  # so that m1 is not message 0 (= "nothing read")
        m1 = alice.json("send", room, "hello")["id"]
        seen = []

        def next_line(what):
            line = read_line_with_deadline(tail.stdout, 30, tail, what + f" (seen {seen})")
            seen.append(line)
            return line
        while f"{m1}\t" not in next_line("m1 in tail"):
            pass
        alice.ok("read", room, "--up-to", m1)
        while "read up to" not in next_line("alice's read mark in tail"):
            pass
        assert seen[-1].rstrip("\n").split("\t")[-1] == f"\u2713 alice read up to {m1}", seen
    finally:
        tail.send_signal(signal.SIGINT)
        try:
            tail.wait(timeout=15)
        except subprocess.TimeoutExpired:
            tail.kill()
            tail.wait()
    assert tail.returncode == 0, tail.stderr.read()
    assert "skipping" not in tail.stderr.read()

    want = sorted([{"userId": alice.user_id, "nickname": "alice", "lastReadMessageId": m1},
                   {"userId": bob.user_id, "nickname": "bob", "lastReadMessageId": 0}], key=lambda x: x["userId"])
    wait_for(lambda: bob.json("reads", room) == want, 30, what="chatctl reads -o json")
    rows = [line.split("\t") for line in bob.ok("reads", room).stdout.splitlines()]
    assert sorted(rows) == sorted([[str(alice.user_id), "alice", str(m1)], [str(bob.user_id), "bob", "-"]])
    assert [json.loads(line) for line in bob.ok("reads", room, "-o", "jsonl").stdout.splitlines()] == want

    r = carol.run("reads", room)
    assert r.returncode == FORBIDDEN, (r.returncode, r.stderr)
    assert r.stdout == ""
