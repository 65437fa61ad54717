"""A raw STOMP 1.2 client for the gateway tests, over WebSocket (python3-websocket) or plain
TCP: frames are written and parsed here byte for byte, so tests can send anything, malformed
frames included, and see exactly what the server answers (heart-beats too).

    c = RawStomp.ws(node.http_port)                # subprotocol v12.stomp
    c = RawStomp.tcp(node.stomp_port)
    c.connect(token)                               # -> the CONNECTED Frame
    c.send("SUBSCRIBE", {"id": "s1", "destination": "/topic/room.7", "receipt": "r1"})
    c.expect("RECEIPT", timeout=5)
    f = c.recv(timeout=5)                          # next frame (heart-beats are counted, not returned)
    c.wait_closed(timeout=5)                       # True once the server closed the connection
"""
from __future__ import annotations

import json
import socket
import time
import uuid
from dataclasses import dataclass, field

import websocket
from confluent_kafka import Consumer

_UNESCAPE = {"\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\c": ":"}


class Closed(Exception):
    """The server closed the connection."""


@dataclass
class Frame:
    command: str
    headers: dict = field(default_factory=dict)  # first occurrence of each name wins
    body: bytes = b""

    def json(self):
        import json
        return json.loads(self.body.decode())

    def __repr__(self):
        return f"Frame({self.command}, {self.headers}, {self.body[:200]!r})"


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and value[i:i + 2] in _UNESCAPE:
            out.append(_UNESCAPE[value[i:i + 2]])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace(":", "\\c")


def encode(command: str, headers: dict | None = None, body: bytes | str = b"") -> bytes:
    if isinstance(body, str):
        body = body.encode()
    escape = command not in ("CONNECT", "STOMP")
    lines = [command]
    for k, v in (headers or {}).items():
        lines.append(f"{_escape(k) if escape else k}:{_escape(str(v)) if escape else v}")
    return ("\n".join(lines) + "\n\n").encode() + body + b"\0"


