"""deploy/ stays true to chatd (issue 21, SPEC §19; deploy/k8s/README.md):

- Prometheus: `promtool check rules` and `promtool test rules` (every alert fires on series made
  for it and stays quiet on look-alikes), `promtool check config` of the example configuration;
  every alert has `for`, a severity and its annotations, and a firing and a quiet unit test.
- Kubernetes: kubeconform cannot be installed here, so a checker of our own: every manifest
  has its required fields per kind; the base and the dev overlay are built by a small kustomize
  in Python (resources, generators, JSON patches, namespace, images: anything else it refuses)
  and checked as a whole: probes on /readyz and /healthz of a declared port, a grace period
  longer than preStop plus chatd's drain, selectors that match the pods, Services on declared
  ports, the HPA and the PDB on the Deployment, every CHATD_* variable a setting of
  `chatd --help`, and `chatd checkconfig` accepting the resulting environment. Where kubectl
  is installed, `kubectl kustomize` must build the same objects.
- Grafana: the dashboard's JSON (schemaVersion, $datasource, $instance on every query).
- A real Prometheus (/usr/bin/prometheus) scrapes a running chatd with the alert rules loaded:
  the rules evaluate without errors, every metric and label the rules and the dashboard name
  exists in chatd's exposition, every dashboard query runs, and a dead letter makes
  ChatdDeadLetters fire while ChatdNodeDown stays quiet."""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess

import pytest
import requests
import yaml

from conftest import CHATD, REPO, free_port, tail, wait_for
from test_pipeline_consumers import MESSAGES, KafkaOut

DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
DEV = K8S / "overlays" / "dev"
PROM = DEPLOY / "prometheus"
RULES = PROM / "chatd-alerts.yml"
RULE_TESTS = PROM / "chatd-alerts.test.yml"
DASHBOARD = DEPLOY / "grafana" / "chatd-dashboard.json"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
KUBECTL = shutil.which("kubectl")

ALERT_SEVERITIES = {"critical", "warning", "info"}


def need(binary: str) -> str:
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is missing: scripts/bootstrap installs Debian's prometheus package "
                    f"(it brings promtool and prometheus)")
    return binary


def known_chatd_env() -> set[str]:
    out = subprocess.run([str(CHATD), "--help"], capture_output=True, text=True, timeout=10).stdout
    names = set(re.findall(r"Env:(CHATD_[A-Z0-9_]+)", out))
    assert "CHATD_DATABASE_URL" in names and "CHATD_JWT_SECRET_FILE" in names, "chatd --help changed its format"
    return names


def parse_duration(text: str) -> float:
    """chatd's durations: 500ms, 30s, 5m, 2h, 1d (seconds)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text.strip())
    assert m, f"not a chatd duration: {text!r}"
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def chatd_default(setting: str) -> str:
    """The default `chatd --help` shows for --setting (e.g. shutdown-timeout -> 30s)."""
    out = subprocess.run([str(CHATD), "--help"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(rf"--{re.escape(setting)} \S+?=(\S+)", out)
    assert m, f"--{setting} has no default in chatd --help"
    return m.group(1)


# ============================================================================ kustomize in Python

class KustomizeError(AssertionError):
    pass


KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "configMapGenerator", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}


def yaml_docs(path: pathlib.Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def parse_env_file(path: pathlib.Path) -> dict[str, str]:
    """kustomize's `envs` files: KEY=VALUE a line, # comments and blank lines skipped."""
    data = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            raise KustomizeError(f"{path}:{n}: not KEY=VALUE: {line!r}")
        if key in data:
            raise KustomizeError(f"{path}:{n}: {key} twice")
        data[key] = value
    return data


def json_pointer(path: str) -> list:
    assert path.startswith("/"), path
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def apply_json_patch(obj: dict, ops: list[dict], where: str) -> None:
    """RFC 6902 add/replace/remove, what kustomize's `patches` apply for a list of operations."""
    for op in ops:
        *parents, last = json_pointer(op["path"])
        node = obj
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            index = len(node) if last == "-" else int(last)
            if op["op"] == "add":
                node.insert(index, copy.deepcopy(op["value"]))
            elif op["op"] == "replace":
                node[index] = copy.deepcopy(op["value"])
            elif op["op"] == "remove":
                del node[index]
            else:
                raise KustomizeError(f"{where}: unsupported op {op['op']}")
        else:
            if op["op"] in ("replace", "remove") and last not in node:
                raise KustomizeError(f"{where}: {op['path']} does not exist")
            if op["op"] in ("add", "replace"):
                node[last] = copy.deepcopy(op["value"])
            elif op["op"] == "remove":
                del node[last]
            else:
                raise KustomizeError(f"{where}: unsupported op {op['op']}")


def matches_target(obj: dict, target: dict) -> bool:
    group, _, version = obj["apiVersion"].rpartition("/")
    return all([target.get("kind", obj["kind"]) == obj["kind"],
                target.get("name", obj["metadata"]["name"]) == obj["metadata"]["name"],
                target.get("group", group) == group,
                target.get("version", version) == version])


def pod_spec(obj: dict) -> dict | None:
    return obj["spec"]["template"]["spec"] if obj["kind"] in WORKLOADS else None


