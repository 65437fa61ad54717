"""The consumers when PostgreSQL or Redis go away under a stream of records (docs/architecture.md:
"if it is down, the persistence consumer retries and does not commit its Kafka offsets;
when it returns, the backlog is stored, in order, each message once"; "if Redis is down,
live delivery stops and resumes when Redis returns"). Each test owns what it stops: a whole
stack (PostgreSQL) or its Redis and Kafka (own_redis_kafka)."""
from __future__ import annotations

import signal
import threading
import time

import psycopg
from confluent_kafka import Consumer, TopicPartition

from chatlib import create_room, create_user, message_id
from conftest import wait_for
from test_pipeline_consumers import (MESSAGES, PARTITIONS, KafkaOut, Subscriber, isolate_ids, log_lines,
                                     members, stored, wait_assigned)


class Stream:
    """Produces `rate` messages/s round-robin over rooms on a thread until stopped."""

    def __init__(self, kafka_out: KafkaOut, rooms, rate: float):
        self.kafka_out = kafka_out
        self.rooms = rooms
        self.rate = rate
        self.sent: list[dict] = []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        i = 0
        start = time.monotonic()
        while not self.stop_flag.is_set():
            room, users = self.rooms[i % len(self.rooms)]
            self.sent.append(self.kafka_out.message(room, users[i % len(users)], f"stream {i}"))
            i += 1
            # Open-loop pacing: the i-th record is due at start + i / rate.
            delay = start + i / self.rate - time.monotonic()
            if delay > 0:
                self.stop_flag.wait(delay)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(timeout=10)
        self.kafka_out.flush(self.sent)

    def count(self) -> int:
        return len(self.sent)


def committed_offsets(stack, group: str, topic: str = MESSAGES) -> dict:
    c = Consumer({"bootstrap.servers": stack.env()["CHATD_KAFKA_BROKERS"], "group.id": group,
                  "enable.auto.commit": False})
    try:
        parts = c.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
        return {tp.partition: tp.offset for tp in parts}
    finally:
        c.close()


def high_watermarks(stack, topic: str = MESSAGES) -> dict:
    c = Consumer({"bootstrap.servers": stack.env()["CHATD_KAFKA_BROKERS"], "group.id": "pytest-watermarks"})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(PARTITIONS)}
    finally:
        c.close()


def rooms_of(db_url, n):
    out = []
    for _ in range(n):
        users = [create_user(db_url) for _ in range(2)]
        out.append((create_room(db_url, users), users))
    return out


def assert_stored_once_in_order(db_url, sent):
    keys = [s["key"] for s in sent]
    rows = stored(db_url, keys)
    assert len(rows) == len(keys), f"{len(keys) - len(rows)} records missing"
    for s in sent:
        assert rows[s["key"]]["id"] == message_id(s["partition"], s["offset"])
    with psycopg.connect(db_url) as conn:
        total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert total == len(keys), "a record was stored twice or a foreign one appeared"
        for room in {s["room"] for s in sent}:
            by_id = [r[0] for r in conn.execute(
                "SELECT message_key::text FROM messages WHERE room_id = %s ORDER BY id", (room,)).fetchall()]
            assert by_id == [s["key"] for s in sent if s["room"] == room]


def test_pipeline_postgres_outage_blocks_then_stores_every_record_once_in_order(own_stack, chatd_factory):
    db = own_stack.create_database("pipe_pg_outage")
    node = chatd_factory(own_stack, database_url=db, env={"CHATD_CONSUMER_RETRY_BACKOFF": "500ms"})
    rooms = rooms_of(db, 6)
    kafka_out = KafkaOut(own_stack)
    # The very first record of partition 0 has message id 0, which is also what
    # last_read_message_id says before anything was read: it must still count as unread.
    first = kafka_out.message(rooms[0][0], rooms[0][1][0], "id zero", partition=0)
    kafka_out.flush([first])
    assert (first["partition"], first["offset"]) == (0, 0)
    with Stream(kafka_out, rooms, rate=40) as stream:
        stream.sent.insert(0, first)
        wait_for(lambda: len(stored(db, [s["key"] for s in stream.sent[:20]])) == 20, 60, what="first records stored")
        own_stack.stop("postgres")
        down_at = stream.count()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # ~10 s outage while the stream goes on
            time.sleep(0.2)
        assert stream.count() > down_at + 200, "the stream kept producing during the outage"
        # While PostgreSQL is down the persistence offsets do not pass what was stored.
        blocked = wait_for(lambda: [l for l in log_lines(node, "batch failed, retrying")
                                    if l["group"] == "chat-persistence"], 5, what="a failed batch logged")
        assert "postgres" in blocked[0]["error"]
        own_stack.start("postgres")
        time.sleep(1)  # a little more traffic after the restart
    sent = stream.sent
    assert len(sent) > 400

    wait_for(lambda: len(stored(db, [s["key"] for s in sent])) == len(sent), 90, what="backlog stored")
    assert_stored_once_in_order(db, sent)
    # Unread counts: each message once for the other member.
    for room, users in rooms:
        expected = {u: sum(1 for s in sent if s["room"] == room and s["sender"] != u) for u in users}
        assert {u: n for u, (n, _) in members(db, room).items()} == expected
    assert any(l["group"] == "chat-persistence" for l in log_lines(node, "batch succeeded after retries"))

    # The committed offsets reached the end of every partition.
    ends = high_watermarks(own_stack)
    wait_for(lambda: committed_offsets(own_stack, "chat-persistence") == ends, 30, what="offsets committed to the end")
    assert node.stop() == 0
    assert committed_offsets(own_stack, "chat-persistence") == ends


