"""dlt-replay (issue 8, docs/topics.md, docs/dlt-replay.md) against the development broker, with dead letters this
module produces itself (confluent-kafka): this project's dlt-* headers exactly as docs/topics.md and
docs/dlt-replay.md define them, and Spring Kafka and Kafka Connect fixtures.

Isolation: every test uses its own dead-letter, target and ledger topics (unique names on
the shared broker), so records of other tests never show up. The end-to-end test through
chatd is in test_dlt_replay_chatd.py."""
from __future__ import annotations

import json
import os
import pathlib
import struct
import subprocess
import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from conftest import BUILD

DLT_REPLAY = BUILD / "apps" / "dlt-replay" / "dlt-replay"
RUN_TIMEOUT = 90  # seconds one dlt-replay invocation may take


# ---------------------------------------------------------------------------- helpers


class DltTool:
    """Runs dlt-replay against one broker; every run is bounded in time and has no
    terminal (a new session), so a confirmation prompt cannot hang a test."""

    def __init__(self, bootstrap: str):
        if not DLT_REPLAY.exists():
            pytest.fail(f"{DLT_REPLAY} is missing: build the dlt-replay target first")
        self.bootstrap = bootstrap

    def run(self, *args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
        e = dict(os.environ)
        e.pop("KAFKA_BROKERS", None)
        e.update(env or {})
        argv = [str(DLT_REPLAY), "--brokers", self.bootstrap, "--timeout", "20", *args]
        return subprocess.run(argv, env=e, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                              input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                              start_new_session=True)

    def ok(self, *args: str, **kw) -> subprocess.CompletedProcess:
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"dlt-replay {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def json(self, *args: str, **kw):
        return json.loads(self.ok(*args, "-o", "json", **kw).stdout)


class Kafka:
    """Produces fixture records and reads topics back, with deadlines."""

    def __init__(self, stack):
        self.stack = stack
        self.bootstrap = stack.env()["CHATD_KAFKA_BROKERS"]
        self.producer = Producer({"bootstrap.servers": self.bootstrap, "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 5})

    def create_topic(self, name: str, partitions: int):
        self.stack.kafka_control(f"topic-create {name} {partitions}")

    def produce(self, topic: str, records: list[dict]) -> list[dict]:
        """records: {key, value, headers: [(name, bytes|str)], partition}; returns them
        with "partition"/"offset" set, in the order given."""
        out = []
        for r in records:
            where: dict = dict(r)

            def delivered(err, msg, where=where):
                where["error"] = err
                if err is None:
                    where["partition"] = msg.partition()
                    where["offset"] = msg.offset()

            kwargs = {"value": r.get("value"), "headers": r.get("headers", []), "on_delivery": delivered}
            if r.get("key") is not None:
                kwargs["key"] = r["key"]
            if r.get("partition") is not None:
                kwargs["partition"] = r["partition"]
            self.producer.produce(topic, **kwargs)
            out.append(where)
        assert self.producer.flush(30) == 0, "fixture records not acknowledged"
        for w in out:
            assert w.get("error") is None and "offset" in w, f"fixture delivery failed: {w}"
        return out

    def read_all(self, topic: str, timeout: float = 30) -> list:
        """Every record of `topic` that exists now, as confluent Message objects."""
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "t-" + uuid.uuid4().hex,
                      "enable.auto.commit": False, "enable.partition.eof": False})
        try:
            md = c.list_topics(topic, timeout=10).topics[topic]
            ends = {}
            for p in md.partitions:
                low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                if high > low:
                    ends[p] = high
            c.assign([TopicPartition(topic, p, -2) for p in ends])  # -2: the oldest kept
            got, done = [], {p: False for p in ends}
            deadline = time.monotonic() + timeout
            while not all(done.values()):
                assert time.monotonic() < deadline, f"reading {topic} timed out ({len(got)} records)"
                m = c.poll(0.2)
                if m is None or m.error():
                    continue
                got.append(m)
                if m.offset() + 1 >= ends[m.partition()]:
                    done[m.partition()] = True
            return sorted(got, key=lambda m: (m.partition(), m.offset()))
        finally:
            c.close()

    def high_watermarks(self, topic: str) -> dict:
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "t-" + uuid.uuid4().hex})
        try:
            md = c.list_topics(topic, timeout=10).topics[topic]
            return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in md.partitions}
        finally:
            c.close()


