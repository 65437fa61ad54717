"""Issue 14 — the message lifecycle over REST (SPEC §13, docs/rest.md "Message lifecycle"):
sending (201, the same messageKey again 200 with the same id), replies and threads, edits,
deletes (for everyone and for me), reactions, pins (at most 3), forwards, one history item,
bookmarks, and history items that show the current state.

The first part plants the state in PostgreSQL (messages seeded with SQL, reactions, pins,
edits written straight into their tables) and checks what the API reads and refuses before
anything reaches Kafka. The last part goes end to end: events published through the API, applied
by the persistence consumer, seen live over STOMP and in history."""
from __future__ import annotations

import time
import urllib.parse
import uuid

import pytest

from stomp_ws import RawStomp
from test_rest_common import expect_error, mid, wait_for

HISTORY_ITEM_KEYS = {"id", "messageKey", "roomId", "senderId", "senderNickname", "content", "type", "createdAt",
                     "editedAt", "deleted", "pinned", "replyCount", "lastReplyAt", "reactions", "preview"}


def call(api, method, path, user, **kw):
    return api.request(method, path, user, **kw)


def item(api, user, room, message):
    r = api.get(f"/api/rooms/{room}/messages/{message}", user)
    assert r.status_code == 200, r.text
    return r.json()


def history(api, user, room, **params):
    r = api.get(f"/api/rooms/{room}/messages", user, params=params)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def emoji_path(emoji: str) -> str:
    return urllib.parse.quote(emoji, safe="")


def react(api, user, room, message, emoji, method="PUT"):
    return call(api, method, f"/api/rooms/{room}/messages/{message}/reactions/{emoji_path(emoji)}", user)


def post(api, user, room, **body):
    return api.post(f"/api/rooms/{room}/messages", user, json=body)


def add_reaction_row(api, message, emoji, user, event_id):
    api.sql("INSERT INTO message_reactions (message_id, emoji, user_id, event_id) VALUES (%s, %s, %s, %s)",
            (message, emoji, user.id, event_id))


def pin_row(api, room, message, by):
    api.sql("INSERT INTO room_pins (room_id, message_id, pinned_by, pinned_at) VALUES (%s, %s, %s, now())",
            (room, message, by.id))


# ------------------------------------------------------------------ history items (state planted in SQL)


def test_history_items_show_the_current_state(api):
    a, b = api.signup(), api.signup()
    room = api.group(a, [b], name="state")
    ids = api.seed_messages(room, a, 5)
    plain, edited, reacted, pinned, deleted = ids
    api.sql("UPDATE messages SET content = 'changed', edited_at = now() WHERE id = %s", (edited,))
    add_reaction_row(api, reacted, "👍", a, 10)
    add_reaction_row(api, reacted, "👍", b, 11)
    add_reaction_row(api, reacted, "🎉", b, 5)   # first to appear: listed first
    add_reaction_row(api, deleted, "👍", b, 12)  # a tombstone shows no reactions
    pin_row(api, room, pinned, a)
    api.sql("UPDATE messages SET deleted = true, content = '' WHERE id = %s", (deleted,))

    items = {m["id"]: m for m in history(api, a, room)}
    assert list(items) == list(reversed(ids))
    for m in items.values():
        assert HISTORY_ITEM_KEYS <= set(m), m
    assert items[plain]["reactions"] == [] and items[plain]["deleted"] is False and items[plain]["editedAt"] is None
    assert items[edited]["content"] == "changed" and items[edited]["editedAt"].endswith("Z")
    assert items[reacted]["reactions"] == [{"emoji": "🎉", "count": 1, "me": False},
                                           {"emoji": "👍", "count": 2, "me": True}]
    assert items[pinned]["pinned"] is True and items[plain]["pinned"] is False
    assert items[deleted]["deleted"] is True and items[deleted]["content"] == "" and items[deleted]["reactions"] == []
    # `me` is the caller's own.
    for_b = {m["id"]: m for m in history(api, b, room)}
    assert for_b[reacted]["reactions"] == [{"emoji": "🎉", "count": 1, "me": True},
                                           {"emoji": "👍", "count": 2, "me": True}]
    # One item and the pins show the same.
    assert item(api, a, room, reacted) == items[reacted]
    r = api.get(f"/api/rooms/{room}/pins", b)
    assert r.status_code == 200, r.text
    assert [m["id"] for m in r.json()] == [pinned] and r.json()[0]["pinned"] is True


