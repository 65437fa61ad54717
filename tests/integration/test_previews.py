"""Link previews (SPEC §13 message.preview, §16; docs/operations.md "Link previews") on a real
chatd node with the preview role and the address check on.

Nothing here sends a packet beyond this machine: the node has a Kafka of its own (so it reads no
other test's messages), every URL posted names 127.0.0.1, ::1 or localhost, and the pages are
served by this module on loopback: an "allowed" server, the only host:port the node may fetch
(--preview-allow-hosts localhost:PORT: a name, so the node's real resolver reads it from
/etc/hosts), and a "canary" that must never be reached (its port is in --preview-ports, so that
the loopback URLs pointing at it are refused by the address check, not by the port rule).

- an allowed page is previewed: message.preview live (chat-event header, the message's sender,
  targetId, the Open Graph fields), in history and GET …/messages/{id}, and replayed by a
  SUBSCRIBE with since-id; the same URL again is answered from the cache (the page is fetched
  once);
- loopback URLs (127.0.0.1, localhost, [::1], [::ffff:127.0.0.1]) are refused with no connection
  (the canary counts none), counted by chat_previews_refused_total{reason="loopback"}; a port
  outside --preview-ports is refused ({reason="port"});
- a redirect from the allowed server to loopback is refused, the canary untouched;
- a JSON page, a 5 MB page (declared, and streamed without the end of its <head>) and a page
  slower than --preview-timeout give no preview (content_type, too_large, timeout);
- HTTPS verifies certificates: an allowed host whose certificate no authority signed gives no
  preview (tls);
- clients cannot send a preview: REST and STOMP refuse a send carrying one.

Clients the project did not write: python3-websocket (frames from stomp_ws.py), requests, the
standard library's http.server."""
from __future__ import annotations

import http.server
import json
import pathlib
import socket
import ssl
import subprocess
import threading
import uuid

import pytest
import requests

from chatlib import create_room, create_user, make_token
from conftest import FAST, wait_for
from test_production import scrape
from test_rest_common import expect_error, rest_env
from test_stomp_lifecycle import Raw, room_events

