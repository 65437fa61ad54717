"""Issue 5, chatd in production (docs/stomp.md limits, docs/topics.md dead letters, docs/operations.md operations): dead
letters with their docs/topics.md headers between good messages, the block-and-retry and dead-letter
policies through a PostgreSQL outage, /metrics moving with traffic (and parsing as the
Prometheus text format), SIGTERM under a steady stream of SENDs, and floods of half-open
connections on both listeners (closed by the timeouts, and evicted oldest-first by
--max-http-handshakes / --max-stomp-handshakes).

Clients the project did not write: confluent-kafka (producing poison and reading the DLT),
psycopg, requests, stomp.py, python3-websocket / raw sockets (stomp_ws.RawStomp)."""
from __future__ import annotations

import json
import math
import os
import pathlib
import re
import selectors
import signal
import socket
import subprocess
import threading
import time
import uuid

import psycopg
import requests
import websocket
from confluent_kafka import Consumer, TopicPartition

from chatlib import create_room, create_user, make_token
from conftest import CHATD, wait_for
from stomp_ws import Closed, RawStomp
from test_pipeline_consumers import (MESSAGES, PARTITIONS, KafkaOut, isolate_ids, log_lines, message_value, stored,
                                     wait_assigned)
from test_pipeline_faults import Stream, assert_stored_once_in_order, rooms_of
from test_stomp_gateway import stomp_py

DLT = "chat.messages.dlt"
SECTION_5_HEADERS = ("dlt-original-topic", "dlt-original-partition", "dlt-original-offset", "dlt-original-timestamp",
                     "dlt-consumer-group", "dlt-exception-class", "dlt-exception-message", "dlt-attempts",
                     "dlt-failed-at")
FAST_RETRIES = {"CHATD_CONSUMER_RETRIES": "3", "CHATD_CONSUMER_RETRY_BACKOFF": "200ms"}


# --------------------------------------------------------------------------- Kafka helpers

def read_partition(stack, topic: str, partition: int, timeout: float = 30) -> list:
    """Every record of one partition that exists now (confluent Message objects)."""
    c = Consumer({"bootstrap.servers": stack.env()["CHATD_KAFKA_BROKERS"], "group.id": "t-" + uuid.uuid4().hex,
                  "enable.auto.commit": False})
    try:
        low, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        if high <= low:
            return []
        c.assign([TopicPartition(topic, partition, low)])
        out = []
        deadline = time.monotonic() + timeout
        while not out or out[-1].offset() + 1 < high:
            assert time.monotonic() < deadline, f"reading {topic}[{partition}] timed out"
            m = c.poll(0.2)
            if m is not None and not m.error():
                out.append(m)
        return out
    finally:
        c.close()


def read_topic(stack, topic: str) -> list:
    return [m for p in range(PARTITIONS) for m in read_partition(stack, topic, p)]


def headers_of(m) -> dict:
    return {k: (v.decode() if v is not None else None) for k, v in (m.headers() or [])}


def dead_letters_of(stack, partition: int, offset: int) -> dict:
    """consumer group -> the dead letter of chat.messages[partition]@offset (on the DLT's same partition)."""
    out = {}
    for m in read_partition(stack, DLT, partition):
        h = headers_of(m)
        if h.get("dlt-original-topic") == MESSAGES and h.get("dlt-original-offset") == str(offset) \
                and h.get("dlt-original-partition") == str(partition):
            assert h["dlt-consumer-group"] not in out, f"dead-lettered twice by {h['dlt-consumer-group']}"
            out[h["dlt-consumer-group"]] = m
    return out


# --------------------------------------------------------------------------- Prometheus text format

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _labels(text: str) -> tuple:
    out, pos = [], 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        assert m, f"bad label set {{{text}}} at {pos}"
        raw = m.group(2)
        assert re.fullmatch(r'(?:[^"\\]|\\[\\"n])*', raw), f"bad escape in label value {raw!r}"
        out.append((m.group(1), re.sub(r'\\[\\"n]', lambda e: _UNESCAPE[e.group(0)], raw)))
        pos = m.end()
    names = [k for k, _ in out]
    assert len(names) == len(set(names)), f"repeated label in {{{text}}}"
    return tuple(sorted(out))


def _value(text: str) -> float:
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    assert re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text), f"bad sample value {text!r}"
    return float(text)


class Metrics:
    """A parsed /metrics page (text format 0.0.4), validated while parsing: every sample
    belongs to a family declared by # TYPE before it, no series twice, counters >= 0,
    histogram buckets cumulative with +Inf = _count."""

    def __init__(self, text: str):
        assert text.endswith("\n"), "the exposition ends with a newline"
        self.types: dict[str, str] = {}
        self.samples: dict[tuple, float] = {}  # (sample name, labels) -> value
        current = None
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    if parts[1] == "TYPE":
                        assert parts[2] not in self.types, f"TYPE of {parts[2]} twice"
                        assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"), line
                        self.types[parts[2]] = parts[3]
                        current = parts[2]
                continue
            m = _SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            name, labels, value = m.group(1), _labels(m.group(2) or ""), _value(m.group(3))
            family = self._family_of(name)
            assert family == current, f"{name} outside its family's block (TYPE {current})"
            key = (name, labels)
            assert key not in self.samples, f"series twice: {line}"
            self.samples[key] = value
            if self.types[family] == "counter":
                assert value >= 0 and not math.isnan(value), line
        self._check_histograms()

    def _family_of(self, name: str) -> str:
        if name in self.types:
            return name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and self.types.get(base) == "histogram":
                return base
        raise AssertionError(f"sample {name} has no # TYPE")

    def _check_histograms(self):
        for family, kind in self.types.items():
            if kind != "histogram":
                continue
            series: dict[tuple, list] = {}
            for (name, labels), v in self.samples.items():
                if name == family + "_bucket":
                    le = dict(labels)["le"]
                    rest = tuple(kv for kv in labels if kv[0] != "le")
                    series.setdefault(rest, []).append((_value(le), v))
            for rest, buckets in series.items():
                buckets.sort()
                counts = [c for _, c in buckets]
                assert counts == sorted(counts), f"{family}{dict(rest)}: buckets not cumulative"
                assert buckets[-1][0] == math.inf, f"{family}{dict(rest)}: no +Inf bucket"
                assert self.samples[(family + "_count", rest)] == buckets[-1][1], f"{family}: +Inf != _count"
                assert (family + "_sum", rest) in self.samples

    def get(self, name: str, default: float | None = None, **labels) -> float:
        key = (name, tuple(sorted((k, str(v)) for k, v in labels.items())))
        if key not in self.samples:
            if default is not None:
                return default
            raise AssertionError(f"{name}{labels} not in /metrics: "
                                 f"{sorted(k for k in self.samples if k[0] == name)}")
        return self.samples[key]


