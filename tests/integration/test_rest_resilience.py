"""Issue 3 — the REST API while a dependency is down: 503 {"error":{"code":"unavailable"}}
instead of hanging or a 500, and normal answers again once it is back."""
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import wait_for
from test_rest_common import expect_error

ENV = {"CHATD_PASSWORD_COST": "minimum", "CHATD_SEND_TIMEOUT": "2s"}


def signup(node, tag):
    r = requests.post(node.url + "/api/auth/signup", timeout=30,
                      json={"email": f"{tag}@example.com", "password": "password123", "nickname": tag})
    assert r.status_code == 201, r.text
    body = r.json()
    return body["userId"], {"Authorization": "Bearer " + body["token"]}


def status_is(method, url, status, **kw):
    r = requests.request(method, url, timeout=30, **kw)
    return (r,) if r.status_code == status else None


def test_postgres_down_gives_503_then_recovers(own_stack, chatd_factory):
    node = chatd_factory(own_stack, env=ENV)
    _, auth = signup(node, "pgdown")
    own_stack.stop("postgres")
    r = wait_for(lambda: status_is("GET", node.url + "/api/rooms", 503, headers=auth), 20,
                 what="503 from /api/rooms")[0]
    expect_error(r, 503, "unavailable")
    expect_error(requests.post(node.url + "/api/auth/signup", timeout=30,
                               json={"email": "later@example.com", "password": "password123", "nickname": "l"}),
                 503, "unavailable")
    expect_error(requests.get(node.url + "/api/rooms/1/messages", headers=auth, timeout=30), 503, "unavailable")
    # Bad input is still answered 400 without the database.
    expect_error(requests.get(node.url + "/api/rooms/1/messages?size=0", headers=auth, timeout=30), 400)

    # Redis down too: nothing can tell whether the token was revoked (docs/rest.md "Tokens"),
    # so a valid token gets 503, never a 200 (fail closed) nor a 401.
    own_stack.stop("redis")

    def live_gauge():
        text = requests.get(node.metrics_url, timeout=5).text
        return [line for line in text.splitlines() if line.startswith("chat_token_revocations_live")][0]

    wait_for(lambda: live_gauge().endswith(" 0"), 15, what="the revocation feed to notice Redis is gone")
    for path in ("/api/users/me", "/api/blocks", "/api/friends"):
        expect_error(requests.get(node.url + path, headers=auth, timeout=30), 503, "unavailable")
    own_stack.start("redis")
    own_stack.start("postgres")
    wait_for(lambda: status_is("GET", node.url + "/api/rooms", 200, headers=auth), 30, what="200 after restart")
    wait_for(lambda: status_is("GET", node.url + "/api/users/me", 200, headers=auth), 30, what="me after restart")


def test_redis_down_online_is_503_and_unread_falls_back_to_postgres(own_redis_kafka, chatd_factory):
    node = chatd_factory(own_redis_kafka, env=ENV)
    _, auth = signup(node, "redisdown")
    room = requests.post(node.url + "/api/rooms/group", headers=auth, json={"name": "r"}, timeout=30).json()["id"]
    own_redis_kafka.stop("redis")
    r = requests.get(f"{node.url}/api/rooms/{room}/members/online", headers=auth, timeout=30)
    expect_error(r, 503, "unavailable")
    r = requests.get(f"{node.url}/api/rooms/{room}/unread", headers=auth, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {"unreadCount": 0, "lastReadMessageId": 0}
    own_redis_kafka.start("redis")
    r = wait_for(lambda: status_is("GET", f"{node.url}/api/rooms/{room}/members/online", 200, headers=auth), 20,
                 what="online lookup after Redis restart")[0]
    assert json.loads(r.text) == []


def test_kafka_down_read_receipt_is_503(own_redis_kafka, chatd_factory):
    node = chatd_factory(own_redis_kafka, env=ENV)
    _, auth = signup(node, "kafkadown")
    room = requests.post(node.url + "/api/rooms/group", headers=auth, json={"name": "k"}, timeout=30).json()["id"]
    r = requests.post(f"{node.url}/api/rooms/{room}/read", headers=auth, json={"lastReadMessageId": 1}, timeout=30)
    assert r.status_code == 202, r.text
    own_redis_kafka.stop("kafka")
    r = requests.post(f"{node.url}/api/rooms/{room}/read", headers=auth, json={"lastReadMessageId": 2}, timeout=30)
    expect_error(r, 503, "unavailable")
    # The rest of the API does not depend on Kafka.
    assert requests.get(node.url + "/api/rooms", headers=auth, timeout=30).status_code == 200


def test_full_pool_queue_sheds_load_with_503(stack, database, chatd_factory):
    """One worker, room for two queued jobs, on the database pool and on the password pool,
    and production-cost password hashing: a burst of sign-ups overflows the queues. The excess
    is answered 503 at once (not queued without bound, not a 500), the rest succeed, and the
    node serves normally afterwards."""
    node = chatd_factory(stack, database_url=database,
                         args=["--password-cost", "interactive", "--db-pool-size", "1", "--db-queue-limit", "2",
                               "--password-workers", "1", "--password-queue", "2"])
    burst = 16
    barrier = threading.Barrier(burst)

    def attempt(i):
        with requests.Session() as s:
            s.get(node.url + "/healthz", timeout=10)
            barrier.wait(timeout=30)
            r = s.post(node.url + "/api/auth/signup", timeout=60,
                       json={"email": f"burst{i}@example.com", "password": "password123", "nickname": f"b{i}"})
            return r

    with ThreadPoolExecutor(burst) as pool:
        answers = list(pool.map(attempt, range(burst)))
    codes = sorted(r.status_code for r in answers)
    assert set(codes) == {201, 503}, codes
    for r in answers:
        if r.status_code == 503:
            expect_error(r, 503, "unavailable")
            assert r.headers["Retry-After"] == "1"
    created = codes.count(201)
    assert requests.post(node.url + "/api/auth/signup", timeout=60,
                         json={"email": "after@example.com", "password": "password123", "nickname": "a"}
                         ).status_code == 201
    r = requests.post(node.url + "/api/auth/login", timeout=60,
                      json={"email": "after@example.com", "password": "password123"})
    assert r.status_code == 200, r.text
    assert created >= 1
