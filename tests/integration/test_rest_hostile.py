"""Issue 3 — hostile input against every REST route: SQL metacharacters and 10 KB strings in
every field, invalid UTF-8, wrong JSON types, huge bodies, junk in paths, queries and
headers. Each gets a 4xx (never a 5xx), valid-but-nasty values are stored verbatim, and the
server keeps serving."""
import socket
import uuid

import pytest
import requests

from test_rest_common import error_of, expect_error

SQL = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "\"; DELETE FROM chat_rooms; --",
    "1; SELECT pg_sleep(10)",
    "%_\\",
    "$1",
]
BIG = "A" * 10_240
BIG_MULTIBYTE = "é" * 5_120  # 10 KB of two-byte characters
NASTY_STRINGS = SQL + [BIG, BIG_MULTIBYTE, "\u0000", "\u202e", "\ufeff", ""]
WRONG_TYPES = [None, True, 0, -1, 1.5, 2 ** 64, [], {}, ["x"], {"$gt": ""}, "1"]


@pytest.fixture(scope="module")
def world(api):
    """A member, a room and a bystander to aim the hostile requests at."""
    a, b = api.signup(), api.signup()
    room = api.group(a, [b], name="target")
    return {"a": a, "b": b, "room": room}


def still_serving(api, user):
    assert requests.get(api.url + "/healthz", timeout=10).status_code == 200
    r = api.get("/api/users/me", user)
    assert r.status_code == 200, r.text
    assert api.sql("SELECT count(*) FROM users")[0][0] > 0  # the tables are all still there


def body_routes(world):
    room = world["room"]
    return {
        ("POST", "/api/auth/signup"): {"email": "h@example.com", "password": "password123", "nickname": "h"},
        ("POST", "/api/auth/login"): {"email": "h@example.com", "password": "password123"},
        ("POST", "/api/rooms/direct"): {"targetUserId": world["b"].id},
        ("POST", "/api/rooms/group"): {"name": "g", "memberIds": [world["b"].id]},
        ("POST", f"/api/rooms/{room}/members"): {"userIds": [world["b"].id]},
        ("POST", f"/api/rooms/{room}/read"): {"lastReadMessageId": 1},
    }


def test_every_field_of_every_body_with_nasty_strings_and_wrong_types(api, world):
    a = world["a"]
    statuses = {}
    for (method, path), good in body_routes(world).items():
        for field in good:
            for value in NASTY_STRINGS + WRONG_TYPES:
                body = dict(good)
                body[field] = value
                r = api.request(method, path, a, json=body)
                key = (path, field, repr(value)[:30])
                statuses[key] = r.status_code
                assert r.status_code < 500, (key, r.status_code, r.text[:300])
                if r.status_code >= 400:
                    error_of(r)
        # Removing each field and sending the wrong top-level types.
        for field in good:
            body = {k: v for k, v in good.items() if k != field}
            r = api.request(method, path, a, json=body)
            assert r.status_code < 500, (path, "missing", field, r.text)
            if r.status_code >= 400:
                error_of(r)
        for top in ([], [good], "text", 1, None, True):
            r = api.request(method, path, a, json=top)
            expect_error(r, 400)
    # Numbers of the wrong type are always refused.
    assert statuses[("/api/rooms/direct", "targetUserId", "'1'")] == 400
    assert statuses[("/api/rooms/direct", "targetUserId", "1.5")] == 400
    assert statuses[(f"/api/rooms/{world['room']}/read", "lastReadMessageId", "None")] == 400
    still_serving(api, a)


@pytest.mark.parametrize("value", SQL)
def test_sql_metacharacters_are_stored_verbatim(api, value):
    nickname = (value + " " + uuid.uuid4().hex[:6]).strip()
    user = api.signup(nickname=nickname)
    assert api.get("/api/users/me", user).json()["nickname"] == nickname
    r = api.post("/api/rooms/group", user, json={"name": value, "memberIds": []})
    assert r.status_code == 201, r.text
    room = r.json()["id"]
    assert api.get(f"/api/rooms/{room}", user).json()["name"] == value
    assert api.sql("SELECT name FROM chat_rooms WHERE id = %s", (room,)) == [(value,)]
    # Login with metacharacters in the email matches nothing.
    expect_error(api.post("/api/auth/login", json={"email": value, "password": value}), 401, "invalid_credentials")
    # The same strings in a query parameter.
    r = api.get("/api/users", user, params={"email": value})
    assert r.status_code in (400, 404), r.text
    error_of(r)


