"""Operator commands (issue 21, docs/operations.md "Checking and generating a configuration",
docs/chatctl.md "Operators"):

- `chatd checkconfig`: exit 0 with a summary for good settings; exit 2 naming the problem for a
  misspelt key in the file, a bad value, an unreadable secret file, a Kafka property librdkafka
  refuses, an unwritable ports-file folder; the precedence flag > file > environment;
- `chatd genconfig`: every setting commented with its default, given ones set; a node started
  with `--config` on that file runs with them;
- `chatctl admin gentoken`: a token chatd accepts (and one from another secret it refuses);
  usage errors exit 2."""
from __future__ import annotations

import json
import re
import subprocess

import requests

from chatlib import create_user
from conftest import BUILD, CHATD, JWT_SECRET

CHATCTL = BUILD / "apps" / "chatctl" / "chatctl"
GOOD = ["--database-url", "postgresql://chat@127.0.0.1:5432/chat", "--jwt-secret", "x" * 32]


def chatd(*args, env=None):
    return subprocess.run([str(CHATD), *args], capture_output=True, text=True, timeout=30, env=env or {})


def test_checkconfig_passes_good_settings_and_names_each_bad_one(tmp_path):
    r = chatd("checkconfig", *GOOD, "--http-port", "8181")
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout and "0.0.0.0:8181" in r.stdout
    assert "x" * 32 not in r.stdout + r.stderr  # the secret is never printed

    typo = tmp_path / "typo.toml"
    typo.write_text('http-prot = 8181\n')
    bad_value = tmp_path / "bad.toml"
    bad_value.write_text('presence-ttl = "1s"\n')
    unwritable = tmp_path / "missing-folder" / "ports.json"
    cases = {
        "misspelt key": (["--config", str(typo)], "http-prot"),
        "bad value": (["--config", str(bad_value)], "--presence-ttl"),
        "secret file": (["--jwt-secret-file", str(tmp_path / "nope")], "nope"),
        "kafka property": (["--kafka-property", "linger.ms=soon"], "linger.ms"),
        "ports file": (["--ports-file", str(unwritable)], "missing-folder"),
        "no database": (["--database-url", ""], "--database-url"),
    }
    for what, (extra, named) in cases.items():
        base = [a for a in GOOD] if what != "secret file" else GOOD[:2]
        r = chatd("checkconfig", *base, *extra)
        assert r.returncode == 2, (what, r.stdout, r.stderr)
        assert named in r.stderr, (what, r.stderr)
        assert "OK" not in r.stdout, what


def test_config_file_precedence_flag_then_file_then_environment(tmp_path):
    cfg = tmp_path / "chatd.toml"
    cfg.write_text("http-port = 8282\n")
    env = {"CHATD_HTTP_PORT": "8383", "CHATD_STOMP_PORT": "8484"}
    r = chatd("checkconfig", *GOOD, "--config", str(cfg), env=env)
    assert r.returncode == 0, r.stderr
    assert "0.0.0.0:8282" in r.stdout and "0.0.0.0:8484" in r.stdout  # file over env; env where the file is silent
    r = chatd("checkconfig", *GOOD, "--config", str(cfg), "--http-port", "8585", env=env)
    assert "0.0.0.0:8585" in r.stdout  # the flag over both


def test_genconfig_lists_every_setting_and_a_node_runs_on_it(stack, database, chatd_factory, tmp_path):
    r = chatd("genconfig", "--node-id", "from-genconfig", "--io-threads", "3")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    # Every flag of --help is in the file (commented with its default unless given).
    help_text = chatd("--help").stdout
    flags = {m.group(1) for m in re.finditer(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]+)", help_text, re.M)}
    assert len(flags) > 50, help_text
    flags -= {"help", "version", "config"}
    missing = [f for f in flags if f"{f}=" not in text]
    assert not missing, missing
    assert 'node-id="from-genconfig"' in text.splitlines() and "io-threads=3" in text.splitlines()
    assert "# http-port=8080" in text.splitlines()
    assert not [line for line in text.splitlines() if line and not line.startswith("#") and "=" not in line]

    path = tmp_path / "generated.toml"
    path.write_text(text)
    r = chatd("checkconfig", "--config", str(path), *GOOD)
    assert r.returncode == 0, r.stderr
    node = chatd_factory(stack, database_url=database, args=["--config", str(path)])
    assert requests.get(node.url + "/readyz", timeout=10).status_code == 200
    assert "from-genconfig" in node.log_path.read_text()


def test_gentoken_makes_a_token_chatd_accepts(stack, database, chatd_factory, tmp_path):
    node = chatd_factory(stack, database_url=database)
    user = create_user(database, nickname="ops")
    secret = tmp_path / "jwt-secret"
    secret.write_text(JWT_SECRET + "\n")
    r = subprocess.run([str(CHATCTL), "admin", "gentoken", "--user", str(user), "--ttl", "5m", "--secret-file",
                        str(secret), "-o", "json"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    token = json.loads(r.stdout)["token"]
    me = requests.get(node.url + "/api/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user

    other = tmp_path / "other-secret"
    other.write_text("another-secret-0123456789abcdef-xyz")
    r = subprocess.run([str(CHATCTL), "admin", "gentoken", "--user", str(user), "--secret-file", str(other)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    refused = requests.get(node.url + "/api/users/me", headers={"Authorization": f"Bearer {r.stdout.strip()}"},
                           timeout=10)
    assert refused.status_code == 401

    short = tmp_path / "short"
    short.write_text("too-short")
    for args, named in [(["--user", "0", "--secret-file", str(secret)], "--user"),
                        (["--user", "1", "--ttl", "never", "--secret-file", str(secret)], "--ttl"),
                        (["--user", "1", "--secret-file", str(short)], "32 bytes"),
                        (["--user", "1", "--secret-file", str(tmp_path / "none")], "cannot read")]:
        r = subprocess.run([str(CHATCTL), "admin", "gentoken", *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (args, r.stderr)
        assert named in r.stderr, (args, r.stderr)
