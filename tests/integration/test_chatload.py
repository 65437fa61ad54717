"""chatload (SPEC §10) against a real chatd: set-up through REST, one STOMP session per user,
open-model sends, and the --assert / --json contract (docs/chatload.md)."""
from __future__ import annotations

import json
import subprocess

import pytest

from conftest import BUILD

CHATLOAD = BUILD / "apps" / "chatload" / "chatload"
RAISED_LIMITS = {"CHATD_RATE_LIMIT": "1000", "CHATD_RATE_BURST": "1000"}


def run_chatload(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    if not CHATLOAD.exists():
        pytest.fail(f"{CHATLOAD} is missing: build the chatload target first")
    return subprocess.run([str(CHATLOAD), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def node(stack, database, chatd_factory):
    return chatd_factory(stack, database_url=database, env=RAISED_LIMITS)


SMALL = ["--users", "20", "--rooms", "4", "--members", "5", "--rate", "50", "--duration", "5"]


def test_small_run_over_websocket_delivers_everything_once_in_order(node, tmp_path):
    report = tmp_path / "report.json"
    p = run_chatload("--url", node.url, *SMALL, "--json", str(report),
                     "--assert", "lost==0", "--assert", "duplicated==0", "--assert", "reordered==0",
                     "--assert", "errors==0", "--assert", "dropped_sends==0")
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
    d = r["latency_ms"]["delivery"]
    assert d["count"] == 1250
    assert 0 < d["p50"] <= d["p90"] <= d["p99"] <= d["p999"] <= d["max"]
    assert r["latency_ms"]["connect"]["count"] == 20
    assert len(r["per_second"]) == 5
    assert sum(s["delivered"] for s in r["per_second"]) == c["delivered"]
    assert all(a["ok"] for a in r["assertions"]) and len(r["assertions"]) == 5
    assert "send->delivery" in p.stdout
    assert "delivered" in p.stderr  # live progress lines


def test_violated_assertion_exits_99_over_tcp(node, tmp_path):
    report = tmp_path / "report.json"
    p = run_chatload("--url", node.url, "--stomp-url", f"tcp://127.0.0.1:{node.stomp_port}",
                     "--users", "6", "--rooms", "2", "--members", "3", "--rate", "20", "--duration", "2",
                     "--json", str(report), "--assert", "p50<0ms", "--assert", "lost==0", "--quiet")
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
