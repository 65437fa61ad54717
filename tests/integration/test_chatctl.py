"""Issue 6: chatctl against a real chatd (PostgreSQL, Redis, the dev Kafka broker).

Every test drives the real binary as a script would: separate config directories per user
(XDG_CONFIG_HOME), passwords on stdin, data on stdout, diagnostics on stderr, exit codes as
docs/chatctl.md. Waits are polls with deadlines, never sleeps."""
from __future__ import annotations

import json
import os
import pathlib
import pty
import re
import select
import shlex
import signal
import stat
import subprocess
import sys
import time
import uuid

import pytest

from conftest import BUILD, free_port, wait_for

CHATCTL = BUILD / "apps" / "chatctl" / "chatctl"
COMPLETION = pathlib.Path(__file__).resolve().parents[2] / "apps" / "chatctl" / "completion" / "chatctl.bash"

OK, ERROR, USAGE, UNAUTHORIZED, NOT_FOUND, FORBIDDEN, CONFLICT, UNAVAILABLE = range(8)


@pytest.fixture(autouse=True)
def _need_binary():
    if not CHATCTL.exists():
        pytest.fail(f"{CHATCTL} is missing: build it first (ninja chatctl)")


class Cli:
    """One user's shell: its own config directory, talking to one chatd."""

    def __init__(self, home: pathlib.Path, server: str, stomp_port: int | None = None):
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_dir = home / "config"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
        # A generous CHAT_TIMEOUT: a fresh chatd's consumers may still be joining their groups
        # (the dev broker waits out the previous member's session), which delays live copies.
        self.env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(self.config_dir), "CHAT_SERVER": server,
                         "NO_COLOR": "1", "LC_ALL": "C.UTF-8", "CHAT_TIMEOUT": "30s"})
        self.stomp_port = stomp_port
        self.email = ""
        self.password = ""
        self.user_id = 0

    @property
    def config_file(self) -> pathlib.Path:
        return self.config_dir / "chatctl" / "config.json"

    def run(self, *args, input: str | None = None, env: dict | None = None, timeout: float = 60,
            preexec_fn=None) -> subprocess.CompletedProcess:
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([str(CHATCTL), *map(str, args)], input=input, env=e, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=preexec_fn, start_new_session=True)

    def ok(self, *args, **kw) -> subprocess.CompletedProcess:
        r = self.run(*args, **kw)
        assert r.returncode == OK, f"chatctl {shlex.join(map(str, args))} -> {r.returncode}\n{r.stderr}"
        return r

    def json(self, *args, **kw):
        return json.loads(self.ok(*args, "-o", "json", **kw).stdout)

    def jsonl(self, *args, **kw) -> list:
        return [json.loads(line) for line in self.ok(*args, "-o", "jsonl", **kw).stdout.splitlines()]

    def popen(self, *args, **kw) -> subprocess.Popen:
        return subprocess.Popen([str(CHATCTL), *map(str, args)], env=self.env, text=True, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)

    def signup(self, nickname: str) -> "Cli":
        self.email = f"{nickname}-{uuid.uuid4().hex[:8]}@example.com"
        self.password = "pw-" + uuid.uuid4().hex
        out = self.json("auth", "signup", "--email", self.email, "--nickname", nickname, "--password-stdin",
                        input=self.password + "\n")
        assert out["email"] == self.email and out["nickname"] == nickname
        self.user_id = out["userId"]
        return self


@pytest.fixture
def users(chatd, tmp_path):
    def make(name: str) -> Cli:
        return Cli(tmp_path / name, chatd.url, chatd.stomp_port).signup(name)
    return make