def _build(directory: pathlib.Path) -> list[dict]:
    kfile = directory / "kustomization.yaml"
    if not kfile.exists():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    k = yaml.safe_load(kfile.read_text())
    unknown = set(k) - KUSTOMIZATION_KEYS
    if unknown:
        raise KustomizeError(f"{kfile}: {sorted(unknown)} not understood by this checker (extend test_deploy.py)")
    assert k.get("apiVersion") == "kustomize.config.k8s.io/v1beta1" and k.get("kind") == "Kustomization", kfile
    objects: list[dict] = []
    for res in k.get("resources", []):
        path = directory / res
        if path.is_dir():
            objects += _build(path)
        elif path.is_file():
            objects += yaml_docs(path)
        else:
            raise KustomizeError(f"{kfile}: resource {res} does not exist")
    for gen in k.get("configMapGenerator", []):
        data: dict[str, str] = {}
        for env in gen.get("envs", []):
            data.update(parse_env_file(directory / env))
        if set(gen) - {"name", "envs", "behavior"}:
            raise KustomizeError(f"{kfile}: configMapGenerator {gen['name']}: only name, envs, behavior understood")
        behavior = gen.get("behavior", "create")
        existing = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == gen["name"]]
        if behavior == "create":
            if existing:
                raise KustomizeError(f"{kfile}: ConfigMap {gen['name']} exists already (behavior: merge?)")
            objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]},
                            "data": data, "__generated": True})
        elif behavior in ("merge", "replace"):
            if len(existing) != 1 or not existing[0].get("__generated"):
                raise KustomizeError(f"{kfile}: no generated ConfigMap {gen['name']} to {behavior}")
            existing[0]["data"] = {**existing[0]["data"], **data} if behavior == "merge" else data
        else:
            raise KustomizeError(f"{kfile}: behavior {behavior}")
    for patch in k.get("patches", []):
        text = patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text()
        ops = yaml.safe_load(text)
        if not isinstance(ops, list):
            raise KustomizeError(f"{kfile}: only JSON 6902 patches (a list of operations) are understood")
        hits = [o for o in objects if matches_target(o, patch["target"])]
        if not hits:
            raise KustomizeError(f"{kfile}: patch target {patch['target']} matches nothing")
        for o in hits:
            apply_json_patch(o, ops, str(kfile))
    if "namespace" in k:
        for o in objects:
            if o["kind"] not in CLUSTER_SCOPED:
                o["metadata"]["namespace"] = k["namespace"]
    for image in k.get("images", []):
        for o in objects:
            spec = pod_spec(o)
            for c in (spec or {}).get("containers", []) + (spec or {}).get("initContainers", []):
                name = re.sub(r"(@.*|:[^/:]*)$", "", c["image"])
                if name == image["name"]:
                    tag = image.get("newTag") or (c["image"][len(name) + 1:] if c["image"] != name else "")
                    c["image"] = image.get("newName", name) + (f":{tag}" if tag else "")
    return objects


def kustomize_build(directory: pathlib.Path) -> list[dict]:
    """Builds a kustomization: generated ConfigMaps get a hash of their data in their name, and
    the references to them are rewritten (a changed setting rolls the pods)."""
    objects = _build(directory)
    renamed = {}
    for o in objects:
        if o.pop("__generated", False):
            digest = hashlib.sha256(json.dumps(o["data"], sort_keys=True).encode()).hexdigest()[:10]
            renamed[o["metadata"]["name"]] = o["metadata"]["name"] + "-" + digest
            o["metadata"]["name"] = renamed[o["metadata"]["name"]]
    for o in objects:
        spec = pod_spec(o)
        if not spec:
            continue
        for c in spec.get("containers", []):
            for ref in c.get("envFrom", []):
                if "configMapRef" in ref:
                    ref["configMapRef"]["name"] = renamed.get(ref["configMapRef"]["name"], ref["configMapRef"]["name"])
            for e in c.get("env", []):
                ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
                if ref:
                    ref["name"] = renamed.get(ref["name"], ref["name"])
        for v in spec.get("volumes", []):
            if "configMap" in v:
                v["configMap"]["name"] = renamed.get(v["configMap"]["name"], v["configMap"]["name"])
    return objects


# ============================================================================ manifest checks

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
API_VERSIONS = {"Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1", "Namespace": "v1",
                "PodDisruptionBudget": "policy/v1", "HorizontalPodAutoscaler": "autoscaling/v2"}


