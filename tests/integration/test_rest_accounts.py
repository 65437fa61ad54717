"""Issue 3 — REST accounts and authentication: signup, login, /api/users/me, lookup by
email, and the 401 answers of every authenticated route."""
import base64
import json
import re
import time
import uuid

import pytest
import requests

from chatlib import make_token
from conftest import Chatd, wait_for
from test_rest_common import error_of, expect_error

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def decode_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# ---------------------------------------------------------------------------- signup


def test_signup_returns_201_a_working_token_and_stores_an_argon2id_hash(api):
    email = f"New.User-{uuid.uuid4().hex[:6]}@Example.COM"
    r = api.post("/api/auth/signup", json={"email": email, "password": "correct horse", "nickname": "  Neo  "})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"token", "refreshToken", "expiresIn", "userId", "email", "nickname"}
    assert body["email"] == email.lower()
    assert body["nickname"] == "Neo"  # trimmed
    assert isinstance(body["userId"], int) and body["userId"] > 0

    claims = decode_claims(body["token"])
    assert claims["sub"] == str(body["userId"])
    assert claims["email"] == email.lower()
    assert claims["exp"] - claims["iat"] == 3600 and claims["jti"] and claims["sid"]
    assert body["refreshToken"].startswith("crt_") and body["expiresIn"] == 3600
    assert abs(claims["iat"] - time.time()) < 60

    me = api.get("/api/users/me", headers={"Authorization": "Bearer " + body["token"]})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == body["userId"]

    (stored,) = api.sql("SELECT password_hash FROM users WHERE id = %s", (body["userId"],))[0]
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored


def test_signup_email_taken_is_409_case_insensitively(api):
    email = f"taken-{uuid.uuid4().hex[:6]}@example.com"
    api.signup(email=email)
    for variant in (email, email.upper(), "  " + email.title() + " "):
        r = api.post("/api/auth/signup", json={"email": variant, "password": "password123", "nickname": "x"})
        expect_error(r, 409, "conflict")
    assert api.sql("SELECT count(*) FROM users WHERE email = %s", (email,))[0][0] == 1


def test_non_ascii_emails_are_compared_case_insensitively_too(api):
    """The database stores lower(email); the server used to lower ASCII only, so an address
    with a non-ASCII capital (Ä) failed the CHECK with a 400 instead of signing up."""
    tag = uuid.uuid4().hex[:6]
    r = api.post("/api/auth/signup", json={"email": f"Ärger-{tag}@Example.com", "password": "password123",
                                           "nickname": "ä"})
    assert r.status_code == 201, r.text
    stored = r.json()["email"]
    assert stored == api.sql("SELECT lower(%s)", (f"Ärger-{tag}@example.com",))[0][0]
    for variant in (f"ÄRGER-{tag}@EXAMPLE.COM", f"ärger-{tag}@example.com", stored):
        login = api.post("/api/auth/login", json={"email": variant, "password": "password123"})
        assert login.status_code == 200, (variant, login.text)
        again = api.post("/api/auth/signup", json={"email": variant, "password": "password123", "nickname": "x"})
        expect_error(again, 409, "conflict")
    assert api.sql("SELECT count(*) FROM users WHERE email = %s", (stored,))[0][0] == 1


def test_concurrent_signups_of_one_email_create_one_user(api):
    from concurrent.futures import ThreadPoolExecutor
    import requests
    email = f"race-{uuid.uuid4().hex[:6]}@example.com"

    def attempt(i):
        return requests.post(api.url + "/api/auth/signup", timeout=30,
                             json={"email": email if i % 2 else email.upper(), "password": "password123",
                                   "nickname": f"n{i}"}).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(attempt, range(16)))
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 15, codes
    assert api.sql("SELECT count(*) FROM users WHERE email = %s", (email,))[0][0] == 1


