"""Issue 4 (gateway x Kafka, docs/architecture.md/docs/stomp.md): a SEND's RECEIPT waits for the broker's
acknowledgement; a refused or timed-out record gets ERROR with the SEND's receipt-id.
Faults are injected through the control port of the test's own development broker
(own_redis_kafka)."""
from __future__ import annotations

import json
import time
import uuid

from chatlib import create_room, create_user, make_token
from stomp_ws import RawStomp, kafka_has_key


def test_receipt_waits_for_the_broker_ack(own_redis_kafka, chatd_factory):
    database = own_redis_kafka.create_database("receipt_ack")
    node = chatd_factory(own_redis_kafka, database_url=database)
    a = create_user(database)
    room = create_room(database, [a])
    c = RawStomp.tcp(node.stomp_port)
    c.connect(make_token(a))
    # Warm up (metadata, producer id) so that the delay below is the broker's only.
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "warm"}, "warm up")
    c.expect("RECEIPT", receipt_id="warm", timeout=20)

    own_redis_kafka.kafka_control("broker-rtt 1 1500")
    try:
        key = str(uuid.uuid4())
        t0 = time.monotonic()
        c.send("SEND", {"destination": "/app/chat.send", "receipt": "slow"},
               json.dumps({"roomId": room, "content": "delayed ack", "messageKey": key}))
        c.expect("RECEIPT", receipt_id="slow", timeout=20)
        waited = time.monotonic() - t0
    finally:
        own_redis_kafka.kafka_control("broker-rtt 1 0")
    assert waited >= 1.2, f"RECEIPT after {waited:.2f}s although the broker delays acks by 1.5s"
    assert kafka_has_key(own_redis_kafka, key)["value"]["content"] == "delayed ack"


def test_refused_record_gets_error_with_receipt_id(own_redis_kafka, chatd_factory):
    database = own_redis_kafka.create_database("receipt_refused")
    node = chatd_factory(own_redis_kafka, database_url=database)
    a = create_user(database)
    room = create_room(database, [a])
    c = RawStomp.ws(node.http_port)
    c.connect(make_token(a))
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "warm"}, "warm up")
    c.expect("RECEIPT", receipt_id="warm", timeout=20)

    own_redis_kafka.kafka_control("request-errors Produce INVALID_RECORD")
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "doomed"}, "refused by the broker")
    f = c.expect("ERROR", timeout=20)
    assert f.headers["receipt-id"] == "doomed"
    assert f.headers["message"] == "message not accepted"
    # One refused record does not end the session (issue 18): the ERROR says so, and the
    # next SEND goes through once the broker accepts records again.
    assert f.headers["session-closes"] == "false"
    own_redis_kafka.kafka_control("clear-errors Produce")
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "next"}, "accepted again")
    c.expect("RECEIPT", receipt_id="next", timeout=20)


def test_send_timeout_gets_error_with_receipt_id(own_redis_kafka, chatd_factory):
    database = own_redis_kafka.create_database("receipt_timeout")
    node = chatd_factory(own_redis_kafka, database_url=database, env={"CHATD_SEND_TIMEOUT": "1500ms"})
    a = create_user(database)
    room = create_room(database, [a])
    c = RawStomp.tcp(node.stomp_port)
    c.connect(make_token(a))
    c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "warm"}, "warm up")
    c.expect("RECEIPT", receipt_id="warm", timeout=20)
    own_redis_kafka.kafka_control("broker-down 1")
    try:
        t0 = time.monotonic()
        c.send("SEND", {"destination": f"/topic/room.{room}", "receipt": "lost"}, "nobody acks this")
        f = c.expect("ERROR", timeout=20)
        assert f.headers["receipt-id"] == "lost"
        assert time.monotonic() - t0 < 1.5 + 6
    finally:
        own_redis_kafka.kafka_control("broker-up 1")
