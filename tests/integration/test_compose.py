"""compose/ stays consistent with the code: valid YAML, healthchecks, depends_on healthy,
and every CHATD_* variable it sets is a setting chatd knows (from `chatd --help`)."""
import pathlib
import re
import subprocess

import yaml

from conftest import CHATD, REPO

COMPOSE = REPO / "compose" / "docker-compose.yml"


def known_chatd_env() -> set[str]:
    out = subprocess.run([str(CHATD), "--help"], capture_output=True, text=True, timeout=10).stdout
    return set(re.findall(r"Env:(CHATD_[A-Z0-9_]+)", out))


def test_compose_parses_and_has_every_service():
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    assert {"kafka", "postgres", "redis", "chatd-1", "chatd-2", "kafka-ui"} <= services.keys()
    assert services["kafka"]["image"].startswith("apache/kafka:3.9")
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"].startswith("redis:7")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for name in ("kafka", "postgres", "redis", "chatd-1", "chatd-2", "kafka-ui"):
        assert "healthcheck" in services[name], name
    for name, svc in services.items():
        if "image" in svc:
            assert not svc["image"].endswith(":latest") and ":" in svc["image"], f"{name}: pin the image version"
    # Kafka's log lives on the volume (the image's default log.dirs is under /tmp): a Kafka that
    # forgot its log while PostgreSQL kept its rows would hand out message ids again.
    (volume,) = services["kafka"]["volumes"]
    assert volume.split(":")[1] == services["kafka"]["environment"]["KAFKA_LOG_DIRS"]
    for node in ("chatd-1", "chatd-2"):
        deps = services[node]["depends_on"]
        assert {d: deps[d]["condition"] for d in deps} == {
            "postgres": "service_healthy", "redis": "service_healthy", "kafka": "service_healthy"}
        assert services[node]["build"]["dockerfile"] == "Dockerfile"
        assert (COMPOSE.parent / services[node]["build"]["context"] / "Dockerfile").exists()


def test_compose_sets_only_known_chatd_settings():
    known = known_chatd_env()
    assert "CHATD_DATABASE_URL" in known  # the help output is what we think it is
    doc = yaml.safe_load(COMPOSE.read_text())
    used = set()
    for svc in doc["services"].values():
        env = svc.get("environment") or {}
        used |= {k for k in env if k.startswith("CHATD_")}
    assert used, "no CHATD_ settings in compose"
    assert used <= known, f"unknown settings: {sorted(used - known)}"
    # the node-specific essentials are set
    for node in ("chatd-1", "chatd-2"):
        env = doc["services"][node]["environment"]
        for k in ("CHATD_DATABASE_URL", "CHATD_REDIS_URL", "CHATD_KAFKA_BROKERS", "CHATD_JWT_SECRET"):
            assert k in env, (node, k)
        assert env["CHATD_KAFKA_BROKERS"] == "kafka:9092"
        # No built-in default secret on published ports: compose refuses to start without one.
        assert env["CHATD_JWT_SECRET"].startswith("${CHATD_JWT_SECRET:?"), env["CHATD_JWT_SECRET"]


def test_dockerfile_builds_what_compose_runs():
    text = (REPO / "Dockerfile").read_text()
    assert "FROM debian:bookworm AS build" in text
    assert "--target chatd" in text
    assert 'ENTRYPOINT ["/usr/local/bin/chatd"]' in text