def test_pipeline_redis_restart_resumes_live_delivery_and_history_is_complete(own_redis_kafka, chatd_factory):
    db = own_redis_kafka.create_database("pipe_redis_restart")
    node = chatd_factory(own_redis_kafka, database_url=db, env={"CHATD_CONSUMER_RETRY_BACKOFF": "500ms"})
    rooms = rooms_of(db, 4)
    sub = Subscriber(own_redis_kafka, [r for r, _ in rooms])
    kafka_out = KafkaOut(own_redis_kafka)
    try:
        # Message id 0 (partition 0, offset 0 of a fresh topic) is delivered with its id.
        first = kafka_out.message(rooms[0][0], rooms[0][1][0], "id zero", partition=0)
        kafka_out.flush([first])
        assert (first["partition"], first["offset"]) == (0, 0)
        body = wait_for(lambda: sub.by_key().get(first["key"]), 60, what="first message live")[0][1]
        assert body["id"] == 0
        with Stream(kafka_out, rooms, rate=40) as stream:
            stream.sent.insert(0, first)
            wait_for(lambda: len(sub.by_key()) >= 20, 60, what="live delivery before the restart")
            own_redis_kafka.stop("redis")
            time.sleep(3)  # the stream goes on while Redis is down
            own_redis_kafka.start("redis")
            restarted_at = stream.count()
            # The subscriber is back once it sees a message of after the restart.
            wait_for(lambda: any(s["key"] in sub.by_key() for s in stream.sent[restarted_at:]), 60,
                     what="live delivery resumed")
            resumed_at = stream.count()
            time.sleep(2)
        sent = stream.sent
        # Everything produced once the subscriber was back is delivered live, once each,
        # in each room's order; history has every record.
        after = sent[resumed_at:]
        assert len(after) > 40
        wait_for(lambda: all(s["key"] in sub.by_key() for s in after), 60, what="records after the restart published")
        got = sub.by_key()
        for s in after:
            assert len(got[s["key"]]) == 1
            assert got[s["key"]][0][1]["id"] == message_id(s["partition"], s["offset"])
        for room, _ in rooms:
            order = [k for k in sub.keys_in_order(room)]
            mine = [s["key"] for s in sent if s["room"] == room]
            positions = [mine.index(k) for k in order]
            assert positions == sorted(positions), "live delivery out of order"
        wait_for(lambda: len(stored(db, [s["key"] for s in sent])) == len(sent), 60, what="history complete")
        assert_stored_once_in_order(db, sent)
        blocked = [l for l in log_lines(node, "batch failed, retrying") if l["group"] == "chat-broadcast"]
        assert blocked and "redis" in blocked[0]["error"]
    finally:
        sub.close()


def test_pipeline_rebalance_and_a_killed_node_lose_nothing_and_deliver_once_in_order(stack, database, chatd_factory):
    """Two nodes share the groups; a third joins mid-stream (eager rebalance), then one is
    SIGKILLed with uncommitted work: every record is stored once, published once (the
    dedup key survives the node), and each room stays in partition order."""
    env = {"CHATD_PERSIST_BATCH_WAIT": "50ms"}
    a = chatd_factory(stack, database_url=database, env=env, name="node-a")
    isolate_ids(database)
    wait_assigned(a)
    rooms = rooms_of(database, 12)
    sub = Subscriber(stack, [r for r, _ in rooms])
    kafka_out = KafkaOut(stack)
    try:
        with Stream(kafka_out, rooms, rate=60) as stream:
            wait_for(lambda: len(sub.by_key()) >= 30, 60, what="node-a delivering")
            b = chatd_factory(stack, database_url=database, env=env, name="node-b")
            wait_assigned(b, ["chat-broadcast"])
            seen = len(sub.by_key())
            wait_for(lambda: len(sub.by_key()) >= seen + 60, 60, what="delivery after the rebalance")
            b.stop(signal.SIGKILL)
            seen = len(sub.by_key())
            wait_for(lambda: len(sub.by_key()) >= seen + 120, 60, what="node-a took over")
        sent = stream.sent
        wait_for(lambda: all(s["key"] in sub.by_key() for s in sent), 60, what="every record published")
        got = sub.by_key()
        dup = {k: len(v) for k, v in got.items() if len(v) > 1}
        assert not dup, f"published more than once: {dup}"
        for room, _ in rooms:
            order = sub.keys_in_order(room)
            assert order == [s["key"] for s in sent if s["room"] == room], "live order differs from the partition's"
        wait_for(lambda: len(stored(database, [s["key"] for s in sent])) == len(sent), 60, what="all stored")
        assert_stored_once_in_order(database, sent)
        for room, users in rooms:
            expected = {u: sum(1 for s in sent if s["room"] == room and s["sender"] != u) for u in users}
            assert {u: n for u, (n, _) in members(database, room).items()} == expected
        assert any(l["group"] == "chat-persistence" for l in log_lines(a, "partitions revoked"))
    finally:
        sub.close()
