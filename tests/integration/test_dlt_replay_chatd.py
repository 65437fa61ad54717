"""dlt-replay end to end through chatd (issue 8): a poison record produced into
chat.messages reaches chat.messages.dlt through chatd's consumers (docs/topics.md), dlt-replay
lists and shows it with the right origin and error, and after the payload is fixed in an
export file the replayed message is stored once and delivered live once; a second run sends
nothing, and a forced re-send (--restart) of a message already in history stores and
delivers no duplicate.

This depends on chatd's dead-letter routing (apps/chatd/pipeline): until chatd writes
<topic>.dlt, the wait for the dead letter below fails, naming what is missing."""
from __future__ import annotations

import datetime
import json
import time
import uuid

import psycopg

import requests

from chatlib import create_room, create_user, make_token
from conftest import wait_for
from stomp_ws import RawStomp
from test_dlt_replay import DltTool, Kafka

# The dev broker admits a new group member only session.timeout.ms - 1 s after the last
# one left (tools/kafka-dev/README.md).
FAST_GROUP = {"CHATD_KAFKA_PROPERTY": "session.timeout.ms=6000 heartbeat.interval.ms=1000"}
SECTION_5_HEADERS = {"dlt-original-topic", "dlt-original-partition", "dlt-original-offset", "dlt-original-timestamp",
                     "dlt-consumer-group", "dlt-exception-class", "dlt-exception-message", "dlt-attempts",
                     "dlt-failed-at"}