def test_thread_pages_oldest_first(api):
    a, b = api.signup(), api.signup()
    room = api.group(a, [b], name="thread")
    root, *replies = api.seed_messages(room, a, 8)
    other_root = api.seed_messages(room, b, 1)[0]
    api.sql("UPDATE messages SET reply_to_id = %s, thread_root_id = %s WHERE id = ANY(%s)", (root, root, replies))
    api.sql("UPDATE messages SET reply_count = 7, last_reply_at = now() WHERE id = %s", (root,))
    got, cursor, pages = [], None, 0
    while True:
        params = {"size": 3} | ({"cursor": cursor} if cursor is not None else {})
        r = api.get(f"/api/rooms/{room}/messages/{root}/thread", b, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"messages", "hasMore", "nextCursor"}
        pages += 1
        got += [m["id"] for m in body["messages"]]
        assert all(m["threadRootId"] == root and m["replyToId"] == root for m in body["messages"])
        if not body["hasMore"]:
            assert body["nextCursor"] is None
            break
        cursor = body["nextCursor"]
        assert cursor == got[-1] and pages < 10
    assert got == replies and pages == 3
    # Asking with a reply names the same thread; a message without replies has an empty one.
    r = api.get(f"/api/rooms/{room}/messages/{replies[2]}/thread", a)
    assert [m["id"] for m in r.json()["messages"]] == replies
    assert api.get(f"/api/rooms/{room}/messages/{other_root}/thread", a).json() == {
        "messages": [], "hasMore": False, "nextCursor": None}
    root_item = item(api, a, room, root)
    assert root_item["replyCount"] == 7 and root_item["lastReplyAt"].endswith("Z")
    expect_error(api.get(f"/api/rooms/{room}/messages/{mid(9, 1)}/thread", a), 404, "message_not_found")
    expect_error(api.get(f"/api/rooms/{room}/messages/{root}/thread?size=0", a), 400, "validation_error")
    expect_error(api.get(f"/api/rooms/{room}/messages/{root}/thread?cursor=x", a), 400, "validation_error")


def test_single_item_and_pins_members_only(api):
    a, outsider = api.signup(), api.signup()
    room = api.group(a, [], name="single")
    other = api.group(outsider, [], name="elsewhere")
    (m,) = api.seed_messages(room, a, 1)
    (elsewhere,) = api.seed_messages(other, outsider, 1)
    assert item(api, a, room, m)["id"] == m
    expect_error(api.get(f"/api/rooms/{room}/messages/{m}", outsider), 403, "not_a_member")
    expect_error(api.get(f"/api/rooms/{room}/messages/{elsewhere}", a), 404, "message_not_found")
    expect_error(api.get(f"/api/rooms/900000000/messages/{m}", a), 404, "room_not_found")
    expect_error(api.get(f"/api/rooms/{room}/messages/00", a), 400, "validation_error")  # 0 is a real id
    expect_error(api.get(f"/api/rooms/{room}/pins", outsider), 403, "not_a_member")
    assert api.get(f"/api/rooms/{room}/pins", a).json() == []


def test_room_list_shows_a_deleted_last_message_as_a_tombstone(api):
    a = api.signup()
    room = api.group(a, [], name="tombstone")
    (m,) = api.seed_messages(room, a, 1, content="secret")
    api.sql("UPDATE messages SET deleted = true WHERE id = %s", (m,))
    rooms = {r["id"]: r for r in api.get("/api/rooms", a).json()}
    last = rooms[room]["lastMessage"]
    assert last["id"] == m and last["deleted"] is True and last["content"] == ""


