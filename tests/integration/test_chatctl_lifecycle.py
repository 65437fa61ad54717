"""Issue 14: the message lifecycle through chatctl against a real chatd (docs/chatctl.md): edit,
delete (for everyone and for me), react, reply and thread, pin and pins, forward, bookmarks,
send --file and download, tail's event lines, and the exit status of each refusal. Every change
is checked where a user would see it: history in json and table form, the thread, the pins,
the bookmarks, the downloaded bytes. Uses test_chatctl.py's Cli (one config directory per user)."""
from __future__ import annotations

import json
import re
import struct
import subprocess
import zlib

import pytest

from conftest import wait_for
from test_chatctl import (CHATCTL, CONFLICT, FORBIDDEN, NOT_FOUND, OK, USAGE, Cli, complete,  # noqa: F401
                          read_line_with_deadline, users, wait_for_stderr)


@pytest.fixture(autouse=True)
def _need_binary():
    if not CHATCTL.exists():
        pytest.fail(f"{CHATCTL} is missing: build it first (ninja chatctl)")


def history(cli: Cli, room, n: int = 20) -> list[dict]:
    return cli.jsonl("history", room, "--limit", n)


def item(cli: Cli, room, mid: int) -> dict:
    return next(m for m in history(cli, room, 100) if m["id"] == mid)


def group_of(owner: Cli, *members: Cli, name: str = "crew") -> int:
    args = []
    for m in members:
        args += ["--member", m.email]
    return owner.json("room", "group", "--name", name, *args)["id"]


def send(cli: Cli, room, text: str) -> int:
    return int(cli.ok("send", room, text).stdout.strip())


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# --------------------------------------------------------------------------------------------


def test_edit_react_delete_show_in_every_history_format(users):
    alice, bob = users("alice"), users("bob")
    room = group_of(alice, bob)
    mid = send(alice, room, "deploy at 5")

    assert alice.json("edit", room, mid, "deploy", "at", "6") == {"roomId": room, "messageId": mid,
                                                                  "event": "message.edited"}
    m = item(bob, room, mid)  # edit waited until the store applied it
    assert m["content"] == "deploy at 6" and m["editedAt"] and m["deleted"] is False

    bob.ok("react", room, mid, "👍")
    alice.ok("react", room, mid, "👍")
    bob.ok("react", room, mid, "🎉")
    m = item(alice, room, mid)
    assert {r["emoji"]: (r["count"], r["me"]) for r in m["reactions"]} == {"👍": (2, True), "🎉": (1, False)}
    row = next(line for line in alice.ok("history", room).stdout.splitlines() if line.startswith(str(mid)))
    assert row.split("\t")[3] == "deploy at 6 (edited)  👍 2* 🎉 1", row
    assert alice.json("history", room)[0]["reactions"] == m["reactions"]  # json: the raw items

    out = bob.json("react", room, mid, "🎉", "--remove")
    assert out == {"roomId": room, "messageId": mid, "event": "reaction.removed", "emoji": "🎉"}
    assert [r["emoji"] for r in item(bob, room, mid)["reactions"]] == ["👍"]

    # Refusals: someone else's message (403 -> 5), no such message (4), not an emoji (2).
    r = bob.run("edit", room, mid, "mine now")
    assert r.returncode == FORBIDDEN, r.stderr
    assert "HTTP 403" in r.stderr
    assert bob.run("edit", room, 999999999, "x").returncode == NOT_FOUND
    assert bob.run("react", room, mid, "two words").returncode == USAGE
    assert bob.run("react", room, mid, "123456789").returncode == USAGE
    assert bob.run("edit", room, "not-an-id", "x").returncode == USAGE
    assert bob.run("edit", room, mid, " ").returncode == USAGE
    assert bob.run("delete", room, mid).returncode == FORBIDDEN  # bob is no admin of alice's group

    assert alice.json("delete", room, mid)["event"] == "message.deleted"
    m = item(bob, room, mid)
    assert m["deleted"] is True and m["content"] == "" and m["reactions"] == []
    row = next(line for line in bob.ok("history", room).stdout.splitlines() if line.startswith(str(mid)))
    assert row.split("\t")[3] == "[deleted]", row
    r = alice.run("edit", room, mid, "too late")
    assert r.returncode == CONFLICT, r.stderr  # 409 message_deleted
    assert bob.run("react", room, mid, "👍").returncode == CONFLICT


def test_delete_for_me_hides_it_from_me_only(users):
    alice, bob = users("alice"), users("bob")
    room = group_of(alice, bob)
    keep, hide = send(alice, room, "keep"), send(alice, room, "hide")
    assert bob.json("delete", room, hide, "--for-me") == {"roomId": room, "messageId": hide, "hidden": True}
    assert hide not in [m["id"] for m in history(bob, room)]
    assert keep in [m["id"] for m in history(bob, room)]
    assert item(alice, room, hide)["deleted"] is False  # still there for everyone else


