"""Shared helpers for integration tests: seed users/rooms straight into PostgreSQL and
mint JWTs the way chatd does, so a test of one part does not depend on another part's
routes. Tests of the REST API itself must go through HTTP, not through these."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import psycopg

from conftest import JWT_SECRET

# An Argon2id hash of "password123" (libsodium crypto_pwhash_str, minimum cost).
DUMMY_HASH = "$argon2id$v=19$m=8,t=1,p=1$9RU0oCwSHtQmAHm/4sy+tg$MpX/W7MCt+2QqiYQxodF0S1zfrXgqQJR/pffGUuv1zE"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(user_id: int, email: str = "", secret: str = JWT_SECRET, ttl: int = 3600,
               iat: int | None = None, alg: str = "HS256", jti: str | None = None, sid: str | None = None) -> str:
    """An access token as chatd signs it: a fresh random jti unless given; sid only when given."""
    now = int(time.time()) if iat is None else iat
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": str(user_id), "email": email, "iat": now, "exp": now + ttl,
              "jti": jti or uuid.uuid4().hex}
    if sid is not None:
        claims["sid"] = sid
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = _b64(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def create_user(db_url: str, nickname: str | None = None, email: str | None = None) -> int:
    email = email or f"u{uuid.uuid4().hex[:10]}@example.com"
    nickname = nickname or email.split("@")[0]
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "INSERT INTO users (email, password_hash, nickname) VALUES (%s, %s, %s) RETURNING id",
            (email.lower(), DUMMY_HASH, nickname)).fetchone()[0]


def create_room(db_url: str, members: list[int], name: str | None = "room", direct: bool = False) -> int:
    """A GROUP room (or DIRECT with exactly two members) created (and owned) by members[0]."""
    with psycopg.connect(db_url) as conn:
        if direct:
            lo, hi = sorted(members)
            room = conn.execute(
                "INSERT INTO chat_rooms (type, name, created_by, direct_low, direct_high) "
                "VALUES ('DIRECT', NULL, %s, %s, %s) RETURNING id", (members[0], lo, hi)).fetchone()[0]
        else:
            room = conn.execute(
                "INSERT INTO chat_rooms (type, name, created_by) VALUES ('GROUP', %s, %s) RETURNING id",
                (name, members[0])).fetchone()[0]
        for m in members:
            conn.execute("INSERT INTO chat_room_members (room_id, user_id) VALUES (%s, %s)", (room, m))
        if not direct:  # SPEC §16: the creator owns a group room
            conn.execute("UPDATE chat_room_members SET role = 'OWNER' WHERE room_id = %s AND user_id = %s",
                         (room, members[0]))
        return room


def message_id(partition: int, offset: int) -> int:
    """docs/events.md: the id of the record at (partition, offset) of chat.messages."""
    return (partition << 40) | offset