# ------------------------------------------------------------------ delete for me, bookmarks


def test_delete_for_me_hides_only_for_that_user(api):
    a, b, outsider = api.signup(), api.signup(), api.signup()
    room = api.group(a, [b], name="hide")
    ids = api.seed_messages(room, b, 3)
    r = api.delete(f"/api/rooms/{room}/messages/{ids[1]}?for=me", a)
    assert r.status_code == 204, r.text
    assert api.delete(f"/api/rooms/{room}/messages/{ids[1]}?for=me", a).status_code == 204  # again: same
    assert [m["id"] for m in history(api, a, room)] == [ids[2], ids[0]]
    assert [m["id"] for m in history(api, b, room)] == list(reversed(ids))
    # A full page stays full: the hidden message is skipped inside the scan.
    assert [m["id"] for m in history(api, a, room, size=2)] == [ids[2], ids[0]]
    expect_error(api.get(f"/api/rooms/{room}/messages/{ids[1]}", a), 404, "message_not_found")
    assert item(api, b, room, ids[1])["id"] == ids[1]
    expect_error(api.delete(f"/api/rooms/{room}/messages/{ids[0]}?for=me", outsider), 403, "not_a_member")
    expect_error(api.delete(f"/api/rooms/{room}/messages/{mid(9, 2)}?for=me", a), 404, "message_not_found")
    expect_error(api.delete(f"/api/rooms/{room}/messages/{ids[0]}?for=someone", a), 400, "validation_error")


def test_bookmarks_list_and_vanish_when_the_user_leaves(api):
    a, b, outsider = api.signup(), api.signup(), api.signup()
    room = api.group(a, [b], name="marks")
    keep = api.group(b, [], name="kept")
    ids = api.seed_messages(room, a, 3)
    (kept,) = api.seed_messages(keep, b, 1)
    for m in ids + [kept]:
        r = call(api, "PUT", f"/api/bookmarks/{m}", b)
        assert r.status_code == 204, r.text
    assert call(api, "PUT", f"/api/bookmarks/{ids[0]}", b).status_code == 204  # again: nothing changes
    r = api.get("/api/bookmarks", b, params={"size": 3})
    assert r.status_code == 200, r.text
    first = r.json()
    assert set(first) == {"items", "nextCursor"}
    assert [m["id"] for m in first["items"]] == [kept, ids[2], ids[1]]
    assert [m["roomId"] for m in first["items"]] == [keep, room, room]
    assert first["nextCursor"] == ids[1]
    rest = api.get("/api/bookmarks", b, params={"cursor": first["nextCursor"]}).json()
    assert [m["id"] for m in rest["items"]] == [ids[0]] and rest["nextCursor"] is None
    assert HISTORY_ITEM_KEYS <= set(rest["items"][0])
    # Only messages of rooms the caller is in.
    expect_error(call(api, "PUT", f"/api/bookmarks/{ids[0]}", outsider), 404, "message_not_found")
    expect_error(call(api, "PUT", f"/api/bookmarks/{mid(9, 3)}", b), 404, "message_not_found")
    expect_error(call(api, "PUT", "/api/bookmarks/abc", b), 400, "validation_error")
    assert call(api, "DELETE", f"/api/bookmarks/{ids[2]}", b).status_code == 204
    assert call(api, "DELETE", f"/api/bookmarks/{ids[2]}", b).status_code == 204
    assert [m["id"] for m in api.get("/api/bookmarks", b).json()["items"]] == [kept, ids[1], ids[0]]
    assert api.delete(f"/api/rooms/{room}/members/me", b).status_code == 204
    assert [m["id"] for m in api.get("/api/bookmarks", b).json()["items"]] == [kept]
    assert api.get("/api/bookmarks", outsider).json() == {"items": [], "nextCursor": None}


# ------------------------------------------------------------------ validation and refusals before Kafka