def headers_of(msg) -> list[tuple[str, bytes]]:
    return [(n, v) for n, v in (msg.headers() or [])]


def header(msg, name: str) -> bytes | None:
    for n, v in headers_of(msg):
        if n == name:
            return v
    return None


def chat_dlt_headers(topic: str, partition: int, offset: int, error_class: str, message: str,
                     group: str = "chat-persistence", failed_at: int = 1763726460000, attempts: int = 1,
                     replay_count: int | None = None, message_key: str | None = None):
    """The docs/topics.md headers exactly as chatd writes them (docs/dlt-replay.md): the original
    record's headers first, then dlt-* as UTF-8 text, numbers decimal, times Unix ms."""
    hs = []
    if message_key:
        hs.append(("message-key", message_key))
    hs += [("sent-at", "1763726400000"), ("origin-node", "node-a")]
    if replay_count is not None:
        hs.append(("dlt-replay-count", str(replay_count)))
    hs += [
        ("dlt-original-topic", topic),
        ("dlt-original-partition", str(partition)),
        ("dlt-original-offset", str(offset)),
        ("dlt-original-timestamp", "1763726400123"),
        ("dlt-consumer-group", group),
        ("dlt-exception-class", error_class),
        ("dlt-exception-message", message),
        ("dlt-attempts", str(attempts)),
        ("dlt-failed-at", str(failed_at)),
    ]
    return hs


def spring_dlt_headers(topic: str, partition: int, offset: int, fqcn: str, message: str,
                       group: str = "orders-service", timestamp: int = 1700000000000):
    return [
        ("kafka_dlt-original-topic", topic),
        ("kafka_dlt-original-partition", struct.pack(">i", partition)),
        ("kafka_dlt-original-offset", struct.pack(">q", offset)),
        ("kafka_dlt-original-timestamp", struct.pack(">q", timestamp)),
        ("kafka_dlt-original-timestamp-type", "CreateTime"),
        ("kafka_dlt-original-consumer-group", group),
        ("kafka_dlt-exception-fqcn", fqcn),
        ("kafka_dlt-exception-message", message),
        ("kafka_dlt-exception-stacktrace", f"{fqcn}: {message}\n\tat com.example.Listener.on(Listener.java:42)"),
    ]


def connect_dlt_headers(topic: str, partition: int, offset: int):
    return [
        ("__connect.errors.topic", topic),
        ("__connect.errors.partition", str(partition)),
        ("__connect.errors.offset", str(offset)),
        ("__connect.errors.connector.name", "jdbc-sink"),
        ("__connect.errors.task.id", "0"),
        ("__connect.errors.stage", "VALUE_CONVERTER"),
        ("__connect.errors.class.name", "org.apache.kafka.connect.json.JsonConverter"),
        ("__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"),
        ("__connect.errors.exception.message", "Converting byte[] to Kafka Connect data failed"),
        ("__connect.errors.exception.stacktrace", "org.apache.kafka.connect.errors.DataException: ..."),
    ]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def kafka(stack):
    k = Kafka(stack)
    yield k
    k.producer.flush(5)
    k.producer = None  # freed now, not after the broker is gone (no reconnect noise)


@pytest.fixture
def tool(kafka):
    return DltTool(kafka.bootstrap)


@pytest.fixture
def topics(kafka):
    """Unique topics of one test: dlt (6 partitions), target (6), ledger (1), park (6)."""
    names = {"dlt": unique("t.orders") + ".dlt", "target": unique("t.orders"), "ledger": unique("t.ledger"),
             "park": unique("t.parked")}
    for role, name in names.items():
        kafka.create_topic(name, 1 if role == "ledger" else 6)
    return names