def message_json(room: int, sender: int, content: str, key: str) -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return json.dumps({"messageKey": key, "roomId": room, "senderId": sender, "senderNickname": "nick",
                       "content": content, "type": "TEXT",
                       "createdAt": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"},
                      separators=(",", ":"))


def stored_count(db_url: str, key: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT count(*) FROM messages WHERE message_key = %s::uuid", (key,)).fetchone()[0]


def test_poison_reaches_the_dlt_through_chatd_and_the_fixed_message_is_stored_once(own_redis_kafka, chatd_factory,
                                                                                    tmp_path):
    database = own_redis_kafka.create_database("dlt_replay_e2e")
    chatd_factory(own_redis_kafka, database_url=database, env=FAST_GROUP)
    user = create_user(database)
    room = create_room(database, [user])
    kafka = Kafka(own_redis_kafka)
    tool = DltTool(kafka.bootstrap)

    key = str(uuid.uuid4())
    fixed = message_json(room, user, "fixed at 3 a.m.", key)
    poison = fixed[:-1]  # truncated: not JSON
    headers = [("message-key", key), ("sent-at", str(int(time.time() * 1000))), ("origin-node", "pytest")]
    (p,) = kafka.produce("chat.messages", [{"key": str(room), "value": poison, "headers": headers}])
    origin = ["--origin-topic", "chat.messages", "--origin-partition", str(p["partition"]),
              "--origin-offset", str(p["offset"])]

    def persistence_dead_letter():
        rows = tool.json("list", *origin)
        return [r for r in rows if r["origin"]["consumerGroup"] == "chat-persistence"]

    (row,) = wait_for(persistence_dead_letter, 60, interval=0.5,
                      what="chatd to dead-letter the poison record into chat.messages.dlt with the docs/topics.md headers "
                           "(chatd's DLT routing, apps/chatd/pipeline)")
    assert row["dlt"]["topic"] == "chat.messages.dlt"
    assert row["dlt"]["partition"] == p["partition"]  # docs/topics.md: same partition
    assert row["origin"]["offset"] == p["offset"]
    assert row["error"]["class"] == "invalid_json"
    assert row["error"]["message"]
    assert row["key"] == str(room) and row["room"] == str(room)
    assert row["valueSize"] == len(poison)

    doc = tool.json("show", f"{row['dlt']['partition']}:{row['dlt']['offset']}")
    assert doc["dialect"] == "chat" and not doc.get("problems"), doc
    assert doc["value"] == poison and doc["valueFormat"] == "text"  # the original value, unchanged
    names = {h["name"] for h in doc["headers"]}
    assert SECTION_5_HEADERS <= names, f"missing docs/topics.md headers: {SECTION_5_HEADERS - names}"
    assert doc["error"]["attempts"] >= 1 and doc["error"]["failedAt"] is not None
    assert doc["origin"]["timestamp"] is not None
    assert "message-key" in names, "the original record's headers are kept on the dead letter"

    # Export, fix the payload as an SRE would in an editor, replay the file.
    out = tmp_path / "poison.jsonl"
    tool.ok("export", *origin, "--out", str(out))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records and all(r["value"] == poison for r in records)
    for r in records:
        r["value"] = json.loads(fixed)
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    first = tool.json("replay", "--from-file", str(out), "--yes")
    # Both consumer groups may have dead-lettered it: one original record is sent once.
    assert first["summary"]["replayed"] == 1 and first["summary"]["failed"] == 0, first
    assert first["summary"]["skipped"] == len(records) - 1
    wait_for(lambda: stored_count(database, key) == 1, 60, what="the fixed message stored")

    # A second run (from the file or from the topic) sends nothing.
    again = tool.json("replay", "--from-file", str(out), "--yes")["summary"]
    assert again["replayed"] == 0 and again["skipped"] == len(records)
    assert tool.json("replay", *origin, "--yes")["summary"]["replayed"] == 0

    # Barrier: a later message of the same room is stored, so anything sent before it was
    # consumed; the fixed message is still there exactly once.
    sentinel = str(uuid.uuid4())
    kafka.produce("chat.messages", [{"key": str(room), "value": message_json(room, user, "after", sentinel),
                                     "partition": p["partition"], "headers": [("message-key", sentinel)]}])
    wait_for(lambda: stored_count(database, sentinel) == 1, 60, what="the sentinel message stored")
    assert stored_count(database, key) == 1


def live_messages(client: RawStomp, until_key: str, timeout: float = 60) -> list[dict]:
    """Bodies of the MESSAGE frames received up to and including the one with `until_key`."""
    bodies = []
    deadline = time.monotonic() + timeout
    while True:
        f = client.recv(max(0.0, deadline - time.monotonic()))
        assert f.command == "MESSAGE", f
        bodies.append(json.loads(f.body))
        if bodies[-1]["messageKey"] == until_key:
            return bodies


def test_a_fixed_dead_letter_replayed_from_a_file_is_stored_and_delivered_once_by_chatd(own_redis_kafka, chatd_factory,
                                                                                         tmp_path):
    """The replay half on its own: the dead letter is produced here exactly as docs/topics.md says (so
    this does not depend on chatd's DLT routing), fixed in an export file and replayed into
    chat.messages, where chatd stores it once and delivers it live once; replaying it again on
    purpose (--restart) reaches Kafka but neither a second row nor a second live delivery."""
    database = own_redis_kafka.create_database("dlt_replay_store")
    node = chatd_factory(own_redis_kafka, database_url=database, env=FAST_GROUP)
    user = create_user(database)
    room = create_room(database, [user])
    kafka = Kafka(own_redis_kafka)
    tool = DltTool(kafka.bootstrap)
    token = make_token(user)
    live = RawStomp.tcp(node.stomp_port)
    live.connect(token)
    live.send("SUBSCRIBE", {"id": "s1", "destination": f"/topic/room.{room}", "receipt": "sub"})
    live.expect("RECEIPT", receipt_id="sub")

    key = str(uuid.uuid4())
    fixed = message_json(room, user, "stored once", key)
    headers = [("message-key", key), ("sent-at", str(int(time.time() * 1000))), ("origin-node", "pytest"),
               ("dlt-original-topic", "chat.messages"), ("dlt-original-partition", "1"),
               ("dlt-original-offset", "999999"), ("dlt-original-timestamp", str(int(time.time() * 1000))),
               ("dlt-consumer-group", "chat-persistence"), ("dlt-exception-class", "invalid_json"),
               ("dlt-exception-message", "value is not JSON"), ("dlt-attempts", "1"),
               ("dlt-failed-at", str(int(time.time() * 1000)))]
    (d,) = kafka.produce("chat.messages.dlt", [{"key": str(room), "value": fixed[:-1], "partition": 1,
                                                "headers": headers}])
    out = tmp_path / "one.jsonl"
    tool.ok("export", "--origin-offset", "999999", "--out", str(out))
    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert rec["dlt"] == {"topic": "chat.messages.dlt", "partition": 1, "offset": d["offset"],
                          "timestamp": rec["dlt"]["timestamp"]}
    rec["value"] = rec["value"] + "}"  # the fix: the closing brace
    out.write_text(json.dumps(rec) + "\n")

    doc = tool.json("replay", "--from-file", str(out), "--yes")
    assert doc["summary"]["replayed"] == 1, doc
    (result,) = doc["results"]
    assert result["target"]["topic"] == "chat.messages" and result["target"]["partition"] == 1
    wait_for(lambda: stored_count(database, key) == 1, 60, what="the replayed message stored")
    (delivered,) = live_messages(live, key)
    assert delivered["content"] == "stored once"
    assert tool.json("replay", "--from-file", str(out), "--yes")["summary"]["replayed"] == 0

    # On purpose, again: the record reaches chat.messages a second time, and chatd's dedup on
    # messageKey keeps it one row and one live delivery.
    forced = tool.json("replay", "--from-file", str(out), "--yes", "--restart")
    assert forced["summary"]["replayed"] == 1, forced
    assert forced["results"][0]["target"]["offset"] > result["target"]["offset"]

    sentinel = str(uuid.uuid4())
    kafka.produce("chat.messages", [{"key": str(room), "value": message_json(room, user, "after", sentinel),
                                     "partition": 1, "headers": [("message-key", sentinel)]}])
    wait_for(lambda: stored_count(database, sentinel) == 1, 60, what="the sentinel message stored")
    assert stored_count(database, key) == 1
    # Everything live between the first delivery and the sentinel: no second copy of the key.
    assert [m["messageKey"] for m in live_messages(live, sentinel)] == [sentinel]
    live.close()
    history = requests.get(f"{node.url}/api/rooms/{room}/messages", headers={"Authorization": f"Bearer {token}"},
                           timeout=10).json()["messages"]
    assert [m["messageKey"] for m in history] == [sentinel, key]
    assert history[1]["id"] == delivered["id"], "the same id live and in history"
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT content, kafka_partition, kafka_offset FROM messages WHERE message_key = %s::uuid",
                           (key,)).fetchone()
    assert row == ("stored once", 1, result["target"]["offset"])