@pytest.mark.parametrize("body, field", [
    ({"password": "password123", "nickname": "a"}, "email"),
    ({"email": "not-an-email", "password": "password123", "nickname": "a"}, "email"),
    ({"email": "a@b", "password": "password123", "nickname": "a"}, "email"),
    ({"email": "a@example.com", "password": "short", "nickname": "a"}, "password"),
    ({"email": "a@example.com", "password": "p" * 129, "nickname": "a"}, "password"),
    ({"email": "a@example.com", "password": "password123"}, "nickname"),
    ({"email": "a@example.com", "password": "password123", "nickname": "   "}, "nickname"),
    ({"email": "a@example.com", "password": "password123", "nickname": "n" * 41}, "nickname"),
    ({"email": "a@example.com", "password": "password123", "nickname": "bell\u0007"}, "nickname"),
    ({"email": 42, "password": "password123", "nickname": "a"}, "email"),
    ({"email": "a@example.com", "password": ["password123"], "nickname": "a"}, "password"),
    ({"email": "a@example.com", "password": "password123", "nickname": None}, "nickname"),
])
def test_signup_validation_failures_are_400(api, body, field):
    r = api.post("/api/auth/signup", json=body)
    err = expect_error(r, 400, "validation_error")
    assert field in err["error"]["message"]


def test_signup_password_limits_count_characters_not_bytes(api):
    # 8 characters of 2 bytes each is long enough; 128 four-byte emoji are not too long.
    assert api.post("/api/auth/signup", json={"email": f"e{uuid.uuid4().hex[:6]}@example.com",
                                              "password": "éééééééé", "nickname": "a"}).status_code == 201
    assert api.post("/api/auth/signup", json={"email": f"e{uuid.uuid4().hex[:6]}@example.com",
                                              "password": "😀" * 128, "nickname": "a"}).status_code == 201


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null", b'"text"', b"{\"email\":\"a@b.c\",}"])
def test_signup_unparseable_bodies_are_400_invalid_json(api, raw):
    expect_error(api.post("/api/auth/signup", data=raw, headers={"Content-Type": "application/json"}), 400,
                 "invalid_json")


# ---------------------------------------------------------------------------- login