def seed_chat_dead_letters(kafka, topics) -> list[dict]:
    """Three chat-dialect dead letters of `target`, all on DLT partition 2."""
    target = topics["target"]
    value_a = json.dumps({"messageKey": str(uuid.uuid4()), "roomId": 41, "content": "fine"},
                         separators=(",", ":"))
    return kafka.produce(topics["dlt"], [
        {"key": "41", "value": value_a, "partition": 2,
         "headers": chat_dlt_headers(target, 2, 100, "unknown_room", "room 41 does not exist",
                                     failed_at=1763726460000, message_key="k-a")},
        {"key": "42", "value": b"{not json", "partition": 2,
         "headers": chat_dlt_headers(target, 2, 101, "invalid_json", "value is not JSON: unexpected 'n'",
                                     group="chat-broadcast", failed_at=1763730060000)},
        {"key": "x", "value": json.dumps({"roomId": 43, "content": "too long"}), "partition": 2,
         "headers": chat_dlt_headers(target, 5, 250, "bad_length", "content has 4001 characters",
                                     failed_at=1763733660000, attempts=3)},
    ])


# ---------------------------------------------------------------------------- list, show, stats


def test_list_shows_origin_error_key_and_size_and_ends_at_the_topic_end(kafka, tool, topics):
    seeded = seed_chat_dead_letters(kafka, topics)
    t0 = time.monotonic()
    rows = tool.json("list", "--topic", topics["dlt"])
    assert time.monotonic() - t0 < 30, "list did not end promptly at the topic's end"
    assert [(r["dlt"]["partition"], r["dlt"]["offset"]) for r in rows] == [(2, s["offset"]) for s in seeded]
    first, second, third = rows
    assert first["origin"] == {"topic": topics["target"], "partition": 2, "offset": 100,
                               "consumerGroup": "chat-persistence"}
    assert first["error"] == {"class": "unknown_room", "message": "room 41 does not exist"}
    assert first["key"] == "41" and first["room"] == "41"
    assert first["valueSize"] == len(seeded[0]["value"])
    assert first["time"] == "2025-11-21T12:01:00.000Z"
    assert first["dialect"] == "chat" and first["replayCount"] == 0
    assert second["origin"]["consumerGroup"] == "chat-broadcast"
    assert second["error"]["class"] == "invalid_json"
    assert second["valueSize"] == len(b"{not json")
    assert third["room"] == "43"  # from the payload: the key is not a room id

    table = tool.ok("list", "--topic", topics["dlt"]).stdout.splitlines()
    assert table[0].split()[:3] == ["P:OFFSET", "TIME", "ORIGIN"]
    assert len(table) == 4
    assert f"2:{seeded[1]['offset']}" in table[2] and "invalid_json: value is not JSON" in table[2]
    assert f"{topics['target']} 2:101" in table[2]

    lines = tool.ok("list", "--topic", topics["dlt"], "-o", "jsonl").stdout.splitlines()
    assert [json.loads(l) for l in lines] == rows


def test_list_filters(kafka, tool, topics):
    seed_chat_dead_letters(kafka, topics)

    def offsets(*args):
        return [r["origin"]["offset"] for r in tool.json("list", "--topic", topics["dlt"], *args)]

    assert offsets("--error", "invalid_json") == [101]
    assert offsets("--error", "ROOM 41") == [100]                       # substring, any case
    assert offsets("--error", "/^(unknown_room|bad_length):/") == [100, 250]
    assert offsets("--origin-partition", "5") == [250]
    assert offsets("--origin-offset", "100-101") == [100, 101]
    assert offsets("--origin-offset", "101-") == [101, 250]
    assert offsets("--origin-topic", topics["target"], "--limit", "2") == [100, 101]
    assert offsets("--room", "42") == [101]                             # the key
    assert offsets("--room", "43") == [250]                             # the payload
    assert offsets("--group", "chat-broadcast") == [101]
    assert offsets("--since", "2025-11-21T13:00:00Z") == [101, 250]     # dlt-failed-at
    assert offsets("--until", "2025-11-21T13:01:00Z") == [100]
    assert offsets("--since", "2025-11-21T13:00:00Z", "--until", "2025-11-21T14:00:00Z") == [101]
    assert offsets("--error", "no such error") == []