TIMEOUT = "1500ms"  # --preview-timeout: the slow page sleeps past it
BIG = 5 * 1024 * 1024

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="Cats &amp; Dogs">
<meta property="og:description" content="All about   pets.">
<meta property="og:image" content="/img/cat.png">
<meta property="og:site_name" content="Pet News">
</head><body><p>Hello</p></body></html>"""


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class Pages:
    """The allowed server (127.0.0.1:allowed) and the canary (127.0.0.1 and, when it can bind,
    [::1] on the same port). Each counts the requests by path."""

    def __init__(self, workdir: pathlib.Path):
        self.hits: dict[str, int] = {}
        self.canary_hits: list[str] = []
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends the slow page at teardown
        pages = self

        class Allowed(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send_body(self, status: int, ctype: str, body: bytes, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - the http.server API
                path = self.path.split("?")[0]
                with pages.lock:
                    pages.hits[path] = pages.hits.get(path, 0) + 1
                try:
                    if path.startswith("/page"):
                        self.send_body(200, "text/html; charset=utf-8", PAGE.encode())
                    elif path == "/redirect":
                        self.send_body(302, "text/html", b"moved",
                                       {"Location": f"http://localhost:{pages.canary_port}/secret"})
                    elif path == "/json":
                        self.send_body(200, "application/json", b'{"title": "not html"}')
                    elif path == "/big":
                        self.send_response(200)
                        self.send_header("Content-Type", "text/html")
                        self.send_header("Content-Length", str(BIG))
                        self.send_header("Connection", "close")
                        self.end_headers()
                        head = b"<html><head><title>big</title><!-- "
                        self.stream(head + b"x" * (BIG - len(head)))
                    elif path == "/big-stream":
                        # No length (read until the connection closes) and no end of <head>.
                        self.protocol_version = "HTTP/1.0"
                        self.send_response(200)
                        self.send_header("Content-Type", "text/html")
                        self.end_headers()
                        self.stream(b"<html><head><title>big</title><script>" + b"x" * BIG)
                    elif path == "/slow":
                        pages.release.wait(6)
                        self.send_body(200, "text/html", PAGE.encode())
                    else:
                        self.send_body(404, "text/plain", b"no")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # chatd stopped reading, as it should

            def stream(self, data: bytes):
                view = memoryview(data)
                for i in range(0, len(view), 64 * 1024):
                    self.wfile.write(view[i:i + 64 * 1024])

        class Canary(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                with pages.lock:
                    pages.canary_hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(PAGE.encode())

        self.servers = [_Server(("127.0.0.1", 0), Allowed), _Server(("127.0.0.1", 0), Canary)]
        self.allowed_port = self.servers[0].server_address[1]
        self.canary_port = self.servers[1].server_address[1]

        class CanaryV6(_Server):
            address_family = socket.AF_INET6

        try:
            self.servers.append(CanaryV6(("::1", self.canary_port), Canary))
        except OSError:
            pass  # no IPv6 loopback here: a connection to [::1] would fail anyway
        # The same pages over TLS, with a self-signed certificate for localhost (no authority the
        # node trusts signed it).
        key, cert = workdir / "key.pem", workdir / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True, timeout=60)
        tls = _Server(("127.0.0.1", 0), Allowed)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        tls.socket = context.wrap_socket(tls.socket, server_side=True)
        self.servers.append(tls)
        self.tls_port = tls.server_address[1]
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in self.servers]
        for t in self.threads:
            t.start()

    def url(self, path: str) -> str:
        return f"http://localhost:{self.allowed_port}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.get(path, 0)

    def close(self):
        self.release.set()
        for s in self.servers:
            s.shutdown()
            s.server_close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    p = Pages(tmp_path_factory.mktemp("pages"))
    yield p
    p.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory, stack, pages):
    """One node on a Redis and a Kafka of its own (rest_env), with the address check on."""
    with rest_env(tmp_path_factory, stack, env={
        **FAST,
        "CHATD_PREVIEW_ALLOW_HOSTS_ONLY": "false",
        "CHATD_PREVIEW_ALLOW_HOSTS": f"localhost:{pages.allowed_port},localhost:{pages.tls_port}",
        "CHATD_PREVIEW_PORTS": f"80,443,{pages.canary_port}",
        "CHATD_PREVIEW_TIMEOUT": TIMEOUT,
    }) as e:
        yield e


class Room:
    """A room of two members, with a live subscription of the second."""

    def __init__(self, env, closing):
        self.env = env
        self.node = env.node
        self.ann = create_user(env.db, nickname="ann")
        self.bob = create_user(env.db, nickname="bob")
        self.id = create_room(env.db, [self.ann, self.bob], name="links")
        self.rx = Raw("tcp", self.node, self.bob, "previews-rx")
        closing.append(self.rx)
        self.rx.sub("s-room", f"/topic/room.{self.id}")

    def post(self, content: str) -> int:
        r = requests.post(f"{self.node.url}/api/rooms/{self.id}/messages", json={"content": content},
                          headers={"Authorization": f"Bearer {make_token(self.ann)}"}, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def previews(self) -> dict[int, tuple[dict, dict]]:
        """targetId -> (headers, body) of the live message.preview events."""
        return {b["targetId"]: (h, b) for h, b in room_events(self.rx, self.id)
                if h.get("chat-event") == "message.preview"}

    def wait_preview(self, message_id: int, timeout: float = 30) -> dict:
        wait_for(lambda: message_id in self.previews(), timeout, what=f"message.preview of {message_id}")
        return self.previews()[message_id][1]

    def history(self) -> dict[int, dict]:
        r = requests.get(f"{self.node.url}/api/rooms/{self.id}/messages?size=100",
                         headers={"Authorization": f"Bearer {make_token(self.bob)}"}, timeout=30)
        assert r.status_code == 200, r.text
        return {m["id"]: m for m in r.json()["messages"]}


@pytest.fixture
def room(env, closing):
    return Room(env, closing)


def refused(node, reason: str) -> float:
    return scrape(node).get("chat_previews_refused_total", reason=reason)


def failed(node, reason: str) -> float:
    return scrape(node).get("chat_previews_failed_total", reason=reason)


def test_an_allowed_page_is_previewed_live_in_history_and_in_recovery_and_cached(env, pages, room, closing):
    url = pages.url("/page?x=1")
    mid = room.post(f"look: {url}.")
    body = room.wait_preview(mid)
    headers = room.previews()[mid][0]
    assert headers["destination"] == f"/topic/room.{room.id}"
    assert body["event"] == "message.preview" and body["roomId"] == room.id
    assert body["senderId"] == room.ann and body["senderNickname"] == "ann"
    assert body["preview"] == {"url": url, "title": "Cats & Dogs", "description": "All about pets.",
                               "imageUrl": pages.url("/img/cat.png"), "siteName": "Pet News"}
    assert body["id"] > mid
    assert pages.count("/page") == 1

    def stored_preview():
        return room.history()[mid]["preview"]
    wait_for(stored_preview, 30, what="the preview in history")
    assert stored_preview() == body["preview"]
    one = requests.get(f"{env.node.url}/api/rooms/{room.id}/messages/{mid}",
                       headers={"Authorization": f"Bearer {make_token(room.ann)}"}, timeout=30).json()
    assert one["preview"] == body["preview"]

    # A subscriber that was away gets the event again, with its preview, from the store.
    late = Raw("ws", env.node, room.ann, "previews-late")
    closing.append(late)
    late.send("SUBSCRIBE", {"id": "s-late", "destination": f"/topic/room.{room.id}", "since-id": str(mid - 1),
                            "receipt": "sub-late"})
    late.receipt("sub-late")
    wait_for(lambda: any(h.get("chat-event") == "message.preview" for h, _ in room_events(late, room.id)), 30,
             what="message.preview replayed by recovery")
    replayed = [b for h, b in room_events(late, room.id) if h.get("chat-event") == "message.preview"]
    assert [(b["id"], b["targetId"], b["preview"]) for b in replayed] == [(body["id"], mid, body["preview"])]

    # The same URL again: a preview for the new message, from the node's cache.
    cached0 = scrape(env.node).get("chat_previews_cached_total")
    again = room.post(f"again {url}")
    assert room.wait_preview(again)["preview"] == body["preview"]
    assert pages.count("/page") == 1, "the page was fetched once"
    assert scrape(env.node).get("chat_previews_cached_total") >= cached0 + 1
    assert scrape(env.node).get("chat_previews_fetched_total") >= 1
    wait_for(lambda: scrape(env.node).get("chat_previews_published_total") >= 2, 30,
             what="both previews acknowledged")


def test_loopback_urls_and_other_ports_are_refused_without_a_connection(env, pages, room):
    node = env.node
    loopback0, port0 = refused(node, "loopback"), refused(node, "port")
    c = pages.canary_port
    refused_urls = [f"http://127.0.0.1:{c}/a", f"http://localhost:{c}/b", f"http://[::1]:{c}/c",
                    f"http://[::ffff:127.0.0.1]:{c}/d", "http://localhost/e"]
    ids = [room.post(f"try {u}") for u in refused_urls]
    # The allowed server by its address instead of its allowed name: not an allowed host, and its
    # port is not a listed one.
    ids.append(room.post(f"http://127.0.0.1:{pages.allowed_port}/page-port"))
    wait_for(lambda: refused(node, "loopback") - loopback0 >= len(refused_urls), 30,
             what="the loopback URLs refused")
    wait_for(lambda: refused(node, "port") - port0 >= 1, 30, what="the other port refused")
    # A preview that follows them in the room's order shows that the refused ones came before it.
    sentinel = room.post(pages.url("/page-after-refusals"))
    room.wait_preview(sentinel)
    assert pages.canary_hits == [], "nothing connected to a refused address"
    assert pages.count("/page-port") == 0
    history = room.history()
    assert [history[i]["preview"] for i in ids] == [None] * len(ids)
    assert not set(ids) & set(room.previews())


def test_a_redirect_to_loopback_is_refused(env, pages, room):
    loopback0 = refused(env.node, "loopback")
    mid = room.post(pages.url("/redirect"))
    wait_for(lambda: refused(env.node, "loopback") > loopback0, 30, what="the redirect refused")
    assert pages.count("/redirect") == 1
    assert pages.canary_hits == [], "the redirect was not followed"
    sentinel = room.post(pages.url("/page-after-redirect"))
    room.wait_preview(sentinel)
    assert mid not in room.previews()
    assert room.history()[mid]["preview"] is None


def test_pages_not_html_too_large_or_too_slow_get_no_preview(env, pages, room):
    node = env.node
    before = {"content_type": refused(node, "content_type"), "too_large": refused(node, "too_large"),
              "timeout": failed(node, "timeout")}
    ids = [room.post(pages.url(p)) for p in ("/json", "/big", "/big-stream", "/slow")]
    wait_for(lambda: refused(node, "content_type") > before["content_type"], 30, what="JSON refused")
    wait_for(lambda: refused(node, "too_large") - before["too_large"] >= 2, 30, what="both 5 MB pages refused")
    # Had the node waited for the page (it comes after 6 s, or at teardown), it would have a preview.
    wait_for(lambda: failed(node, "timeout") > before["timeout"], 30, what="the slow page given up")
    sentinel = room.post(pages.url("/page-after-big"))
    room.wait_preview(sentinel)
    history = room.history()
    assert [history[i]["preview"] for i in ids] == [None] * 4
    assert not set(ids) & set(room.previews())
    for p in ("/json", "/big", "/big-stream", "/slow"):
        assert pages.count(p) == 1, p


def test_https_verifies_the_certificate(env, pages, room):
    tls0 = failed(env.node, "tls")
    mid = room.post(f"https://localhost:{pages.tls_port}/page-tls")
    wait_for(lambda: failed(env.node, "tls") > tls0, 30, what="the self-signed certificate refused")
    sentinel = room.post(pages.url("/page-after-tls"))
    room.wait_preview(sentinel)
    assert mid not in room.previews()
    assert room.history()[mid]["preview"] is None
    assert pages.count("/page-tls") == 0, "no request was sent over the unverified connection"


def test_clients_cannot_send_a_preview(env, pages, room):
    token = make_token(room.ann)
    fake = {"url": "https://example.com/", "title": "forged"}
    for body in ({"content": "x", "preview": fake},
                 {"content": "x", "event": "message.preview", "targetId": 1, "preview": fake}):
        r = requests.post(f"{env.node.url}/api/rooms/{room.id}/messages", json=body,
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
        expect_error(r, 400, "validation_error")

    tx = Raw("tcp", env.node, room.ann, "previews-tx")
    try:
        tx.sub("s-errors", "/user/queue/errors")
        key = str(uuid.uuid4())
        tx.app("/app/chat.send", {"roomId": room.id, "content": "x", "messageKey": key, "preview": fake},
               receipt=key)
        tx.wait(lambda: any(e.get("receiptId") == key for e in tx.soft_errors()) or key in tx.receipts, 20,
                "the answer to a send with a preview")
        assert key not in tx.receipts, "a send carrying a preview was accepted"
        error = next(e for e in tx.soft_errors() if e.get("receiptId") == key)
        assert "preview" in json.dumps(error)
    finally:
        tx.close()
    assert all(m["content"] != "x" for m in room.history().values())