def test_reply_and_thread(users):
    alice, bob = users("alice"), users("bob")
    room = group_of(alice, bob)
    root = send(alice, room, "release today?")
    r1 = int(bob.ok("reply", room, root, "yes").stdout.strip())
    r2 = alice.json("reply", room, r1, "at 5")["id"]  # a reply to a reply stays in the root's thread
    items = alice.json("thread", room, root)
    assert [m["id"] for m in items] == [root, r1, r2]
    assert items[1]["replyToId"] == root and items[2]["replyToId"] == r1
    assert items[1]["threadRootId"] == root and items[2]["threadRootId"] == root
    wait_for(lambda: item(alice, room, root)["replyCount"] == 2, 20, what="replyCount 2")
    assert [m["id"] for m in alice.jsonl("thread", room, root, "--limit", "1")] == [root, r1]
    table = alice.ok("thread", room, root).stdout.splitlines()
    assert table[1].split("\t")[3] == f"↳ #{root} yes" and table[2].split("\t")[3] == f"↳ #{r1} at 5", table
    assert bob.run("reply", room, 999999999, "x").returncode == NOT_FOUND


def test_pins_limit_and_admins(users):
    alice, bob = users("alice"), users("bob")
    room = group_of(alice, bob)
    ids = [send(alice, room, f"m{i}") for i in range(4)]
    for mid in ids[:3]:
        assert alice.json("pin", room, mid)["event"] == "message.pinned"
    r = alice.run("pin", room, ids[3])
    assert r.returncode == CONFLICT and "pin_limit" in r.stderr, r.stderr
    assert sorted(m["id"] for m in alice.json("pins", room)) == sorted(ids[:3])
    assert all(m["pinned"] for m in alice.jsonl("pins", room))
    assert bob.run("pin", room, ids[3]).returncode == FORBIDDEN  # only the group's creator is admin
    alice.ok("unpin", room, ids[0])
    assert sorted(m["id"] for m in bob.json("pins", room)) == sorted(ids[1:3])
    assert item(bob, room, ids[0])["pinned"] is False
    assert alice.ok("pin", room, ids[3]).returncode == OK


def test_forward_between_rooms(users):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    source = group_of(alice, bob, name="src")
    target = alice.json("room", "direct", "--user", carol.email)["id"]
    mid = send(bob, source, "worth sharing")
    # The forward's source is read from the store (send returns once the message is live).
    wait_for(lambda: any(m["id"] == mid for m in history(alice, source)), 20, what="the message stored")
    out = alice.json("forward", "src", mid, target)
    assert out["roomId"] == target
    m = item(carol, target, out["id"])
    assert m["content"] == "worth sharing"
    assert m["forwardedFrom"] == {"roomId": source, "messageId": mid, "senderNickname": "bob"}
    row = next(line for line in carol.ok("history", target).stdout.splitlines() if line.startswith(str(out["id"])))
    assert row.split("\t")[3] == "(forwarded from bob) worth sharing", row
    # carol is not in the source room
    r = carol.run("forward", source, mid, target)
    assert r.returncode in (FORBIDDEN, NOT_FOUND), r.stderr


def test_bookmarks_of_a_room_left_vanish(users):
    alice, bob = users("alice"), users("bob")
    room = group_of(alice, bob)
    other = bob.json("room", "group", "--name", "solo")["id"]
    a, b = send(alice, room, "bookmark me"), send(bob, other, "mine")
    # Bookmarks name stored messages (send returns once a message is live).
    wait_for(lambda: {a, b} <= {m["id"] for m in history(bob, room) + history(bob, other)}, 20,
             what="the messages stored")
    assert bob.json("bookmark", "add", a) == {"messageId": a, "bookmarked": True}
    bob.ok("bookmark", "add", b)
    listed = bob.json("bookmark", "list")
    assert {(m["id"], m["roomId"]) for m in listed} == {(a, room), (b, other)}
    table = bob.ok("bookmark", "list").stdout.splitlines()
    assert {line.split("\t")[0] for line in table} == {str(room), str(other)}
    assert [m["id"] for m in bob.jsonl("bookmark", "list", "--limit", "1")] in ([a], [b])
    bob.ok("bookmark", "rm", b)
    assert [m["id"] for m in bob.json("bookmark", "list")] == [a]
    bob.ok("room", "leave", room)
    assert bob.json("bookmark", "list") == []
    assert bob.run("bookmark", "add", "x").returncode == USAGE