@pytest.mark.parametrize("body", [
    "{", "[]", "{}", '{"content":""}', '{"content":"   "}', '{"content":5}', '{"content":"x","type":"SYSTEM"}',
    '{"content":"x","type":"VIDEO"}', '{"content":"x","messageKey":"not-a-uuid"}', '{"content":"x","replyToId":0}',
    '{"type":"IMAGE"}', '{"type":"IMAGE","attachment":{"url":"http://x/y.png","name":"y","size":1,"mimeType":"image/png"}}',
    '{"forwardOf":{"roomId":1}}', '{"forwardOf":{"roomId":1,"messageId":2},"content":"x"}', '{"forwardOf":3}',
])
def test_bad_post_bodies_are_400(api, body):
    a = api.signup()
    room = api.group(a, [], name="bad bodies")
    r = api.post(f"/api/rooms/{room}/messages", a, data=body, headers={"Content-Type": "application/json"})
    expect_error(r, 400)


def test_bad_emoji_ids_and_edit_bodies_are_400(api):
    a = api.signup()
    room = api.group(a, [], name="bad input")
    (m,) = api.seed_messages(room, a, 1)
    # (A malformed escape such as %zz is re-quoted by requests; the unit tests cover it.)
    for emoji in ["a%20b", "123456789", "%FF", "%0A", "%E2%80%8B"]:
        expect_error(call(api, "PUT", f"/api/rooms/{room}/messages/{m}/reactions/{emoji}", a), 400, "validation_error")
    for body in [{}, {"content": ""}, {"content": " "}, {"content": 1}, {"content": "x" * 4001}]:
        expect_error(call(api, "PATCH", f"/api/rooms/{room}/messages/{m}", a, json=body), 400)
    expect_error(call(api, "PATCH", f"/api/rooms/{room}/messages/01", a, json={"content": "x"}), 400)
    expect_error(call(api, "PUT", f"/api/rooms/{room}/pins/-1", a), 400)


def test_refusals_follow_the_permission_table(api):
    owner, member, outsider = api.signup(), api.signup(), api.signup()
    room = api.group(owner, [member], name="rules")
    m1, m2, m3, m4, old = api.seed_messages(room, member, 5)
    api.sql("UPDATE messages SET created_at = now() - interval '3 days' WHERE id = %s", (old,))
    (system,) = api.seed_messages(room, member, 1)
    api.sql("UPDATE messages SET type = 'SYSTEM' WHERE id = %s", (system,))
    (gone,) = api.seed_messages(room, member, 1)
    api.sql("UPDATE messages SET deleted = true, content = '' WHERE id = %s", (gone,))

    def patch(user, m, content="new text"):
        return call(api, "PATCH", f"/api/rooms/{room}/messages/{m}", user, json={"content": content})

    expect_error(patch(owner, m1), 403, "not_allowed")            # only the sender edits
    expect_error(patch(member, old), 409, "edit_window_closed")    # older than --edit-window (48 h)
    expect_error(patch(member, system), 409, "system_message")
    expect_error(patch(member, gone), 409, "message_deleted")
    expect_error(patch(outsider, m1), 403, "not_a_member")
    expect_error(call(api, "PATCH", f"/api/rooms/800000000/messages/{m1}", member, json={"content": "x"}),
                 404, "room_not_found")
    expect_error(patch(member, mid(9, 4)), 404, "message_not_found")
    # Deletes: the sender or an admin (the GROUP room's creator); pins: admins only.
    expect_error(api.delete(f"/api/rooms/{room}/messages/{m1}", outsider), 403, "not_a_member")
    expect_error(api.delete(f"/api/rooms/{room}/messages/{system}", owner), 409, "system_message")
    expect_error(call(api, "PUT", f"/api/rooms/{room}/pins/{m1}", member), 403, "not_allowed")
    expect_error(call(api, "DELETE", f"/api/rooms/{room}/pins/{m1}", member), 403, "not_allowed")
    expect_error(react(api, member, room, gone, "👍"), 409, "message_deleted")
    expect_error(react(api, member, room, system, "👍"), 409, "system_message")
    expect_error(post(api, member, room, content="re", replyToId=gone), 409, "message_deleted")
    expect_error(post(api, member, room, content="re", replyToId=mid(9, 5)), 404, "message_not_found")
    # At most 3 pins: a 4th is refused; re-pinning a pinned message is not a 4th.
    for m in (m1, m2, m3):
        pin_row(api, room, m, owner)
    expect_error(call(api, "PUT", f"/api/rooms/{room}/pins/{m4}", owner), 409, "pin_limit")
    r = call(api, "PUT", f"/api/rooms/{room}/pins/{m1}", owner)
    assert r.status_code == 202, r.text
    # A forward needs membership of the source room: 404 either way, so it reveals nothing.
    other = api.group(outsider, [], name="not yours")
    (theirs,) = api.seed_messages(other, outsider, 1)
    expect_error(post(api, member, room, forwardOf={"roomId": other, "messageId": theirs}), 404, "message_not_found")
    expect_error(post(api, member, room, forwardOf={"roomId": room, "messageId": gone}), 404, "message_not_found")


