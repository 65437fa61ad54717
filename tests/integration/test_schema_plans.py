"""The five indexes of the schema (docs/schema.md#indexes) are the ones the queries
chatd runs actually use. Each test EXPLAINs a query of the shape chatd sends, on a database
with enough rows that a sequential scan would be the planner's choice without the index, and
asserts that the plan reads that index. Dropping or changing an index makes its test fail."""
from __future__ import annotations

import json
import re
import subprocess
import uuid

import psycopg
import pytest

from conftest import CHATD, REPO

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
        # The message lifecycle's tables (sql/0002_lifecycle.sql): threads of replies, reactions,
        # pins, bookmarks and messages hidden for one user.
        conn.execute("UPDATE messages SET reply_to_id = id - id %% 10, thread_root_id = id - id %% 10 "
                     "WHERE id %% 10 <> 0 AND id %% 100 < %s AND id > 10", (50,))
        conn.execute("INSERT INTO message_reactions (message_id, emoji, user_id, event_id) "
                     "SELECT g, chr(65 + k), 1 + (g + k) %% %s, g * 10 + k "
                     "FROM generate_series(1, %s, 3) g, generate_series(0, 2) k", (USERS, MESSAGES))
        conn.execute("INSERT INTO room_pins (room_id, message_id, pinned_by, pinned_at) "
                     "SELECT room_id, max(id), 1, now() FROM messages GROUP BY room_id HAVING count(*) > %s", (0,))
        conn.execute("INSERT INTO bookmarks (user_id, message_id, room_id) "
                     "SELECT 1 + g %% %s, g, 1 + g %% %s FROM generate_series(1, %s, 2) g", (USERS, ROOMS, MESSAGES))
        conn.execute("INSERT INTO message_hidden (user_id, message_id, room_id) "
                     "SELECT 1 + g %% %s, g, 1 + g %% %s FROM generate_series(1, %s, 5) g", (USERS, ROOMS, MESSAGES))
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


def seq_scans(plan: dict) -> set[str]:
    """The relations an EXPLAIN (FORMAT JSON) plan tree reads with a sequential scan."""
    found = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if node.get("Node Type") == "Seq Scan":
            found.add(node.get("Relation Name"))
        stack.extend(node.get("Plans", []))
    return found


def plan_of(url: str, sql: str, params) -> dict:
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


def assert_uses(url: str, index: str, sql: str, params):
    for kind, plan in plan_of(url, sql, params).items():
        assert index in index_names(plan), f"{kind} plan does not use {index}:\n{json.dumps(plan, indent=1)}"


def assert_plan(url: str, sql: str, params, indexes: set[str], no_seq_scan: set[str]):
    """Both plans use every one of `indexes` and scan none of `no_seq_scan` sequentially."""
    for kind, plan in plan_of(url, sql, params).items():
        text = json.dumps(plan, indent=1)
        assert indexes <= index_names(plan), f"{kind} plan misses {indexes - index_names(plan)}:\n{text}"
        assert not (seq_scans(plan) & no_seq_scan), f"{kind} plan scans {seq_scans(plan) & no_seq_scan}:\n{text}"


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


# The message lifecycle's reads (store/history.cpp, store/lifecycle.cpp): a history item's state
# comes from correlated subqueries of the page's rows, so a page stays one statement on indexes.
# room_pins holds at most 3 rows per room: on this database (1,200 rows) the planner may hash
# all of it once instead of probing its primary key per row, which is the cheaper plan at that
# size; the large tables (messages, reactions, hidden) must never be read through.
ITEM_COLUMNS = (
    "m.id, m.content, m.reply_to_id, m.thread_root_id, m.attachment::text, m.forwarded_from::text, m.edited_at, "
    "m.deleted, m.reply_count, m.last_reply_at, "
    "EXISTS (SELECT 1 FROM room_pins p WHERE p.room_id = m.room_id AND p.message_id = m.id), "
    "(SELECT json_agg(json_build_array(x.emoji, x.n, x.mine) ORDER BY x.first)::text FROM ("
    "SELECT r.emoji, count(*) AS n, bool_or(r.user_id = %(caller)s) AS mine, min(r.event_id) AS first "
    "FROM message_reactions r WHERE r.message_id = m.id GROUP BY r.emoji) x)")
SOURCE_COLUMNS = ("id, message_key, room_id, sender_id, sender_nickname, content, type, created_at, reply_to_id, "
                  "thread_root_id, attachment, forwarded_from, edited_at, deleted, reply_count, last_reply_at")
NOT_HIDDEN = " AND NOT EXISTS (SELECT 1 FROM message_hidden h WHERE h.user_id = %(caller)s AND h.message_id = {}) "