def test_ten_kilobyte_strings_in_every_field_are_400(api):
    for body in ({"email": BIG + "@example.com", "password": "password123", "nickname": "n"},
                 {"email": "x@example.com", "password": BIG, "nickname": "n"},
                 {"email": "x@example.com", "password": "password123", "nickname": BIG},
                 {"email": "x@example.com", "password": "password123", "nickname": BIG_MULTIBYTE}):
        expect_error(api.post("/api/auth/signup", json=body), 400, "validation_error")
    # Login checks only presence and type; 10 KB values simply do not match.
    for body in ({"email": BIG, "password": "password123"}, {"email": "x@example.com", "password": BIG}):
        expect_error(api.post("/api/auth/login", json=body), 401, "invalid_credentials")


@pytest.mark.parametrize("raw", [
    b'{"email":"\xff\xfe@example.com","password":"password123","nickname":"n"}',
    b'{"email":"a@example.com","password":"password123","nickname":"\xc3"}',
    b'{"email":"a@example.com","password":"password123","nickname":"\xed\xa0\x80"}',  # a UTF-8 surrogate
    b'{"email":"a@example.com","password":"password123","nickname":"\\ud800"}',  # a lone escaped surrogate
    b'\xef\xbb\xbf\xff{}',
    b'{"email":"a@example.com"' + b' ' * 1000 + b',,}',
    b'{' * 5000 + b'}' * 5000,  # deep nesting
    b'[' * 20000,
    b'[' * 20000 + b']' * 20000,  # valid, deep, and not an object
])
def test_invalid_utf8_and_broken_json_are_400(api, raw):
    r = api.post("/api/auth/signup", data=raw, headers={"Content-Type": "application/json"})
    expect_error(r, 400)


def test_huge_bodies_are_413_and_the_server_keeps_serving(api, world):
    a = world["a"]
    huge = b'{"name":"' + b"x" * (70 * 1024) + b'"}'
    for path in ("/api/auth/signup", "/api/rooms/group", f"/api/rooms/{world['room']}/read"):
        r = requests.post(api.url + path, data=huge, headers={**a.auth, "Content-Type": "application/json"},
                          timeout=30)
        expect_error(r, 413)
    # Just under the limit: parsed, and refused for what it says, not for its size.
    near = b'{"name":"' + b"x" * (60 * 1024) + b'","memberIds":[]}'
    expect_error(requests.post(api.url + "/api/rooms/group", data=near, headers=a.auth, timeout=30), 400,
                 "validation_error")
    # A declared length above the limit is refused before the body is read.
    with socket.create_connection(("127.0.0.1", api.node.http_port), timeout=10) as s:
        s.sendall(b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000000\r\n\r\n{")
        assert s.recv(4096).startswith(b"HTTP/1.1 413")
    still_serving(api, a)


def test_junk_in_paths_queries_and_headers(api, world):
    a, room = world["a"], world["room"]
    for path in (f"/api/rooms/{room}'%20OR%20'1'='1", "/api/rooms/" + "9" * 10_000, "/api/rooms/%00",
                 "/api/rooms/-1/messages", "/api/rooms/1e3/unread", "/api/rooms/%FF%FE/members/online"):
        r = api.get(path, a)
        assert r.status_code in (400, 404), (path[:60], r.status_code, r.text)
        error_of(r)
    for query in ("email=" + "a" * 10_000 + "@example.com", "email=%FF%FE%40example.com", "email=%00@example.com",
                  "email=a%40example.com%00"):
        expect_error(api.get("/api/users?" + query, a), 400)
    r = api.get(f"/api/rooms/{room}/messages?size=5&size=abc&cursor=1&cursor=x", a)
    assert r.status_code == 200, r.text  # the first occurrence wins
    r = api.get("/api/rooms", headers={"Authorization": "Bearer " + "x" * 12_000})
    expect_error(r, 401, "unauthorized")
    r = api.get("/api/rooms", headers={"Authorization": "Bearer \u00e9t\u00e9".encode().decode("latin-1")})
    expect_error(r, 401)
    still_serving(api, a)


def test_keep_alive_connection_survives_a_stream_of_bad_requests(api, world):
    a = world["a"]
    with requests.Session() as s:
        for i in range(50):
            r = s.post(api.url + "/api/rooms/group", headers=a.auth, data=b"{bad json" + bytes([i]), timeout=10)
            assert r.status_code == 400
        r = s.get(api.url + "/api/users/me", headers=a.auth, timeout=10)
        assert r.status_code == 200