def test_show_decodes_every_header_and_pretty_prints(kafka, tool, topics):
    seeded = seed_chat_dead_letters(kafka, topics)
    where = f"2:{seeded[0]['offset']}"
    doc = tool.json("show", where, "--topic", topics["dlt"])
    assert doc["dlt"]["topic"] == topics["dlt"] and doc["dlt"]["offset"] == seeded[0]["offset"]
    assert doc["origin"]["topic"] == topics["target"] and doc["origin"]["offset"] == 100
    assert doc["origin"]["timestamp"] == "2025-11-21T12:00:00.123Z"
    assert doc["error"] == {"class": "unknown_room", "message": "room 41 does not exist", "attempts": 1,
                            "failedAt": "2025-11-21T12:01:00.000Z"}
    assert doc["valueFormat"] == "json" and doc["value"]["roomId"] == 41
    names = [h["name"] for h in doc["headers"]]
    assert names[:3] == ["message-key", "sent-at", "origin-node"] and "dlt-failed-at" in names

    text = tool.ok("show", where, "--topic", topics["dlt"]).stdout
    assert "dlt-failed-at: 1763726460000  (2025-11-21T12:01:00.000Z)" in text
    assert "dlt-exception-class: unknown_room" in text
    assert '"roomId": 41' in text  # pretty-printed

    missing = tool.run("show", "2:99999", "--topic", topics["dlt"])
    assert missing.returncode == 1 and "no record" in missing.stderr
    assert tool.run("show", "two:1", "--topic", topics["dlt"]).returncode == 2


def test_stats_counts_by_error_class_origin_topic_and_hour(kafka, tool, topics):
    seed_chat_dead_letters(kafka, topics)
    s = tool.json("stats", "--topic", topics["dlt"])
    assert s["total"] == 3
    assert s["byErrorClass"] == {"bad_length": 1, "invalid_json": 1, "unknown_room": 1}
    assert s["byOriginTopic"] == {topics["target"]: 3}
    assert s["byConsumerGroup"] == {"chat-broadcast": 1, "chat-persistence": 2}
    assert s["byHour"] == {"2025-11-21T12": 1, "2025-11-21T13": 1, "2025-11-21T14": 1}
    assert "dead letters: 3" in tool.ok("stats", "--topic", topics["dlt"]).stdout


def test_spring_and_connect_dialects_parse_from_fixture_records(kafka, tool, topics):
    # Spring: dead-lettered from "orders" 3:1234, replayed through "orders-retry" and dead-
    # lettered again (a second set of kafka_dlt-* headers appended).
    twice = spring_dlt_headers("orders", 3, 1234, "java.lang.IllegalStateException", "first failure") + \
        spring_dlt_headers("orders-retry", 0, 17, "java.lang.NullPointerException", "second failure",
                           group="retry-service")
    kafka.produce(topics["dlt"], [
        {"key": "o-1", "value": b'{"order":1}', "partition": 0, "headers": twice},
        {"key": "o-2", "value": b"\xff\x01binary", "partition": 1, "headers": connect_dlt_headers("orders", 5, 987654)},
    ])
    spring, connect = tool.json("list", "--topic", topics["dlt"])
    assert spring["dialect"] == "spring"
    assert spring["origin"] == {"topic": "orders", "partition": 3, "offset": 1234, "consumerGroup": "orders-service"}
    assert spring["error"] == {"class": "java.lang.NullPointerException", "message": "second failure"}
    assert connect["dialect"] == "connect"
    assert connect["origin"] == {"topic": "orders", "partition": 5, "offset": 987654, "consumerGroup": None,
                                 "connector": "jdbc-sink"}
    assert connect["error"]["class"] == "org.apache.kafka.connect.errors.DataException"

    doc = tool.json("show", "0:0", "--topic", topics["dlt"])
    assert doc["deadLetterCount"] == 2
    assert doc["origin"]["timestamp"] == "2023-11-14T22:13:20.000Z"
    assert doc["error"]["stacktrace"].endswith("(Listener.java:42)")
    partitions = [h for h in doc["headers"] if h["name"] == "kafka_dlt-original-partition"]
    assert [(h["base64"], h["decoded"]) for h in partitions] == [("AAAAAw==", 3), ("AAAAAA==", 0)]
    text = tool.ok("show", "0:0", "--topic", topics["dlt"]).stdout
    assert "kafka_dlt-original-offset: 1234  [8-byte big-endian]" in text

    doc = tool.json("show", "1:0", "--topic", topics["dlt"])
    assert doc["valueFormat"] == "base64"
    assert doc["origin"]["stage"] == "VALUE_CONVERTER"
    assert tool.json("stats", "--topic", topics["dlt"])["byConsumerGroup"] == {"connector jdbc-sink": 1,
                                                                               "orders-service": 1}