def test_history_page_with_reactions_pins_and_hidden_is_one_indexed_statement(planned_db):
    assert_plan(planned_db,
                f"SELECT {ITEM_COLUMNS} FROM chat_room_members me LEFT JOIN LATERAL ("
                f"  SELECT {SOURCE_COLUMNS} FROM messages "
                "  WHERE room_id >= me.room_id AND room_id <= me.room_id AND id < %(before)s "
                + NOT_HIDDEN.format("messages.id") +
                "  ORDER BY room_id, id DESC LIMIT %(limit)s) m ON true "
                "WHERE me.room_id = %(room)s AND me.user_id = %(caller)s ORDER BY m.id DESC",
                {"caller": 71, "room": 7, "before": 2**62, "limit": 21},
                indexes={"messages_room_id_id_idx", "message_reactions_pkey"},
                no_seq_scan={"messages", "message_reactions", "message_hidden"})


def test_thread_page_reads_the_thread_index(planned_db):
    assert_plan(planned_db,
                f"SELECT t.id, {ITEM_COLUMNS} FROM chat_room_members me "
                "LEFT JOIN messages t ON t.id = %(mid)s AND t.room_id = me.room_id "
                f"LEFT JOIN LATERAL (SELECT {SOURCE_COLUMNS} FROM messages "
                "  WHERE thread_root_id = COALESCE(t.thread_root_id, t.id) AND id > %(after)s "
                + NOT_HIDDEN.format("messages.id") +
                "  ORDER BY thread_root_id, id LIMIT %(limit)s) m ON true "
                "WHERE me.room_id = %(room)s AND me.user_id = %(caller)s ORDER BY m.id",
                {"caller": 71, "room": 110, "mid": 110, "after": 0, "limit": 21},
                indexes={"messages_thread_idx", "messages_pkey"},
                no_seq_scan={"messages", "message_reactions"})


def test_bookmarks_page_reads_the_users_bookmarks_by_index(planned_db):
    sql = (f"SELECT {ITEM_COLUMNS} FROM bookmarks b "
           "JOIN chat_room_members me ON me.room_id = b.room_id AND me.user_id = b.user_id "
           "JOIN messages m ON m.id = b.message_id "
           "WHERE b.user_id = %(caller)s AND b.message_id < %(before)s " + NOT_HIDDEN.format("b.message_id") +
           "ORDER BY b.user_id, b.message_id DESC LIMIT %(limit)s")
    params = {"caller": 71, "before": 2**62, "limit": 21}
    for kind, plan in plan_of(planned_db, sql, params).items():
        used = index_names(plan)
        assert used & {"bookmarks_pkey", "bookmarks_user_message_idx"}, f"{kind}: {json.dumps(plan, indent=1)}"
        assert "messages_pkey" in used and not (seq_scans(plan) & {"messages", "bookmarks"}), \
            f"{kind}: {json.dumps(plan, indent=1)}"


def chatd_sql(path: str, name: str) -> str:
    """The SQL chatd sends, read from its source: the R"sql(...)sql" literal `name` of `path`."""
    found = re.search(name + r'\s*=\s*R"sql\((.*?)\)sql"', (REPO / path).read_text(), re.S)
    assert found, f"{name} not found in {path}"
    return found.group(1)


def test_user_search_reads_the_prefix_indexes(planned_db):
    # GET /api/users/search: store/people.cpp's statement as it is, prepared with the types
    # PostgreSQL infers for chatd's parameters ($1 text, $2 the caller, $3 the limit).
    sql = chatd_sql("apps/chatd/store/people.cpp", "search_users_sql")
    with psycopg.connect(planned_db, autocommit=True) as conn:
        conn.execute(f"PREPARE search(text, bigint, bigint) AS {sql}")
        for mode in ("force_generic_plan", "force_custom_plan"):
            conn.execute(f"SET plan_cache_mode = {mode}")
            plan = conn.execute("EXPLAIN (FORMAT JSON) EXECUTE search('U19', 5, 20)").fetchone()[0]
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            text = json.dumps(plan, indent=1)
            assert {"users_nickname_prefix_idx", "users_email_prefix_idx"} <= index_names(plan), f"{mode}:\n{text}"
            assert "users" not in seq_scans(plan), f"{mode}:\n{text}"
        # The same statement answers right: nickname u199* (and their emails), caller u1990 excluded.
        caller = conn.execute("SELECT id FROM users WHERE nickname = 'u1990'").fetchone()[0]
        rows = conn.execute(f"EXECUTE search('U199', {int(caller)}, 50)").fetchall()
        assert sorted(r[1] for r in rows) == ["u199"] + [f"u199{d}" for d in range(1, 10)]

