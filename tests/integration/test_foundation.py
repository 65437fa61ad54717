"""Issue 2: chatd starts against real dependencies, reports their health, refuses bad
settings, and migrates idempotently."""
import json
import re
import signal
import subprocess
import time

import psycopg
import requests

from conftest import CHATD, REPO, wait_for


def test_healthz_and_readyz_up(chatd):
    r = requests.get(chatd.url + "/healthz", timeout=5)
    assert r.status_code == 200
    assert r.json() == {"status": "UP"}

    r = requests.get(chatd.url + "/readyz", timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "UP"
    assert set(body["components"]) == {"postgres", "kafka", "redis", "consumers"}
    assert all(c["status"] == "UP" for c in body["components"].values())


def test_readyz_waits_for_the_consumers_to_join_their_groups(stack, database, chatd_factory):
    """A node is not ready before its consumers have their first assignment: messages it
    accepted would be neither stored nor delivered by it yet. A node without consumer
    roles has no such component."""
    node = chatd_factory(stack, database_url=database, ready=False)
    seen = []

    def ready():
        r = requests.get(node.url + "/readyz", timeout=2)
        body = r.json()
        seen.append((r.status_code, body["components"].get("consumers", {})))
        return r.status_code == 200

    wait_for(ready, 60, interval=0.05, what="/readyz 200")
    waiting = [c for status, c in seen if status == 503 and c.get("status") == "DOWN"]
    assert waiting, f"/readyz was never DOWN for the consumers before the first assignment: {seen[:3]}"
    # Before its first round the component says "not checked yet"; then it names the groups.
    assert all(c["error"] == "not checked yet" or "waiting for the first partition assignment" in c["error"]
               for c in waiting), waiting
    log = node.log_path.read_text()
    assert log.count('"partitions assigned"') >= 3, "ready before the three groups had joined"

    gateway_only = chatd_factory(stack, database_url=database, args=["--roles", "gateway"])
    body = requests.get(gateway_only.url + "/readyz", timeout=5).json()
    assert set(body["components"]) == {"postgres", "kafka", "redis"}


def readyz_if(node, status):
    """(response,) when /readyz answers `status`; a tuple because a 503 Response is falsy."""
    r = requests.get(node.url + "/readyz", timeout=5)
    return (r,) if r.status_code == status else None


def test_readyz_follows_redis_down_and_back(own_redis_kafka, chatd_factory):
    node = chatd_factory(own_redis_kafka)
    own_redis_kafka.stop("redis")

    r = wait_for(lambda: readyz_if(node, 503), 15, what="/readyz 503 after Redis stopped")[0]
    body = r.json()
    assert body["status"] == "DOWN"
    assert body["components"]["redis"]["status"] == "DOWN"
    assert body["components"]["redis"]["error"]
    assert body["components"]["postgres"]["status"] == "UP"
    assert body["components"]["kafka"]["status"] == "UP"
    # liveness is not readiness: the process is alive
    assert requests.get(node.url + "/healthz", timeout=5).status_code == 200

    own_redis_kafka.start("redis")
    wait_for(lambda: requests.get(node.url + "/readyz", timeout=5).status_code == 200, 15,
             what="/readyz 200 after Redis restarted")


def test_readyz_names_postgres_when_it_stops(own_stack, chatd_factory):
    node = chatd_factory(own_stack)
    own_stack.stop("postgres")
    r = wait_for(lambda: readyz_if(node, 503), 15, what="/readyz 503 after PostgreSQL stopped")[0]
    assert r.json()["components"]["postgres"]["status"] == "DOWN"
    assert r.json()["components"]["redis"]["status"] == "UP"
    own_stack.start("postgres")
    wait_for(lambda: requests.get(node.url + "/readyz", timeout=5).status_code == 200, 20,
             what="/readyz 200 after PostgreSQL restarted")


def run_chatd(args, env, timeout=30):
    return subprocess.run([str(CHATD), *args], env=env, capture_output=True, text=True, timeout=timeout)


def base_env(stack, database):
    import os
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
    env.update(stack.env())
    env["CHATD_DATABASE_URL"] = database
    env["CHATD_JWT_SECRET"] = "x" * 40
    return env


def test_bad_settings_exit_2_naming_the_setting(stack, database):
    env = base_env(stack, database)
    cases = [
        (["--http-port", "70000"], "--http-port"),
        (["--http-port", "abc"], "--http-port"),
        (["--log-format", "xml"], "--log-format"),
        (["--roles", "gateway,bogus"], "--roles"),
        (["--jwt-ttl", "soon"], "--jwt-ttl"),
        (["--no-such-flag"], "--no-such-flag"),
        (["--kafka-property", "novalue"], "--kafka-property"),
    ]
    for args, name in cases:
        p = run_chatd(args, env)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert name in p.stderr, (args, p.stderr)

    # the same through the environment
    env_bad = dict(env, CHATD_HTTP_PORT="65536")
    p = run_chatd([], env_bad)
    assert p.returncode == 2 and "--http-port" in p.stderr, p.stderr

    # missing database URL and short/missing JWT secret
    no_db = {k: v for k, v in env.items() if k != "CHATD_DATABASE_URL"}
    p = run_chatd([], no_db)
    assert p.returncode == 2 and "--database-url" in p.stderr, p.stderr
    no_secret = {k: v for k, v in env.items() if k != "CHATD_JWT_SECRET"}
    p = run_chatd([], no_secret)
    assert p.returncode == 2 and "--jwt-secret" in p.stderr, p.stderr
    p = run_chatd([], dict(env, CHATD_JWT_SECRET="short"))
    assert p.returncode == 2 and "at least 32" in p.stderr, p.stderr


def test_help_documents_every_setting():
    p = subprocess.run([str(CHATD), "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    for flag in ["--http-port", "--stomp-port", "--database-url", "--redis-url", "--kafka-brokers",
                 "--jwt-secret", "--roles", "--log-format", "--migrate", "--config", "--dev",
                 "--shutdown-timeout", "--db-pool-size"]:
        assert flag in p.stdout, flag
    assert "CHATD_" in p.stdout

    # Every setting --help lists is also in the README or docs/, and each one has its env var.
    flags = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", p.stdout)) - {"--help", "--version"})
    assert len(flags) >= 50, flags
    docs = (REPO / "README.md").read_text() + "".join(d.read_text() for d in (REPO / "docs").glob("*.md"))
    undocumented = [f for f in flags if not re.search(re.escape(f) + r"(?![\w-])", docs)]
    assert not undocumented, f"settings missing from README.md and docs/: {undocumented}"
    no_env = [f for f in flags if f not in ("--config", "--version", "--migrate")
              and "CHATD_" + f[2:].upper().replace("-", "_") not in p.stdout]
    assert not no_env, f"settings without a CHATD_ variable in --help: {no_env}"


def schema_snapshot(url):
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema='public' ORDER BY 1, 2").fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname='public' ORDER BY 1").fetchall()
        versions = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    return tables, indexes, versions


def test_migrate_twice_changes_nothing(stack, database):
    env = base_env(stack, database)
    first = run_chatd(["--migrate"], env)
    assert first.returncode == 0, first.stderr
    snap1 = schema_snapshot(database)
    second = run_chatd(["--migrate"], env)
    assert second.returncode == 0, second.stderr
    snap2 = schema_snapshot(database)
    assert snap1 == snap2
    tables, indexes, versions = snap1
    assert versions and versions[0][0] == 1
    names = {t for t, _, _ in tables}
    assert {"users", "chat_rooms", "chat_room_members", "messages", "schema_migrations"} <= names
    defs = "\n".join(d for _, d in indexes)
    # the five indexes of docs/schema.md
    assert "ON public.messages USING btree (room_id, id DESC)" in defs
    assert "ON public.messages USING btree (message_key)" in defs
    assert "ON public.chat_room_members USING btree (room_id, user_id)" in defs
    assert "ON public.chat_room_members USING btree (user_id)" in defs
    assert "ON public.messages USING btree (sender_id)" in defs


def test_concurrent_starts_migrate_once(stack, database, chatd_factory):
    nodes = [chatd_factory(stack, database_url=database, ready=False) for _ in range(3)]
    for n in nodes:
        n.wait_ready()
    _, _, versions = schema_snapshot(database)
    migrations = sorted((REPO / "sql").glob("[0-9]*.sql"))
    # The versions the files are numbered with (a number may be skipped: branches take their own).
    assert [v for v, _ in versions] == [int(m.name[:4]) for m in migrations]
    # Each migration was applied by exactly one node, at its first attempt: the others waited
    # for the lock and found nothing to do (no node failed and retried).
    applied, retries = [], []
    for n in nodes:
        for line in n.log_path.read_text().splitlines():
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            if entry.get("msg") == "schema migrated":
                applied.append(entry["applied"])
            elif entry.get("msg") == "dependency not ready, retrying" and entry.get("component") == "postgres":
                retries.append(entry)
    assert sorted(applied) == [0, 0, len(migrations)], applied
    assert not retries, retries


def test_unknown_route_and_wrong_method_are_json(chatd):
    r = requests.get(chatd.url + "/nope", timeout=5)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = requests.post(chatd.url + "/healthz", timeout=5)
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_body_limit_413(chatd):
    r = requests.post(chatd.url + "/healthz", data=b"x" * (70 * 1024), timeout=5)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"
    assert requests.get(chatd.url + "/healthz", timeout=5).status_code == 200


def test_sigterm_exits_zero(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database)
    start = time.monotonic()
    assert node.stop(signal.SIGTERM) == 0
    assert time.monotonic() - start < 30


def test_logs_are_json_lines_without_secrets(chatd):
    import json
    chatd.stop()
    lines = [l for l in chatd.log_path.read_text().splitlines() if l.strip()]
    assert lines
    for line in lines:
        obj = json.loads(line)
        assert {"level", "ts", "msg"} <= obj.keys()
    text = chatd.log_path.read_text()
    assert chatd.env["CHATD_JWT_SECRET"] not in text
    pw = chatd.env["CHATD_DATABASE_URL"].split(":")[2].split("@")[0]
    assert pw not in text


def test_a_message_log_that_starts_over_stops_the_start_and_the_dev_stack_resets_messages_only_when_told(
        own_stack, chatd_factory):
    """Message ids are Kafka positions: a chat.messages that ends before what PostgreSQL has
    stored (Kafka lost its log) would hand out stored ids again. chatd refuses to start then.
    The dev stack, whose broker is in memory, notices when the broker starts again while
    database `chat` holds messages, says so, and deletes them only when told to
    (`scripts/stack reset-messages`)."""
    from chatlib import create_room, create_user, message_id
    db = own_stack.env()["CHATD_DATABASE_URL"]  # the stack's own `chat` database
    chatd_factory(own_stack).stop()  # migrated
    user = create_user(db)
    room = create_room(db, [user])
    with psycopg.connect(db) as conn:
        conn.execute("INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
                     "kafka_partition, kafka_offset, created_at) "
                     "VALUES (%s, gen_random_uuid(), %s, %s, 'n', 'from an earlier log', 'TEXT', 2, 500, now())",
                     (message_id(2, 500), room, user))
        conn.execute("UPDATE chat_room_members SET last_read_message_id = %s", (message_id(2, 500),))

    def refuses(name):
        node = chatd_factory(own_stack, ready=False, name=name)
        assert node.proc.wait(timeout=90) == 1
        lines = [json.loads(x) for x in node.log_path.read_text().splitlines() if x.startswith("{")]
        (why,) = [x for x in lines if x["msg"].startswith("chat.messages starts over")]
        assert (why["partition"], why["kafka_end_offset"], why["stored_end_offset"]) == (2, 0, 501), why

    refuses("refused")
    # A gateway-only node assigns no ids and starts.
    chatd_factory(own_stack, args=["--roles", "gateway"], name="gateway-only").stop()

    stack_cli = [str(REPO / "scripts" / "stack")]
    where = ["--dir", str(own_stack.root)]
    own_stack.stop("kafka")
    own_stack.start("kafka")  # its log is empty again
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 1  # kept
    assert own_stack.messages_of_an_earlier_log() == {"messages": 1, "stored_end_offsets": {"2": 501}}
    check = subprocess.run([*stack_cli, "check-messages", *where], capture_output=True, text=True, timeout=60)
    assert check.returncode == 3, check
    for words in ("1 message(s) of its previous log", "partition 2 up to offset 500", "refuses to start",
                  f"scripts/stack reset-messages --dir {own_stack.root}", "users and rooms stay"):
        assert words in check.stderr, check.stderr
    status = subprocess.run([*stack_cli, "status", *where], capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and "of an earlier log" in status.stdout, status
    refuses("refused-again")

    reset = subprocess.run([*stack_cli, "reset-messages", *where], capture_output=True, text=True, timeout=60)
    assert reset.returncode == 0 and "deleted 1 message(s)" in reset.stderr, reset
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        assert conn.execute("SELECT count(*), max(last_read_message_id) FROM chat_room_members").fetchone() == (1, 0)
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1  # users and rooms stay
    assert own_stack.messages_of_an_earlier_log() is None
    assert subprocess.run([*stack_cli, "check-messages", *where], capture_output=True, timeout=60).returncode == 0
    chatd_factory(own_stack, name="after-reset")  # ready


def test_a_start_that_fails_at_the_last_step_stops_its_health_thread_first(stack, database, chatd_factory):
    """chatd exits 1 when its HTTP port is taken. By then the consumers, the Kafka producer and
    the health thread run, and the health thread's checks read the consumers: it must stop
    before they are destroyed (it used to outlive them: a null or dangling read at exit)."""
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for attempt in range(3):
            node = chatd_factory(stack, database_url=database, ready=False, name=f"port-taken-{attempt}",
                                 env={"CHATD_HTTP_PORT": str(port), "CHATD_HEALTH_INTERVAL": "50ms"})
            rc = node.proc.wait(timeout=90)
            log = node.log_path.read_text(errors="replace")
            assert rc == 1, f"exit {rc}:\n{log[-3000:]}"
            assert '"cannot listen"' in log and f'"port":{port}' in log, log[-3000:]
            assert "AddressSanitizer" not in log and "runtime error" not in log, log[-3000:]