def check_manifest(doc: dict, where: str) -> None:
    """The fields each kind must have (what kubeconform's schemas would insist on for ours)."""
    kind = doc.get("kind")
    assert kind in API_VERSIONS, f"{where}: unexpected kind {kind!r}"
    assert doc.get("apiVersion") == API_VERSIONS[kind], f"{where}: {kind} needs apiVersion {API_VERSIONS[kind]}"
    name = (doc.get("metadata") or {}).get("name")
    assert isinstance(name, str) and DNS_LABEL.fullmatch(name) and len(name) <= 63, f"{where}: bad metadata.name"
    for key in ("labels", "annotations"):
        for k, v in ((doc["metadata"].get(key)) or {}).items():
            assert isinstance(v, str), f"{where}: {key} {k} must be a string, not {v!r}"
    spec = doc.get("spec")
    if kind == "Deployment":
        assert isinstance(spec["selector"]["matchLabels"], dict)
        pod = spec["template"]["spec"]
        assert pod["containers"], where
        for c in pod["containers"]:
            assert DNS_LABEL.fullmatch(c["name"]) and isinstance(c["image"], str) and c["image"], where
            for p in c.get("ports", []):
                assert isinstance(p["containerPort"], int) and 0 < p["containerPort"] < 65536, where
                assert len(p.get("name", "")) <= 15 and p.get("protocol", "TCP") in ("TCP", "UDP", "SCTP"), where
            for e in c.get("env", []):
                assert ("value" in e) != ("valueFrom" in e), f"{where}: env {e.get('name')}: value or valueFrom"
                assert "value" not in e or isinstance(e["value"], str), f"{where}: env {e['name']} must be a string"
        for v in pod.get("volumes", []):
            assert DNS_LABEL.fullmatch(v["name"]), where
        assert isinstance(pod.get("terminationGracePeriodSeconds", 30), int), where
    elif kind == "Service":
        assert spec.get("type", "ClusterIP") in ("ClusterIP", "NodePort", "LoadBalancer"), where
        for p in spec["ports"]:
            assert isinstance(p["port"], int) and 0 < p["port"] < 65536, where
            assert isinstance(p.get("targetPort", p["port"]), (int, str)), where
    elif kind == "PodDisruptionBudget":
        assert ("minAvailable" in spec) != ("maxUnavailable" in spec), f"{where}: minAvailable or maxUnavailable"
        assert spec["selector"]["matchLabels"], where
    elif kind == "HorizontalPodAutoscaler":
        ref = spec["scaleTargetRef"]
        assert ref["kind"] and ref["name"] and ref["apiVersion"], where
        assert isinstance(spec["minReplicas"], int) and isinstance(spec["maxReplicas"], int), where
        assert spec["metrics"], where
    elif kind in ("ConfigMap", "Secret"):
        for k, v in {**(doc.get("data") or {}), **(doc.get("stringData") or {})}.items():
            assert isinstance(v, str), f"{where}: {k} must be a string"


def one(objects: list[dict], kind: str) -> dict:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def port_of(container: dict, ref) -> int:
    """A probe's or a Service's port: a declared container port, by name or number."""
    for p in container.get("ports", []):
        if ref == p.get("name") or ref == p["containerPort"]:
            return p["containerPort"]
    raise AssertionError(f"port {ref!r} is not a declared port of container {container['name']}")