def scrape(node) -> Metrics:
    r = requests.get(node.metrics_url, timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Metrics(r.text)


def test_the_prometheus_parser_rejects_what_is_not_the_text_format():
    good = ('# HELP h_seconds x\n# TYPE h_seconds histogram\nh_seconds_bucket{g="a",le="0.1"} 1\n'
            'h_seconds_bucket{g="a",le="+Inf"} 2\nh_seconds_sum{g="a"} 0.3\nh_seconds_count{g="a"} 2\n'
            '# TYPE c_total counter\nc_total{v="q\\"\\\\\\n"} 3\n')
    m = Metrics(good)
    assert m.get("h_seconds_count", g="a") == 2 and m.get("c_total", v='q"\\\n') == 3
    for bad in (good.replace('le="+Inf"} 2', 'le="+Inf"} 0'),    # not cumulative
                good.replace("h_seconds_count{g=\"a\"} 2", "h_seconds_count{g=\"a\"} 3"),  # +Inf != count
                good + "h_seconds_sum{g=\"b\"} 1\n",                # outside its family's block
                good + "c_total{v=\"q\\\"\\\\\\n\"} 4\n",              # the same series twice
                good + "# TYPE d gauge\nd{x=\"\\q\"} 1\n",          # bad escape
                good + "# TYPE e gauge\ne{x=\"1\"} one\n",          # bad value
                good + "untyped_thing 1\n",                          # no TYPE
                good.rstrip("\n")):                                  # no final newline
        try:
            Metrics(bad)
        except AssertionError:
            continue
        raise AssertionError(f"accepted: {bad!r}")


# --------------------------------------------------------------------------- STOMP helpers

def subscribe(c: RawStomp, dest: str, sub_id: str):
    c.send("SUBSCRIBE", {"id": sub_id, "destination": dest, "receipt": "sub-" + sub_id})
    c.expect("RECEIPT", receipt_id="sub-" + sub_id)


def stomp_send(c: RawStomp, room: int, content: str, receipt: str | None = None, key: str | None = None) -> str:
    key = key or str(uuid.uuid4())
    headers = {"destination": "/app/chat.send", "content-type": "application/json"}
    if receipt:
        headers["receipt"] = receipt
    c.send("SEND", headers, json.dumps({"roomId": room, "content": content, "messageKey": key}))
    return key


def messages_until(c: RawStomp, keys: list[str], timeout: float = 30) -> list[dict]:
    """MESSAGE bodies received until every key in `keys` arrived."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while not set(keys) <= {b["messageKey"] for b in got}:
        f = c.recv(max(0.0, deadline - time.monotonic()))
        assert f.command == "MESSAGE", f
        got.append(f.json())
    return got


# =========================================================================== a. poison among good records

def test_poison_records_are_dead_lettered_per_group_with_section_5_headers_between_good_ones(
        stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database)
    isolate_ids(database)
    wait_assigned(node)
    a, b = create_user(database, nickname="ann"), create_user(database, nickname="bob")
    room = create_room(database, [a, b])
    rx = RawStomp.ws(node.http_port)
    rx.connect(make_token(b))
    subscribe(rx, f"/topic/room.{room}", "r")
    tx = RawStomp.tcp(node.stomp_port)
    tx.connect(make_token(a))
    before = scrape(node).get("chat_dlt_records_total", 0.0, topic=DLT)

    good = []
    for i in range(3):
        good.append(stomp_send(tx, room, f"before {i}", receipt=f"g{i}"))
        tx.expect("RECEIPT", receipt_id=f"g{i}")
    # Around the gateway, keyed by the room like chatd's producer (so: the room's partition):
    # an unparseable value, and a well-formed message of a room that does not exist.
    kafka_out = KafkaOut(stack)
    produced_at = int(time.time() * 1000)
    poison_key = str(uuid.uuid4())
    poison = kafka_out.send(MESSAGES, str(room), b'{"messageKey":"' + poison_key.encode() + b'", "roomId":',
                            message_key=poison_key)
    ghost_key = str(uuid.uuid4())
    ghost = kafka_out.send(MESSAGES, str(room), message_value(room + 987654321, a, "nobody home", key=ghost_key),
                           message_key=ghost_key)
    kafka_out.flush([poison, ghost])
    for i in range(3, 6):
        good.append(stomp_send(tx, room, f"after {i}", receipt=f"g{i}"))
        tx.expect("RECEIPT", receipt_id=f"g{i}")

    # Live: the six good ones, once each, in the order sent; nothing of the poison.
    live = messages_until(rx, good)
    assert [m["messageKey"] for m in live] == good
    # Stored: the same six, in the same partition as the poison, ids in send order.
    rows = wait_for(lambda: (r := stored(database, good)) and len(r) == 6 and r, 60, what="good messages stored")
    partition = poison["partition"]
    assert {r["partition"] for r in rows.values()} == {partition} == {ghost["partition"]}
    ids = [rows[k]["id"] for k in good]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert rows[good[2]]["offset"] < poison["offset"] < ghost["offset"] < rows[good[3]]["offset"]
    assert [m["id"] for m in live] == ids, "same id live and in history"
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM messages WHERE room_id = %s", (room,)).fetchone()[0] == 6

    # The originals, for comparing key, value, timestamp and headers.
    originals = {m.offset(): m for m in read_partition(stack, MESSAGES, partition)
                 if m.offset() in (poison["offset"], ghost["offset"])}

    # docs/topics.md: the unparseable record is dead-lettered by both groups that read chat.messages;
    # the unknown room only matters to persistence (broadcast has no database).
    letters = wait_for(lambda: (d := dead_letters_of(stack, partition, poison["offset"])) and len(d) == 2 and d, 30,
                       what="the poison record dead-lettered by both groups")
    assert set(letters) == {"chat-persistence", "chat-broadcast"}
    ghost_letters = wait_for(lambda: dead_letters_of(stack, partition, ghost["offset"]), 30,
                             what="the unknown-room record dead-lettered")
    assert set(ghost_letters) == {"chat-persistence"}
    now = int(time.time() * 1000)
    expected_class = {poison["offset"]: "invalid_json", ghost["offset"]: "unknown_room"}
    for offset, by_group in ((poison["offset"], letters), (ghost["offset"], ghost_letters)):
        original = originals[offset]
        for group, m in by_group.items():
            assert m.topic() == DLT and m.partition() == partition, "same partition as the original"
            assert m.key() == original.key() and m.value() == original.value(), "key and value unchanged"
            h = headers_of(m)
            assert set(SECTION_5_HEADERS) <= set(h), f"missing: {set(SECTION_5_HEADERS) - set(h)}"
            assert h["dlt-original-topic"] == MESSAGES
            assert h["dlt-original-partition"] == str(partition)
            assert h["dlt-original-offset"] == str(offset)
            assert h["dlt-original-timestamp"] == str(original.timestamp()[1])
            assert h["dlt-consumer-group"] == group
            assert h["dlt-exception-class"] == expected_class[offset]
            assert h["dlt-exception-message"].strip()
            assert h["dlt-attempts"] == "1", "no retry can fix a poison record"
            assert produced_at - 1000 <= int(h["dlt-failed-at"]) <= now + 1000
            # The original record's headers travel with it (dlt-replay keeps them).
            for k, v in headers_of(original).items():
                assert h.get(k) == v, f"original header {k} lost"
    wait_for(lambda: scrape(node).get("chat_dlt_records_total", topic=DLT) - before == 3, 10,
             what="chat_dlt_records_total{topic=chat.messages.dlt} counted the three dead letters")
    rx.close()
    tx.close()


# =========================================================================== b. PostgreSQL outage, both policies

def dlt_of_group(stack, group: str) -> list:
    return [m for m in read_topic(stack, DLT) if headers_of(m).get("dlt-consumer-group") == group]


def test_postgres_outage_under_the_block_policy_dead_letters_nothing_and_stores_all_once_in_order(
        own_stack, chatd_factory):
    db = own_stack.create_database("prod_block")
    node = chatd_factory(own_stack, database_url=db, env=FAST_RETRIES)
    wait_assigned(node)
    rooms = rooms_of(db, 4)
    kafka_out = KafkaOut(own_stack)
    with Stream(kafka_out, rooms, rate=40) as stream:
        wait_for(lambda: len(stored(db, [s["key"] for s in stream.sent[:20]])) == 20, 60, what="first records stored")
        own_stack.stop("postgres")
        down_at = stream.count()
        # Much longer than the retries (3 x 200 ms): blocked, nothing given up.
        wait_for(lambda: len([l for l in log_lines(node, "batch failed, retrying")
                              if l["group"] == "chat-persistence" and l["attempt"] >= 10]) > 0, 30,
                 what="ten failed attempts of one persistence batch")
        wait_for(lambda: stream.count() > down_at + 120, 30, what="the stream going on during the outage")
        during = scrape(node)
        lag_then, count_then = during.get("chat_consumer_lag", group="chat-persistence"), stream.count()
        assert lag_then > 0, "persistence falls behind"
        # The lag keeps growing with what arrives while the partitions are paused.
        wait_for(lambda: scrape(node).get("chat_consumer_lag", group="chat-persistence") >= lag_then + 40, 30,
                 what=f"the lag growing past {lag_then} + 40 (sent {count_then} then, {stream.count()} now)")
        assert during.get("chat_consumer_blocked", group="chat-persistence") == 1
        assert during.get("chat_consumer_blocked", group="chat-broadcast") == 0
        own_stack.start("postgres")
        time.sleep(1)  # some traffic after the restart
    sent = stream.sent
    wait_for(lambda: len(stored(db, [s["key"] for s in sent])) == len(sent), 90, what="backlog stored")
    assert_stored_once_in_order(db, sent)
    assert dlt_of_group(own_stack, "chat-persistence") == [], "block: nothing dead-lettered"
    assert [l for l in log_lines(node, "record dead-lettered")] == []
    after = wait_for(lambda: (m := scrape(node)) and m.get("chat_consumer_lag", group="chat-persistence") == 0 and m,
                     30, what="persistence lag back to 0")
    assert after.get("chat_consumer_blocked", group="chat-persistence") == 0
    assert after.get("chat_consumer_failed_attempts_total", group="chat-persistence") >= 10
    # The batch held through the outage counts with its whole time.
    assert after.get("chat_message_consume_duration_seconds_bucket", group="chat-persistence", le="1") < \
        after.get("chat_message_consume_duration_seconds_count", group="chat-persistence")
    assert node.stop() == 0


def test_postgres_outage_under_the_dead_letter_policy_gives_records_up_after_the_retries(own_stack, chatd_factory):
    db = own_stack.create_database("prod_deadletter")
    node = chatd_factory(own_stack, database_url=db, env={**FAST_RETRIES, "CHATD_INFRA_FAILURE_POLICY": "dead-letter"})
    wait_assigned(node)
    rooms = rooms_of(db, 3)
    kafka_out = KafkaOut(own_stack)
    first = [kafka_out.message(room, users[0], f"up {i}") for i, (room, users) in enumerate(rooms)]
    kafka_out.flush(first)
    wait_for(lambda: len(stored(db, [s["key"] for s in first])) == len(first), 60, what="stored while up")

    own_stack.stop("postgres")
    down = [kafka_out.message(room, users[1], f"down {i}") for i in range(10) for room, users in rooms]
    kafka_out.flush(down)
    letters = wait_for(lambda: (d := dlt_of_group(own_stack, "chat-persistence")) and len(d) >= len(down) and d, 60,
                       what="every record of the outage dead-lettered by persistence")
    own_stack.start("postgres")

    by_position = {(int(headers_of(m)["dlt-original-partition"]), int(headers_of(m)["dlt-original-offset"])): m
                   for m in letters}
    assert set(by_position) == {(s["partition"], s["offset"]) for s in down}, "exactly the outage's records"
    for s in down:
        m = by_position[(s["partition"], s["offset"])]
        h = headers_of(m)
        assert m.partition() == s["partition"]
        assert h["dlt-exception-class"] == "infrastructure"
        assert h["dlt-attempts"] == "4", "the first attempt and --consumer-retries=3 retries"
        assert h["message-key"] == s["key"]
    assert dlt_of_group(own_stack, "chat-broadcast") == [], "Redis stayed up: broadcast gave nothing up"

    # The partitions moved on: records after the outage are stored; the given-up ones are
    # not (they wait in the DLT for dlt-replay).
    later = [kafka_out.message(room, users[0], f"back {i}") for i, (room, users) in enumerate(rooms)]
    kafka_out.flush(later)
    wait_for(lambda: len(stored(db, [s["key"] for s in later])) == len(later), 90, what="stored after the outage")
    assert stored(db, [s["key"] for s in down]) == {}
    assert scrape(node).get("chat_dlt_records_total", topic=DLT) == len(down)
    assert node.stop() == 0


# =========================================================================== c. metrics

def test_metrics_move_with_traffic_and_parse(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database,
                         env={"CHATD_RATE_LIMIT": "0.1", "CHATD_RATE_BURST": "5", "CHATD_RATE_DISCONNECT_FACTOR": "100"})
    isolate_ids(database)
    wait_assigned(node)
    groups = ("chat-persistence", "chat-broadcast", "chat-read-receipts")
    m0 = scrape(node)
    for family, kind in (("chat_messages_sent_total", "counter"), ("chat_messages_consumed_total", "counter"),
                         ("chat_websocket_sessions", "gauge"), ("chat_rooms_created_total", "counter"),
                         ("chat_message_consume_duration_seconds", "histogram"),
                         ("chat_delivery_latency_seconds", "histogram"), ("chat_rate_limited_total", "counter"),
                         ("chat_slow_consumer_disconnects_total", "counter"), ("chat_consumer_lag", "gauge")):
        assert m0.types.get(family) == kind, f"{family}: {m0.types.get(family)}"
    for g in groups:
        m0.get("chat_consumer_lag", group=g)
        m0.get("chat_message_consume_duration_seconds_count", group=g)
    assert m0.get("chat_websocket_sessions", transport="tcp") == 0
    assert m0.get("chat_websocket_sessions", transport="websocket") == 0
    # chatd raised its soft open-file limit to the hard one, and says so.
    (limit,) = log_lines(node, "open files limit")
    assert limit["soft"] == limit["hard"] or limit["hard"] == -1
    assert 0 < m0.get("process_open_fds") < m0.get("process_max_fds") == limit["soft"]

    a, b = create_user(database, nickname="ann"), create_user(database, nickname="bob")
    r = requests.post(node.url + "/api/rooms/group", json={"name": "metrics", "memberIds": [b]},
                      headers={"Authorization": f"Bearer {make_token(a)}"}, timeout=10)
    assert r.status_code == 201, r.text
    room = r.json()["id"]
    rx = RawStomp.ws(node.http_port)
    rx.connect(make_token(b))
    subscribe(rx, f"/topic/room.{room}", "r")
    tx = RawStomp.tcp(node.stomp_port)
    tx.connect(make_token(a))
    m1 = scrape(node)
    assert m1.get("chat_websocket_sessions", transport="tcp") == 1
    assert m1.get("chat_websocket_sessions", transport="websocket") == 1
    assert m1.get("chat_rooms_created_total") == m0.get("chat_rooms_created_total") + 1

    # Five SENDs (the burst), then two more long before a token comes back (one per 10 s).
    keys = [stomp_send(tx, room, f"m{i}", receipt=f"m{i}") for i in range(5)]
    for i in range(5):
        tx.expect("RECEIPT", receipt_id=f"m{i}")
    for i in range(2):
        stomp_send(tx, room, f"over {i}", receipt=f"x{i}")
    live = messages_until(rx, keys)
    stored_rows = wait_for(lambda: (s := stored(database, keys)) and len(s) == 5 and s, 60, what="stored")
    kafka_out = KafkaOut(stack)
    poison = kafka_out.send(MESSAGES, str(room), b"not json at all")
    receipt = kafka_out.receipt(room, b, max(r["id"] for r in stored_rows.values()))
    kafka_out.flush([poison, receipt])
    wait_for(lambda: dead_letters_of(stack, poison["partition"], poison["offset"]).keys()
             == {"chat-persistence", "chat-broadcast"}, 30, what="poison dead-lettered")

    def moved():
        m = scrape(node)
        done = (m.get("chat_messages_consumed_total", group="chat-persistence")
                - m0.get("chat_messages_consumed_total", group="chat-persistence") >= 6
                and m.get("chat_messages_consumed_total", group="chat-broadcast")
                - m0.get("chat_messages_consumed_total", group="chat-broadcast") >= 6
                and m.get("chat_messages_consumed_total", group="chat-read-receipts")
                - m0.get("chat_messages_consumed_total", group="chat-read-receipts") >= 1
                and all(m.get("chat_consumer_lag", group=g) == 0 for g in groups))
        return done and m
    m2 = wait_for(moved, 30, what="consumed counters and lag")
    assert m2.get("chat_messages_sent_total") - m0.get("chat_messages_sent_total") == 5
    assert m2.get("chat_rate_limited_total") - m0.get("chat_rate_limited_total") == 2
    for g in groups:
        assert m2.get("chat_message_consume_duration_seconds_count", group=g) > \
            m0.get("chat_message_consume_duration_seconds_count", group=g), g
        assert m2.get("chat_message_consume_duration_seconds_sum", group=g) > \
            m0.get("chat_message_consume_duration_seconds_sum", group=g), g
    assert m2.get("chat_delivery_latency_seconds_count") - m0.get("chat_delivery_latency_seconds_count") >= len(live)
    # The latency anatomy (docs/operations.md): each of the five messages passed every stage of
    # this one node; a later stage of the same messages cannot show less time since createdAt
    # (the node may hear a PUBLISH before the consumer hears it returned: those two not compared).
    stages = ("kafka_acked", "broadcast_consumed", "redis_published", "node_received", "socket_written")
    assert m2.types.get("chat_stage_latency_seconds") == "histogram"

    def stage(m, name, part):
        return m.get(f"chat_stage_latency_seconds_{part}", stage=name) - m0.get(
            f"chat_stage_latency_seconds_{part}", stage=name)

    for name in stages:
        assert stage(m2, name, "count") >= 5, name
    mean = {name: stage(m2, name, "sum") / stage(m2, name, "count") for name in stages}
    assert mean["broadcast_consumed"] <= mean["redis_published"], mean
    assert mean["node_received"] <= mean["socket_written"], mean
    assert m2.get("chat_dlt_records_total", topic=DLT) - m0.get("chat_dlt_records_total", 0.0, topic=DLT) == 2
    assert m2.get("chat_slow_consumer_disconnects_total") == m0.get("chat_slow_consumer_disconnects_total")
    rx.close()
    tx.close()
    wait_for(lambda: scrape(node).get("chat_websocket_sessions", transport="websocket") == 0
             and scrape(node).get("chat_websocket_sessions", transport="tcp") == 0, 10, what="session gauges back to 0")


# =========================================================================== d. SIGTERM under a stream

class Sender(threading.Thread):
    """One STOMP client SENDing with receipts (up to `window` outstanding) until the server
    closes; records which messageKeys got a RECEIPT and the ERRORs it got."""

    def __init__(self, node, user: int, room: int, via: str, window: int = 4, rate: float = 40):
        super().__init__(daemon=True)
        self.c = RawStomp.tcp(node.stomp_port) if via == "tcp" else RawStomp.ws(node.http_port)
        self.c.connect(make_token(user))
        self.room, self.window, self.rate = room, window, rate
        self.outstanding: dict[str, str] = {}  # receipt -> key
        self.receipted: list[str] = []
        self.keys: list[str] = []  # every messageKey it tried to SEND
        self.errors: list = []
        self.sent = 0
        self.closed = False

    def run(self):
        start = time.monotonic()
        try:
            while True:
                due = start + self.sent / self.rate
                if len(self.outstanding) < self.window and time.monotonic() >= due:
                    rid = f"r{self.sent}"
                    key = str(uuid.uuid4())
                    self.keys.append(key)
                    try:
                        self.outstanding[rid] = stomp_send(self.c, self.room, f"n{self.sent}", receipt=rid, key=key)
                    except Exception:  # noqa: BLE001 - OSError or websocket's closed: frames below tell
                        pass
                    self.sent += 1
                    continue
                try:
                    f = self.c.recv(0.02)
                except TimeoutError:
                    continue
                if f.command == "RECEIPT":
                    self.receipted.append(self.outstanding.pop(f.headers["receipt-id"]))
                elif f.command == "ERROR":
                    self.errors.append(f)
        except Closed:
            self.closed = True
        except OSError:
            self.closed = True


def test_sigterm_during_a_stream_keeps_every_receipted_message_and_exits_0(stack, database, chatd_factory):
    env = {"CHATD_RATE_LIMIT": "1000", "CHATD_RATE_BURST": "1000"}
    survivor = chatd_factory(stack, database_url=database, env=env, name="survivor")
    isolate_ids(database)
    wait_assigned(survivor)
    node = chatd_factory(stack, database_url=database, env=env, name="leaving")
    wait_assigned(node, ["chat-persistence"])
    users = [create_user(database) for _ in range(4)]
    rooms = [create_room(database, users) for _ in range(2)]
    senders = [Sender(node, u, rooms[i % 2], "tcp" if i % 2 else "ws") for i, u in enumerate(users)]
    for s in senders:
        s.start()
    wait_for(lambda: all(len(s.receipted) >= 20 for s in senders), 60, what="every client has receipts")
    sigterm_at = time.monotonic()
    node.proc.send_signal(signal.SIGTERM)
    for s in senders:
        s.join(timeout=40)
        assert not s.is_alive() and s.closed, "the server closed every session"
    assert node.proc.wait(timeout=35) == 0
    exit_after = time.monotonic() - sigterm_at
    assert exit_after < 30, f"exited {exit_after:.1f}s after SIGTERM"
    for s in senders:
        assert [e.headers.get("message") for e in s.errors if "receipt-id" not in e.headers] == \
            ["server shutting down"], s.errors
    receipted = [k for s in senders for k in s.receipted]
    assert len(receipted) == len(set(receipted))
    # The survivor takes the leaving node's partitions over: history has every message
    # that got a RECEIPT, each once.
    wait_for(lambda: len(stored(database, receipted)) == len(receipted), 90, what="every receipted message stored")
    with psycopg.connect(database) as conn:
        counts = dict(conn.execute("SELECT message_key::text, count(*) FROM messages WHERE message_key = ANY(%s::uuid[]) "
                                   "GROUP BY 1", (receipted,)).fetchall())
    assert set(counts) == set(receipted) and set(counts.values()) == {1}
    # The other half of the promise: whatever Kafka accepted got its RECEIPT before the close.
    # A sentinel per room, sent through the survivor after the shutdown, is stored after every
    # record before it in the room's partition, so by then every accepted SEND is in history.
    closer = RawStomp.tcp(survivor.stomp_port)
    closer.connect(make_token(users[0]))
    sentinels = [stomp_send(closer, room, "sentinel", receipt=f"z{room}") for room in rooms]
    for _ in rooms:
        closer.expect("RECEIPT")
    closer.close()
    wait_for(lambda: len(stored(database, sentinels)) == len(sentinels), 90, what="the sentinels stored")
    tried = [k for s in senders for k in s.keys]
    accepted = set(stored(database, tried))
    assert accepted == set(receipted), \
        f"{len(accepted - set(receipted))} accepted SENDs got no RECEIPT: {sorted(accepted - set(receipted))[:5]}"
    shutdown = log_lines(node, "chatd stopped")
    assert shutdown, "chatd logged its clean stop"


# =========================================================================== e. half-open connection floods

def open_flood(port: int, n: int, first_bytes: bytes = b"") -> list[socket.socket]:
    """n TCP connections that never finish their handshake (optionally after a few bytes)."""
    out = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if first_bytes:
            s.sendall(first_bytes)
        s.setblocking(False)
        out.append(s)
    return out


def silent_and_open(s: socket.socket) -> bool:
    """True while the server has neither written to nor closed `s` (made non-blocking)."""
    s.setblocking(False)
    try:
        s.recv(1, socket.MSG_PEEK)  # b"" = closed; data = an ERROR
        return False
    except BlockingIOError:
        return True


def wait_all_closed(socks: list[socket.socket], timeout: float) -> dict:
    """Reads every socket until the server closes it; returns {"closed": n, "bytes": {sock: data}}."""
    sel = selectors.DefaultSelector()
    data: dict = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        data[s] = b""
    open_ = set(socks)
    deadline = time.monotonic() + timeout
    while open_ and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                data[s] += chunk
            else:
                sel.unregister(s)
                open_.discard(s)
    sel.close()
    return {"closed": len(socks) - len(open_), "bytes": data}


def rss_kib(node) -> int:
    for line in pathlib.Path(f"/proc/{node.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def test_half_open_connection_floods_do_not_lock_out_clients_and_are_closed_by_the_timeouts(
        stack, database, chatd_factory):
    flood = int(os.environ.get("CHAT_FLOOD_PER_KIND", "600"))  # per kind; 1800 half-open connections in all
    node = chatd_factory(stack, database_url=database, args=["--roles", "gateway,broadcast"], env={
        "CHATD_HANDSHAKE_TIMEOUT": "10s", "CHATD_HTTP_REQUEST_TIMEOUT": "10s", "CHATD_MAX_HTTP_HANDSHAKES": "500",
        # No STOMP cap within reach here: this test is about the handshake timeout (the cap
        # has its own test below).
        "CHATD_MAX_STOMP_HANDSHAKES": "1000000"})
    isolate_ids(database)
    wait_assigned(node, ["chat-broadcast"])
    a, b = create_user(database), create_user(database)
    room = create_room(database, [a, b])
    m0 = scrape(node)
    rss_before = rss_kib(node)

    t0 = time.monotonic()
    stomp_flood = open_flood(node.stomp_port, flood)                      # never CONNECT
    tcp_only = open_flood(node.http_port, flood)                          # never a byte
    half_upgrade = open_flood(node.http_port, flood, b"GET /ws HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\n")
    flood_open_s = time.monotonic() - t0
    socks = stomp_flood + tcp_only + half_upgrade
    try:
        # While the flood is held: a real client connects on both listeners, chats, gets its messages.
        t1 = time.monotonic()
        assert requests.get(node.url + "/healthz", timeout=10).status_code == 200
        rx = RawStomp.ws(node.http_port)
        rx.connect(make_token(b))
        subscribe(rx, f"/topic/room.{room}", "r")
        tx = RawStomp.tcp(node.stomp_port)
        tx.connect(make_token(a))
        connect_s = time.monotonic() - t1
        during = scrape(node)  # early: well within the 10 s every half-open connection is held
        latencies = []
        for i in range(5):
            sent = time.monotonic()
            key = stomp_send(tx, room, f"through the flood {i}", receipt=f"f{i}")
            tx.expect("RECEIPT", receipt_id=f"f{i}", timeout=20)
            (body,) = messages_until(rx, [key], timeout=20)
            latencies.append(time.monotonic() - sent)
            assert body["content"] == f"through the flood {i}"
        print(f"\nflood of {len(socks)} opened in {flood_open_s:.2f}s; client connected in {connect_s:.3f}s; "
              f"send->MESSAGE {[round(x * 1000) for x in latencies]} ms; "
              f"pending HTTP {during.get('chat_http_pending_handshakes')}, "
              f"evicted {during.get('chat_http_handshakes_evicted_total')}; "
              f"chatd RSS {rss_before} -> {rss_kib(node)} KiB")
        # Each half-open connection held is a descriptor (STOMP: all of them; HTTP: at most
        # --max-http-handshakes); the HTTP side evicted the oldest beyond that.
        assert during.get("process_open_fds") - m0.get("process_open_fds") >= flood + 400
        assert during.get("chat_http_pending_handshakes") <= 500
        assert during.get("chat_http_handshakes_evicted_total") - m0.get("chat_http_handshakes_evicted_total") \
            >= 2 * flood - 500
        # Accepted in order: every flood connection before the client's, so all are tracked.
        assert during.get("chat_stomp_pending_handshakes") == flood
        assert during.get("chat_stomp_handshakes_evicted_total") == m0.get("chat_stomp_handshakes_evicted_total")
        rx.close()
        tx.close()

        # Every half-open connection is closed by the server: STOMP ones after ERROR
        # "handshake timeout", HTTP ones by eviction or --http-request-timeout.
        result = wait_all_closed(socks, 60)
        assert result["closed"] == len(socks), f"{len(socks) - result['closed']} half-open connections still open"
        for s in stomp_flood:
            assert b"message:handshake timeout" in result["bytes"][s], result["bytes"][s][:200]
        closed_s = time.monotonic() - t0
        print(f"all {len(socks)} closed {closed_s:.1f}s after the flood began")
        assert closed_s > 8, "closed by the timeouts, not at once"
    finally:
        for s in socks:
            s.close()
    after = wait_for(lambda: (m := scrape(node)) and m.get("chat_http_pending_handshakes") == 0
                     and m.get("chat_stomp_pending_handshakes") == 0
                     and m.get("chat_websocket_sessions", transport="tcp") == 0 and m, 20, what="gauges back to 0")
    assert after.get("chat_websocket_sessions", transport="websocket") == 0
    assert after.get("process_open_fds") < m0.get("process_open_fds") + 50
    # Still serving after the flood.
    c = RawStomp.tcp(node.stomp_port)
    c.connect(make_token(a))
    c.close()


def test_stomp_handshake_cap_evicts_the_oldest_half_open_connections_not_clients(stack, database, chatd_factory):
    """--max-stomp-handshakes: past the cap, the oldest STOMP/TCP connection that has not sent
    CONNECT gets ERROR "handshake capacity exceeded" and is closed at once, so a flood cannot
    hold more than the cap and a real client gets in at once. The handshake timeout is 60 s:
    whatever closes within the test's first seconds was evicted, not timed out."""
    cap, flood = 50, 200
    for args, env in ((["--max-stomp-handshakes", "0"], {}), ([], {"CHATD_MAX_STOMP_HANDSHAKES": "many"})):
        p = subprocess.run([str(CHATD), "--dev", "--database-url", database, *args], capture_output=True, text=True,
                           timeout=10, env={**os.environ, **env})
        assert p.returncode == 2 and "--max-stomp-handshakes" in p.stderr, (args, env, p.returncode, p.stderr)

    node = chatd_factory(stack, database_url=database, args=["--roles", "gateway,broadcast"], env={
        "CHATD_HANDSHAKE_TIMEOUT": "60s", "CHATD_MAX_STOMP_HANDSHAKES": str(cap)})
    isolate_ids(database)
    wait_assigned(node, ["chat-broadcast"])
    a, b = create_user(database), create_user(database)
    room = create_room(database, [a, b])
    m0 = scrape(node)
    assert m0.types["chat_stomp_pending_handshakes"] == "gauge"
    assert m0.types["chat_stomp_handshakes_evicted_total"] == "counter"
    evicted0 = m0.get("chat_stomp_handshakes_evicted_total")

    t0 = time.monotonic()
    socks = open_flood(node.stomp_port, flood)  # never CONNECT
    clients = []
    try:
        held = wait_for(lambda: (m := scrape(node)) and m.get("chat_stomp_handshakes_evicted_total") - evicted0
                        >= flood - cap and m, 20, what="the flood beyond the cap evicted")
        assert held.get("chat_stomp_pending_handshakes") == cap
        assert held.get("chat_stomp_handshakes_evicted_total") - evicted0 == flood - cap

        # Real clients, stomp.py over TCP, connect and chat at once while the flood is held.
        t1 = time.monotonic()
        rx, rx_frames = stomp_py(node, make_token(b))
        clients.append(rx)
        rx_frames.expect("CONNECTED")
        tx, tx_frames = stomp_py(node, make_token(a))
        clients.append(tx)
        tx_frames.expect("CONNECTED")
        connect_s = time.monotonic() - t1
        rx.subscribe(f"/topic/room.{room}", id="r", headers={"receipt": "sub-r"})
        rx_frames.expect("RECEIPT")
        key = str(uuid.uuid4())
        tx.send("/app/chat.send", json.dumps({"roomId": room, "content": "past the flood", "messageKey": key}),
                content_type="application/json", headers={"receipt": "s1"})
        tx_frames.expect("RECEIPT")
        message = json.loads(rx_frames.expect("MESSAGE", timeout=20).body)
        assert message["messageKey"] == key and message["content"] == "past the flood"
        chat_s = time.monotonic() - t1
        assert connect_s < 15 and chat_s < 30, (connect_s, chat_s)  # far below the 60 s timeout

        # The oldest were evicted (the first client's connection evicted one more), with the
        # ERROR, within seconds; the newest are still waiting.
        during = scrape(node)
        assert during.get("chat_stomp_handshakes_evicted_total") - evicted0 >= flood - cap
        assert cap - 2 <= during.get("chat_stomp_pending_handshakes") <= cap
        assert during.get("chat_websocket_sessions", transport="tcp") == 2
        oldest, newest = socks[:flood - cap], socks[flood - cap + 1:]
        result = wait_all_closed(oldest, 20)
        assert result["closed"] == len(oldest), f"{len(oldest) - result['closed']} of the oldest still open"
        for s in oldest:
            assert b"message:handshake capacity exceeded" in result["bytes"][s], result["bytes"][s][:200]
        evicted_s = time.monotonic() - t0
        assert evicted_s < 30, "evicted, not closed by the 60 s handshake timeout"
        still_open = sum(1 for s in newest if silent_and_open(s))
        assert still_open == len(newest), f"only {still_open} of the {len(newest)} newest flood connections open"
        print(f"\n{flood} half-open STOMP/TCP connections, cap {cap}: "
              f"{during.get('chat_stomp_handshakes_evicted_total') - evicted0:.0f} evicted, "
              f"{during.get('chat_stomp_pending_handshakes'):.0f} pending; clients connected in {connect_s * 1000:.0f} ms, "
              f"chatted in {chat_s * 1000:.0f} ms; oldest closed {evicted_s:.1f}s after the flood began")
    finally:
        for c in clients:
            try:
                c.disconnect()
            except Exception:  # noqa: BLE001 - already gone after a failure above
                pass
        for s in socks:
            s.close()
    # Connections that close before CONNECT leave the count too.
    # (The clients' DISCONNECTs and the flood's closes are processed asynchronously: wait.)
    wait_for(lambda: (m := scrape(node)) and m.get("chat_stomp_pending_handshakes") == 0
             and m.get("chat_websocket_sessions", transport="tcp") == 0, 20,
             what="pending STOMP handshakes and TCP sessions back to 0")


def ws_flood_outcome(w, timeout: float) -> tuple[bytes, str]:
    """Reads one flood WebSocket until the server ends it: (the message bytes received, how it
    ended: "close frame", "eof" without one, or "open" when still silent after `timeout`)."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        w.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            op, frame = w.recv_data_frame(True)
        except websocket.WebSocketTimeoutException:
            return data, "open"
        except (websocket.WebSocketConnectionClosedException, OSError):
            return data, "eof"
        if op == websocket.ABNF.OPCODE_CLOSE:
            return data, "close frame"
        if op in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            data += frame.data if isinstance(frame.data, bytes) else frame.data.encode()


def test_stomp_handshake_cap_is_shared_by_websocket_sessions_awaiting_connect(stack, database, chatd_factory):
    """--max-stomp-handshakes also counts WebSocket connections between the upgrade and
    CONNECT, in ONE cap with STOMP/TCP: a flood of upgraded WebSockets that never send CONNECT
    evicts its own oldest members (and the older STOMP/TCP ones), each with ERROR "handshake
    capacity exceeded" and a close frame, while a real WebSocket client connects and chats at
    once. The handshake timeout is 60 s: whatever closes within seconds was evicted."""
    cap, tcp_n, ws_n = 50, 10, 120
    node = chatd_factory(stack, database_url=database, args=["--roles", "gateway,broadcast"], env={
        "CHATD_HANDSHAKE_TIMEOUT": "60s", "CHATD_MAX_STOMP_HANDSHAKES": str(cap)})
    isolate_ids(database)
    wait_assigned(node, ["chat-broadcast"])
    a, b = create_user(database), create_user(database)
    room = create_room(database, [a, b])
    evicted0 = scrape(node).get("chat_stomp_handshakes_evicted_total")

    t0 = time.monotonic()
    tcp_socks = open_flood(node.stomp_port, tcp_n)  # the oldest: STOMP/TCP, never CONNECT
    url = f"ws://127.0.0.1:{node.http_port}/ws"
    flood = []  # upgraded, never CONNECT
    clients = []
    try:
        for _ in range(ws_n):
            flood.append(websocket.create_connection(url, subprotocols=["v12.stomp"], timeout=10))
        assert all(w.subprotocol == "v12.stomp" for w in flood)
        total = tcp_n + ws_n
        held = wait_for(lambda: (m := scrape(node)) and m.get("chat_stomp_handshakes_evicted_total") - evicted0
                        >= total - cap and m, 20, what="the flood beyond the cap evicted")
        assert held.get("chat_stomp_pending_handshakes") == cap
        assert held.get("chat_stomp_handshakes_evicted_total") - evicted0 == total - cap >= 70

        # Real WebSocket clients connect and chat at once while the flood is held.
        t1 = time.monotonic()
        rx = RawStomp.ws(node.http_port)
        clients.append(rx)
        rx.connect(make_token(b))
        tx = RawStomp.ws(node.http_port)
        clients.append(tx)
        tx.connect(make_token(a))
        connect_s = time.monotonic() - t1
        subscribe(rx, f"/topic/room.{room}", "r")
        key = stomp_send(tx, room, "past the websocket flood", receipt="w1")
        tx.expect("RECEIPT", receipt_id="w1", timeout=20)
        (body,) = messages_until(rx, [key], timeout=20)
        assert body["content"] == "past the websocket flood"
        chat_s = time.monotonic() - t1
        assert connect_s < 15 and chat_s < 30, (connect_s, chat_s)  # far below the 60 s timeout

        during = scrape(node)
        assert during.get("chat_websocket_sessions", transport="websocket") == 2
        assert cap - 2 <= during.get("chat_stomp_pending_handshakes") <= cap
        # The oldest, STOMP/TCP ones first, were evicted with the ERROR and closed; the first
        # real client's connection evicted one more (flood[by_flood]); the newest wait.
        by_flood = total - cap - tcp_n
        oldest, newest = flood[:by_flood], flood[by_flood + 2:]
        result = wait_all_closed(tcp_socks, 20)
        assert result["closed"] == tcp_n, f"{tcp_n - result['closed']} STOMP/TCP flood connections still open"
        for s in tcp_socks:
            assert b"message:handshake capacity exceeded" in result["bytes"][s], result["bytes"][s][:200]
        for i, w in enumerate(oldest):
            data, end = ws_flood_outcome(w, 20)
            assert b"message:handshake capacity exceeded" in data and end == "close frame", (i, end, data[:200])
        evicted_s = time.monotonic() - t0
        assert evicted_s < 30, "evicted, not closed by the 60 s handshake timeout"
        still_open = sum(1 for w in newest if silent_and_open(w.sock))
        assert still_open == len(newest), f"only {still_open} of the {len(newest)} newest flood WebSockets open"
        print(f"\n{tcp_n} STOMP/TCP + {ws_n} WebSocket connections without CONNECT, cap {cap}: "
              f"{during.get('chat_stomp_handshakes_evicted_total') - evicted0:.0f} evicted, "
              f"{during.get('chat_stomp_pending_handshakes'):.0f} pending; WebSocket clients connected in "
              f"{connect_s * 1000:.0f} ms, chatted in {chat_s * 1000:.0f} ms; "
              f"oldest closed {evicted_s:.1f}s after the flood began")
    finally:
        for c in clients:
            c.close()
        for w in flood:
            try:
                w.close(timeout=1)
            except Exception:  # noqa: BLE001 - closed by the server already
                pass
        for s in tcp_socks:
            s.close()
    after = wait_for(lambda: (m := scrape(node)) and m.get("chat_stomp_pending_handshakes") == 0
                     and m.get("chat_websocket_sessions", transport="websocket") == 0 and m, 20,
                     what="pending STOMP handshakes and WebSocket sessions back to 0")
    assert after.get("chat_websocket_sessions", transport="tcp") == 0


def test_sigterm_while_postgres_is_down_exits_in_time_and_loses_nothing(own_stack, chatd_factory):
    """A rolling restart during a database outage: the blocked persistence batch is retried
    until shortly before --shutdown-timeout, left uncommitted, and the process still exits 0
    in time; the next node stores everything once, in order."""
    db = own_stack.create_database("prod_sigterm_pg_down")
    env = {**FAST_RETRIES, "CHATD_SHUTDOWN_TIMEOUT": "10s"}
    node = chatd_factory(own_stack, database_url=db, env=env, name="leaving")
    wait_assigned(node)
    rooms = rooms_of(db, 3)
    kafka_out = KafkaOut(own_stack)
    with Stream(kafka_out, rooms, rate=30) as stream:
        wait_for(lambda: len(stored(db, [s["key"] for s in stream.sent[:10]])) == 10, 60, what="first records stored")
        own_stack.stop("postgres")
        wait_for(lambda: scrape(node).get("chat_consumer_blocked", group="chat-persistence") == 1, 30,
                 what="persistence blocked")
        sigterm_at = time.monotonic()
        node.proc.send_signal(signal.SIGTERM)
        assert node.proc.wait(timeout=40) == 0
        exit_after = time.monotonic() - sigterm_at
    print(f"\nexited {exit_after:.1f}s after SIGTERM with PostgreSQL down (--shutdown-timeout 10s)")
    assert exit_after < 10 + 8, "within --shutdown-timeout (plus process teardown)"
    assert log_lines(node, "stop deadline passed: leaving the failed batch uncommitted for redelivery")
    own_stack.start("postgres")
    sent = stream.sent
    chatd_factory(own_stack, database_url=db, env=FAST_RETRIES, name="next")
    wait_for(lambda: len(stored(db, [s["key"] for s in sent])) == len(sent), 90, what="everything stored by the next node")
    assert_stored_once_in_order(db, sent)