def test_login_returns_a_token_for_any_case_of_the_email(api):
    user = api.signup(email=f"Login-{uuid.uuid4().hex[:6]}@example.com")
    r = api.post("/api/auth/login", json={"email": user.email.upper(), "password": user.password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["userId"] == user.id
    assert body["email"] == user.email
    assert body["nickname"] == user.nickname
    assert decode_claims(body["token"])["sub"] == str(user.id)
    assert api.get("/api/users/me", headers={"Authorization": "Bearer " + body["token"]}).status_code == 200


def test_login_same_answer_for_unknown_email_and_wrong_password(api):
    user = api.signup()
    wrong = api.post("/api/auth/login", json={"email": user.email, "password": "wrong-password"})
    unknown = api.post("/api/auth/login", json={"email": f"nobody-{uuid.uuid4().hex}@example.com",
                                                "password": "wrong-password"})
    malformed = api.post("/api/auth/login", json={"email": "not an email", "password": "wrong-password"})
    for r in (wrong, unknown, malformed):
        expect_error(r, 401, "invalid_credentials")
    assert wrong.json() == unknown.json() == malformed.json()
    assert "token" not in wrong.text


def test_login_unknown_email_costs_a_password_verification(api, tmp_path):
    """Runs a node at the production Argon2id cost: a login with an unknown email is verified
    against a dummy hash (chat_login_verifications_total{account="unknown"}), so it costs what
    a wrong password costs. No wall-clock comparison: the metric says the work was done."""
    db = api.stack.create_database("rest_cost_" + uuid.uuid4().hex[:8])
    env = dict(api.stack.env(), CHATD_DATABASE_URL=db)
    # A flag, because the harness sets CHATD_PASSWORD_COST=minimum for every node.
    node = Chatd(tmp_path, env, ["--password-cost", "interactive"], "chatd-interactive").start()

    def verifications() -> dict:
        counts = {"known": 0.0, "unknown": 0.0}
        for line in requests.get(node.metrics_url, timeout=10).text.splitlines():
            m = re.match(r'chat_login_verifications_total\{account="(\w+)"\} (\S+)$', line)
            if m:
                counts[m.group(1)] = float(m.group(2))
        return counts

    try:
        node.wait_ready()
        email = f"timing-{uuid.uuid4().hex[:6]}@example.com"
        r = requests.post(node.url + "/api/auth/signup", timeout=30,
                          json={"email": email, "password": "password123", "nickname": "t"})
        assert r.status_code == 201, r.text
        assert r.json()["token"]
        before = verifications()
        for body in ({"email": email, "password": "wrong-password"},
                     {"email": f"ghost-{uuid.uuid4().hex}@example.com", "password": "wrong-password"},
                     {"email": f"ghost-{uuid.uuid4().hex}@example.com", "password": "wrong-password"}):
            assert requests.post(node.url + "/api/auth/login", json=body, timeout=30).status_code == 401
        after = verifications()
        assert after["known"] - before["known"] == 1, (before, after)
        assert after["unknown"] - before["unknown"] == 2, (before, after)
    finally:
        node.stop()


@pytest.mark.parametrize("body", [{"email": "a@example.com"}, {"password": "x"}, {"email": 1, "password": "x"},
                                  {"email": "a@example.com", "password": None}])
def test_login_validation_failures_are_400(api, body):
    expect_error(api.post("/api/auth/login", json=body), 400, "validation_error")


# ---------------------------------------------------------------------------- users


def test_me_returns_id_email_nickname_created_at(api):
    user = api.signup(nickname="Mé 🚀")
    r = api.get("/api/users/me", user)
    assert r.status_code == 200, r.text
    body = r.json()
    # The profile fields (docs/rest.md "People") are null until set.
    assert set(body) == {"id", "email", "nickname", "createdAt", "statusMessage", "avatarUrl"}
    assert body["statusMessage"] is None and body["avatarUrl"] is None
    assert (body["id"], body["email"], body["nickname"]) == (user.id, user.email, "Mé 🚀")
    assert ISO_MS.match(body["createdAt"]), body["createdAt"]


def test_me_with_a_valid_token_of_an_unknown_user_is_401(api):
    r = api.get("/api/users/me", headers={"Authorization": "Bearer " + make_token(987654321)})
    expect_error(r, 401, "unauthorized")


def test_lookup_by_email_exact_and_case_insensitive(api):
    user = api.signup()
    for email in (user.email, user.email.upper()):
        r = api.get("/api/users", user, params={"email": email})
        assert r.status_code == 200, r.text
        assert r.json() == {"id": user.id, "nickname": user.nickname}
    # percent-encoded '@' and '+' for a space around the address are decoded
    r = api.get("/api/users?email=+" + user.email.replace("@", "%40") + "+", user)
    assert r.status_code == 200, r.text


def test_lookup_unknown_email_is_404_and_bad_queries_are_400(api):
    user = api.signup()
    expect_error(api.get("/api/users", user, params={"email": "ghost-" + uuid.uuid4().hex + "@example.com"}), 404,
                 "not_found")
    expect_error(api.get("/api/users", user), 400, "validation_error")
    expect_error(api.get("/api/users?email=", user), 400, "validation_error")
    expect_error(api.get("/api/users?email=%zz", user), 400, "validation_error")
    expect_error(api.get("/api/users", user, params={"email": "not an email"}), 400, "validation_error")
    # A prefix or pattern is not a match: exact lookup only.
    for pattern in (user.email[:-3] + "%", "%@example.com", "_" + user.email[1:]):
        expect_error(api.get("/api/users", user, params={"email": pattern}), 404, "not_found")


# ---------------------------------------------------------------------------- 401


AUTHED_ROUTES = [
    ("GET", "/api/users/me"),
    ("GET", "/api/users?email=a@example.com"),
    ("POST", "/api/rooms/direct"),
    ("POST", "/api/rooms/group"),
    ("GET", "/api/rooms"),
    ("GET", "/api/rooms/1"),
    ("POST", "/api/rooms/1/members"),
    ("DELETE", "/api/rooms/1/members/me"),
    ("GET", "/api/rooms/1/messages"),
    ("POST", "/api/rooms/1/read"),
    ("GET", "/api/rooms/1/unread"),
    ("GET", "/api/rooms/1/members/online"),
]


def bad_tokens(user_id: int) -> dict:
    now = int(time.time())
    valid = make_token(user_id)
    header, payload, _ = valid.split(".")
    return {
        "expired": make_token(user_id, iat=now - 7200, ttl=3600),
        "forged": make_token(user_id, secret="some-other-secret-0123456789abcdef"),
        "alg_none": b64({"alg": "none", "typ": "JWT"}) + "." + payload + ".",
        "alg_hs512": make_token(user_id, alg="HS512"),
        "tampered_payload": header + "." + b64({"sub": "1", "email": "", "iat": now, "exp": now + 3600}) + "." +
                            valid.split(".")[2],
        "garbage": "not-a-jwt",
        "oversized": "a" * 10_000,
    }


@pytest.mark.parametrize("method, path", AUTHED_ROUTES)
def test_every_authenticated_route_answers_401_without_a_valid_token(api, method, path):
    user = api.signup()
    attempts = {"missing": {}, "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
                "empty_bearer": {"Authorization": "Bearer "}}
    attempts.update({k: {"Authorization": "Bearer " + v} for k, v in bad_tokens(user.id).items()})
    for name, headers in attempts.items():
        r = api.request(method, path, headers=headers, json={})
        assert r.status_code == 401, (name, r.status_code, r.text)
        assert error_of(r) == "unauthorized", name
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), name


def test_token_of_a_known_user_signed_by_chatd_secret_is_accepted(api):
    """Control for the 401 tests: a token made the same way, but valid, works."""
    user = api.signup()
    assert api.get("/api/users/me", headers={"Authorization": "Bearer " + make_token(user.id)}).status_code == 200


# ---------------------------------------------------------------------------- failed-login limit


def login(node, email: str, password: str) -> requests.Response:
    return requests.post(node.url + "/api/auth/login", json={"email": email, "password": password}, timeout=30)


def signup(node, password: str = "password123") -> str:
    email = f"lock-{uuid.uuid4().hex[:10]}@example.com"
    r = requests.post(node.url + "/api/auth/signup", timeout=30,
                      json={"email": email, "password": password, "nickname": "lock"})
    assert r.status_code == 201, r.text
    return email


def logins_locked(node) -> float:
    text = requests.get(node.metrics_url, timeout=10).text
    return float(re.search(r"^chat_logins_locked_total (\S+)$", text, re.M).group(1))


def test_login_failure_limit_locks_an_email_across_nodes_until_the_window_ends(stack, database, chatd_factory):
    """--login-failure-limit 3: after three failed logins for one email (on any node: the
    count is in the shared Redis) the next login for it is 429 with Retry-After, even with the
    right password; an unknown email is treated alike; other emails are not affected; when
    the window ends the right password works and clears the count."""
    env = {"CHATD_LOGIN_FAILURE_LIMIT": "3", "CHATD_LOGIN_FAILURE_WINDOW": "5s"}
    n1 = chatd_factory(stack, database_url=database, env=env)
    n2 = chatd_factory(stack, database_url=database, env=env)
    victim, bystander = signup(n1), signup(n1)
    locked_before = logins_locked(n2)

    for node in (n1, n2, n1):
        expect_error(login(node, victim, "wrong-password"), 401, "invalid_credentials")
    r = login(n2, victim, "password123")
    expect_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 5, r.headers
    assert "token" not in r.text
    expect_error(login(n1, victim, "wrong-password"), 429, "rate_limited")
    assert logins_locked(n2) - locked_before == 1

    ghost = f"ghost-{uuid.uuid4().hex}@example.com"  # no such user: the same answers
    for _ in range(3):
        expect_error(login(n2, ghost, "wrong-password"), 401, "invalid_credentials")
    expect_error(login(n2, ghost, "wrong-password"), 429, "rate_limited")

    assert login(n1, bystander, "password123").status_code == 200

    # The window runs from the first failure; refused attempts do not extend it.
    ok = wait_for(lambda: (r := login(n1, victim, "password123")).status_code == 200 and r, 15,
                  interval=0.5, what="the lock to end")
    assert ok.json()["email"] == victim
    # A success forgets the failures: three more are again answered 401.
    for _ in range(3):
        expect_error(login(n2, victim, "wrong-password"), 401, "invalid_credentials")
    expect_error(login(n2, victim, "password123"), 429, "rate_limited")


def test_login_failure_limit_off_and_redis_down_never_lock(own_redis_kafka, chatd_factory):
    """--login-failure-limit 0 turns the limit off; with Redis down the limit is not
    enforced (fail open: an outage must not lock every user out) and logins keep working."""
    database = own_redis_kafka.create_database("login_limit")
    off = chatd_factory(own_redis_kafka, database_url=database, env={"CHATD_LOGIN_FAILURE_LIMIT": "0"})
    on = chatd_factory(own_redis_kafka, database_url=database, env={"CHATD_LOGIN_FAILURE_LIMIT": "2"})
    email = signup(off)
    for _ in range(4):
        expect_error(login(off, email, "wrong-password"), 401, "invalid_credentials")
    assert login(off, email, "password123").status_code == 200

    own_redis_kafka.stop("redis")
    for _ in range(4):
        expect_error(login(on, email, "wrong-password"), 401, "invalid_credentials")
    assert login(on, email, "password123").status_code == 200
