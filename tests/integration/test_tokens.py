"""Issue 16 (tokens, SPEC §15): refresh tokens, rotation and reuse detection, logout,
logout-all, password change, revocation on REST and of live STOMP sessions on another node,
refresh and access tokens kept apart, Redis down, and chatctl's own renewal.

Two chatd nodes for the module with a Redis and a dev Kafka of their own
(SharedPostgresStack): revocations live in Redis by user id, so they must not meet other
modules' users of the same ids."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pathlib
import subprocess
import time
import uuid

import psycopg
import pytest
import redis
import requests

from chatlib import make_token
from conftest import BUILD, FAST, JWT_SECRET, Chatd, SharedPostgresStack, share_logs, unshare_logs, wait_for
from stomp_ws import RawStomp

CHATCTL = BUILD / "apps" / "chatctl" / "chatctl"


@pytest.fixture(scope="module")
def env(stack, tmp_path_factory):
    root = tmp_path_factory.mktemp("tokens")
    own = SharedPostgresStack(root / "stack", stack)
    nodes = []
    try:
        for i in (1, 2):
            e = dict(own.env())
            e.update(FAST)
            e["CHATD_REVOCATION_SYNC"] = "500ms"
            nodes.append(Chatd(root, e, [], f"tokens-{i}").start())
        for n in nodes:
            n.wait_ready()
        names = share_logs("tokens", {**{n.name: n.log_path for n in nodes}, **own.own_log_paths()})
        yield {"nodes": nodes, "stack": own}
        unshare_logs(names)
    finally:
        for n in nodes:
            n.stop()
        own.stop_all()


def signup(node, password="password-1") -> dict:
    email = f"t{uuid.uuid4().hex[:10]}@example.com"
    r = requests.post(node.url + "/api/auth/signup",
                      json={"email": email, "password": password, "nickname": "tok"}, timeout=10)
    assert r.status_code == 201, r.text
    body = r.json()
    body["password"] = password
    return body


def login(node, email, password="password-1") -> dict:
    r = requests.post(node.url + "/api/auth/login", json={"email": email, "password": password}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(node, token) -> requests.Response:
    return requests.post(node.url + "/api/auth/refresh", json={"refreshToken": token}, timeout=10)


def me(node, token) -> int:
    return requests.get(node.url + "/api/users/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code


def post(node, path, token, body=None) -> requests.Response:
    return requests.post(node.url + path, headers={"Authorization": f"Bearer {token}"}, json=body, timeout=10)


def claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def assert_refused(r: requests.Response, status=401):
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"], r.text


def stomp(node, token) -> RawStomp:
    c = RawStomp.tcp(node.stomp_port)
    c.connect(token)
    return c


def expect_revoked(c: RawStomp, within: float = 2.0):
    """ERROR message:token revoked and the connection closed, within `within` seconds."""
    started = time.monotonic()
    f = c.recv(within + 1)
    assert f.command == "ERROR" and f.headers.get("message") == "token revoked", f
    assert c.wait_closed(max(0.1, within + 1 - (time.monotonic() - started))), "the session must close"
    assert time.monotonic() - started <= within + 0.5


def still_open(c: RawStomp):
    c.send("SUBSCRIBE", {"id": "s", "destination": "/topic/presence", "receipt": "alive"})
    c.expect("RECEIPT", receipt_id="alive")


# --------------------------------------------------------------------------- rotation


def test_signup_and_login_answer_a_pair_and_refresh_rotates_it(env):
    n1, n2 = env["nodes"]
    s = signup(n1)
    assert s["refreshToken"].startswith("crt_") and len(s["refreshToken"]) == 47
    assert s["expiresIn"] == 3600
    c = claims(s["token"])
    assert c["exp"] - c["iat"] == 3600 and c["jti"] and c["sid"]

    r = refresh(n2, s["refreshToken"])  # any node
    assert r.status_code == 200, r.text
    pair = r.json()
    assert pair["userId"] == s["userId"] and pair["refreshToken"] != s["refreshToken"]
    assert claims(pair["token"])["sid"] == c["sid"] and claims(pair["token"])["jti"] != c["jti"]
    assert me(n1, pair["token"]) == 200

    again = refresh(n1, pair["refreshToken"])
    assert again.status_code == 200, again.text


def test_reusing_a_used_refresh_token_revokes_the_family(env):
    n1, n2 = env["nodes"]
    s = signup(n1)
    other = login(n1, s["email"])  # another session of the same user stays
    newer = refresh(n1, s["refreshToken"]).json()
    assert me(n2, newer["token"]) == 200

    r = refresh(n2, s["refreshToken"])  # the used one again: theft
    assert_refused(r)
    assert "already used" in r.json()["error"]["message"]
    # The whole family: the newer refresh token and the access tokens of the session.
    assert_refused(refresh(n1, newer["refreshToken"]))
    assert me(n2, newer["token"]) == 401
    wait_for(lambda: me(n1, s["token"]) == 401, 2, what="the session's first access token refused")
    assert me(n1, other["token"]) == 200 and refresh(n1, other["refreshToken"]).status_code == 200


# --------------------------------------------------------------------------- logout


def test_logout_revokes_at_once_on_rest_and_ends_the_stomp_session_on_the_other_node(env, closing):
    n1, n2 = env["nodes"]
    s = signup(n1)
    kept = login(n1, s["email"])
    doomed = stomp(n2, s["token"])
    closing.append(doomed)
    survivor = stomp(n2, kept["token"])
    closing.append(survivor)

    r = post(n1, "/api/auth/logout", s["token"], {"refreshToken": s["refreshToken"]})
    assert r.status_code == 204, r.text
    assert me(n1, s["token"]) == 401  # the node that revoked: at once
    expect_revoked(doomed)            # the other node's live session: within 2 s
    assert me(n2, s["token"]) == 401
    assert_refused(refresh(n2, s["refreshToken"]))
    # A new CONNECT with the revoked token is refused.
    late = RawStomp.tcp(n2.stomp_port)
    closing.append(late)
    f = late.connect(s["token"], expect_ok=False)
    assert f.command == "ERROR" and f.headers["message"] == "unauthorized", f
    # The user's other session is untouched.
    still_open(survivor)
    assert me(n2, kept["token"]) == 200


def test_logout_all_revokes_every_token_and_a_new_login_works_at_once(env, closing):
    n1, n2 = env["nodes"]
    s = signup(n1)
    second = login(n2, s["email"])
    live = stomp(n2, second["token"])
    closing.append(live)

    assert post(n1, "/api/auth/logout-all", s["token"]).status_code == 204
    expect_revoked(live)
    for token in (s["token"], second["token"]):
        assert me(n1, token) == 401 and me(n2, token) == 401
    for rt in (s["refreshToken"], second["refreshToken"]):
        assert_refused(refresh(n1, rt))
    fresh = login(n2, s["email"])  # within the same second: not caught by the watermark
    assert me(n1, fresh["token"]) == 200 and me(n2, fresh["token"]) == 200


def test_password_change_revokes_every_token(env, closing):
    n1, n2 = env["nodes"]
    s = signup(n1)
    live = stomp(n2, s["token"])
    closing.append(live)

    wrong = post(n1, "/api/users/me/password", s["token"], {"currentPassword": "nope-nope", "newPassword": "x" * 12})
    assert_refused(wrong, 403)
    weak = post(n1, "/api/users/me/password", s["token"], {"currentPassword": s["password"], "newPassword": "short"})
    assert_refused(weak, 400)
    assert me(n1, s["token"]) == 200  # refusals revoke nothing
    still_open(live)

    ok = post(n1, "/api/users/me/password", s["token"],
              {"currentPassword": s["password"], "newPassword": "password-2"})
    assert ok.status_code == 204, ok.text
    expect_revoked(live)
    assert me(n1, s["token"]) == 401 and me(n2, s["token"]) == 401
    assert_refused(refresh(n1, s["refreshToken"]))
    r = requests.post(n1.url + "/api/auth/login", json={"email": s["email"], "password": s["password"]}, timeout=10)
    assert r.status_code == 401
    assert me(n2, login(n2, s["email"], "password-2")["token"]) == 200


def test_a_revoked_token_ends_its_room_stream(env):
    n1, n2 = env["nodes"]
    s = signup(n1)
    with requests.get(n2.url + "/api/rooms/stream", headers={"Authorization": f"Bearer {s['token']}"},
                      stream=True, timeout=10) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines).startswith("id:")  # the snapshot
        assert post(n1, "/api/auth/logout", s["token"]).status_code == 204
        started = time.monotonic()
        rest = list(lines)  # ends when the server closes the stream
        assert time.monotonic() - started < 3
        assert "event: error" in rest and 'data: {"message":"token revoked"}' in rest, rest


# --------------------------------------------------------------------------- bad tokens


def test_refresh_and_access_tokens_are_not_interchangeable_and_bad_ones_get_401(env):
    n1, _ = env["nodes"]
    s = signup(n1)
    assert me(n1, s["refreshToken"]) == 401           # a refresh token as access token
    assert_refused(refresh(n1, s["token"]))            # an access token as refresh token
    forged = "crt_" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    for bad in (forged, "crt_short", "garbage", "", "crt_" + "A" * 10000, s["refreshToken"] + "A"):
        r = refresh(n1, bad)
        assert_refused(r)
        assert r.headers["Content-Type"].startswith("application/json")
    for body in ("not json", "[]", '{"refreshToken": 5}', "{}"):
        r = requests.post(n1.url + "/api/auth/refresh", data=body, timeout=10,
                          headers={"Content-Type": "application/json"})
        assert_refused(r, 400)
    # Expired: the stored expiry passed.
    with psycopg.connect(env["stack"].database_url) as db:
        db.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' "
                   "WHERE family_id = (SELECT id FROM refresh_families WHERE user_id = %s LIMIT 1)", (s["userId"],))
    r = refresh(n1, s["refreshToken"])
    assert_refused(r)
    assert "expired" in r.json()["error"]["message"]
    # A signed access token without a jti is malformed.
    tok = make_token(s["userId"], s["email"])
    head = tok.split(".")[0]
    now = int(time.time())
    body = base64.urlsafe_b64encode(json.dumps(
        {"sub": str(s["userId"]), "email": s["email"], "iat": now, "exp": now + 60}).encode()).decode().rstrip("=")
    sig = base64.urlsafe_b64encode(hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(),
                                            hashlib.sha256).digest()).decode().rstrip("=")
    assert me(n1, f"{head}.{body}.{sig}") == 401
    assert me(n1, tok) == 200


# --------------------------------------------------------------------------- metrics


def test_metrics_count_revocations_and_refreshes(env):
    # Self-contained (it once relied on earlier tests of the file having refreshed on n1): a
    # refresh and a logout on n1, then n1's counters moved past what they were before.
    n1, _ = env["nodes"]

    def value(text, prefix):
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))

    def scrape():
        return requests.get(n1.metrics_url, timeout=10).text

    before = scrape()
    s = signup(n1)
    r = refresh(n1, s["refreshToken"])
    assert r.status_code == 200, r.text
    pair = r.json()
    assert post(n1, "/api/auth/logout", pair["token"], {"refreshToken": pair["refreshToken"]}).status_code == 204

    rotated = 'chat_token_refreshes_total{outcome="rotated"}'
    logout = 'chat_token_revocations_total{reason="logout"}'
    text = scrape()
    assert value(text, rotated) >= value(before, rotated) + 1
    assert value(text, logout) >= value(before, logout) + 1
    # Revocations are live from Redis (1) once the node's feed is subscribed; poll, the feed may
    # still be starting on a slow (sanitizer) build.
    assert wait_for(lambda: value(scrape(), "chat_token_revocations_live") == 1, timeout=10), scrape()


# --------------------------------------------------------------------------- chatctl


def chatctl(home: pathlib.Path, server: str, *args, input=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    e.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "CHAT_SERVER": server, "NO_COLOR": "1"})
    return subprocess.run([str(CHATCTL), *args], input=input, env=e, capture_output=True, text=True, timeout=60)


def test_chatctl_renews_an_expired_token_by_itself_and_logout_revokes(env, tmp_path):
    n1, n2 = env["nodes"]
    s = signup(n1)
    r = chatctl(tmp_path, n1.url, "auth", "login", "--email", s["email"], "--password-stdin", input=s["password"])
    assert r.returncode == 0, r.stderr
    cfg_path = tmp_path / "config" / "chatctl" / "config.json"
    assert cfg_path.stat().st_mode & 0o777 == 0o600
    cfg = json.loads(cfg_path.read_text())
    profile = cfg["profiles"]["default"]
    assert profile["refreshToken"].startswith("crt_")

    # The stored access token has expired (minted with the test secret, an hour ago).
    profile["token"] = make_token(s["userId"], s["email"], iat=int(time.time()) - 7200, ttl=3600)
    cfg_path.write_text(json.dumps(cfg))
    r = chatctl(tmp_path, n1.url, "auth", "whoami", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["id"] == s["userId"]
    renewed = json.loads(cfg_path.read_text())["profiles"]["default"]
    assert renewed["token"] != profile["token"] and renewed["refreshToken"] != profile["refreshToken"]
    assert me(n2, renewed["token"]) == 200
    assert cfg_path.stat().st_mode & 0o777 == 0o600

    # auth logout revokes on the server and forgets both tokens; then nothing is logged in.
    r = chatctl(tmp_path, n1.url, "auth", "logout")
    assert r.returncode == 0, r.stderr
    assert me(n1, renewed["token"]) == 401
    assert_refused(refresh(n1, renewed["refreshToken"]))
    gone = json.loads(cfg_path.read_text())["profiles"]["default"]
    assert "token" not in gone and "refreshToken" not in gone
    r = chatctl(tmp_path, n1.url, "auth", "whoami")
    assert r.returncode == 3, r.stderr


def test_chatctl_renews_once_after_a_401_and_passwd(env, tmp_path):
    n1, n2 = env["nodes"]
    s = signup(n1)
    assert chatctl(tmp_path, n1.url, "auth", "login", "--email", s["email"], "--password-stdin",
                   input=s["password"]).returncode == 0
    cfg_path = tmp_path / "config" / "chatctl" / "config.json"
    stored = json.loads(cfg_path.read_text())["profiles"]["default"]
    c = claims(stored["token"])
    # Only the access token is revoked (its session is not), straight into the Redis set and
    # not published: the nodes learn it from their periodic reload (the safety net).
    red = redis.Redis.from_url(env["stack"].env()["CHATD_REDIS_URL"])
    red.zadd("chat:revoked-tokens", {f"t:{s['userId']}:{c['jti']}:{c['exp'] + 60}": c["exp"] + 60})
    wait_for(lambda: me(n1, stored["token"]) == 401 and me(n2, stored["token"]) == 401, 3,
             what="the reload of the revoked set")
    r = chatctl(tmp_path, n1.url, "auth", "whoami", "-o", "json")  # 401, renew, retry
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["id"] == s["userId"]
    renewed = json.loads(cfg_path.read_text())["profiles"]["default"]
    assert renewed["token"] != stored["token"] and me(n1, renewed["token"]) == 200

    r = chatctl(tmp_path, n1.url, "auth", "passwd", "--password-stdin", input="wrong-pass\nnew-password-9\n")
    assert r.returncode == 5, r.stderr
    assert "current password is wrong" in r.stderr
    r = chatctl(tmp_path, n1.url, "auth", "passwd", "--password-stdin", input=s["password"] + "\nnew-password-9\n")
    assert r.returncode == 0, r.stderr
    after = json.loads(cfg_path.read_text())["profiles"]["default"]
    assert me(n1, renewed["token"]) == 401 and me(n1, after["token"]) == 200
    assert login(n2, s["email"], "new-password-9")["userId"] == s["userId"]


# --------------------------------------------------------------------------- Redis down


def test_with_redis_down_rest_checks_postgres_and_fails_closed(own_redis_kafka, chatd_factory):
    node = chatd_factory(own_redis_kafka, env={"CHATD_REVOCATION_SYNC": "300ms"})
    s = signup(node)
    other = login(node, s["email"])
    own_redis_kafka.stop("redis")

    def live_gauge():
        text = requests.get(node.metrics_url, timeout=5).text
        return [line for line in text.splitlines() if line.startswith("chat_token_revocations_live")][0]

    wait_for(lambda: live_gauge().endswith(" 0"), 10, what="the revocation feed to notice Redis is gone")
    assert me(node, s["token"]) == 200  # checked in PostgreSQL
    assert post(node, "/api/auth/logout", s["token"]).status_code == 204  # stored in PostgreSQL
    assert me(node, s["token"]) == 401
    assert me(node, other["token"]) == 200
    own_redis_kafka.start("redis")
    wait_for(lambda: live_gauge().endswith(" 1"), 15, what="the revocation feed back on Redis")
    assert me(node, s["token"]) == 401  # the revocation made while Redis was down is in the cache now
    assert me(node, other["token"]) == 200
