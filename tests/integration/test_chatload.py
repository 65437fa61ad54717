"""chatload (docs/chatload.md, issue 7) against a real chatd: set-up through REST or a fixture file,
one STOMP session per user, open-model and closed sessions-model sends, generic STOMP mode,
the --assert / --json / --html / --hgrm contract, compare, self-monitoring and a fault that
must show up (docs/chatload.md)."""
from __future__ import annotations

import html.parser
import json
import signal
import subprocess
import threading
import time
import uuid

import psycopg
import pytest

from conftest import BUILD, wait_for

CHATLOAD = BUILD / "apps" / "chatload" / "chatload"
RAISED_LIMITS = {"CHATD_RATE_LIMIT": "1000", "CHATD_RATE_BURST": "1000"}
# Generous self-monitoring bounds: the machine is shared, and these tests check correctness,
# not the generator's headroom (one test forces an invalid run on purpose).
LOOSE = ["--max-lag-ms", "5000", "--max-cpu", "60"]


def run_chatload(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    if not CHATLOAD.exists():
        pytest.fail(f"{CHATLOAD} is missing: build the chatload target first")
    return subprocess.run([str(CHATLOAD), *args], capture_output=True, text=True, timeout=timeout)


def wait_until_delivering(chatd, timeout: float = 90):
    """A fresh chatd is ready (/readyz) before its Kafka consumers own their partitions; messages
    sent in between are not delivered live. Probe with a tiny run until one delivers everything."""
    deadline = time.monotonic() + timeout
    while True:
        p = run_chatload("--url", chatd.url, "--users", "2", "--rooms", "1", "--members", "2", "--rate", "10",
                         "--duration", "0.5", "--drain", "3", *LOOSE, "--quiet", "--assert", "lost==0", timeout=60)
        if p.returncode == 0:
            return chatd
        if time.monotonic() > deadline:
            raise AssertionError(f"{chatd.name} does not deliver live messages:\n{p.stdout}{p.stderr}")


@pytest.fixture
def node(stack, database, chatd_factory):
    return wait_until_delivering(chatd_factory(stack, database_url=database, env=RAISED_LIMITS))


SMALL = ["--users", "20", "--rooms", "4", "--members", "5", "--rate", "50", "--duration", "5"]


def user_count(database: str) -> int:
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def check_counts_add_up(r: dict, members: int):
    c = r["counts"]
    assert c["sent"] + c["dropped_sends"] + c["send_errors"] == c["planned"]
    assert c["expected"] == c["sent"] * members
    assert c["delivered"] + c["lost"] == c["expected"]
    assert sum(s["sent"] for s in r["per_second"]) == c["sent"]
    assert sum(s["delivered"] for s in r["per_second"]) == c["delivered"]
    assert r["timeline"][-1]["sent"] == c["sent"]
    assert r["errors"] == {} or c["errors"] == sum(r["errors"].values())


def test_small_run_over_websocket_delivers_everything_once_in_order(node, tmp_path):
    report = tmp_path / "report.json"
    p = run_chatload("--url", node.url, *SMALL, *LOOSE, "--json", str(report),
                     "--server-metrics", node.metrics_url,
                     "--assert", "lost==0", "--assert", "duplicated==0", "--assert", "reordered==0",
                     "--assert", "errors==0", "--assert", "dropped_sends==0",
                     # issue 7's own examples: a percentage rate and the p99.9 spelling
                     "--assert", "error_rate<0.1%", "--assert", "p99.9<60s", "--assert", "delivered>=1250")
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(report.read_text())
    assert r["schema"] == "chatload-report/1"
    c = r["counts"]
    assert c["planned"] == 250
    assert c["sent"] == 250
    assert c["receipts"] == 250
    assert c["expected"] == 250 * 5
    assert c["delivered"] == c["sent"] * 5
    assert c["lost"] == c["duplicated"] == c["reordered"] == 0
    check_counts_add_up(r, 5)
    d = r["latency_ms"]["delivery"]
    assert d["count"] == 1250
    assert 0 < d["p50"] <= d["p90"] <= d["p99"] <= d["p999"] <= d["max"]
    assert r["latency_ms"]["connect"]["count"] == 20
    assert r["latency_ms"]["subscribe"]["count"] == 20  # one room each: 4 rooms x 5 members / 20 users
    assert len(r["per_second"]) == 5
    for s in r["per_second"]:
        assert s["sent"] == 50
        assert s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"] <= s["max_ms"]
    assert r["setup"]["source"] == "created"
    assert r["validity"]["valid"] is True
    assert r["generator"]["send_lag_ms"]["count"] == 250
    assert all(a["ok"] for a in r["assertions"]) and len(r["assertions"]) == 8
    # The latency anatomy from the node's /metrics (--server-metrics): every stage saw the run.
    stages = r["server_stages"]
    assert set(stages) == {"kafka_acked", "broadcast_consumed", "redis_published", "node_received",
                           "socket_written"}, stages
    assert stages["kafka_acked"]["count"] >= 250 and stages["socket_written"]["count"] >= 1250, stages
    assert all(0 <= s["p50_ms"] <= s["p99_ms"] for s in stages.values()), stages
    assert "chatd stages" in p.stdout
    assert {a["assertion"]: a["value"] for a in r["assertions"]}["error_rate<0.1%"] == 0
    assert "send->delivery" in p.stdout
    assert "delivered" in p.stderr  # live progress lines


def test_violated_assertion_exits_99_over_tcp(node, tmp_path):
    report = tmp_path / "report.json"
    p = run_chatload("--url", node.url, "--stomp-url", f"tcp://127.0.0.1:{node.stomp_port}",
                     "--users", "6", "--rooms", "2", "--members", "3", "--rate", "20", "--duration", "2",
                     *LOOSE, "--json", str(report), "--assert", "p50<0ms", "--assert", "lost==0", "--quiet")
    assert p.returncode == 99, p.stdout + p.stderr
    assert "ASSERTION FAILED: p50<0ms" in p.stdout
    assert "lost==0" not in p.stdout.split("ASSERTION FAILED")[-1]
    r = json.loads(report.read_text())
    assert r["counts"]["delivered"] == r["counts"]["sent"] * 3 > 0
    assert [a["ok"] for a in r["assertions"]] == [False, True]


def test_unknown_metric_is_a_usage_error_before_any_work(node):
    p = run_chatload("--url", node.url, "--assert", "p98<5ms", timeout=20)
    assert p.returncode == 2
    assert "unknown metric" in p.stderr


class _Checker(html.parser.HTMLParser):
    """Well-formedness: every opened element (but void ones) is closed in order."""
    VOID = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.canvases, self.external = [], [], [], []
        self.data_json = None
        self._in_report = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a:
                self.external.append(a[k])
        if tag == "canvas":
            self.canvases.append(a.get("id"))
        self._in_report = tag == "script" and a.get("id") == "report"
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()
        self._in_report = False

    def handle_data(self, data):
        if self._in_report:
            self.data_json = (self.data_json or "") + data


def test_ramp_html_hgrm_and_compare(node, tmp_path):
    report, page, hgrm = tmp_path / "r.json", tmp_path / "r.html", tmp_path / "r.hgrm"
    p = run_chatload("--url", node.url, "--users", "12", "--rooms", "3", "--members", "4", "--rate", "60",
                     "--ramp-up", "2", "--duration", "3", *LOOSE, "--quiet",
                     "--json", str(report), "--html", str(page), "--hgrm", str(hgrm))
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(report.read_text())
    c = r["counts"]
    assert c["planned"] == 60 * 2 // 2 + 60 * 3  # the ramp sends half its full-rate count
    assert c["lost"] == 0 and c["delivered"] == c["sent"] * 4, p.stdout
    check_counts_add_up(r, 4)
    # The ramp: the first second carries a quarter of the ramp's sends, the second three quarters.
    assert [s["sent"] for s in r["per_second"]] == [15, 45, 60, 60, 60]
    # Latency histograms leave the ramp out; the per-second series keep it.
    assert r["latency_ms"]["delivery"]["count"] == 180 * 4

    # --html: well-formed, three plots, nothing external, the report embedded.
    checker = _Checker()
    checker.feed(page.read_text())
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert checker.canvases == ["latency", "curve", "throughput"]
    assert checker.external == []
    assert json.loads(checker.data_json) == r

    # --hgrm: HdrHistogram's percentile distribution of the same histogram.
    lines = hgrm.read_text().splitlines()
    assert lines[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    rows = [ln.split() for ln in lines[2:] if ln and not ln.startswith("#")]
    values = [float(x[0]) for x in rows]
    pcts = [float(x[1]) for x in rows]
    counts = [int(x[2]) for x in rows]
    assert values == sorted(values) and pcts == sorted(pcts) and counts == sorted(counts)
    assert pcts[0] == 0.0 and pcts[-1] == 1.0 and len(rows[-1]) == 3
    assert counts[-1] == r["latency_ms"]["delivery"]["count"]
    assert abs(values[-1] - r["latency_ms"]["delivery"]["max"]) < 0.0015
    assert any(ln.startswith("#[Mean") for ln in lines)

    # compare: equal → 0, regressed → 1, unreadable → 2.
    same = run_chatload("compare", str(report), str(report), timeout=20)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no regression" in same.stdout
    worse = json.loads(report.read_text())
    worse["latency_ms"]["delivery"]["p99"] = r["latency_ms"]["delivery"]["p99"] * 2 + 1
    worse["counts"]["lost"] = 3
    (tmp_path / "worse.json").write_text(json.dumps(worse))
    reg = run_chatload("compare", str(report), str(tmp_path / "worse.json"), "--tolerance", "10%", timeout=20)
    assert reg.returncode == 1, reg.stdout + reg.stderr
    regressed = [ln.split()[0] for ln in reg.stdout.splitlines() if "REGRESSED" in ln]
    assert regressed == ["p99_ms", "lost_rate"]
    bad = run_chatload("compare", str(report), str(tmp_path / "missing.json"), timeout=20)
    assert bad.returncode == 2
    assert run_chatload("compare", str(report), str(report), "--tolerance", "x", timeout=20).returncode == 2


def test_fixture_reuse_skips_set_up(node, database, tmp_path):
    fixture = tmp_path / "fixture.json"
    args = ["--url", node.url, "--users", "10", "--rooms", "2", "--members", "5", "--rate", "20",
            "--duration", "2", *LOOSE, "--fixture", str(fixture)]
    users_before = user_count(database)  # the readiness probe's users
    first = run_chatload(*args, "--json", str(tmp_path / "1.json"))
    assert first.returncode == 0, first.stdout + first.stderr
    f = json.loads(fixture.read_text())
    assert f["schema"] == "chatload-fixture/1" and len(f["accounts"]) == 10 and len(f["room_ids"]) == 2
    users_after_first = user_count(database)
    assert users_after_first == users_before + 10

    # Stale tokens are renewed by login with the stored password.
    for a in f["accounts"]:
        a["token"] = "expired." + a["token"][-10:]
    fixture.write_text(json.dumps(f))
    second = run_chatload(*args, "--json", str(tmp_path / "2.json"), "--assert", "lost==0")
    assert second.returncode == 0, second.stdout + second.stderr
    r = json.loads((tmp_path / "2.json").read_text())
    assert r["setup"]["source"] == "fixture"
    assert "reused" in second.stderr
    assert user_count(database) == users_after_first  # nobody signed up again
    assert r["counts"]["delivered"] == r["counts"]["sent"] * 5 > 0
    assert json.loads(fixture.read_text())["accounts"][0]["token"] != f["accounts"][0]["token"]

    # A fixture that does not fit the scenario is a usage error before any work.
    p = run_chatload("--url", node.url, "--users", "11", "--rooms", "2", "--members", "5",
                     "--fixture", str(fixture), timeout=20)
    assert p.returncode == 2
    assert "10 users" in p.stderr and "11 users" in p.stderr
    (tmp_path / "broken.json").write_text("{")
    p = run_chatload("--url", node.url, "--fixture", str(tmp_path / "broken.json"), timeout=20)
    assert p.returncode == 2 and "not valid JSON" in p.stderr


def test_fixture_of_another_database_fails_the_run(stack, chatd_factory, node, tmp_path):
    fixture = tmp_path / "fixture.json"
    args = ["--users", "4", "--rooms", "1", "--members", "4", "--rate", "10", "--duration", "1", *LOOSE,
            "--fixture", str(fixture), "--quiet"]
    assert run_chatload("--url", node.url, *args).returncode == 0
    other = wait_until_delivering(chatd_factory(stack, database_url=stack.create_database("t_other_" + uuid.uuid4().hex[:10]),
                                                env=RAISED_LIMITS, name="chatd-other"))
    p = run_chatload("--url", other.url, *args)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "fixture" in p.stderr


def test_sessions_mode_sends_after_each_receipt(node, tmp_path):
    report = tmp_path / "s.json"
    p = run_chatload("--url", node.url, "--mode", "sessions", "--users", "10", "--rooms", "2", "--members", "5",
                     "--think", "0.05", "--ramp-up", "0.5", "--duration", "3", *LOOSE, "--json", str(report),
                     "--assert", "lost==0", "--assert", "duplicated==0", "--assert", "reordered==0")
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(report.read_text())
    c = r["counts"]
    assert r["config"]["mode"] == "sessions"
    assert c["sent"] >= 10  # every session sent
    assert c["receipts"] == c["sent"] and c["receipt_timeouts"] == 0
    assert c["delivered"] == c["sent"] * 5
    check_counts_add_up(r, 5)
    # Closed loop: a session has at most one SEND outstanding, so ~(3.5 s / (50 ms + RTT)) each.
    assert c["sent"] <= 10 * (3.5 / 0.05 + 1)
    assert r["latency_ms"]["receipt"]["count"] > 0


def test_generic_mode_against_chatd_stomp(node, tmp_path):
    fixture = tmp_path / "fixture.json"
    setup = run_chatload("--url", node.url, "--users", "8", "--rooms", "2", "--members", "4", "--rate", "10",
                         "--duration", "1", *LOOSE, "--fixture", str(fixture), "--quiet")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    report = tmp_path / "g.json"
    p = run_chatload("--generic", "--stomp-url", f"tcp://127.0.0.1:{node.stomp_port}", "--fixture", str(fixture),
                     "--send-dest", "/topic/room.{room}", "--sub-dest", "/topic/room.{room}",
                     "--users", "8", "--rooms", "2", "--members", "4", "--rate", "40", "--duration", "3",
                     *LOOSE, "--json", str(report), "--assert", "lost==0", "--assert", "duplicated==0",
                     "--assert", "reordered==0")
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(report.read_text())
    assert r["config"]["generic"] is True and r["config"]["send_dest"] == "/topic/room.{room}"
    assert r["counts"]["sent"] == 120
    assert r["counts"]["receipts"] == 120
    assert r["counts"]["delivered"] == 120 * 4
    check_counts_add_up(r, 4)
    # Without the fixture's tokens chatd refuses the sessions: the run fails (exit 1).
    p = run_chatload("--generic", "--stomp-url", f"tcp://127.0.0.1:{node.stomp_port}", "--login", "x",
                     "--passcode", "not-a-token", "--users", "2", "--rooms", "1", "--members", "2",
                     "--duration", "1", "--quiet", timeout=60)
    assert p.returncode == 1
    assert "unauthorized" in p.stderr or "closed" in p.stderr


def test_generic_mode_needs_a_stomp_url(node):
    p = run_chatload("--generic", "--users", "2", "--rooms", "1", "--members", "2", timeout=20)
    assert p.returncode == 2 and "--stomp-url" in p.stderr


def test_overloaded_generator_marks_the_run_invalid_exit_3(node, tmp_path):
    report = tmp_path / "inv.json"
    # A CPU bound no process can meet; the violated assertion does not matter any more.
    p = run_chatload("--url", node.url, "--users", "6", "--rooms", "2", "--members", "3", "--rate", "20",
                     "--duration", "2", "--max-cpu", "0.00001", "--max-lag-ms", "5000", "--quiet",
                     "--json", str(report), "--assert", "p50<0ms")
    assert p.returncode == 3, p.stdout + p.stderr
    r = json.loads(report.read_text())
    assert r["validity"]["valid"] is False
    assert any("CPU" in why for why in r["validity"]["reasons"])
    assert "INVALID RUN" in p.stdout
    assert r["counts"]["delivered"] == r["counts"]["sent"] * 3  # the run itself was carried out
    # compare refuses to judge an invalid report.
    assert run_chatload("compare", str(report), str(report), timeout=20).returncode == 3


def test_killed_node_shows_up_as_lost_or_errors(node, tmp_path):
    report = tmp_path / "fault.json"
    proc = subprocess.Popen([str(CHATLOAD), "--url", node.url, "--users", "10", "--rooms", "2", "--members", "5",
                             "--rate", "40", "--duration", "6", "--drain", "3", *LOOSE, "--json", str(report),
                             "--assert", "lost==0", "--assert", "errors==0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr_lines: list[str] = []
    ticks = threading.Event()

    def read_stderr():
        for line in proc.stderr:
            stderr_lines.append(line)
            if line.startswith("[") and "sent" in line and len([x for x in stderr_lines if x.startswith("[")]) >= 2:
                ticks.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    assert ticks.wait(120), "".join(stderr_lines)
    node.proc.send_signal(signal.SIGKILL)  # the node dies mid-run
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=10)
    assert proc.returncode == 99, out + "".join(stderr_lines)
    r = json.loads(report.read_text())
    c = r["counts"]
    assert c["sent"] > 0
    # Nothing is hidden: what was not delivered is lost or failed to send, and the closed
    # sessions are errors.
    assert c["lost"] + c["send_errors"] > 0
    assert c["sent"] + c["send_errors"] + c["dropped_sends"] == c["planned"]
    assert any(k.startswith("session_closed") for k in r["errors"]), r["errors"]
    assert "ASSERTION FAILED: errors==0" in out
    # The sessions the dead node dropped are disconnected, by the connection's end.
    d = r["sessions_disconnected"]
    assert d["total"] == 10 and c["sessions_disconnected"] == 10
    assert all(k.startswith("connection: ") for k in d["by_reason"]), d


def test_phases_answers_and_recovery(node, tmp_path):
    """--phases (issue 18): one run offers one rate and then another; every SEND is answered
    (here: receipted), the phases add up, recovery_seconds is measured after the first one."""
    report = tmp_path / "phases.json"
    p = run_chatload("--url", node.url, "--stomp-url", f"tcp://127.0.0.1:{node.stomp_port}",
                     "--users", "10", "--rooms", "2", "--members", "5", "--phases", "40x2,10x2",
                     # a threshold nothing misses: this checks the bookkeeping, not the speed
                     "--recovery-threshold-ms", "60000", *LOOSE, "--json", str(report), "--quiet",
                     "--assert", "unanswered==0", "--assert", "disconnected==0", "--assert", "receipted_lost==0")
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(report.read_text())
    c = r["counts"]
    assert c["planned"] == c["sent"] == 100
    assert [ph["planned"] for ph in r["phases"]] == [80, 20]
    assert [ph["rate"] for ph in r["phases"]] == [40, 10]
    assert c["sends_unanswered"] == 0 and c["sessions_disconnected"] == 0
    assert r["answers"]["receipted"] == 100
    assert sum(ph["receipted"] for ph in r["phases"]) == 100
    # Goodput counts what arrived while a phase ran: at most what it offered.
    assert 0 < r["phases"][0]["goodput"]["receipted_per_s"] <= 40
    assert 0 < r["goodput"]["receipted_per_s"] <= 25
    assert r["timeline"][-1]["refused"] == 0
    assert r["receipted"]["expected"] == r["receipted"]["delivered"] == 500
    assert r["recovery_seconds"] == 0 and r["phases"][0]["recovery_s"] == 0
    assert r["phases"][1]["recovery_s"] is None
    assert sum(s["refused"] for s in r["per_second"]) == 0
    check_counts_add_up(r, 5)


def test_rate_limited_sends_are_answered_and_counted(stack, database, chatd_factory, tmp_path):
    node = wait_until_delivering(chatd_factory(stack, database_url=database))  # default limit: 10/s, burst 20
    report = tmp_path / "limited.json"
    # Two senders at 30 SENDs/s each for 2 s: about 40 of each one's 60 pass, the rest are refused.
    p = run_chatload("--url", node.url, "--users", "2", "--rooms", "1", "--members", "2", "--rate", "60",
                     "--duration", "2", *LOOSE, "--json", str(report), "--quiet")
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(report.read_text())
    a, c = r["answers"], r["counts"]
    assert a["rate_limited"] > 0 and a["receipted"] > 0, a
    assert a["unanswered"] == 0, a
    assert a["receipted"] + a["rate_limited"] + a["overloaded"] + a["not_accepted"] + a["other_errors"] == c["sent"]
    assert a["refusals_by_message"] == {"soft_error: rate_limited": a["rate_limited"]}
    # What was receipted was delivered; what was refused was not.
    assert r["receipted"]["expected"] == r["receipted"]["delivered"] == a["receipted"] * 2
    assert c["lost"] == a["rate_limited"] * 2 and r["receipted"]["refused_but_delivered"] == 0
    assert sum(s["refused"] for s in r["per_second"]) == a["rate_limited"]
    assert r["sessions_disconnected"]["total"] == 0


def test_login_flood_counts_answers_by_status(node, tmp_path):
    report = tmp_path / "flood.json"
    p = run_chatload("--url", node.url, "--users", "4", "--rooms", "1", "--members", "4", "--rate", "20",
                     "--duration", "2", "--login-flood", "2", *LOOSE, "--json", str(report), "--quiet")
    assert p.returncode == 0, p.stdout + p.stderr
    f = json.loads(report.read_text())["login_flood"]
    assert f["threads"] == 2 and f["requests"] > 0
    assert sum(f["by_status"].values()) == f["requests"] == f["latency_ms"]["count"]
    # Unknown users are never let in, and every attempt got an HTTP answer.
    assert not any(k.startswith("2") or k.startswith("error") for k in f["by_status"]), f["by_status"]
    assert "login flood: 2 threads" in p.stdout


def test_phases_and_login_flood_usage_errors(node):
    for args in (["--phases", "100x2", "--rate", "5"], ["--phases", "100x"], ["--phases", "100x2", "--mode", "sessions"],
                 ["--generic", "--stomp-url", "tcp://127.0.0.1:1", "--login-flood", "2"]):
        p = run_chatload("--url", node.url, *args, timeout=20)
        assert p.returncode == 2, (args, p.stdout, p.stderr)


def test_mixed_traffic_edits_deletes_and_reactions_are_delivered_once_in_order(node, tmp_path):
    """--mix (issue 14): edits, deletes and reactions of the sessions' own receipted messages
    (their RECEIPT's message-id) go out over /app/chat.edit, .delete, .react; every event is
    delivered to every member once and in room order, and the report counts them by kind."""
    report = tmp_path / "mix.json"
    p = run_chatload("--url", node.url, *SMALL, *LOOSE, "--mix", "send=60,edit=15,delete=10,react=15",
                     "--json", str(report), "--assert", "lost==0", "--assert", "duplicated==0",
                     "--assert", "reordered==0", "--assert", "errors==0")
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(report.read_text())
    assert r["config"]["mix"] == "send=60,edit=15,delete=10,react=15"
    check_counts_add_up(r, 5)
    kinds = r["events"]["by_kind"]
    assert r["events"]["receipts_without_id"] == 0
    for kind in ("message", "message.edited", "message.deleted", "reaction.added"):
        assert kinds[kind]["issued"] > 0, (kind, kinds)
    for kind, k in kinds.items():
        assert k["issued"] == k["receipted"], (kind, k)
        assert k["expected"] == k["issued"] * 5 and k["delivered"] == k["expected"], (kind, k)
        assert k["lost"] == k["duplicated"] == k["reordered"] == 0, (kind, k)
    assert sum(k["issued"] for k in kinds.values()) == r["counts"]["sent"]
    assert "mix send=60,edit=15,delete=10,react=15" in p.stdout
    # What the store shows once the persistence consumer caught up: one tombstone per delete,
    # and edited messages.
    def store_counts():
        with psycopg.connect(node.env["CHATD_DATABASE_URL"]) as conn:
            return (conn.execute("SELECT count(*) FROM messages WHERE deleted").fetchone()[0],
                    conn.execute("SELECT count(*) FROM messages WHERE edited_at IS NOT NULL").fetchone()[0])
    wait_for(lambda: store_counts()[0] == kinds["message.deleted"]["issued"], 30, what="the deletes applied")
    assert 0 < store_counts()[1] <= kinds["message.edited"]["issued"]


def test_mix_usage_errors(node):
    for bad in ("send=80,post=20", "send=0", "edit=five"):
        p = run_chatload("--url", node.url, *SMALL, "--mix", bad, "--quiet")
        assert p.returncode == 2, (bad, p.stdout, p.stderr)
        assert "--mix" in p.stderr, p.stderr
    p = run_chatload("--url", node.url, "--generic", "--stomp-url", f"tcp://127.0.0.1:{node.stomp_port}",
                     "--mix", "send=50,edit=50", "--quiet")
    assert p.returncode == 2 and "--generic" in p.stderr, p.stderr


CHURN = ["--users", "10", "--rooms", "4", "--members", "5", "--rate", "60", "--duration", "6", "--drain", "10"]


def test_churn_drops_and_reconnects_sessions_and_the_ledger_counts_across_them(node, tmp_path):
    """--churn (issue 15): sessions drop their connection without DISCONNECT and reconnect,
    resubscribing each of their rooms with since-id; the ledger counts per member across the
    reconnects. With chatd's since-id recovery every receipted event still reaches every member
    once and in order; without it the gaps show up as losses."""
    report = tmp_path / "churn.json"
    p = run_chatload("--url", node.url, *CHURN, *LOOSE, "--churn", "20%", "--json", str(report))
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(report.read_text())
    ch, c = r["churn"], r["counts"]
    print("churn", json.dumps(ch), "receipted", json.dumps(r["receipted"]))  # shown with -s / on failure
    assert r["config"]["churn"] == 2.0  # 20 % of 10 users a second
    assert ch["drops"] > 0 and ch["reconnects"] == ch["drops"], ch
    assert ch["failed"] == 0 and r["sessions_disconnected"]["total"] == 0, (ch, r["sessions_disconnected"])
    # Each user is in 2 rooms (4 rooms x 5 members / 10 users): one re-SUBSCRIBE RECEIPT per room.
    assert ch["recovered"] + ch["not_recovered"] == 2 * ch["reconnects"], ch
    assert ch["reconnect_ms"]["count"] == ch["reconnects"]
    assert c["sent"] + c["dropped_sends"] + c["send_errors"] + ch["unsent"] == c["planned"]
    assert c["delivered"] + c["lost"] == c["expected"] == c["sent"] * 5
    assert "churn 2.0/s:" in p.stdout and "reconnect" in p.stdout
    if ch["without_recovered_header"] > 0:
        pytest.skip("this chatd answers SUBSCRIBE with since-id without a recovered header (no recovery yet): "
                    f"receipted lost {r['receipted']['lost']}")
    assert ch["truncations"] == 0 and ch["recovered"] == 2 * ch["reconnects"], ch
    rec = r["receipted"]
    assert rec["expected"] > 0 and rec["lost"] == rec["duplicated"] == rec["reordered"] == 0, rec


def test_churn_usage_errors(node):
    for bad in ("0", "-3", "abc", "5%%", "150%"):
        p = run_chatload("--url", node.url, *SMALL, "--churn", bad, "--quiet")
        assert p.returncode == 2, (bad, p.stdout, p.stderr)
        assert "--churn" in p.stderr, p.stderr
    p = run_chatload("--url", node.url, *SMALL, "--mode", "sessions", "--churn", "2", "--quiet")
    assert p.returncode == 2 and "--churn" in p.stderr, p.stderr
    p = run_chatload("--url", node.url, "--generic", "--stomp-url", f"tcp://127.0.0.1:{node.stomp_port}",
                     "--churn", "2", "--quiet")
    assert p.returncode == 2 and "--churn" in p.stderr, p.stderr
