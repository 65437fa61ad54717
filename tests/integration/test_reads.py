"""Read state for senders and members (SPEC §14 "Delivery status", docs/stomp.md, docs/rest.md):

- a read receipt moves a member's mark; the read-receipts consumer then publishes a live read
  event, which every node delivers to the room's subscribers as MESSAGE `chat-event:read`
  (`message-id:r<room>-<user>-<mark>`, body `{"event":"read",…}`): once per mark that moved —
  a repeated or older receipt publishes nothing — and never mistaken for a room event.

Clients the project did not write: python3-websocket (frames from stomp_ws.py), psycopg,
requests."""
from __future__ import annotations

import uuid

import pytest
import requests

from chatlib import create_room, create_user, make_token
from conftest import wait_for
from test_pipeline_consumers import isolate_ids
from test_stomp_lifecycle import FAST, Raw, room_events, sentinel


@pytest.fixture
def two_nodes(stack, database, chatd_factory):
    n1 = chatd_factory(stack, database_url=database, env=FAST, name="reads-1")
    n2 = chatd_factory(stack, database_url=database, env=FAST, name="reads-2")
    isolate_ids(database)
    return n1, n2


@pytest.fixture
def closing():
    clients = []
    yield clients
    for c in clients:
        c.close()


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
    assert [b["id"] for _, b in others][:2] == [m1, m2]
    for h, b in others:
        assert h["message-id"] == str(b["id"]) and h["chat-event"] == "message"
