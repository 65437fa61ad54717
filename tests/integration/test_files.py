"""Issue 14, files (SPEC §16, docs/rest.md "Files"): POST /api/files (raw body or multipart)
stores uploads in PostgreSQL, content-addressed and deduplicated; GET /api/files/{id} serves
them byte-exact to the uploader and to members of a room where a message attaches them, with
ETag/If-None-Match, Range and Content-Disposition; the periodic clean-up removes old
unreferenced uploads. The module's chatd runs with --max-file-bytes 1 MiB (above the 64 KiB
every other route allows) and a clean-up every second."""
import hashlib
import os
import socket
import struct
import urllib.parse
import uuid

import pytest
import requests

from test_rest_common import expect_error, mid, rest_env, wait_for

MAX_FILE_BYTES = 1024 * 1024
FILE_KEYS = {"id", "url", "name", "size", "mimeType", "sha256"}


@pytest.fixture(scope="module")
def api(stack, tmp_path_factory):
    with rest_env(tmp_path_factory, stack,
                  env={"CHATD_MAX_FILE_BYTES": str(MAX_FILE_BYTES), "CHATD_FILE_CLEANUP_INTERVAL": "1s"}) as env:
        yield env


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">II", width, height) + bytes([8, 6, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0"
            + struct.pack(">I", 0) + b"IEND" + b"\xaeB`\x82")


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof2 = b"\xff\xc2" + struct.pack(">HBHH", 17, 8, height, width) + bytes(10)
    return b"\xff\xd8" + app0 + sof2 + b"\xff\xda" + struct.pack(">H", 8) + bytes(6) + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\xf7\0\0" + bytes(12) + b";"


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + bytes(11)
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def upload(api, user, data: bytes, content_type: str | None = "application/octet-stream", name: str | None = None):
    headers = {} if content_type is None else {"Content-Type": content_type}
    params = {} if name is None else {"name": name}
    return api.post("/api/files", user, data=data, headers=headers, params=params)


def uploaded(api, user, data: bytes, content_type="application/octet-stream", name=None) -> dict:
    r = upload(api, user, data, content_type, name)
    assert r.status_code == 201, r.text
    body = r.json()
    assert FILE_KEYS <= set(body) <= FILE_KEYS | {"width", "height"}, body
    assert body["url"] == f"/api/files/{body['id']}"
    assert r.headers["Location"] == body["url"]
    return body


def attach(api, room: int, sender, file_id: str, deleted: bool = False) -> int:
    """A FILE message naming the upload, stored straight into PostgreSQL (as the persistence
    consumer stores a message whose attachment url is /api/files/{id})."""
    offset = 2_000_000_000 + int(uuid.uuid4().int % 1_000_000_000)
    message_id = mid(5, offset)
    api.sql("INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
            "kafka_partition, kafka_offset, created_at, attachment_file_id, deleted) "
            "VALUES (%s, %s, %s, %s, %s, '', 'FILE', 5, %s, now(), %s, %s)",
            (message_id, str(uuid.uuid4()), room, sender.id, sender.nickname, offset, file_id, deleted))
    return message_id


# ---------------------------------------------------------------------------- upload and download


def test_raw_upload_round_trips_binary_bytes_exactly(api):
    a = api.signup()
    data = bytes(range(256)) * 3 + b"\0\0\0\r\n\r\n--boundary\0"  # NULs, CRLFs, every byte value
    body = uploaded(api, a, data, name="blob.bin")
    assert body["name"] == "blob.bin"
    assert body["size"] == len(data)
    assert body["mimeType"] == "application/octet-stream"
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert "width" not in body and "height" not in body
    uuid.UUID(body["id"])

    r = api.get(body["url"], a)
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert int(r.headers["Content-Length"]) == len(data)
    assert r.headers["ETag"] == f'"{body["sha256"]}"'
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"] == "attachment; filename=\"blob.bin\"; filename*=UTF-8''blob.bin"


def test_upload_above_64_kib_round_trips(api):
    a = api.signup()
    data = os.urandom(MAX_FILE_BYTES)  # exactly the limit, 16 times the other routes' body limit
    body = uploaded(api, a, data, content_type="application/zip", name="big.zip")
    assert body["size"] == MAX_FILE_BYTES
    r = api.get(body["url"], a)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/zip"
    assert hashlib.sha256(r.content).digest() == hashlib.sha256(data).digest()
    # Other routes still refuse bodies above 64 KiB.
    r = api.post("/api/rooms/group", a, data=b"{" + b" " * (70 * 1024) + b"}",
                 headers={"Content-Type": "application/json"})
    expect_error(r, 413, "payload_too_large")


def test_multipart_upload_takes_the_file_part(api):
    a = api.signup()
    data = b"hello\r\n\0world" * 1000
    r = api.post("/api/files", a, files={"file": ("Grüße x.txt", data, "text/plain; charset=utf-8")},
                 data={"caption": "ignored"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "Grüße x.txt"
    assert body["mimeType"] == "text/plain; charset=utf-8"
    assert body["size"] == len(data)
    r = api.get(body["url"], a)
    assert r.content == data
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"Gr____e x.txt\"; ")
    assert disposition.endswith("filename*=UTF-8''" + urllib.parse.quote("Grüße x.txt", safe=""))
    # A name with quotes and a percent sign, as ?name= of a raw upload.
    quoted = uploaded(api, a, b"q", name='say "hi" 100%.txt')
    assert quoted["name"] == 'say "hi" 100%.txt'
    disposition = api.get(quoted["url"], a).headers["Content-Disposition"]
    assert disposition == "attachment; filename=\"say _hi_ 100_.txt\"; filename*=UTF-8''say%20%22hi%22%20100%25.txt"


def test_images_get_their_size_and_are_served_inline(api):
    a = api.signup()
    for mime, data, size in [("image/png", png(640, 480), (640, 480)), ("image/jpeg", jpeg(1920, 1080), (1920, 1080)),
                             ("image/gif", gif(32, 16), (32, 16)), ("image/webp", webp_lossless(400, 301), (400, 301))]:
        body = uploaded(api, a, data, content_type=mime, name="pic")
        assert (body["width"], body["height"]) == size, mime
        assert body["mimeType"] == mime
        r = api.get(body["url"], a)
        assert r.content == data
        assert r.headers["Content-Disposition"].startswith("inline; "), mime
    # multipart: the part's Content-Type counts
    r = api.post("/api/files", a, files={"file": ("a.png", png(3, 2), "image/png")})
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"], r.json()["name"]) == (3, 2, "a.png")


def test_a_lying_content_type_is_refused(api):
    a = api.signup()
    expect_error(upload(api, a, b"<script>alert(1)</script>", "image/png"), 415, "unsupported_media_type")
    expect_error(upload(api, a, png(2, 2), "image/jpeg"), 415, "unsupported_media_type")
    expect_error(upload(api, a, gif(2, 2)[:8], "image/gif"), 415, "unsupported_media_type")  # no readable size
    r = api.post("/api/files", a, files={"file": ("x.webp", b"RIFF\0\0\0\0WAVEfmt ", "image/webp")})
    expect_error(r, 415, "unsupported_media_type")
    # Other types are stored as declared (served as attachments, nosniff).
    assert uploaded(api, a, png(2, 2), "application/octet-stream")["mimeType"] == "application/octet-stream"


def test_bad_uploads(api):
    a = api.signup()
    expect_error(upload(api, a, b""), 400, "validation_error")
    expect_error(upload(api, a, b"x", "not a type"), 400, "validation_error")
    expect_error(upload(api, a, b"x", "multipart/form-data"), 400, "validation_error")  # no boundary
    expect_error(upload(api, a, b"x", name="a\nb"), 400, "validation_error")
    expect_error(upload(api, a, b"x", name=""), 400, "validation_error")
    r = api.post("/api/files", a, data=b"--b\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nhi\r\n--b--\r\n",
                 headers={"Content-Type": "multipart/form-data; boundary=b"})
    expect_error(r, 400, "validation_error")
    # No Content-Type: application/octet-stream, name "file"; a path in ?name= keeps its last part.
    body = uploaded(api, a, b"x", content_type=None, name="../../etc/passwd")
    assert (body["mimeType"], body["name"]) == ("application/octet-stream", "passwd")
    assert uploaded(api, a, b"y", content_type=None)["name"] == "file"


def test_over_the_limit_is_413(api):
    a = api.signup()
    # A raw body one byte above --max-file-bytes: read, then refused.
    expect_error(upload(api, a, b"x" * (MAX_FILE_BYTES + 1)), 413, "payload_too_large")
    # Above the route's limit (--max-file-bytes + 64 KiB of multipart envelope): refused from
    # its Content-Length, before the body is sent.
    host, port = urllib.parse.urlsplit(api.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall((f"POST /api/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {a.token}\r\n"
                   f"Content-Type: application/octet-stream\r\n"
                   f"Content-Length: {MAX_FILE_BYTES + 64 * 1024 + 1}\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"payload_too_large"' in body
    # Within the multipart envelope allowance, but the file part itself is too large: 413 too.
    r = api.post("/api/files", a, files={"file": ("big", b"x" * (MAX_FILE_BYTES + 1), "application/octet-stream")})
    expect_error(r, 413, "payload_too_large")
    # Nothing was stored for the refused uploads.
    assert api.sql("SELECT count(*) FROM files WHERE uploader_id = %s", (a.id,)) == [(0,)]


def test_same_bytes_are_stored_once_each_upload_has_its_own_id(api):
    a, b = api.signup(), api.signup()
    data = os.urandom(100_000)
    first = uploaded(api, a, data, name="one")
    second = uploaded(api, b, data, content_type="application/pdf", name="two")
    third = uploaded(api, a, data, name="one")
    assert len({first["id"], second["id"], third["id"]}) == 3
    assert first["sha256"] == second["sha256"] == third["sha256"]
    digest = bytes.fromhex(first["sha256"])
    assert api.sql("SELECT count(*), sum(size) FROM file_blobs WHERE sha256 = %s", (digest,)) == [(1, len(data))]
    assert api.sql("SELECT count(*) FROM files WHERE sha256 = %s", (digest,)) == [(3,)]
    assert api.get(second["url"], b).content == data
    assert api.get(second["url"], b).headers["Content-Type"] == "application/pdf"


def test_concurrent_uploads_of_the_same_bytes_share_one_blob(api):
    from concurrent.futures import ThreadPoolExecutor
    users = [api.signup() for _ in range(4)]
    data = os.urandom(300_000)

    def up(i):  # a session per request: requests.Session is not meant to be shared by threads
        user = users[i % len(users)]
        return requests.post(api.url + "/api/files", params={"name": f"copy{i}"}, data=data, timeout=60,
                             headers={**user.auth, "Content-Type": "application/octet-stream"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(up, range(16)))
    assert [r.status_code for r in answers] == [201] * 16, [r.text for r in answers if r.status_code != 201]
    assert len({r.json()["id"] for r in answers}) == 16
    digest = hashlib.sha256(data).digest()
    assert api.sql("SELECT count(*) FROM file_blobs WHERE sha256 = %s", (digest,)) == [(1,)]
    assert api.sql("SELECT count(*) FROM files WHERE sha256 = %s", (digest,)) == [(16,)]


# ---------------------------------------------------------------------------- HTTP semantics


def test_ranges(api):
    a = api.signup()
    data = bytes(range(256)) * 40  # 10240 bytes
    url = uploaded(api, a, data)["url"]
    cases = [("bytes=0-0", 0, 0), ("bytes=100-199", 100, 199), ("bytes=10000-", 10000, 10239),
             ("bytes=-16", 10224, 10239), ("bytes=5000-99999", 5000, 10239), ("bytes=-99999", 0, 10239)]
    for header, first, last in cases:
        r = api.get(url, a, headers={"Range": header})
        assert r.status_code == 206, (header, r.status_code)
        assert r.content == data[first:last + 1], header
        assert r.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}", header
        assert int(r.headers["Content-Length"]) == last - first + 1
    for header in ["bytes=10240-", "bytes=20000-20001", "bytes=-0"]:
        r = api.get(url, a, headers={"Range": header})
        expect_error(r, 416, "range_not_satisfiable")
        assert r.headers["Content-Range"] == f"bytes */{len(data)}", header
    # Ignored: several ranges, another unit, nonsense, an If-Range of another validator.
    for headers in [{"Range": "bytes=0-1,5-6"}, {"Range": "lines=1-2"}, {"Range": "bytes=9-3"},
                    {"Range": "bytes=0-1", "If-Range": '"other"'}]:
        r = api.get(url, a, headers=headers)
        assert r.status_code == 200 and r.content == data, headers
    r = api.get(url, a, headers={"Range": "bytes=0-1", "If-Range": r.headers["ETag"]})
    assert r.status_code == 206 and r.content == data[:2]


def test_etag_if_none_match_is_304(api):
    a = api.signup()
    data = b"cache me" * 100
    url = uploaded(api, a, data)["url"]
    etag = api.get(url, a).headers["ETag"]
    assert etag == f'"{hashlib.sha256(data).hexdigest()}"'
    for value in [etag, f'W/{etag}', f'"nope", {etag}', "*"]:
        r = api.get(url, a, headers={"If-None-Match": value})
        assert r.status_code == 304, value
        assert r.content == b""
        assert r.headers["ETag"] == etag
    r = api.get(url, a, headers={"If-None-Match": '"something-else"'})
    assert r.status_code == 200 and r.content == data


def test_head_gives_the_length_without_the_body(api):
    a = api.signup()
    data = os.urandom(5000)
    url = uploaded(api, a, data)["url"]
    r = api.request("HEAD", url, a)
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == 5000
    assert r.content == b""


# ---------------------------------------------------------------------------- who may read


def test_access_uploader_room_members_and_outsiders(api):
    owner, member, outsider = api.signup(), api.signup(), api.signup()
    data = b"for the room only"
    body = uploaded(api, owner, data, name="room.txt")
    url = body["url"]
    # Not posted anywhere yet: the uploader only.
    assert api.get(url, owner).content == data
    expect_error(api.get(url, member), 403, "forbidden")
    room = api.group(owner, [member], name="files")
    attach(api, room, owner, body["id"])
    assert api.get(url, member).content == data
    expect_error(api.get(url, outsider), 403, "forbidden")
    # A deleted message no longer shares it.
    other = uploaded(api, owner, b"deleted later")
    attach(api, room, owner, other["id"], deleted=True)
    expect_error(api.get(other["url"], member), 403, "forbidden")
    assert api.get(other["url"], owner).status_code == 200


def test_unknown_malformed_and_unauthenticated(api):
    a = api.signup()
    expect_error(api.get(f"/api/files/{uuid.uuid4()}", a), 404, "not_found")
    expect_error(api.get("/api/files/not-a-uuid", a), 400, "validation_error")
    url = uploaded(api, a, b"secret")["url"]
    expect_error(api.get(url), 401, "unauthorized")
    expect_error(api.post("/api/files", data=b"x", headers={"Content-Type": "text/plain"}), 401, "unauthorized")
    # Without a valid token the route's larger body limit does not apply: 413 past 64 KiB, from
    # the headers (nothing unauthenticated makes the node buffer an upload).
    r = api.post("/api/files", data=b"x" * 200_000, headers={"Content-Type": "application/octet-stream"})
    expect_error(r, 413, "payload_too_large")
    r = api.post("/api/files", data=b"x" * 200_000, headers={"Content-Type": "application/octet-stream",
                                                             "Authorization": "Bearer forged.token.here"})
    expect_error(r, 413, "payload_too_large")


def test_upper_case_id_names_the_same_file(api):
    a = api.signup()
    body = uploaded(api, a, b"case")
    assert api.get(f"/api/files/{body['id'].upper()}", a).content == b"case"


# ---------------------------------------------------------------------------- clean-up


def test_cleanup_removes_old_unreferenced_uploads_and_keeps_referenced_ones(api):
    a = api.signup()
    room = api.group(a, [], name="keep")
    shared = os.urandom(3000)
    old_unreferenced = uploaded(api, a, os.urandom(2000))
    old_referenced = uploaded(api, a, os.urandom(2000))
    old_dedup = uploaded(api, a, shared)  # its blob is still used by a recent upload
    recent = uploaded(api, a, shared)
    attach(api, room, a, old_referenced["id"])
    ids = [old_unreferenced["id"], old_referenced["id"], old_dedup["id"]]
    api.sql("UPDATE files SET created_at = now() - interval '25 hours' WHERE id = ANY(%s::uuid[])", (ids,))

    def files_left():
        return {str(r[0]) for r in api.sql("SELECT id FROM files WHERE uploader_id = %s", (a.id,))}

    wait_for(lambda: old_unreferenced["id"] not in files_left() and old_dedup["id"] not in files_left(), 15,
             what="the clean-up of old unreferenced uploads")
    assert files_left() == {old_referenced["id"], recent["id"]}
    blob = lambda f: api.sql("SELECT count(*) FROM file_blobs WHERE sha256 = %s", (bytes.fromhex(f["sha256"]),))
    assert blob(old_unreferenced) == [(0,)]
    assert blob(old_referenced) == [(1,)]
    assert blob(recent) == [(1,)]
    expect_error(api.get(old_unreferenced["url"], a), 404, "not_found")
    assert api.get(old_referenced["url"], a).status_code == 200
    assert api.get(recent["url"], a).content == shared


# ---------------------------------------------------------------------------- chatctl download


def test_chatctl_download(api, tmp_path):
    import subprocess
    from conftest import BUILD
    chatctl = BUILD / "apps" / "chatctl" / "chatctl"
    if not chatctl.exists():
        pytest.fail(f"{chatctl} is missing: build it first (ninja chatctl)")
    owner, outsider = api.signup(), api.signup()
    data = os.urandom(200_000) + b"\0"
    body = uploaded(api, owner, data, content_type="application/pdf", name="Grüße.pdf")

    def run(user, *args):
        env = dict(os.environ, CHAT_SERVER=api.url, CHAT_TOKEN=user.token, HOME=str(tmp_path), NO_COLOR="1")
        return subprocess.run([str(chatctl), *args], env=env, cwd=tmp_path, capture_output=True, timeout=60)

    r = run(owner, "download", body["id"])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "Grüße.pdf").read_bytes() == data
    assert r.stdout.decode().strip() == "Grüße.pdf"
    # An existing file is kept without --force; a url works as well as the id.
    r = run(owner, "download", api.url + body["url"])
    assert r.returncode == 1 and b"exists" in r.stderr
    r = run(owner, "download", body["url"], "-O", str(tmp_path / "copy.bin"), "-o", "json")
    assert r.returncode == 0, r.stderr
    out = __import__("json").loads(r.stdout)
    assert out["size"] == len(data) and out["sha256"] == hashlib.sha256(data).hexdigest()
    assert out["mimeType"] == "application/pdf" and out["name"] == "Grüße.pdf"
    assert (tmp_path / "copy.bin").read_bytes() == data
    r = run(owner, "download", body["id"], "-O", "-")
    assert r.returncode == 0 and r.stdout == data
    # Exit statuses: forbidden 5, unknown 4, not an id 2.
    assert run(outsider, "download", body["id"], "-O", str(tmp_path / "x")).returncode == 5
    assert run(owner, "download", str(uuid.uuid4()), "-O", str(tmp_path / "y")).returncode == 4
    assert run(owner, "download", "nonsense").returncode == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
