"""Issue 4 (presence, docs/stomp.md/docs/topics.md): a user is ONLINE while at least one of their sessions is
open on any node; /topic/presence subscribers hear about the users they share a room with;
a crashed node's users go OFFLINE within the presence TTL."""
from __future__ import annotations

import signal
import time

import redis

from chatlib import create_room, create_user, make_token
from conftest import wait_for
from stomp_ws import RawStomp


def redis_client(stk) -> redis.Redis:
    return redis.Redis.from_url(stk.env()["CHATD_REDIS_URL"], decode_responses=True)


def clean_presence(stk):
    """User ids repeat across tests (fresh databases, one Redis): forget earlier tests' keys."""
    r = redis_client(stk)
    keys = r.keys("user:presence:*")
    if keys:
        r.delete(*keys)


def watch(node, user, ws=True) -> RawStomp:
    c = RawStomp.ws(node.http_port) if ws else RawStomp.tcp(node.stomp_port)
    c.connect(make_token(user))
    c.send("SUBSCRIBE", {"id": "p", "destination": "/topic/presence", "receipt": "watching"})
    c.expect("RECEIPT", receipt_id="watching")  # the contact list is loaded
    return c


def next_presence(c: RawStomp, timeout=10) -> tuple[int, str]:
    f = c.expect("MESSAGE", timeout=timeout)
    assert f.headers["destination"] == "/topic/presence"
    assert f.headers["subscription"] == "p"
    ev = f.json()
    assert ev["at"].endswith("Z")
    return ev["userId"], ev["status"]


def test_online_offline_across_two_sessions_on_two_nodes(stack, database, chatd_factory):
    clean_presence(stack)
    n1 = chatd_factory(stack, database_url=database)
    n2 = chatd_factory(stack, database_url=database)
    a, b, c, stranger = (create_user(database) for _ in range(4))
    create_room(database, [a, b])
    create_room(database, [b, c])
    create_room(database, [stranger, a])  # a's contact, not b's
    r = redis_client(stack)

    watcher = watch(n1, b)

    a1 = RawStomp.tcp(n1.stomp_port)
    a1.connect(make_token(a))
    assert next_presence(watcher) == (a, "ONLINE")
    assert r.hgetall(f"user:presence:{a}") == {n1.name: "1"}
    assert 0 < r.ttl(f"user:presence:{a}") <= 60

    a2 = RawStomp.ws(n2.http_port)  # a second session of a, on the other node: no event
    a2.connect(make_token(a))
    wait_for(lambda: r.hgetall(f"user:presence:{a}") == {n1.name: "1", n2.name: "1"}, 5, what="both nodes count a")
    s = RawStomp.tcp(n2.stomp_port)  # not b's contact: b hears nothing of it
    s.connect(make_token(stranger))
    c1 = RawStomp.tcp(n2.stomp_port)  # sentinel: the next event b gets is c's
    c1.connect(make_token(c))
    assert next_presence(watcher) == (c, "ONLINE")

    a1.send("DISCONNECT", {"receipt": "bye"})  # one of two sessions: still ONLINE
    a1.expect("RECEIPT")
    wait_for(lambda: r.hgetall(f"user:presence:{a}") == {n2.name: "1"}, 5, what="n1 withdrew its count")
    c1.close()
    assert next_presence(watcher) == (c, "OFFLINE")

    a2.close()  # the last session anywhere
    assert next_presence(watcher) == (a, "OFFLINE")
    wait_for(lambda: not r.exists(f"user:presence:{a}"), 5, what="presence key deleted")


def test_sigkilled_node_users_go_offline_within_ttl(own_redis_kafka, chatd_factory):
    database = own_redis_kafka.create_database("presence_kill")
    env = {"CHATD_PRESENCE_TTL": "3s", "CHATD_PRESENCE_REFRESH": "1s"}
    n1 = chatd_factory(own_redis_kafka, database_url=database, env=env)
    n2 = chatd_factory(own_redis_kafka, database_url=database, env=env)
    a, b = create_user(database), create_user(database)
    create_room(database, [a, b])

    watcher = watch(n2, b)
    victim = RawStomp.tcp(n1.stomp_port)
    victim.connect(make_token(a))
    assert next_presence(watcher) == (a, "ONLINE")

    # Refreshes keep the key alive well past its TTL while the node lives.
    r = redis_client(own_redis_kafka)
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline:
        assert r.exists(f"user:presence:{a}")
        time.sleep(0.25)

    n1.proc.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    assert next_presence(watcher, timeout=20) == (a, "OFFLINE")
    elapsed = time.monotonic() - killed_at
    assert elapsed < 3 + 7, f"OFFLINE after {elapsed:.1f}s; TTL is 3s (+ Redis's expiry sweep, + a loaded CI)"
    assert not r.exists(f"user:presence:{a}")


def test_graceful_stop_withdraws_the_node(stack, database, chatd_factory):
    clean_presence(stack)
    n1 = chatd_factory(stack, database_url=database)
    n2 = chatd_factory(stack, database_url=database)
    a, b = create_user(database), create_user(database)
    create_room(database, [a, b])
    watcher = watch(n2, b, ws=False)
    session = RawStomp.ws(n1.http_port)
    session.connect(make_token(a))
    assert next_presence(watcher) == (a, "ONLINE")
    assert n1.stop() == 0
    assert next_presence(watcher, timeout=10) == (a, "OFFLINE")


def test_presence_recovers_after_redis_restart(own_redis_kafka, chatd_factory):
    database = own_redis_kafka.create_database("presence_redis")
    node = chatd_factory(own_redis_kafka, database_url=database,
                         env={"CHATD_PRESENCE_TTL": "4s", "CHATD_PRESENCE_REFRESH": "1s"})
    a, b = create_user(database), create_user(database)
    room = create_room(database, [a, b])
    watcher = watch(node, b)
    watcher.send("SUBSCRIBE", {"id": "room", "destination": f"/topic/room.{room}", "receipt": "r"})
    watcher.expect("RECEIPT")
    session = RawStomp.tcp(node.stomp_port)
    session.connect(make_token(a))
    assert next_presence(watcher) == (a, "ONLINE")

    own_redis_kafka.stop("redis")
    own_redis_kafka.start("redis")  # empty: keys and subscriptions are gone
    r = redis_client(own_redis_kafka)
    # The node re-subscribes and re-asserts its users (an ONLINE event), by itself.
    wait_for(lambda: r.exists(f"user:presence:{a}"), 20, what="presence key re-created")
    wait_for(lambda: r.pubsub_numsub(f"chat:room:{room}")[0][1] == 1, 20, what="room channel re-subscribed")
    r.publish(f"chat:room:{room}", '{"id":9,"messageKey":"6f1c1a5e-6d2b-4f7e-9a59-8d7a1c2b3d4e","roomId":%d,'
              '"senderId":%d,"senderNickname":"n","content":"back","type":"TEXT",'
              '"createdAt":"2026-11-21T12:00:00.000Z"}' % (room, a))
    f, _ = watcher.recv_until(lambda fr: fr.headers.get("subscription") == "room", timeout=10)
    assert f.json()["content"] == "back"