class RawStomp:
    def __init__(self, send_bytes, recv_bytes, close):
        self._send, self._recv, self._close = send_bytes, recv_bytes, close
        self.buf = b""
        self.heartbeats = 0
        self.closed = False
        self.pending: list[Frame] = []

    # ---- transports ----
    @classmethod
    def tcp(cls, port: int, host: str = "127.0.0.1", timeout: float = 10) -> "RawStomp":
        s = socket.create_connection((host, port), timeout=timeout)

        def recv(t):
            s.settimeout(max(t, 0.001))
            try:
                data = s.recv(65536)
            except socket.timeout:
                return None
            except (ConnectionResetError, BrokenPipeError):
                return b""
            return data

        c = cls(s.sendall, recv, s.close)
        c.sock = s
        return c

    @classmethod
    def ws(cls, http_port: int, path: str = "/ws", subprotocols=("v12.stomp",), host: str = "127.0.0.1",
           timeout: float = 10) -> "RawStomp":
        w = websocket.create_connection(f"ws://{host}:{http_port}{path}", subprotocols=list(subprotocols),
                                        timeout=timeout)

        def send(data: bytes):
            w.send(data.decode("utf-8", "surrogateescape") if _is_utf8(data) else data,
                   opcode=websocket.ABNF.OPCODE_TEXT if _is_utf8(data) else websocket.ABNF.OPCODE_BINARY)

        def recv(t):
            w.settimeout(max(t, 0.001))
            try:
                op, data = w.recv_data(control_frame=False)
            except websocket.WebSocketTimeoutException:
                return None
            except (websocket.WebSocketConnectionClosedException, ConnectionResetError, BrokenPipeError):
                return b""
            if op == websocket.ABNF.OPCODE_CLOSE:
                return b""
            return data if isinstance(data, bytes) else data.encode()

        c = cls(send, recv, w.close)
        c.wsock = w
        return c

    # ---- sending ----
    def send(self, command: str, headers: dict | None = None, body: bytes | str = b""):
        self._send(encode(command, headers, body))

    def send_raw(self, data: bytes):
        self._send(data)

    def heartbeat(self):
        self._send(b"\n")

    def connect(self, token: str | None = None, *, via: str = "passcode", version: str = "1.2",
                heart_beat: str = "0,0", extra: dict | None = None, expect_ok: bool = True) -> Frame:
        headers = {"accept-version": version, "host": "chat", "heart-beat": heart_beat}
        if token is not None:
            if via == "passcode":
                headers.update({"login": "any", "passcode": token})
            else:
                headers["Authorization"] = f"Bearer {token}"
        headers.update(extra or {})
        self.send("CONNECT", headers)
        f = self.recv(10)
        if expect_ok:
            assert f.command == "CONNECTED", f
        return f

    # ---- receiving ----
    def _parse_one(self) -> Frame | None:
        buf = self.buf
        while buf[:1] in (b"\n", b"\r"):
            if buf[:2] == b"\r\n":
                buf = buf[2:]
            elif buf[:1] == b"\n":
                buf = buf[1:]
            else:
                break
            self.heartbeats += 1
        self.buf = buf
        end = buf.find(b"\n\n")
        if end < 0:
            return None
        head = buf[:end].decode("utf-8").replace("\r\n", "\n").split("\n")
        command, headers = head[0], {}
        escape = command != "CONNECTED"
        for line in head[1:]:
            k, _, v = line.partition(":")
            if escape:
                k, v = _unescape(k), _unescape(v)
            headers.setdefault(k, v)
        start = end + 2
        if "content-length" in headers:
            n = int(headers["content-length"])
            if len(buf) < start + n + 1:
                return None
            body = buf[start:start + n]
            assert buf[start + n:start + n + 1] == b"\0", "frame not NUL-terminated"
            self.buf = buf[start + n + 1:]
        else:
            nul = buf.find(b"\0", start)
            if nul < 0:
                return None
            body = buf[start:nul]
            self.buf = buf[nul + 1:]
        return Frame(command, headers, body)

    def recv(self, timeout: float = 10) -> Frame:
        """The next frame; raises Closed when the server closed, TimeoutError on silence."""
        if self.pending:
            return self.pending.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            f = self._parse_one()
            if f is not None:
                return f
            if self.closed:
                raise Closed()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no frame within {timeout}s (buffer {self.buf[:100]!r})")
            data = self._recv(left)
            if data is None:
                continue
            if data == b"":
                self.closed = True
                continue
            self.buf += data

    def expect(self, command: str, timeout: float = 10, **headers) -> Frame:
        """Skips nothing: the next frame must be `command` (with these header values)."""
        f = self.recv(timeout)
        assert f.command == command, f"expected {command}, got {f}"
        for k, v in headers.items():
            assert f.headers.get(k.replace("_", "-")) == v, f"{k}: {f}"
        return f

    def recv_until(self, pred, timeout: float = 10) -> tuple[Frame, list[Frame]]:
        """Frames until one satisfies pred: (that frame, the frames before it)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            f = self.recv(max(0.0, deadline - time.monotonic()))
            if pred(f):
                return f, seen
            seen.append(f)

    def wait_closed(self, timeout: float = 10) -> bool:
        """Reads (and keeps) frames until the server closes; False if it stays open."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            try:
                f = self._parse_one()
                if f is not None:
                    self.pending.append(f)
                    continue
                data = self._recv(max(0.001, deadline - time.monotonic()))
            except OSError:
                self.closed = True
                break
            if data == b"":
                self.closed = True
            elif data:
                self.buf += data
        return self.closed

    def close(self):
        try:
            self._close()
        except Exception:  # noqa: BLE001
            pass


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def kafka_has_key(stk, message_key: str, timeout: float = 20) -> dict:
    """Polls chat.messages from the beginning until a record with this message-key shows up."""
    c = Consumer({"bootstrap.servers": stk.env()["CHATD_KAFKA_BROKERS"], "group.id": "t-" + uuid.uuid4().hex,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        c.subscribe(["chat.messages"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            headers = dict(m.headers() or [])
            if headers.get("message-key", b"").decode() == message_key:
                return {"value": json.loads(m.value()), "headers": headers, "partition": m.partition(),
                        "offset": m.offset(), "key": m.key()}
        raise AssertionError(f"message-key {message_key} not found in chat.messages within {timeout}s")
    finally:
        c.close()