def check_build(objects: list[dict], known_env: set[str]) -> dict:
    """What must hold in every environment built from deploy/k8s. Returns facts for the callers."""
    for o in objects:
        check_manifest(o, f"{o['kind']}/{o['metadata']['name']}")
    names = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(names) == len(set(names)), f"duplicate objects: {names}"
    deploy = one(objects, "Deployment")
    spec = deploy["spec"]
    assert "replicas" not in spec, "the HPA owns the replica count: `replicas` in the Deployment resets it"
    selector = spec["selector"]["matchLabels"]
    pod_labels = spec["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items(), "the Deployment's selector does not match its pods"
    pod = spec["template"]["spec"]
    (c,) = [c for c in pod["containers"] if c["name"] == "chatd"]
    assert re.fullmatch(r"[\w./-]+/chatd:[\w.-]+", c["image"]), f"image without a tag: {c['image']}"

    # settings: the ConfigMap (envFrom) and env; every name a chatd setting
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    env: dict[str, str] = {}
    for ref in c.get("envFrom", []):
        assert "configMapRef" in ref and "prefix" not in ref, "settings come from a ConfigMap, unprefixed"
        cm = config_maps.get(ref["configMapRef"]["name"])
        assert cm, f"envFrom names ConfigMap {ref['configMapRef']['name']}, which is not in the build"
        env.update(cm["data"])
    assert env, "no settings from a ConfigMap"
    entries = {e["name"]: e for e in c.get("env", [])}
    set_names = set(env) | set(entries)
    assert set_names <= known_env, f"not chatd settings (chatd --help): {sorted(set_names - known_env)}"
    # secrets: never in the ConfigMap nor as a plain value
    assert "CHATD_JWT_SECRET" not in set_names, "the JWT secret comes from a file (CHATD_JWT_SECRET_FILE)"
    assert not {"CHATD_DATABASE_URL", "CHATD_METRICS_TOKEN"} & set(env), "credentials do not belong in the ConfigMap"
    db = entries["CHATD_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    secret_file = entries["CHATD_JWT_SECRET_FILE"]["value"]
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    jwt_volume = None
    for name, m in mounts.items():
        if secret_file.startswith(m["mountPath"].rstrip("/") + "/") and "secret" in volumes[name]:
            jwt_volume = volumes[name]["secret"]
            assert m.get("readOnly") is True
            relative = secret_file[len(m["mountPath"].rstrip("/")) + 1:]
            keys = {i["path"]: i["key"] for i in jwt_volume.get("items", [])}
            jwt_key = keys.get(relative, relative)
    assert jwt_volume, f"CHATD_JWT_SECRET_FILE {secret_file} is not in a mounted Secret"
    assert jwt_volume.get("defaultMode", 0o644) & 0o007 == 0, "the JWT secret file must not be world-readable"
    assert "CHATD_NODE_ID" not in env, "a node id in the ConfigMap would be every pod's"
    assert entries["CHATD_NODE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", \
        "each pod needs its own --node-id (its pod name)"

    # listeners: the ConfigMap's ports are the declared container ports
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert {"http", "stomp", "metrics"} <= ports.keys()
    assert int(env.get("CHATD_HTTP_PORT", 8080)) == ports["http"]
    assert int(env.get("CHATD_STOMP_PORT", 61613)) == ports["stomp"]
    assert int(env.get("CHATD_METRICS_PORT", 9090)) == ports["metrics"]
    assert env.get("CHATD_METRICS_HOST") == "0.0.0.0", "/metrics must listen beyond the pod's loopback to be scraped"
    notes = spec["template"]["metadata"].get("annotations", {})
    assert notes.get("prometheus.io/scrape") == "true" and int(notes["prometheus.io/port"]) == ports["metrics"]
    assert notes.get("prometheus.io/path", "/metrics") == "/metrics"

    # probes
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert port_of(c, c[probe]["httpGet"]["port"]) == ports["http"], f"{probe} is not on the HTTP port"
    startup = c["startupProbe"]
    startup_budget = startup["periodSeconds"] * startup["failureThreshold"] + startup.get("initialDelaySeconds", 0)
    startup_timeout = parse_duration(env.get("CHATD_STARTUP_TIMEOUT", chatd_default("startup-timeout")))
    assert startup_budget > startup_timeout, \
        f"the startup probe gives up after {startup_budget}s, before chatd's own start-up timeout ({startup_timeout}s)"

    # shutdown: preStop pause + chatd's drain within the grace period
    pre_stop = c["lifecycle"]["preStop"]
    if "sleep" in pre_stop:
        pause = pre_stop["sleep"]["seconds"]
    else:
        command = pre_stop["exec"]["command"]
        assert re.fullmatch(r"(/bin/|/usr/bin/)?sleep", command[0]) and len(command) == 2, command
        pause = float(command[1])
    drain = parse_duration(env.get("CHATD_SHUTDOWN_TIMEOUT", chatd_default("shutdown-timeout")))
    grace = pod["terminationGracePeriodSeconds"]
    assert grace > pause + drain, f"grace period {grace}s does not cover preStop {pause}s + drain {drain}s"

    # resources and security
    res = c["resources"]
    assert {"cpu", "memory"} <= res["requests"].keys() and {"cpu", "memory"} <= res["limits"].keys()
    assert quantity(res["requests"]["cpu"]) <= quantity(res["limits"]["cpu"])
    assert quantity(res["requests"]["memory"]) <= quantity(res["limits"]["memory"])
    psc, csc = pod["securityContext"], c["securityContext"]
    assert psc["runAsNonRoot"] is True and isinstance(psc["runAsUser"], int) and psc["runAsUser"] > 0
    assert csc["allowPrivilegeEscalation"] is False and csc["readOnlyRootFilesystem"] is True
    assert csc["capabilities"]["drop"] == ["ALL"]
    assert pod.get("automountServiceAccountToken") is False

    # Services: select the pods, target declared ports; HTTP and STOMP apart, /metrics in none
    services = [o for o in objects if o["kind"] == "Service"]
    targets = {}
    for s in services:
        assert s["spec"]["selector"].items() <= pod_labels.items(), f"Service {s['metadata']['name']} selects no pod"
        targets[s["metadata"]["name"]] = {port_of(c, p.get("targetPort", p["port"])) for p in s["spec"]["ports"]}
    assert sorted(targets.values(), key=sorted) == [{ports["http"]}, {ports["stomp"]}], targets

    # HPA and PDB
    hpa = one(objects, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deploy["metadata"]["name"]}
    (cpu,) = [m for m in hpa["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
    assert cpu["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    pdb = one(objects, "PodDisruptionBudget")["spec"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items(), "the PDB selects no chatd pod"
    if "minAvailable" in pdb:
        assert isinstance(pdb["minAvailable"], int) and pdb["minAvailable"] < hpa["minReplicas"], \
            "minAvailable >= the minimum replicas blocks every node drain"
    return {"env": env, "entries": entries, "jwt_key": jwt_key, "db_secret": db, "hpa": hpa, "container": c,
            "namespace": deploy["metadata"].get("namespace")}


def quantity(q) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G)?", str(q))
    assert m, f"not a quantity: {q!r}"
    scale = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    return float(m.group(1)) * scale[m.group(2)]


def checkconfig(facts: dict, tmp_path: pathlib.Path, jwt_secret: str) -> subprocess.CompletedProcess:
    """`chatd checkconfig` with exactly the environment a pod of that build gets (Secret values
    made up: the JWT secret file at its mounted name, a database URL)."""
    secret = tmp_path / "secret"
    secret.mkdir(exist_ok=True)
    (secret / facts["jwt_key"]).write_text(jwt_secret)
    env = dict(facts["env"])
    for name, e in facts["entries"].items():
        if "value" in e:
            env[name] = e["value"]
        elif "fieldRef" in e["valueFrom"]:
            env[name] = "chatd-7d9f8b6c5-x2x4z"
        elif "secretKeyRef" in e["valueFrom"]:
            assert e["valueFrom"]["secretKeyRef"]["key"] == "database-url", name
            env[name] = "postgresql://chat:not-a-password@postgres:5432/chat"
    env["CHATD_JWT_SECRET_FILE"] = str(secret / facts["jwt_key"])
    return subprocess.run([str(CHATD), "checkconfig"], env=env, capture_output=True, text=True, timeout=30)


# ---------------------------------------------------------------------------- Kubernetes tests

def k8s_files() -> list[pathlib.Path]:
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


def test_k8s_every_manifest_has_the_fields_of_its_kind():
    files = k8s_files()
    assert len(files) >= 7, files
    kinds = set()
    for path in files:
        for doc in yaml_docs(path):
            check_manifest(doc, str(path.relative_to(REPO)))
            kinds.add(doc["kind"])
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Secret", "Namespace"} <= kinds
    # the checker itself rejects what it must
    bad = yaml_docs(BASE / "hpa.yaml")[0]
    bad["apiVersion"] = "autoscaling/v1"
    with pytest.raises(AssertionError):
        check_manifest(bad, "mutated")


def test_k8s_base_builds_and_holds_together(tmp_path):
    objects = kustomize_build(BASE)
    facts = check_build(objects, known_chatd_env())
    assert {o["kind"] for o in objects} == {"Deployment", "Service", "PodDisruptionBudget",
                                            "HorizontalPodAutoscaler", "ConfigMap"}
    assert not [o for o in objects if o["kind"] == "Secret"], "no Secret in the build (apply would overwrite the real one)"
    assert (facts["hpa"]["minReplicas"], facts["hpa"]["maxReplicas"]) == (2, 10)
    assert facts["container"]["image"] == "chat/chatd:0.1.0"
    assert facts["namespace"] is None
    r = checkconfig(facts, tmp_path, base64.b64encode(os.urandom(48)).decode() + "\n")
    assert r.returncode == 0, f"chatd refuses the base's configuration:\n{r.stderr}"
    assert "chatd checkconfig: OK" in r.stdout and "0.0.0.0:9090" in r.stdout


def test_k8s_dev_overlay_builds_on_the_base(tmp_path):
    base = check_build(kustomize_build(BASE), known_chatd_env())
    objects = kustomize_build(DEV)
    dev = check_build(objects, known_chatd_env())
    (ns,) = [o for o in objects if o["kind"] == "Namespace"]
    assert ns["metadata"]["name"] == "chat-dev"
    for o in objects:
        if o["kind"] != "Namespace":
            assert o["metadata"].get("namespace") == "chat-dev", o["metadata"]["name"]
    assert (dev["hpa"]["minReplicas"], dev["hpa"]["maxReplicas"]) == (1, 2)
    assert dev["container"]["image"] == "chat/chatd:dev"
    assert dev["env"]["CHATD_REDIS_URL"] == "redis://redis:6379"
    assert dev["env"]["CHATD_KAFKA_BROKERS"] == "kafka:9092"
    assert dev["env"]["CHATD_KAFKA_PARTITIONS"] == base["env"]["CHATD_KAFKA_PARTITIONS"], \
        "the partition count is the deployment's for life: the overlay keeps the base's"
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            assert quantity(dev["container"]["resources"][kind][r]) < quantity(base["container"]["resources"][kind][r])
    # merged, not replaced: the base's other settings are still there
    assert base["env"].keys() <= dev["env"].keys()
    r = checkconfig(dev, tmp_path, "d" * 40)
    assert r.returncode == 0, f"chatd refuses the dev overlay's configuration:\n{r.stderr}"


def test_k8s_checker_catches_broken_builds():
    """The checks above can fail: each mutation of a good build is refused."""
    known = known_chatd_env()
    good = kustomize_build(BASE)
    check_build(copy.deepcopy(good), known)

    def broken(mutate):
        objects = copy.deepcopy(good)
        by = {(o["kind"], o["metadata"]["name"]): o for o in objects}
        mutate(by, one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0])
        with pytest.raises(AssertionError):
            check_build(objects, known)

    broken(lambda by, c: c["readinessProbe"]["httpGet"].update(path="/healthz"))
    broken(lambda by, c: c["livenessProbe"]["httpGet"].update(port="metrics"))
    broken(lambda by, c: c["readinessProbe"]["httpGet"].update(port="web"))
    broken(lambda by, c: by[("Deployment", "chatd")]["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=30))
    broken(lambda by, c: c["env"].append({"name": "CHATD_HTTP_PROT", "value": "8080"}))
    broken(lambda by, c: c["env"].append({"name": "CHATD_JWT_SECRET", "value": "x" * 32}))
    broken(lambda by, c: by[("Service", "chatd-stomp")]["spec"]["ports"][0].update(targetPort=61614))
    broken(lambda by, c: by[("Service", "chatd-http")]["spec"]["selector"].update(app="web"))
    broken(lambda by, c: by[("HorizontalPodAutoscaler", "chatd")]["spec"]["scaleTargetRef"].update(name="chat"))
    broken(lambda by, c: by[("PodDisruptionBudget", "chatd")]["spec"]["selector"]["matchLabels"].update(tier="x"))
    broken(lambda by, c: by[("Deployment", "chatd")]["spec"].update(replicas=3))
    broken(lambda by, c: c["securityContext"].update(readOnlyRootFilesystem=False))
    broken(lambda by, c: c["ports"][2].update(containerPort=9091))  # metrics port != CHATD_METRICS_PORT
    broken(lambda by, c: c["lifecycle"]["preStop"]["exec"].update(command=["/bin/sleep", "20"]))


def test_k8s_example_secret_is_a_refused_placeholder(tmp_path):
    """secret.example.yaml is in no kustomization (an apply would overwrite the real Secret), has
    the keys the Deployment reads, and its placeholder JWT secret stops chatd (exit 2) instead of
    running with a published secret."""
    (example,) = yaml_docs(BASE / "secret.example.yaml")
    for kfile in K8S.rglob("kustomization.yaml"):
        assert "secret.example.yaml" not in yaml.safe_load(kfile.read_text()).get("resources", []), kfile
    facts = check_build(kustomize_build(BASE), known_chatd_env())
    values = example["stringData"]
    assert example["metadata"]["name"] == facts["db_secret"]["name"]
    assert {facts["jwt_key"], facts["db_secret"]["key"]} == values.keys()
    assert all("REPLACE-ME" in v for v in values.values()), "the placeholders are marked"
    r = checkconfig(facts, tmp_path, values[facts["jwt_key"]])
    assert r.returncode == 2 and "jwt-secret" in r.stderr and "32 bytes" in r.stderr, r.stderr


def normalized(objects: list[dict]) -> list[dict]:
    """Generated names without their hash (kustomize's and ours differ), sorted."""
    text = json.dumps(objects, sort_keys=True)
    for o in objects:
        if o["kind"] == "ConfigMap":
            name = o["metadata"]["name"]
            text = text.replace(f'"{name}"', '"' + re.sub(r"-[a-z0-9]{10}$", "-HASH", name) + '"')
    return sorted(json.loads(text), key=lambda o: (o["kind"], o["metadata"]["name"]))


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (the Python build above still checks)")
@pytest.mark.parametrize("directory", [BASE, DEV], ids=["base", "dev"])
def test_k8s_kubectl_kustomize_builds_the_same(directory):
    r = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    theirs = [d for d in yaml.safe_load_all(r.stdout) if d]
    check_build(copy.deepcopy(theirs), known_chatd_env())
    assert normalized(theirs) == normalized(kustomize_build(directory))


def test_prometheus_kubernetes_example_scrapes_the_pods():
    """prometheus-kubernetes.yml (Debian's promtool has no Kubernetes discovery: checked here)
    keeps exactly the pods of deploy/k8s by their label and annotations, on the metrics port."""
    config = yaml.safe_load((PROM / "prometheus-kubernetes.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "chatd"
    for f in config["rule_files"]:
        assert (PROM / f).exists()
    deploy = one(kustomize_build(DEV), "Deployment")
    template = deploy["spec"]["template"]
    assert deploy["metadata"]["namespace"] in job["kubernetes_sd_configs"][0]["namespaces"]["names"]

    def meta(prefix, mapping):
        return {f"__meta_kubernetes_pod_{prefix}_" + re.sub(r"[^a-zA-Z0-9_]", "_", k): v for k, v in mapping.items()}

    port = template["spec"]["containers"][0]["ports"][0]["containerPort"]
    target = {"__address__": f"10.1.2.3:{port}", "__metrics_path__": "/metrics",
              **meta("label", template["metadata"]["labels"]), **meta("annotation", template["metadata"]["annotations"])}

    def relabel(labels):
        labels = dict(labels)
        for rule in job["relabel_configs"]:
            value = ";".join(labels.get(s, "") for s in rule["source_labels"])
            m = re.fullmatch(rule.get("regex", "(.*)"), value)
            action = rule.get("action", "replace")
            if action == "keep":
                if not m:
                    return None
            elif action == "replace":
                if m:
                    labels[rule["target_label"]] = m.expand(rule.get("replacement", "$1").replace("$", "\\"))
            else:
                raise AssertionError(f"relabel action {action} not understood by this test")
        return labels

    kept = relabel(target)
    assert kept, "the job drops chatd's pods"
    assert kept["__address__"] == "10.1.2.3:9090" and kept["__metrics_path__"] == "/metrics"
    assert relabel({**target, "__meta_kubernetes_pod_label_app_kubernetes_io_name": "postgres"}) is None
    assert relabel({**target, "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "false"}) is None


# ============================================================================ Prometheus rules

def rules() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def test_promtool_checks_and_unit_tests_the_rules(tmp_path):
    promtool = need(PROMTOOL)
    for args in (["check", "rules", str(RULES)], ["test", "rules", str(RULE_TESTS)],
                 ["check", "config", str(PROM / "prometheus.yml")]):
        r = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"promtool {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    # ... and fails on a rule that no longer does what its tests say
    broken = RULES.read_text().replace('up{job="chatd"} == 0', 'up{job="chatd"} == 1')
    assert broken != RULES.read_text()
    (tmp_path / RULES.name).write_text(broken)
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    r = subprocess.run([promtool, "test", "rules", str(tmp_path / RULE_TESTS.name)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0 and "ChatdNodeDown" in r.stdout + r.stderr


def test_every_alert_has_for_severity_annotations_and_unit_tests():
    alerts = rules()
    names = [r["alert"] for r in alerts]
    assert len(names) == len(set(names)) and "record" not in str([list(r) for r in alerts])
    required = {"ChatdNodeDown", "ChatdConsumerLagGrowing", "ChatdDeadLetters", "ChatdDeliveryLatencyHigh",
                "ChatdSlowConsumerDisconnects", "ChatdConsumerBlocked", "ChatdAdmissionRefusals",
                "ChatdPasswordShedding", "ChatdLogLinesDropped"}
    assert required <= set(names), required - set(names)
    for r in alerts:
        assert "for" in r, f"{r['alert']}: no for:"
        parse_duration(r["for"])
        assert r["labels"]["severity"] in ALERT_SEVERITIES, r["alert"]
        assert r["annotations"]["summary"] and len(r["annotations"]["description"]) > 40, r["alert"]
    tests = yaml.safe_load(RULE_TESTS.read_text())
    assert tests["rule_files"] == [RULES.name]
    cases = [c for t in tests["tests"] for c in t["alert_rule_test"]]
    fired = {c["alertname"] for c in cases if c["exp_alerts"]}
    quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert set(names) <= fired, f"alerts never shown firing: {set(names) - fired}"
    assert set(names) <= quiet, f"alerts never shown quiet: {set(names) - quiet}"


# ============================================================================ Grafana

def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def dashboard_panels(d: dict) -> list[dict]:
    out = []
    for p in d["panels"]:
        out.append(p)
        out += p.get("panels", [])
    return out


def dashboard_exprs(d: dict) -> list[str]:
    exprs = [t["expr"] for p in dashboard_panels(d) for t in p.get("targets", [])]
    for v in d["templating"]["list"]:
        if v["type"] == "query":
            exprs.append(re.fullmatch(r"label_values\((.+), *\w+\)", v["definition"]).group(1))
    return exprs


def test_grafana_dashboard_is_well_formed():
    d = dashboard()
    assert d["schemaVersion"] >= 36 and d["uid"] and d["title"]
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    inst = variables["instance"]
    assert inst["type"] == "query" and inst["datasource"]["uid"] == "${datasource}"
    assert inst["multi"] and inst["includeAll"] and inst["allValue"] == ".*"
    ids = [p["id"] for p in dashboard_panels(d)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    cells = set()
    for p in dashboard_panels(d):
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24 and g["w"] > 0 and g["h"] > 0, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not mine & cells, f"panel {p['title']!r} overlaps another"
        cells |= mine
        if p["type"] == "row":
            continue
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["targets"] and p["title"] and p.get("description"), p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == "${datasource}", p["title"]
            for metric, matchers in selectors(t["expr"]):
                if metric != "up" or "instance" in matchers:
                    assert 'instance=~"$instance"' in matchers, f"{p['title']}: {metric} ignores $instance"
    exprs = " ".join(dashboard_exprs(d))
    for metric in ("chat_websocket_sessions", "chat_messages_sent_total", "chat_messages_consumed_total",
                   "chat_delivery_latency_seconds_bucket", "chat_consumer_lag", "chat_dlt_records_total",
                   "chat_http_requests_total", "chat_http_request_duration_seconds_bucket", "chat_rate_limited_total",
                   "chat_admission_refused_total", "chat_slow_consumer_disconnects_total", "chat_sse_connections",
                   "chat_token_revocations_total"):
        assert metric in exprs, f"no panel shows {metric}"
    for q in ("histogram_quantile(0.5, sum by (le) (rate(chat_delivery_latency_seconds_bucket",
              "histogram_quantile(0.99, sum by (le) (rate(chat_delivery_latency_seconds_bucket"):
        assert q in exprs, q


# ============================================================================ PromQL names

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or",
                "unless", "inf", "nan", "Inf", "NaN", "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk",
                "bottomk", "quantile", "count_values", "group"}  # keywords and aggregations


STRING = r'"(?:[^"\\]|\\.)*"'


def _blank(text: str, pattern: str, keep: int = 0) -> str:
    """`text` with every match of `pattern` replaced by spaces (positions kept), but its first
    `keep` characters."""
    return re.sub(pattern, lambda m: m.group(0)[:keep] + " " * (len(m.group(0)) - keep), text)


def selectors(expr: str) -> list[tuple[str, str]]:
    """(metric, matchers) of every selector `name{...}` or bare `name` in a PromQL expression."""
    text = _blank(expr, STRING, keep=1)  # strings (label values) blanked inside their quotes
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                  lambda m: m.group(1) + " " * (len(m.group(0)) - len(m.group(1))), text)  # label lists
    text = _blank(text, r"\[[^\]]*\]")  # ranges
    text = _blank(text, r"\$\w+")  # dashboard variables outside strings
    out = []
    for m in re.finditer(r"([A-Za-z_:][A-Za-z0-9_:]*)(\s*\{[^}]*\})?", text):
        name = m.group(1)
        if name in PROMQL_WORDS or (not m.group(2) and text[m.end():].lstrip().startswith("(")):
            continue  # a keyword or a function
        if m.start() > 0 and (text[m.start() - 1].isdigit() or text[m.start() - 1] == "."):
            continue  # 1e3, a number's tail
        out.append((name, expr[m.start(2):m.end(2)].strip() if m.group(2) else ""))
    return out


def label_names(expr: str) -> set[str]:
    names = set()
    for _, matchers in selectors(expr):
        matchers = _blank(matchers, STRING, keep=1)
        names |= set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    for m in re.finditer(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        names |= {n.strip() for n in m.group(1).split(",") if n.strip()}
    return names


def test_promql_name_extraction():
    assert selectors('sum by (group) (rate(chat_x_total{instance=~"$instance", a="b,c"}[$__rate_interval]))') \
        == [("chat_x_total", '{instance=~"$instance", a="b,c"}')]
    assert [s[0] for s in selectors("a > 1000 and sum by (g) (deriv(b[10m])) > 0 or c offset 10m unless d")] \
        == ["a", "b", "c", "d"]
    assert [s[0] for s in selectors("absent(up{job=\"chatd\"} == 1)")] == ["up"]
    assert label_names('sum by (route, le) (rate(x{code=~"5..", route!~"/a"}[5m]))') == {"route", "le", "code"}


def exposition(text: str) -> tuple[dict[str, str], dict[str, set[str]]]:
    """TYPE per metric family, and the label names seen on each family's samples."""
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    labels: dict[str, set[str]] = {name: set() for name in types}
    for line in text.splitlines():
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s", line)
        if not m or line.startswith("#"):
            continue
        labels.setdefault(family(m.group(1), types), set()).update(re.findall(r'(\w+)="', m.group(2) or ""))
    return types, labels


def family(name: str, types: dict[str, str]) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        base = name.removesuffix(suffix)
        if base != name and types.get(base) in ("histogram", "summary"):
            return base
    return name


# ============================================================================ a real Prometheus

PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [{rules}]
scrape_configs:
  - job_name: chatd
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


class Prometheus:
    """One /usr/bin/prometheus started by this test, stopped by its pid."""

    def __init__(self, workdir: pathlib.Path, metrics_port: int):
        need(PROMETHEUS)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        config.write_text(PROMETHEUS_CONFIG.format(rules=json.dumps(str(RULES)), port=metrics_port))
        self.log_path = workdir / "prometheus.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)

    def api(self, path: str, **params) -> dict:
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
        r = requests.get(self.url + "/api/v1/" + path, params=params, timeout=5)
        body = r.json()
        assert body["status"] == "success", (path, params, body)
        return body["data"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def dashboard_query(expr: str) -> str:
    return (expr.replace("$__rate_interval", "1m").replace("$__range", "5m").replace("$__interval", "15s")
            .replace("$instance", ".*"))


def test_a_real_prometheus_scrapes_chatd_with_the_rules_and_the_dashboard(own_redis_kafka, chatd_factory, tmp_path):
    node = chatd_factory(own_redis_kafka)
    prom = Prometheus(tmp_path, node.metrics_port)
    try:
        # A dead letter, so that chat_dlt_records_total (made by the first one) exists too.
        out = KafkaOut(own_redis_kafka)
        out.flush([out.send(MESSAGES, "1", b"{not json")])

        def dlt_exported():
            text = requests.get(node.metrics_url, timeout=5).text
            return "chat_dlt_records_total{" in text and text
        text = wait_for(dlt_exported, 60, interval=0.2, what="chatd's first dead letter on /metrics")
        types, labels = exposition(text)
        labels["up"] = {"job", "instance"}
        types["up"] = "gauge"

        # every metric and label the rules and the dashboard name is one chatd exports
        exprs = [r["expr"] for r in rules()] + dashboard_exprs(dashboard())
        for expr in exprs:
            metrics = {family(name, types) for name, _ in selectors(expr)}
            assert metrics, f"no metric in {expr}"
            missing = metrics - types.keys()
            assert not missing, f"{sorted(missing)} (in {expr!r}) are not on chatd's /metrics"
            # plus the target's labels: instance and job, and pod and namespace in Kubernetes
            # (deploy/prometheus/prometheus-kubernetes.yml)
            seen = set().union(*(labels[m] for m in metrics)) | {"instance", "job", "pod", "namespace"}
            if any(name.endswith("_bucket") for name, _ in selectors(expr)):
                seen.add("le")
            assert label_names(expr) <= seen, f"labels {sorted(label_names(expr) - seen)} of {expr!r} do not exist"

        def target_up():
            (target,) = prom.api("targets")["activeTargets"]
            return target["health"] == "up" and target
        target = wait_for(target_up, 30, interval=0.2, what="Prometheus scraping chatd")
        assert target["labels"]["job"] == "chatd"

        groups = prom.api("rules")["groups"]
        loaded = [r for g in groups for r in g["rules"]]
        assert sorted(r["name"] for r in loaded) == sorted(r["alert"] for r in rules())

        def evaluated_ok():
            now = prom.api("rules")["groups"]
            return all(r["health"] == "ok" and not r["lastEvaluation"].startswith("0001")
                       for g in now for r in g["rules"]) and now
        wait_for(evaluated_ok, 20, interval=0.2, what="every rule evaluated without error")

        # every dashboard query is PromQL Prometheus runs, and shows chatd's series (an idle
        # node's: zeros, NaN quantiles, but a series for every panel)
        empty: list[str] = []

        def dashboard_shows_series():
            empty[:] = [e for e in dashboard_exprs(dashboard()) if not prom.api("query", query=dashboard_query(e))["result"]]
            return not empty
        try:
            wait_for(dashboard_shows_series, 20, interval=0.5, what="a series for every dashboard query")
        except AssertionError as e:
            raise AssertionError(f"{e}; no series for: {empty}") from None

        def dead_letters_firing():
            alerts = prom.api("alerts")["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "ChatdDeadLetters"
                    and a["state"] == "firing" and a["labels"]["topic"] == "chat.messages.dlt"] and alerts
        alerts = wait_for(dead_letters_firing, 20, interval=0.2, what="ChatdDeadLetters firing")
        assert not [a for a in alerts if a["labels"]["alertname"] in ("ChatdNodeDown", "ChatdNoNodeUp")], alerts
    except BaseException:
        print(f"----- prometheus log ({prom.log_path}) -----\n{tail(prom.log_path)}")
        raise
    finally:
        prom.stop()
