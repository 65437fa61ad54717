"""Exposure (docs/operations.md "Metrics", docs/rest.md "CORS"): /metrics only on its own
listener (and behind --metrics-token when set), CORS preflights answered for the configured
origins only, HTTP RED metrics per route pattern, the access log line per request."""
from __future__ import annotations

import re
import uuid

import requests
import websocket

from conftest import wait_for

ORIGIN = "https://app.example.com"


def samples(node, headers=None) -> str:
    r = requests.get(node.metrics_url, headers=headers or {}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return r.text


def value(text: str, series: str) -> float:
    m = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def requests_total(text: str, route: str, code: int) -> float:
    return value(text, f'chat_http_requests_total{{route="{route}",code="{code}"}}')


def test_metrics_are_served_on_their_own_listener_not_the_public_port(chatd):
    assert chatd.metrics_port not in (0, chatd.http_port)
    public = requests.get(chatd.url + "/metrics", timeout=10)
    assert public.status_code == 404
    assert public.json()["error"]["code"] == "not_found"
    text = samples(chatd)
    assert "# TYPE chat_http_requests_total counter" in text
    assert "# TYPE chat_log_dropped_total counter" in text
    # Probes stay on the public port; the metrics listener serves nothing else.
    assert requests.get(chatd.url + "/healthz", timeout=10).status_code == 200
    assert requests.get(chatd.url + "/readyz", timeout=10).status_code == 200
    assert requests.get(f"http://127.0.0.1:{chatd.metrics_port}/api/users/me", timeout=10).status_code == 404
    assert requests.get(f"http://127.0.0.1:{chatd.metrics_port}/readyz", timeout=10).status_code == 404


def test_metrics_token_is_required_when_set_and_never_logged(stack, database, chatd_factory):
    token = "metrics-" + uuid.uuid4().hex
    node = chatd_factory(stack, database_url=database,
                         env={"CHATD_METRICS_TOKEN": token, "CHATD_LOG_LEVEL": "debug"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"},
                    {"Authorization": f"Bearer {token}x"}):
        r = requests.get(node.metrics_url, headers=headers, timeout=10)
        assert r.status_code == 401, headers
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
    assert "chat_http_requests_total" in samples(node, {"Authorization": f"Bearer {token}"})

    # The access log names the route pattern, never the path's ids, the query or a header.
    secret = "q-" + uuid.uuid4().hex
    r = requests.get(node.url + f"/api/rooms/987654321/messages?access_token={secret}",
                     headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert r.status_code == 401

    def logged():
        for line in node.log_path.read_text(errors="replace").splitlines():
            if '"http request"' in line and "/api/rooms/{id}/messages" in line:
                return line
        return None
    line = wait_for(logged, 10, what="the access log line")
    assert '"status":401' in line and '"method":"GET"' in line and '"duration_ms":' in line, line
    assert '"bytes":' in line, line
    log = node.log_path.read_text(errors="replace")
    assert token not in log
    access = "\n".join(ln for ln in log.splitlines() if '"http request"' in ln)
    assert secret not in access
    assert "987654321" not in access


def test_cors_is_off_by_default(chatd):
    r = requests.options(chatd.url + "/api/rooms", timeout=10,
                         headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert r.status_code == 405
    assert "access-control-allow-origin" not in r.headers
    r = requests.get(chatd.url + "/healthz", headers={"Origin": ORIGIN}, timeout=10)
    assert "access-control-allow-origin" not in r.headers


def test_cors_preflight_allowed_and_denied_and_the_header_on_a_real_response(stack, database, chatd_factory):
    node = chatd_factory(stack, database_url=database,
                         env={"CHATD_CORS_ALLOW_ORIGIN": f"{ORIGIN}, http://localhost:5173"})
    pre = requests.options(node.url + "/api/rooms/17/messages", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert pre.status_code == 204, pre.text
    assert pre.headers["access-control-allow-origin"] == ORIGIN
    assert "GET" in pre.headers["access-control-allow-methods"]
    allowed_headers = {h.strip().lower() for h in pre.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert int(pre.headers["access-control-max-age"]) > 0
    assert "Origin" in pre.headers["vary"]

    denied = requests.options(node.url + "/api/rooms", timeout=10, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "cors_origin_denied"
    assert "access-control-allow-origin" not in denied.headers

    email = f"cors-{uuid.uuid4().hex[:10]}@example.com"
    r = requests.post(node.url + "/api/auth/signup", timeout=30, headers={"Origin": "http://localhost:5173"},
                      json={"email": email, "password": "password123", "nickname": "cors"})
    assert r.status_code == 201, r.text
    assert r.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "Origin" in r.headers["vary"]
    other = requests.get(node.url + "/api/users/me", headers={"Origin": "https://evil.example"}, timeout=10)
    assert other.status_code == 401
    assert "access-control-allow-origin" not in other.headers


def test_red_metrics_count_route_patterns_and_the_websocket_upgrade(chatd):
    before = samples(chatd)
    for _ in range(3):
        assert requests.get(chatd.url + "/api/rooms/424242/messages", timeout=10).status_code == 401
    assert requests.get(chatd.url + "/api/no/such/route/5150", timeout=10).status_code == 404
    ws = websocket.create_connection(f"ws://127.0.0.1:{chatd.http_port}/ws", subprotocols=["v12.stomp"], timeout=10)
    ws.close()

    def moved():
        text = samples(chatd)
        ok = (requests_total(text, "/api/rooms/{id}/messages", 401)
              - requests_total(before, "/api/rooms/{id}/messages", 401) == 3
              and requests_total(text, "unmatched", 404) - requests_total(before, "unmatched", 404) == 1
              and requests_total(text, "/ws", 101) - requests_total(before, "/ws", 101) == 1)
        return text if ok else None
    after = wait_for(moved, 10, what="RED counters to move")
    series = 'chat_http_request_duration_seconds_count{route="/api/rooms/{id}/messages"}'
    assert value(after, series) - value(before, series) == 3
    # Paths are never labels: the ids and the unknown path do not appear.
    assert "424242" not in after and "5150" not in after