def read_line_with_deadline(stream, timeout: float, proc: subprocess.Popen, what: str) -> str:
    """The next line of a child's pipe, or an AssertionError after `timeout`.

    Reads the pipe's descriptor a byte at a time: `select` cannot see what a TextIOWrapper has
    buffered, so after `stream.readline()` a second line that arrived in the same chunk would sit
    unseen in Python's buffer while select waited for more."""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    line = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {what} (partial line {bytes(line)!r})")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        byte = os.read(fd, 1)
        if byte == b"":
            if line:
                return line.decode()
            proc.wait(timeout=10)
            raise AssertionError(f"process exited ({proc.returncode}) while waiting for {what}: "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        line += byte
        if byte == b"\n":
            return line.decode()


def wait_for_stderr(proc: subprocess.Popen, needle: str, timeout: float = 30) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        line = read_line_with_deadline(proc.stderr, deadline - time.monotonic(), proc, f"{needle!r} on stderr ({seen})")
        seen.append(line)
        if needle in line:
            return line


def history_count(cli: Cli, room: int) -> int:
    r = subprocess.run(f"{shlex.quote(str(CHATCTL))} history {room} --all --page-size 7 -o jsonl | wc -l",
                       shell=True, env=cli.env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


# --------------------------------------------------------------------------------------------


def test_end_to_end_script(users, chatd):
    """The README's shell session: two users, a direct and a group room, messages from stdin,
    history, live tail, read/unread, presence."""
    alice, bob = users("alice"), users("bob")

    direct = alice.json("room", "direct", "--user", bob.email)
    assert direct["type"] == "DIRECT" and {m["userId"] for m in direct["members"]} == {alice.user_id, bob.user_id}
    # Opening it again (from the other side, by id) finds the same room.
    assert bob.json("room", "direct", "--user", alice.user_id)["id"] == direct["id"]
    group = alice.json("room", "group", "--name", "team", "--member", bob.email)
    assert group["type"] == "GROUP" and group["name"] == "team"
    rooms = {r["id"] for r in bob.jsonl("room", "list")}
    assert {direct["id"], group["id"]} <= rooms

    # 25 lines on stdin: more than the burst of 20, so chatctl has to ride out the rate limit.
    lines = [f"line {i} {uuid.uuid4().hex[:6]}" for i in range(25)]
    sent = alice.ok("send", direct["id"], input="\n".join(lines) + "\n", timeout=120)
    ids = [int(x) for x in sent.stdout.split()]
    assert len(ids) == 25 and len(set(ids)) == 25
    assert ids == sorted(ids), "ids grow in the room's order"

    # History is stored asynchronously (persistence consumer): poll until all are there.
    wait_for(lambda: history_count(alice, direct["id"]) == 25, 30, what="25 messages in history")
    history = alice.jsonl("history", direct["id"], "--all")
    assert [m["id"] for m in history] == sorted(ids, reverse=True), "history ids are the ids send printed"
    assert [m["content"] for m in reversed(history)] == lines
    assert alice.jsonl("history", direct["id"], "--limit", 3) == history[:3]
    assert alice.jsonl("history", direct["id"], "--before", history[2]["id"], "--limit", 2) == history[3:5]

    # bob follows the group live; while he is connected he is online.
    tail = bob.popen("tail", group["id"], "--count", 1, "-o", "jsonl")
    try:
        wait_for_stderr(tail, "Following room")

        def bob_online():
            people = alice.json("presence", group["id"])
            return any(p["userId"] == bob.user_id and p["status"] == "ONLINE" for p in people)
        wait_for(bob_online, 20, what="bob ONLINE in presence")

        text = "ping " + uuid.uuid4().hex
        alice.ok("send", group["id"], text)
        out, err = tail.communicate(timeout=30)
        assert tail.returncode == OK, err
        got = [json.loads(line) for line in out.splitlines()]
        assert len(got) == 1
        assert got[0]["content"] == text and got[0]["senderId"] == alice.user_id and got[0]["roomId"] == group["id"]
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()

    # bob has 25 unread in the direct room; read makes it 0 (and read waits until applied).
    wait_for(lambda: bob.json("unread", direct["id"])["unreadCount"] == 25, 20, what="25 unread for bob")
    read = bob.json("read", direct["id"])
    assert read["lastReadMessageId"] == max(ids)
    unread = bob.json("unread", direct["id"])
    assert unread["unreadCount"] == 0 and unread["lastReadMessageId"] == max(ids)


def test_send_text_prints_the_id_that_history_shows(users):
    alice = users("alice")
    room = alice.json("room", "group", "--name", "solo")["id"]
    sent = alice.json("send", room, "hello", "world")
    assert isinstance(sent["id"], int) and sent["roomId"] == room
    assert re.fullmatch(r"[0-9a-f-]{36}", sent["messageKey"])
    wait_for(lambda: any(m["id"] == sent["id"] for m in alice.jsonl("history", room)), 30, what="message in history")
    [m] = [m for m in alice.jsonl("history", room) if m["id"] == sent["id"]]
    assert m["content"] == "hello world" and m["messageKey"] == sent["messageKey"]


def test_send_with_the_same_key_is_stored_once(users):
    alice = users("alice")
    room = alice.json("room", "group", "--name", "idem")["id"]
    key = str(uuid.uuid4())
    first = alice.json("send", room, "once", "--key", key)
    second = alice.json("send", room, "once", "--key", key)
    assert first["messageKey"] == second["messageKey"] == key
    wait_for(lambda: any(m["messageKey"] == key for m in alice.jsonl("history", room)), 30, what="message stored")
    assert [m["messageKey"] for m in alice.jsonl("history", room, "--all")].count(key) == 1


def test_send_no_wait_and_plain_tcp_stomp(users, chatd):
    alice = users("alice")
    room = alice.json("room", "group", "--name", "fast")["id"]
    r = alice.ok("send", room, "--no-wait", input="a\nb\n\nc\n")
    keys = r.stdout.split()
    assert len(keys) == 3 and all(re.fullmatch(r"[0-9a-f-]{36}", k) for k in keys)
    # STOMP over plain TCP (port 61613 by convention) instead of WebSocket.
    tcp = alice.json("send", room, "over tcp", "--stomp-url", f"tcp://127.0.0.1:{chatd.stomp_port}")
    assert isinstance(tcp["id"], int)
    wait_for(lambda: len(alice.jsonl("history", room, "--all")) == 4, 30, what="4 messages")
    assert sorted(m["messageKey"] for m in alice.jsonl("history", room, "--all") if m["content"] != "over tcp") == sorted(keys)


def test_rate_limited_sends_are_sent_again_not_lost(users, tmp_path):
    """Three senders of one user at once exceed the per-user limit (10/s, burst 20): the
    server refuses some SENDs with a soft error; chatctl re-sends them with the same
    messageKey, so every line is stored exactly once."""
    alice = users("alice")
    room = alice.json("room", "group", "--name", "busy")["id"]
    batches = [[f"s{n}-{i}" for i in range(20)] for n in range(3)]
    inputs = []
    for n, lines in enumerate(batches):
        path = tmp_path / f"batch{n}.txt"
        path.write_text("\n".join(lines) + "\n")
        inputs.append(open(path))
    procs = [subprocess.Popen([str(CHATCTL), "send", str(room)], env=alice.env, stdin=f, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True) for f in inputs]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            results.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for f in inputs:
            f.close()
    for rc, out, err in results:
        assert rc == OK, err
        assert len(out.split()) == 20
    assert any("rate limited" in err for _, _, err in results), "the limit was never hit: nothing was tested"
    want = sorted(line for lines in batches for line in lines)
    wait_for(lambda: len(alice.jsonl("history", room, "--all")) >= 60, 30, what="60 messages stored")
    assert sorted(m["content"] for m in alice.jsonl("history", room, "--all")) == want


def test_content_refused_by_the_server_is_exit_1(users):
    alice = users("alice")
    room = alice.json("room", "group", "--name", "long")["id"]
    r = alice.run("send", room, "x" * 4001)
    assert r.returncode == ERROR, r.stderr
    assert "4000" in r.stderr or "content" in r.stderr, r.stderr


def test_exit_codes_come_from_real_situations(users, chatd, tmp_path):
    alice, bob = users("alice"), users("bob")
    carol = users("carol")
    carols_room = carol.json("room", "group", "--name", "private")["id"]

    # 3: wrong password (same answer as an unknown email), no token, a token the server refuses
    r = alice.run("auth", "login", "--email", alice.email, "--password-stdin", input="wrong-password\n")
    assert r.returncode == UNAUTHORIZED, r.stderr
    assert alice.run("auth", "login", "--email", "nobody@example.com", "--password-stdin",
                     input="whatever1\n").returncode == UNAUTHORIZED
    stranger = Cli(tmp_path / "stranger", chatd.url)
    assert stranger.run("room", "list").returncode == UNAUTHORIZED
    assert alice.run("room", "list", "--token", "not.a.jwt").returncode == UNAUTHORIZED
    assert alice.run("room", "list", env={"CHAT_TOKEN": "not.a.jwt"}).returncode == UNAUTHORIZED
    # 4: unknown room, over REST and before a STOMP send; unknown user
    assert alice.run("room", "show", 999999999).returncode == NOT_FOUND
    assert alice.run("history", 999999999).returncode == NOT_FOUND
    assert alice.run("send", 999999999, "hi").returncode == NOT_FOUND
    assert alice.run("room", "direct", "--user", "nobody-here@example.com").returncode == NOT_FOUND
    assert alice.run("room", "show", "no-such-room-name").returncode == NOT_FOUND
    # 5: not a member
    for args in (("room", "show", carols_room), ("history", carols_room), ("presence", carols_room),
                 ("send", carols_room, "hi"), ("tail", carols_room, "--count", 1)):
        r = alice.run(*args)
        assert r.returncode == FORBIDDEN, (args, r.returncode, r.stderr)
    # 6: conflict — the email is taken
    r = bob.run("auth", "signup", "--email", alice.email, "--password-stdin", input="another-password\n")
    assert r.returncode == CONFLICT, r.stderr
    # 7: server down (nothing listens on the port), for REST and for STOMP
    down = f"http://127.0.0.1:{free_port()}"
    r = alice.run("room", "list", "--server", down)
    assert r.returncode == UNAVAILABLE and down.split("//")[1] in r.stderr, r.stderr
    r = alice.run("send", alice.json("room", "group", "--name", "x")["id"], "hi",
                  "--stomp-url", f"ws://127.0.0.1:{free_port()}/ws")
    assert r.returncode == UNAVAILABLE, r.stderr
    # 2: usage — bad flag, bad value, missing argument, password as an argument, no terminal for a prompt
    assert alice.run("room", "list", "--bogus").returncode == USAGE
    assert alice.run("history", 1, "--limit", "zero").returncode == USAGE
    assert alice.run("-o", "yaml", "room", "list").returncode == USAGE
    assert alice.run("room", "show").returncode == USAGE
    assert alice.run("--timeout", "soon", "room", "list").returncode == USAGE
    r = alice.run("auth", "login", "--email", alice.email, "--password", alice.password)
    assert r.returncode == USAGE and "--password-stdin" in r.stderr
    r = alice.run("auth", "login", "--email", alice.email)  # no tty in this session
    assert r.returncode == USAGE and "--password-stdin" in r.stderr
    # 1: the server refuses the input (validation) — e.g. a nickname that is too long
    r = stranger.run("auth", "signup", "--email", "x@example.com", "--nickname", "n" * 41, "--password-stdin",
                     input="long-enough-pw\n")
    assert r.returncode == ERROR, r.stderr
    # 0 with data on stdout and nothing but diagnostics on stderr
    r = alice.ok("room", "list", "-o", "json")
    json.loads(r.stdout)


def test_config_file_has_mode_0600_and_logout_forgets_the_token(users, chatd, tmp_path):
    alice = users("alice")
    # Log in again with a permissive umask: the file must still be 0600, its directory 0700.
    alice.config_file.unlink()
    alice.config_file.parent.rmdir()
    alice.ok("auth", "login", "--email", alice.email, "--password-stdin", input=alice.password + "\n",
             preexec_fn=lambda: os.umask(0))
    mode = stat.S_IMODE(alice.config_file.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert stat.S_IMODE(alice.config_file.parent.stat().st_mode) == 0o700
    conf = json.loads(alice.config_file.read_text())
    profile = conf["profiles"]["default"]
    assert profile["server"] == chatd.url and profile["userId"] == alice.user_id and profile["token"]
    assert alice.password not in alice.config_file.read_text()
    assert alice.ok("auth", "token").stdout.strip() == profile["token"]

    # A file someone made world-readable is rewritten 0600 (with a warning) on the next save.
    alice.config_file.chmod(0o644)
    r = alice.ok("auth", "logout")
    assert "readable by other users" in r.stderr
    assert stat.S_IMODE(alice.config_file.stat().st_mode) == 0o600
    assert "token" not in json.loads(alice.config_file.read_text())["profiles"]["default"]
    assert alice.run("auth", "whoami").returncode == UNAUTHORIZED


def test_profiles_and_environment(users, chatd):
    alice, bob = users("alice"), users("bob")
    # bob's shell gets a second profile logged in as alice.
    bob.ok("--profile", "work", "auth", "login", "--email", alice.email, "--password-stdin", input=alice.password + "\n")
    assert bob.json("auth", "whoami")["id"] == bob.user_id
    assert bob.json("--profile", "work", "auth", "whoami")["id"] == alice.user_id
    assert bob.json("auth", "whoami", env={"CHAT_PROFILE": "work"})["id"] == alice.user_id
    # CHAT_TOKEN beats the profile; --token beats CHAT_TOKEN.
    alice_token = alice.ok("auth", "token").stdout.strip()
    bob_token = bob.ok("auth", "token").stdout.strip()
    assert bob.json("auth", "whoami", env={"CHAT_TOKEN": alice_token})["id"] == alice.user_id
    assert bob.json("auth", "whoami", "--token", bob_token, env={"CHAT_TOKEN": alice_token})["id"] == bob.user_id
    # The profile remembers the server; CHAT_SERVER / --server override it.
    env = {"CHAT_SERVER": ""}
    assert bob.json("auth", "whoami", env=env)["id"] == bob.user_id
    assert bob.run("auth", "whoami", "--server", f"http://127.0.0.1:{free_port()}").returncode == UNAVAILABLE


def scan_processes_for(secret: str) -> list[str]:
    """Every process whose command line or environment (where readable) contains `secret`."""
    hits = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        for name in ("cmdline", "environ"):
            try:
                data = (entry / name).read_bytes()
            except OSError:
                continue
            if secret.encode() in data:
                hits.append(f"{entry.name}/{name}: {data[:200]!r}")
    return hits


def test_password_never_in_ps_or_logs(users, chatd, tmp_path):
    alice = users("alice")
    # The scanner itself must be able to see a secret in a command line.
    marker = "marker-" + uuid.uuid4().hex
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    try:
        # Popen can return before /proc shows the new command line on a loaded machine: retry.
        wait_for(lambda: scan_processes_for(marker), 10, what="the /proc scan to see a marker in a command line")
    finally:
        sleeper.kill()
        sleeper.wait()

    bob = Cli(tmp_path / "bob", chatd.url)
    email = f"bob-{uuid.uuid4().hex[:8]}@example.com"
    password = "secret-" + uuid.uuid4().hex
    for args in (("auth", "signup", "--email", email, "--nickname", "bob", "--password-stdin"),
                 ("auth", "login", "--email", email, "--password-stdin")):
        proc = subprocess.Popen([str(CHATCTL), *args], env=bob.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            # chatctl is running and blocked reading stdin: look at every process now.
            wait_for(lambda: pathlib.Path(f"/proc/{proc.pid}/cmdline").read_bytes().count(b"--password-stdin"), 10,
                     what="chatctl running")
            assert scan_processes_for(password) == []
            out, err = proc.communicate(password + "\n", timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == OK, err
        assert password not in out and password not in err
    assert password not in bob.config_file.read_text()
    assert bob.json("auth", "whoami")["email"] == email
    # chatd's log saw the signup and the login but never the password.
    log = chatd.log_path.read_text(errors="replace")
    assert password not in log
    assert alice.password not in log


def run_on_terminal(cli: Cli, args: list[str], answers: list[tuple[str, str]], timeout: float = 60) -> tuple[int, str]:
    """Runs chatctl with a pseudo-terminal as its controlling terminal; for each (prompt, reply)
    waits for `prompt` in the output and types `reply`. Returns (exit status, everything shown)."""
    pid, master = pty.fork()
    if pid == 0:  # child: the pty is its stdin/stdout/stderr and controlling terminal
        os.execve(str(CHATCTL), [str(CHATCTL), *args], cli.env)
    shown = b""
    deadline = time.monotonic() + timeout
    pending = list(answers)
    status = None
    try:
        while time.monotonic() < deadline:
            if pending and pending[0][0].encode() in shown:
                os.write(master, (pending.pop(0)[1] + "\n").encode())
                shown += b"<typed>"
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    break
                shown += chunk
        while time.monotonic() < deadline:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
            time.sleep(0.05)
        assert status is not None, f"chatctl did not finish; it showed: {shown!r}"
    finally:
        os.close(master)
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_password_prompt_does_not_echo(chatd, tmp_path):
    cli = Cli(tmp_path / "dee", chatd.url)
    email = f"dee-{uuid.uuid4().hex[:8]}@example.com"
    password = "typed-" + uuid.uuid4().hex
    rc, shown = run_on_terminal(cli, ["auth", "signup", "--email", email],
                                [("Password for", password), ("Repeat password", password)])
    assert rc == OK, shown
    assert password not in shown, "the password was echoed"
    rc, shown = run_on_terminal(cli, ["auth", "login", "--email", email], [("Password for", password)])
    assert rc == OK, shown
    assert password not in shown
    # Two different answers to signup's confirmation: usage error, nothing created.
    rc, shown = run_on_terminal(cli, ["auth", "signup", "--email", "x" + email],
                                [("Password for", password), ("Repeat password", password + "x")])
    assert rc == USAGE and "do not match" in shown, shown


REQUIRED = {
    "message": {"id": int, "messageKey": str, "roomId": int, "senderId": int, "senderNickname": str,
                "content": str, "type": str, "createdAt": str},
    "room": {"id": int, "type": str, "name": (str, type(None)), "createdBy": int, "members": list},
    "summary": {"id": int, "type": str, "name": (str, type(None)), "memberCount": int, "unreadCount": int,
                "lastMessage": (dict, type(None))},
    "user": {"id": int, "email": str, "nickname": str, "createdAt": str},
    "session": {"userId": int, "email": str, "nickname": str, "server": str, "profile": str},
    "unread": {"roomId": int, "unreadCount": int, "lastReadMessageId": int},
    "presence": {"userId": int, "nickname": (str, type(None)), "status": str},
    "sent": {"id": (int, type(None)), "messageKey": str, "roomId": int},
    "member": {"userId": int, "nickname": str},
}


def check(kind: str, obj):
    assert isinstance(obj, dict), (kind, obj)
    for field, types in REQUIRED[kind].items():
        assert field in obj, f"{kind}: no {field!r} in {obj}"
        assert isinstance(obj[field], types), f"{kind}.{field}: {obj[field]!r}"


def test_json_output_schema(users):
    alice, bob = users("alice"), users("bob")
    check("session", alice.json("auth", "login", "--email", alice.email, "--password-stdin", input=alice.password + "\n"))
    check("user", alice.json("auth", "whoami"))
    assert alice.json("auth", "token")["token"]
    room = alice.json("room", "group", "--name", "schema", "--member", bob.user_id)
    check("room", room)
    for m in room["members"]:
        check("member", m)
    check("room", alice.json("room", "show", room["id"]))
    check("room", alice.json("room", "show", "schema"))  # by name
    direct = alice.json("room", "direct", "--user", bob.email)
    check("room", direct)
    assert direct["name"] is None
    sent = alice.json("send", room["id"], "schema check")
    check("sent", sent)
    wait_for(lambda: alice.jsonl("history", room["id"]), 30, what="history")
    history = alice.json("history", room["id"])
    assert isinstance(history, list) and history
    for m in history:
        check("message", m)
    summaries = alice.json("room", "list")
    assert isinstance(summaries, list)
    for s in summaries:
        check("summary", s)
    wait_for(lambda: any(s["lastMessage"] for s in alice.json("room", "list")), 30, what="lastMessage")
    for s in alice.json("room", "list"):
        if s["lastMessage"]:
            check("message", s["lastMessage"])
    check("unread", alice.json("unread", room["id"]))
    check("unread", alice.json("read", room["id"]))
    for p in alice.json("presence", room["id"], "--all"):
        check("presence", p)
    for m in alice.json("room", "members", room["id"]):
        check("member", m)
    # jsonl: one compact object per line, the same objects as json
    assert alice.jsonl("room", "list") == alice.json("room", "list")
    # stream json of history --all is one valid array even across pages
    assert alice.json("history", room["id"], "--all", "--page-size", 1) == alice.json("history", room["id"], "--all")


def test_table_output_is_tab_separated_when_piped_and_coloured_on_a_terminal(users):
    alice = users("alice")
    room = alice.json("room", "group", "--name", "tbl")["id"]
    rows = [line.split("\t") for line in alice.ok("room", "list").stdout.splitlines()]
    assert [room, "GROUP", "tbl"] == [int(rows[0][0]), rows[0][1], rows[0][2]]

    def on_tty(env):
        master, slave = pty.openpty()
        e = dict(alice.env)
        e.pop("NO_COLOR", None)
        e.update(env)
        e["TERM"] = "xterm"
        proc = subprocess.Popen([str(CHATCTL), "room", "list"], env=e, stdout=slave, stderr=subprocess.PIPE,
                                start_new_session=True)
        os.close(slave)
        out = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=30)
        os.close(master)
        assert proc.returncode == 0
        return out.decode()

    coloured = on_tty({})
    assert "\x1b[" in coloured and "ID" in coloured and "tbl" in coloured
    plain = on_tty({"NO_COLOR": "1"})
    assert "\x1b[" not in plain and "ID" in plain and "tbl" in plain


def test_send_keeps_the_session_alive_while_stdin_is_idle(stack, database, chatd_factory, tmp_path):
    """With a server that drops sessions silent for more than 2 x 500 ms, a send waiting for
    its next stdin line must keep heart-beating."""
    node = chatd_factory(stack, database_url=database, env={"CHATD_HEARTBEAT": "500,500"})
    alice = Cli(tmp_path / "alice", node.url).signup("alice")
    room = alice.json("room", "group", "--name", "idle")["id"]
    proc = subprocess.Popen([str(CHATCTL), "send", str(room)], env=alice.env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        proc.stdin.write("first\n")
        proc.stdin.flush()
        first = read_line_with_deadline(proc.stdout, 30, proc, "the first id")
        assert first.strip().isdigit(), first
        # The scenario itself, not synchronisation: stdin stays silent for 3 s, three times
        # longer than the server tolerates a silent session.
        time.sleep(3)
        out, err = proc.communicate("second\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == OK, err
    assert out.strip().isdigit(), out


def test_tail_ends_with_7_when_the_server_shuts_down(stack, database, chatd_factory, tmp_path):
    node = chatd_factory(stack, database_url=database)
    alice = Cli(tmp_path / "alice", node.url).signup("alice")
    room = alice.json("room", "group", "--name", "bye")["id"]
    # --no-resume: tail would otherwise keep trying to reconnect (test_recovery.py) for 60 s.
    tail = alice.popen("tail", room, "--no-resume")
    try:
        wait_for_stderr(tail, "Following room")
        assert node.stop() == 0
        tail.wait(timeout=30)
        assert tail.returncode == UNAVAILABLE, tail.stderr.read()
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()


def test_tail_stops_cleanly_on_ctrl_c(users):
    alice = users("alice")
    room = alice.json("room", "group", "--name", "quiet")["id"]
    tail = alice.popen("tail", room)
    try:
        wait_for_stderr(tail, "Following room")
        tail.send_signal(signal.SIGINT)
        tail.wait(timeout=20)
        assert tail.returncode == OK, tail.stderr.read()
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()


def test_room_members_invite_and_leave(users):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    room = alice.json("room", "group", "--name", "crew", "--member", bob.email)["id"]
    assert {m["userId"] for m in alice.json("room", "members", room)} == {alice.user_id, bob.user_id}
    invited = alice.json("room", "invite", room, "--member", carol.email)
    assert carol.user_id in {m["userId"] for m in invited["members"]}
    assert carol.json("room", "show", "crew")["id"] == room
    carol.ok("room", "leave", room)
    assert carol.run("room", "show", room).returncode == FORBIDDEN
    # invite/leave announce themselves with SYSTEM messages through the pipeline
    wait_for(lambda: sum(m["type"] == "SYSTEM" for m in alice.jsonl("history", room, "--all")) >= 2, 30,
             what="SYSTEM messages for join and leave")


def test_help_on_every_subcommand_has_an_example():
    tree = {"auth": ["signup", "login", "logout", "passwd", "whoami", "token"],
            "room": ["direct", "group", "list", "show", "members", "invite", "leave", "rename", "notice", "role", "kick",
                     "delete"],
            "send": [], "history": [], "read": [], "unread": [], "presence": [], "tail": [],
            "block": [], "unblock": [], "blocks": []}
    paths = [[]]
    for cmd, subs in tree.items():
        paths.append([cmd])
        paths += [[cmd, s] for s in subs]
    for path in paths:
        r = subprocess.run([str(CHATCTL), *path, "--help"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, path
        assert "Example:" in r.stdout and "chatctl" in r.stdout.split("Example:")[1], path
    assert subprocess.run([str(CHATCTL), "--version"], capture_output=True, text=True).stdout.startswith("chatctl ")


def complete(words: list[str]) -> list[str]:
    script = (f"source {shlex.quote(str(COMPLETION))}; COMP_WORDS=({' '.join(map(shlex.quote, words))}); "
              f"COMP_CWORD={len(words) - 1}; COMP_LINE={shlex.quote(' '.join(words))}; _chatctl; "
              "printf '%s\\n' \"${COMPREPLY[@]}\"")
    env = dict(os.environ, PATH=f"{CHATCTL.parent}:{os.environ['PATH']}")
    r = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.splitlines() if w]


def test_bash_completion():
    assert (BUILD / "apps" / "chatctl" / "chatctl.bash").exists()
    assert complete(["chatctl", "ro"]) == ["room"]
    assert set(complete(["chatctl", ""])) >= {"auth", "room", "send", "history", "tail", "presence"}
    assert set(complete(["chatctl", "room", ""])) == {"direct", "group", "list", "show", "members", "invite", "leave", "watch",
                                                      "rename", "notice", "role", "kick", "delete"}
    assert complete(["chatctl", "room", "role", "1", "2", "ad"]) == ["admin"]
    assert complete(["chatctl", "auth", "lo"]) == ["login", "logout"]
    assert complete(["chatctl", "-o", "js"]) == ["json", "jsonl"]
    assert "--password-stdin" in complete(["chatctl", "auth", "login", "--pass"])
    assert "--all" in complete(["chatctl", "history", "1", "--a"])


def test_bash_completion_offers_every_flag_of_every_subcommand():
    """The completion script is written by hand: it must not fall behind the CLI. For every
    command path, each long flag its --help lists is offered after `--`."""
    paths = [["auth", s] for s in ("signup", "login")] + \
        [["room", s] for s in ("direct", "group", "invite", "notice", "delete")] + \
        [[c] for c in ("send", "history", "read", "presence", "tail")]
    for path in [[]] + paths:
        help_text = subprocess.run([str(CHATCTL), *path, "--help"], capture_output=True, text=True, timeout=30).stdout
        options = re.split(r"\n(?:Subcommands|Example):", help_text.split("Options:", 1)[-1])[0]
        flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", options)) - {"--help"}
        assert flags, path
        offered = set(complete(["chatctl", *path, *(["1"] if path and path[0] not in ("auth", "room") else []), "--"]))
        assert flags <= offered, f"chatctl {' '.join(path)}: completion lacks {sorted(flags - offered)}"


def test_bash_completion_offers_room_ids_and_names(users):
    alice = users("alice")
    room = alice.json("room", "group", "--name", "ops-room")["id"]
    script = (f"source {shlex.quote(str(COMPLETION))}; COMP_WORDS=(chatctl tail ''); COMP_CWORD=2; _chatctl; "
              "printf '%s\\n' \"${COMPREPLY[@]}\"")
    env = dict(alice.env, PATH=f"{CHATCTL.parent}:{os.environ['PATH']}")
    r = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, timeout=30, env=env)
    assert {str(room), "ops-room"} <= set(r.stdout.split("\n"))