def test_send_file_and_download_round_trip(users, tmp_path):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    room = group_of(alice, bob)
    png = tmp_path / "dot.png"
    png.write_bytes(tiny_png())
    out = alice.json("send", room, "--file", png, "the", "dot")
    assert out["type"] == "IMAGE" and out["attachment"]["mimeType"] == "image/png", out
    m = item(bob, room, out["id"])
    assert m["type"] == "IMAGE" and m["content"] == "the dot"
    assert m["attachment"]["name"] == "dot.png" and m["attachment"]["size"] == len(png.read_bytes())
    assert (m["attachment"].get("width"), m["attachment"].get("height")) == (3, 2)

    log = tmp_path / "build.log"
    log.write_bytes(b"line 1\nline 2\n" * 300)
    fid = int(alice.ok("send", room, "--file", log).stdout.strip())
    m = item(bob, room, fid)
    assert m["type"] == "FILE" and m["content"] == ""
    row = next(line for line in bob.ok("history", room).stdout.splitlines() if line.startswith(str(fid)))
    assert row.split("\t")[3] == "[file build.log 4.1 KiB]", row

    dest = tmp_path / "downloads"
    dest.mkdir()
    bob.ok("download", m["attachment"]["url"], "-O", dest / "got.log")
    assert (dest / "got.log").read_bytes() == log.read_bytes()
    r = carol.run("download", m["attachment"]["url"], "-O", tmp_path / "carol.log")
    assert r.returncode == FORBIDDEN, r.stderr
    assert alice.run("send", room, "--file", tmp_path / "missing").returncode == USAGE


def test_tail_shows_edits_deletes_and_reactions(users):
    alice, bob = users("alice"), users("bob")
    room = group_of(alice, bob)
    mid = send(alice, room, "first")
    tail = bob.popen("tail", room, "--count", "5")
    try:
        wait_for_stderr(tail, "Following room")
        alice.ok("edit", room, mid, "first!", "--no-wait")
        alice.ok("react", room, mid, "👍", "--no-wait")
        alice.ok("react", room, mid, "👍", "--remove")
        alice.ok("pin", room, mid)
        alice.ok("delete", room, mid, "--no-wait")
        lines = [read_line_with_deadline(tail.stdout, 30, tail, f"event {i}").rstrip("\n") for i in range(5)]
        assert tail.wait(timeout=30) == 0
    finally:
        if tail.poll() is None:
            tail.kill()
    texts = [line.split("\t")[3] for line in lines]
    assert texts == [f"✎ alice edited #{mid}: first!", f"alice reacted 👍 to #{mid}", f"alice removed 👍 from #{mid}",
                     f"📌 alice pinned #{mid}", f"✗ #{mid} deleted by alice"], lines
    ids = [int(line.split("\t")[0]) for line in lines]
    assert ids == sorted(ids) and all(i > mid for i in ids)

    tail = bob.popen("tail", room, "--count", "1", "-o", "jsonl")
    try:
        wait_for_stderr(tail, "Following room")
        other = send(alice, room, "second")
        alice.ok("react", room, other, "🔥", "--no-wait")
        first = json.loads(read_line_with_deadline(tail.stdout, 30, tail, "a message"))
        assert tail.wait(timeout=30) == 0
    finally:
        if tail.poll() is None:
            tail.kill()
    assert first["id"] == other and "event" not in first


def test_help_examples_and_completion_of_the_lifecycle_commands():
    paths = [[c] for c in ("edit", "delete", "react", "reply", "thread", "pin", "unpin", "pins", "forward",
                           "bookmark")] + [["bookmark", s] for s in ("add", "rm", "list")] + [["send"]]
    for path in paths:
        r = subprocess.run([str(CHATCTL), *path, "--help"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, path
        assert "Example:" in r.stdout and "chatctl" in r.stdout.split("Example:")[1], path
        options = re.split(r"\n(?:Subcommands|Example):", r.stdout.split("Options:", 1)[-1])[0]
        flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", options)) - {"--help"}
        positional = [] if path[0] == "bookmark" else ["1"]
        offered = set(complete(["chatctl", *path, *positional, "--"]))
        assert flags <= offered, f"chatctl {' '.join(path)}: completion lacks {sorted(flags - offered)}"
    assert {"edit", "delete", "react", "reply", "thread", "pin", "unpin", "pins", "forward",
            "bookmark"} <= set(complete(["chatctl", ""]))
    assert set(complete(["chatctl", "bookmark", ""])) == {"add", "rm", "list"}
    assert "--for-me" in complete(["chatctl", "delete", "1", "2", "--f"])
    assert "--file" in complete(["chatctl", "send", "1", "--fi"])