def test_accepted_events_answer_the_event_id_and_key(api):
    owner, member = api.signup(), api.signup()
    room = api.group(owner, [member], name="accepted")
    m1, m2 = api.seed_messages(room, member, 2)
    answers = [
        call(api, "PATCH", f"/api/rooms/{room}/messages/{m1}", member, json={"content": "edited"}),
        react(api, owner, room, m1, "👍"),
        react(api, owner, room, m1, "👍", method="DELETE"),
        call(api, "PUT", f"/api/rooms/{room}/pins/{m1}", owner),
        call(api, "DELETE", f"/api/rooms/{room}/pins/{m1}", owner),
        api.delete(f"/api/rooms/{room}/messages/{m2}", owner),                # an admin deletes another's
        api.delete(f"/api/rooms/{room}/messages/{m1}?for=everyone", member),  # the sender deletes their own
    ]
    for r in answers:
        assert r.status_code == 202, r.text
        body = r.json()
        assert set(body) == {"id", "messageKey"} and body["id"] >= 0
        uuid.UUID(body["messageKey"])
    assert len({r.json()["id"] for r in answers}) == len(answers)


# ------------------------------------------------------------------ sending


def test_send_answers_201_and_the_same_key_again_200_with_the_same_id(api):
    a, b = api.signup(), api.signup()
    room = api.group(a, [b], name="send")
    key = str(uuid.uuid4())
    r = post(api, a, room, content="hello", messageKey=key)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["messageKey"] == key and first["id"] >= 0
    again = post(api, a, room, content="hello", messageKey=key)
    assert again.status_code == 200, again.text
    assert again.json() == first
    wait_for(lambda: [m for m in history(api, b, room) if m["id"] == first["id"]], 30, what="message stored")
    assert post(api, a, room, content="hello", messageKey=key).json() == first
    assert len([m for m in history(api, b, room) if m["messageKey"] == key]) == 1
    # A key names one message: another room's or sender's use of it is a conflict.
    other = api.group(a, [], name="send elsewhere")
    expect_error(post(api, a, other, content="hello", messageKey=key), 409, "conflict")
    expect_error(post(api, b, room, content="hello", messageKey=key), 409, "conflict")
    # Without a key the server makes one.
    r = post(api, b, room, content="no key")
    assert r.status_code == 201 and uuid.UUID(r.json()["messageKey"])
    expect_error(post(api, api.signup(), room, content="x"), 403, "not_a_member")
    expect_error(post(api, a, 700000000, content="x"), 404, "room_not_found")


# ------------------------------------------------------------------ end to end (the persistence consumer applies the events)


def stored_item(api, user, room, message, pred, what, timeout=30):
    def probe():
        r = api.get(f"/api/rooms/{room}/messages/{message}", user)
        return r.status_code == 200 and pred(r.json()) and r.json()
    return wait_for(probe, timeout, what=what)


