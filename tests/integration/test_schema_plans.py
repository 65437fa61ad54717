"""The five indexes of the schema (docs/schema.md#indexes) are the ones the queries
chatd runs actually use. Each test EXPLAINs a query of the shape chatd sends, on a database
with enough rows that a sequential scan would be the planner's choice without the index, and
asserts that the plan reads that index. Dropping or changing an index makes its test fail."""
from __future__ import annotations

import json
import subprocess
import uuid

import psycopg
import pytest

from conftest import CHATD

USERS, ROOMS, MESSAGES = 2000, 400, 60000


@pytest.fixture(scope="module")
def planned_db(stack):
    """A migrated database filled with users, rooms, members and messages, analysed."""
    name = "plans_" + uuid.uuid4().hex[:10]
    url = stack.create_database(name)
    env = dict(stack.env(), CHATD_DATABASE_URL=url, CHATD_JWT_SECRET="x" * 40)
    p = subprocess.run([str(CHATD), "--migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO users (email, password_hash, nickname) "
                     "SELECT 'u' || g || '@example.com', 'x', 'u' || g FROM generate_series(1, %s) g", (USERS,))
        conn.execute("INSERT INTO chat_rooms (type, name, created_by) "
                     "SELECT 'GROUP', 'r' || g, 1 + g %% %s FROM generate_series(1, %s) g", (USERS, ROOMS))
        # Every room has 10 members; each user is in about two rooms.
        conn.execute("INSERT INTO chat_room_members (room_id, user_id) "
                     "SELECT r.id, 1 + ((r.id * 10 + k) %% %s) FROM chat_rooms r, generate_series(0, 9) k "
                     "ON CONFLICT DO NOTHING", (USERS,))
        conn.execute(
            "INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
            "kafka_partition, kafka_offset, created_at) "
            "SELECT g, gen_random_uuid(), 1 + g %% %s, 1 + g %% %s, 'n', 'message ' || g, 'TEXT', 0, g, now() "
            "FROM generate_series(1, %s) g", (ROOMS, USERS, MESSAGES))
        conn.execute("ANALYZE")
    yield url
    stack.drop_database(name)


def index_names(plan: dict) -> set[str]:
    """Every "Index Name" in an EXPLAIN (FORMAT JSON) plan tree."""
    found = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if "Index Name" in node:
            found.add(node["Index Name"])
        stack.extend(node.get("Plans", []))
    return found


def plan_of(url: str, sql: str, params: tuple) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        # The generic plan is what a prepared statement (chatd prepares its queries) gets after
        # five executions; the custom plan is what it gets before. Both must use the index.
        conn.execute("SET plan_cache_mode = force_generic_plan")
        generic = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
        conn.execute("SET plan_cache_mode = force_custom_plan")
        custom = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
    if isinstance(generic, str):
        generic, custom = json.loads(generic), json.loads(custom)
    return {"generic": generic[0]["Plan"], "custom": custom[0]["Plan"]}


def assert_uses(url: str, index: str, sql: str, params: tuple):
    for kind, plan in plan_of(url, sql, params).items():
        assert index in index_names(plan), f"{kind} plan does not use {index}:\n{json.dumps(plan, indent=1)}"


def test_history_page_reads_messages_by_room_and_id_desc(planned_db):
    # The shape of store/history.cpp's page query.
    assert_uses(planned_db, "messages_room_id_id_idx",
                "SELECT m.id FROM chat_room_members me LEFT JOIN LATERAL ("
                "  SELECT id FROM messages WHERE room_id >= me.room_id AND room_id <= me.room_id AND id < %s "
                "  ORDER BY room_id, id DESC LIMIT %s) m ON true "
                "WHERE me.room_id = %s AND me.user_id = %s ORDER BY m.id DESC",
                (2**62, 51, 7, 71))
    # A plain "newest N of a room" uses it too.
    assert_uses(planned_db, "messages_room_id_id_idx",
                "SELECT id FROM messages WHERE room_id = %s ORDER BY id DESC LIMIT 50", (7,))


def test_a_message_is_found_by_its_key(planned_db):
    with psycopg.connect(planned_db) as conn:
        key = conn.execute("SELECT message_key FROM messages WHERE id = 12345").fetchone()[0]
    assert_uses(planned_db, "messages_message_key_key", "SELECT id FROM messages WHERE message_key = %s", (key,))


def test_membership_is_checked_by_room_and_user(planned_db):
    assert_uses(planned_db, "chat_room_members_pkey",
                "SELECT 1 FROM chat_room_members WHERE room_id = %s AND user_id = %s", (7, 71))


def test_a_users_rooms_are_found_by_user(planned_db):
    assert_uses(planned_db, "chat_room_members_user_id_idx",
                "SELECT room_id FROM chat_room_members WHERE user_id = %s ORDER BY room_id", (71,))


def test_a_senders_messages_are_found_by_sender(planned_db):
    # What deleting a user (the foreign key from messages.sender_id) and a per-sender lookup read.
    assert_uses(planned_db, "messages_sender_id_idx", "SELECT id FROM messages WHERE sender_id = %s", (71,))