# ---------------------------------------------------------------------------- replay


def replay_args(topics, *extra):
    return ("replay", "--topic", topics["dlt"], "--ledger-topic", topics["ledger"], *extra)


def test_dry_run_shows_exactly_what_would_be_sent_and_sends_nothing(kafka, tool, topics):
    seed_chat_dead_letters(kafka, topics)
    before = kafka.high_watermarks(topics["target"])
    r = tool.run(*replay_args(topics, "--dry-run", "--yes", "-o", "json"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["dryRun"] is True
    assert doc["summary"] == {"selected": 3, "replayed": 3, "parked": 0, "skipped": 0, "refused": 0, "failed": 0,
                              "unrecorded": 0}
    first = doc["plan"][0]
    assert first["action"] == "send"
    assert first["target"] == {"topic": topics["target"], "partition": 2}
    assert first["key"] == "41" and first["value"]["roomId"] == 41
    hs = {h["name"]: h.get("value") for h in first["headers"]}
    assert hs["dlt-replayed-from"] == f"{topics['dlt']}:2:{doc['plan'][0]['dlt']['offset']}"
    assert hs["dlt-replay-count"] == "1" and hs["message-key"] == "k-a"
    assert not any(n.startswith("dlt-original") for n in hs)

    text = tool.ok(*replay_args(topics, "--dry-run")).stdout
    assert f"->  {topics['target']} partition 5" in text and "dry run (nothing sent)" in text

    assert kafka.high_watermarks(topics["target"]) == before, "--dry-run produced records"
    assert sum(kafka.high_watermarks(topics["ledger"]).values()) == 0, "--dry-run wrote to the ledger"


def test_replay_sends_each_record_once_with_replay_headers(kafka, tool, topics):
    seeded = seed_chat_dead_letters(kafka, topics)
    r = tool.run(*replay_args(topics, "--yes", "-o", "json"))
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["summary"]["replayed"] == 3 and doc["summary"]["failed"] == 0
    assert all(x["status"] == "replayed" and x["recorded"] for x in doc["results"])

    sent = kafka.read_all(topics["target"])
    assert len(sent) == 3
    by_origin = {m.value(): m for m in sent}
    a = by_origin[seeded[0]["value"].encode()]
    assert a.partition() == 2 and a.key() == b"41"  # original partition kept
    assert header(a, "dlt-replayed-from") == f"{topics['dlt']}:2:{seeded[0]['offset']}".encode()
    assert header(a, "dlt-replay-count") == b"1"
    assert abs(int(header(a, "dlt-replayed-at")) - time.time() * 1000) < 120_000
    assert header(a, "message-key") == b"k-a" and header(a, "origin-node") == b"node-a"
    assert not any(n.startswith(("dlt-original", "dlt-exception", "dlt-consumer", "dlt-attempts", "dlt-failed"))
                   for n, _ in headers_of(a))
    assert by_origin[b"{not json"].partition() == 2
    assert by_origin[seeded[2]["value"].encode()].partition() == 5

    # The ledger has one entry per dead letter; a second run sends nothing.
    ledger = kafka.read_all(topics["ledger"])
    assert sorted(m.key().decode() for m in ledger) == sorted(f"{topics['dlt']}:2:{s['offset']}" for s in seeded)
    entry = json.loads(ledger[0].value())
    assert entry["action"] == "replayed" and entry["target"]["topic"] == topics["target"]
    again = tool.run(*replay_args(topics, "--yes", "-o", "json"))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["summary"] == {"selected": 3, "replayed": 0, "parked": 0, "skipped": 3,
                                                   "refused": 0, "failed": 0, "unrecorded": 0}
    assert sum(kafka.high_watermarks(topics["target"]).values()) == 3

    # --restart sends again on purpose.
    restarted = tool.run(*replay_args(topics, "--yes", "--restart", "--origin-offset", "100", "-o", "json"))
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout)["summary"]["replayed"] == 1
    assert sum(kafka.high_watermarks(topics["target"]).values()) == 4


def test_replay_limit_takes_the_next_records_not_yet_replayed(kafka, tool, topics):
    seed_chat_dead_letters(kafka, topics)
    assert tool.json(*replay_args(topics, "--yes", "--limit", "1"))["summary"]["replayed"] == 1
    s = tool.json(*replay_args(topics, "--yes", "--limit", "1"))["summary"]
    assert (s["skipped"], s["replayed"]) == (1, 1)
    assert sum(kafka.high_watermarks(topics["target"]).values()) == 2


def test_two_dead_letters_of_one_original_record_are_replayed_once(kafka, tool, topics):
    # Both consumer groups dead-lettered the same record.
    value = b'{"roomId":7}'
    kafka.produce(topics["dlt"], [
        {"key": "7", "value": value, "partition": 1, "headers": chat_dlt_headers(topics["target"], 1, 9, "e", "m")},
        {"key": "7", "value": value, "partition": 1,
         "headers": chat_dlt_headers(topics["target"], 1, 9, "e", "m", group="chat-broadcast")},
    ])
    doc = tool.json(*replay_args(topics, "--yes"))
    assert [x["status"] for x in doc["results"]] == ["replayed", "skipped"]
    assert "replayed from another dead letter" in doc["results"][1]["reason"]
    assert len(kafka.read_all(topics["target"])) == 1


def test_max_replays_refuses_a_record_replayed_too_often_or_parks_it(kafka, tool, topics):
    seeded = kafka.produce(topics["dlt"], [
        {"key": "9", "value": b'{"roomId":9}', "partition": 0,
         "headers": chat_dlt_headers(topics["target"], 0, 5, "unknown_room", "again", replay_count=3)},
    ])
    r = tool.run(*replay_args(topics, "--yes", "-o", "json"))
    assert r.returncode == 3, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["summary"]["refused"] == 1 and doc["summary"]["replayed"] == 0
    assert "replayed 3 times already" in doc["results"][0]["reason"]
    assert sum(kafka.high_watermarks(topics["target"]).values()) == 0

    # Dry run with a higher limit: it would go with count 4.
    plan = tool.json(*replay_args(topics, "--dry-run", "--max-replays", "4"))["plan"][0]
    assert {h["name"]: h.get("value") for h in plan["headers"]}["dlt-replay-count"] == "4"

    r = tool.run(*replay_args(topics, "--yes", "--park-topic", topics["park"], "-o", "json"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["summary"]["parked"] == 1
    (parked,) = kafka.read_all(topics["park"])
    assert parked.value() == b'{"roomId":9}' and parked.partition() == 0
    assert header(parked, "dlt-parked-from") == f"{topics['dlt']}:0:{seeded[0]['offset']}".encode()
    assert header(parked, "dlt-original-offset") == b"5"  # still a readable dead letter
    assert sum(kafka.high_watermarks(topics["target"]).values()) == 0
    # Parked is done: the next run does nothing.
    assert tool.json(*replay_args(topics, "--yes", "--park-topic", topics["park"]))["summary"]["skipped"] == 1


def test_export_edit_and_replay_from_file_sends_the_fixed_record_once(kafka, tool, topics, tmp_path):
    seeded = seed_chat_dead_letters(kafka, topics)
    out = tmp_path / "dead.jsonl"
    r = tool.ok("export", "--topic", topics["dlt"], "--error", "invalid_json", "--out", str(out))
    assert "exported 1 dead letter" in r.stderr
    (line,) = out.read_text().splitlines()
    rec = json.loads(line)
    assert rec["valueFormat"] == "text" and rec["value"] == "{not json"
    assert rec["origin"]["offset"] == 101 and rec["error"]["class"] == "invalid_json"

    rec["value"] = {"roomId": 42, "content": "fixed"}  # what an SRE does in an editor
    out.write_text(json.dumps(rec) + "\n")
    args = ("replay", "--from-file", str(out), "--ledger-topic", topics["ledger"], "--yes", "-o", "json")
    doc = tool.json(*args)
    assert doc["summary"]["replayed"] == 1
    (sent,) = kafka.read_all(topics["target"])
    assert sent.value() == b'{"roomId":42,"content":"fixed"}' and sent.key() == b"42" and sent.partition() == 2
    assert header(sent, "dlt-replayed-from") == f"{topics['dlt']}:2:{seeded[1]['offset']}".encode()

    # Neither the file nor the topic sends it again.
    assert tool.json(*args)["summary"]["skipped"] == 1
    s = tool.json(*replay_args(topics, "--yes"))["summary"]
    assert (s["replayed"], s["skipped"]) == (2, 1)
    assert sum(kafka.high_watermarks(topics["target"]).values()) == 3


def test_export_round_trips_binary_values_and_headers(kafka, tool, topics, tmp_path):
    kafka.produce(topics["dlt"], [
        {"key": b"\xff\x00k", "value": b"\x00\x01\xfe", "partition": 3,
         "headers": spring_dlt_headers(topics["target"], 3, 8, "E", "m") + [("trace", b"\x01\x02")]},
    ])
    out = tmp_path / "bin.jsonl"
    tool.ok("export", "--topic", topics["dlt"], "--out", str(out))
    rec = json.loads(out.read_text())
    assert rec["valueFormat"] == "base64" and rec["keyFormat"] == "base64"
    tool.ok("replay", "--from-file", str(out), "--ledger-topic", topics["ledger"], "--yes")
    (sent,) = kafka.read_all(topics["target"])
    assert (sent.key(), sent.value(), sent.partition()) == (b"\xff\x00k", b"\x00\x01\xfe", 3)
    assert header(sent, "trace") == b"\x01\x02"
    assert header(sent, "kafka_dlt-original-partition") is None


def test_confirmation_above_the_threshold_needs_yes(kafka, tool, topics):
    seed_chat_dead_letters(kafka, topics)
    r = tool.run(*replay_args(topics, "--confirm-above", "2"))
    assert r.returncode == 2 and "--yes" in r.stderr, r.stderr
    assert sum(kafka.high_watermarks(topics["target"]).values()) == 0
    # At or below the threshold no question is asked.
    assert tool.json(*replay_args(topics, "--confirm-above", "2", "--limit", "2"))["summary"]["replayed"] == 2


def test_rate_limits_the_send_rate(kafka, tool, topics):
    kafka.produce(topics["dlt"], [
        {"key": str(i), "value": b"{}", "partition": 0, "headers": chat_dlt_headers(topics["target"], 0, i, "e", "m")}
        for i in range(5)])
    t0 = time.monotonic()
    assert tool.json(*replay_args(topics, "--yes", "--rate", "10/s"))["summary"]["replayed"] == 5
    assert time.monotonic() - t0 >= 0.4, "5 records at 10/s need at least 0.4 s"


def test_records_without_an_origin_need_to(kafka, tool, topics):
    kafka.produce(topics["dlt"], [{"key": "k", "value": b"v", "partition": 0, "headers": [("h", "1")]}])
    r = tool.run(*replay_args(topics, "--yes", "-o", "json"))
    assert r.returncode == 1 and json.loads(r.stdout)["results"][0]["status"] == "failed"
    doc = tool.json(*replay_args(topics, "--yes", "--to", topics["target"]))
    assert doc["results"][0]["target"]["topic"] == topics["target"]
    missing = tool.run(*replay_args(topics, "--yes", "--restart", "--to", unique("t.no-such-topic"), "-o", "json"))
    assert missing.returncode == 1 and "does not exist" in json.loads(missing.stdout)["results"][0]["reason"]


def test_ledger_topic_is_created_when_missing(kafka, tool, topics):
    seed_chat_dead_letters(kafka, topics)
    ledger = unique("t.new-ledger")
    doc = tool.json("replay", "--topic", topics["dlt"], "--ledger-topic", ledger, "--yes", "--limit", "1")
    assert doc["summary"]["replayed"] == 1 and doc["results"][0]["recorded"] is True
    assert len(kafka.read_all(ledger)) == 1


def test_usage_errors_and_kafka_settings(kafka, tool, topics):
    assert tool.run("list", "--topic", topics["dlt"], "--origin-offset", "9-3").returncode == 2
    assert tool.run("list", "--topic", topics["dlt"], "--since", "yesterday").returncode == 2
    assert tool.run("list", "--topic", topics["dlt"], "--error", "/(/").returncode == 2
    assert tool.run("list", "-o", "yaml").returncode == 2
    assert tool.run("frobnicate").returncode == 2
    assert tool.run("list", "--topic", topics["dlt"], "-X", "novalue").returncode == 2
    bad = tool.run("list", "--topic", topics["dlt"], "-X", "no.such.setting=1")
    assert bad.returncode == 1 and "no.such.setting" in bad.stderr
    # librdkafka settings pass through; the broker list also comes from KAFKA_BROKERS.
    tool.ok("list", "--topic", topics["dlt"], "-X", "client.id=sre-3am", "-X", "socket.timeout.ms=10000")
    env_run = subprocess.run([str(DLT_REPLAY), "list", "--topic", topics["dlt"], "-o", "json"],
                             env={**os.environ, "KAFKA_BROKERS": kafka.bootstrap}, capture_output=True, text=True,
                             timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    assert env_run.returncode == 0 and json.loads(env_run.stdout) == [], env_run.stderr
    missing = tool.run("list", "--topic", unique("t.absent") + ".dlt")
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_unreachable_broker_is_an_error_not_a_hang(tool):
    t0 = time.monotonic()
    r = DltTool("127.0.0.1:1").run("list", "--timeout", "3")
    assert r.returncode == 1 and "did not answer" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 30


def test_room_events_are_listed_filtered_and_replayed_like_any_record(kafka, tool, topics):
    """Issue 14: edits, reactions and pins on chat.messages are dead letters like messages:
    list carries their event kind, --event selects them, replay sends them byte-exactly."""
    target = topics["target"]
    event = lambda kind, **extra: json.dumps({"event": kind, "messageKey": str(uuid.uuid4()), "roomId": 44,  # noqa: E731
                                              "senderId": 7, "senderNickname": "ann", "targetId": 5, **extra,
                                              "createdAt": "2026-12-07T12:00:00.000Z"},
                                             separators=(",", ":"), ensure_ascii=False).encode()
    edited, reaction = event("message.edited", content="fixed"), event("reaction.added", emoji="👍")
    pinned = event("message.pinned")
    message = json.dumps({"messageKey": str(uuid.uuid4()), "roomId": 44, "content": "hi"}).encode()
    kafka.produce(topics["dlt"], [
        {"key": "44", "value": v, "partition": 1,
         "headers": chat_dlt_headers(target, 1, 300 + i, "unknown_room", "room 44 does not exist")}
        for i, v in enumerate((edited, reaction, pinned, message))])
    rows = tool.json("list", "--topic", topics["dlt"])
    assert [r["event"] for r in rows] == ["message.edited", "reaction.added", "message.pinned", "message"]
    assert all(r["room"] == "44" for r in rows)
    picked = tool.json("list", "--topic", topics["dlt"], "--event", "reaction.added")
    assert [r["origin"]["offset"] for r in picked] == [301]
    assert "room event      message.edited" in tool.ok("show", "1:0", "--topic", topics["dlt"]).stdout

    r = tool.run(*replay_args(topics, "--yes", "--event", "message.edited", "-o", "json"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["summary"]["replayed"] == 1
    sent = kafka.read_all(target)
    assert [(m.partition(), m.key(), m.value()) for m in sent] == [(1, b"44", edited)]