def sent(api, user, room, **body) -> int:
    r = post(api, user, room, **body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_reply_edit_react_pin_delete_end_to_end(api):
    owner, member = api.signup(), api.signup()
    room = api.group(owner, [member], name="e2e")
    root = sent(api, member, room, content="root")
    reply = sent(api, owner, room, content="reply", replyToId=root)
    nested = sent(api, member, room, content="reply to reply", replyToId=reply)
    got = stored_item(api, owner, room, nested, lambda m: True, "nested reply stored")
    assert got["replyToId"] == reply and got["threadRootId"] == root
    stored_item(api, owner, room, root, lambda m: m["replyCount"] == 2, "replyCount of the root")
    r = api.get(f"/api/rooms/{room}/messages/{root}/thread", member)
    assert [m["id"] for m in r.json()["messages"]] == [reply, nested]

    assert call(api, "PATCH", f"/api/rooms/{room}/messages/{root}", member, json={"content": "root v2"}).status_code == 202
    stored_item(api, owner, room, root, lambda m: m["content"] == "root v2" and m["editedAt"], "edit applied")

    for user in (owner, member):
        assert react(api, user, room, root, "👍").status_code == 202
    assert react(api, owner, room, root, "👍").status_code == 202   # adding twice changes nothing
    assert react(api, member, room, root, "🎉").status_code == 202
    assert react(api, member, room, root, "🎉", method="DELETE").status_code == 202
    assert react(api, member, room, root, "🙈", method="DELETE").status_code == 202  # not there: nothing
    want = [{"emoji": "👍", "count": 2, "me": True}]
    stored_item(api, owner, room, root, lambda m: m["reactions"] == want, "reactions applied")

    assert call(api, "PUT", f"/api/rooms/{room}/pins/{root}", owner).status_code == 202
    stored_item(api, member, room, root, lambda m: m["pinned"], "pin applied")
    assert [m["id"] for m in api.get(f"/api/rooms/{room}/pins", member).json()] == [root]

    expect_error(api.delete(f"/api/rooms/{room}/messages/{reply}", member), 403, "not_allowed")  # not the sender
    expect_error(api.delete(f"/api/rooms/{room}/messages/{reply}", api.signup()), 403, "not_a_member")
    assert api.delete(f"/api/rooms/{room}/messages/{root}", member).status_code == 202
    tomb = stored_item(api, owner, room, root, lambda m: m["deleted"], "delete applied")
    assert tomb["content"] == "" and tomb["reactions"] == [] and tomb["pinned"] is False
    assert api.get(f"/api/rooms/{room}/pins", member).json() == []


def test_forward_copies_the_message_and_names_its_origin(api):
    a, b = api.signup(), api.signup()
    source = api.group(a, [b], name="source")
    target = api.group(b, [], name="target")
    original = sent(api, a, source, content="worth forwarding")
    stored_item(api, b, source, original, lambda m: True, "original stored")
    r = post(api, b, target, forwardOf={"roomId": source, "messageId": original})
    assert r.status_code == 201, r.text
    fwd = stored_item(api, b, target, r.json()["id"], lambda m: True, "forward stored")
    assert fwd["content"] == "worth forwarding" and fwd["senderId"] == b.id and fwd["type"] == "TEXT"
    assert fwd["forwardedFrom"] == {"roomId": source, "messageId": original, "senderNickname": a.nickname}


def test_an_uploaded_file_is_attached_with_its_own_metadata(api):
    a, b, stranger = api.signup(), api.signup(), api.signup()
    room = api.group(a, [b], name="files")
    r = api.post("/api/files", a, data=b"quarterly numbers", params={"name": "q3.txt"},
                 headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    file = r.json()
    # name, size and type come from the upload, whatever the body says.
    sent_id = sent(api, a, room, type="FILE", content="the report",
                   attachment={"url": file["url"], "name": "lie.exe", "size": 1, "mimeType": "application/x-lie"})
    got = stored_item(api, b, room, sent_id, lambda m: True, "message with attachment stored")
    assert got["type"] == "FILE" and got["content"] == "the report"
    assert got["attachment"] == {"url": file["url"], "name": "q3.txt", "size": len(b"quarterly numbers"),
                                 "mimeType": "text/plain"}
    # b can read it now (a message of b's room names it), so b may share it elsewhere; a stranger may not.
    elsewhere = api.group(b, [], name="files elsewhere")
    assert post(api, b, elsewhere, type="FILE", attachment={"url": file["url"]}).status_code == 201
    mine = api.group(stranger, [], name="stranger's")
    expect_error(post(api, stranger, mine, type="FILE", attachment={"url": file["url"]}), 403, "not_allowed")
    expect_error(post(api, a, room, type="IMAGE", attachment={"url": f"/api/files/{uuid.uuid4()}"}), 404,
                 "file_not_found")


def test_history_equals_the_live_stream(api):
    """Every event seen live on /topic/room.{id}, applied to the messages it names, gives what
    history shows afterwards."""
    owner, member = api.signup(), api.signup()
    room = api.group(owner, [member], name="live")
    live = RawStomp.tcp(api.node.stomp_port)
    try:
        live.connect(member.token)
        live.send("SUBSCRIBE", {"id": "0", "destination": f"/topic/room.{room}", "receipt": "sub"})
        live.recv_until(lambda f: f.command == "RECEIPT")
        first = sent(api, owner, room, content="one")
        second = sent(api, member, room, content="two", replyToId=first)
        third = sent(api, owner, room, content="three")
        steps = [
            call(api, "PATCH", f"/api/rooms/{room}/messages/{first}", owner, json={"content": "one v2"}),
            react(api, member, room, first, "👍"),
            react(api, owner, room, first, "👍"),
            react(api, owner, room, third, "🔥"),
            react(api, owner, room, third, "🔥", method="DELETE"),
            call(api, "PUT", f"/api/rooms/{room}/pins/{second}", owner),
            api.delete(f"/api/rooms/{room}/messages/{third}", owner),
        ]
        assert all(r.status_code == 202 for r in steps), [r.text for r in steps]
        last_id = steps[-1].json()["id"]

        model: dict[int, dict] = {}
        deadline = time.monotonic() + 30
        while True:
            f = live.recv(max(0.1, deadline - time.monotonic()))
            if f.command != "MESSAGE":
                continue
            event = f.json()
            kind = event.get("event", "message")
            assert f.headers.get("chat-event") == kind  # SPEC §13: the header names the event
            if kind == "message":
                model[event["id"]] = {"content": event["content"], "edited": False, "deleted": False, "pinned": False,
                                      "reactions": {}, "replyToId": event.get("replyToId"),
                                      "threadRootId": event.get("threadRootId")}
            else:
                t = model[event["targetId"]]
                if kind == "message.edited":
                    t["content"], t["edited"] = event["content"], True
                elif kind == "message.deleted":
                    t.update(content="", deleted=True, pinned=False, reactions={})
                elif kind == "reaction.added":
                    t["reactions"].setdefault(event["emoji"], set()).add(event["senderId"])
                elif kind == "reaction.removed":
                    t["reactions"].get(event["emoji"], set()).discard(event["senderId"])
                elif kind == "message.pinned":
                    t["pinned"] = True
                elif kind == "message.unpinned":
                    t["pinned"] = False
            if event["id"] == last_id:
                break
        assert set(model) == {first, second, third}

        def as_history(m):
            return {"content": m["content"], "edited": m["editedAt"] is not None, "deleted": m["deleted"], "pinned": m["pinned"],
                    "reactions": {r["emoji"]: r["count"] for r in m["reactions"]},
                    "replyToId": m.get("replyToId"), "threadRootId": m.get("threadRootId")}

        want = {i: dict(m, reactions={e: len(u) for e, u in m["reactions"].items() if u}) for i, m in model.items()}
        wait_for(lambda: {m["id"]: as_history(m) for m in history(api, member, room)} == want, 30,
                 what="history equal to the live stream")
    finally:
        live.close()
