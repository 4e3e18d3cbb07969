"""The side file of Requires for panther-analysis's Kubernetes rules: it applies only to the exact
rule files it was written for, and it never changes a finding — every Panther test log, the real
corpus and records crafted against it give the same findings with the prefilter and side-file
Requires as without them (`--no-prefilter`)."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from kubetrail.cli import main
from kubetrail.panther.helpers import panther_root
from kubetrail.panther.requires import _entries
from kubetrail.rules import RuleSet, load_rules

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
       "spec": {"hostPID": True, "containers": [{"name": "c", "image": "busybox",
                                                 "securityContext": {"privileged": True}}]}}


def crafted() -> list[dict[str, Any]]:
    """Records whose spellings try to make kubetrail's reading and Panther's disagree."""
    base = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "c", "stage":
            "ResponseComplete", "verb": "create", "user": {"username": "mallory"},
            "sourceIPs": ["198.51.100.9"], "responseStatus": {"code": 201},
            "requestObject": POD, "stageTimestamp": "2026-11-27T12:00:00Z"}
    ref = {"resource": "pods", "namespace": "default", "name": "x"}
    gke_payload = {"serviceName": "k8s.io", "methodName": "io.k8s.core.v1.configmaps.create",
                   "resourceName": "core/v1/namespaces/default/pods/x",
                   "authenticationInfo": {"principalEmail": "mallory@example.com"},
                   "requestMetadata": {"callerIp": "198.51.100.9"}, "request": POD}
    return [
        {**base, "ObjectRef": ref},
        {**base, "objectRef": {"Resource": "pods", "resource": "configmaps"}},
        {**base, "VERB": "create", "verb": "get", "objectRef": ref},
        {**base, "objectRef": {**ref, "resource": "p\u006fds"}},
        {"logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
         "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke-1"}},
         "timestamp": "2026-11-27T12:00:00Z", "protoPayload": gke_payload},
    ]


def panther_test_logs(root: Path) -> list[dict[str, Any]]:
    logs = []
    for yml in sorted((root / "rules").rglob("*.yml")):
        spec = yaml.safe_load(yml.read_text())
        logs.extend(t["Log"] for t in spec.get("Tests") or [])
    return logs


def scan(args: list[str]) -> tuple[list[dict[str, Any]], str]:
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    assert main(["scan", *args], out, err) == 0, err.getvalue()
    out.flush()
    docs = [json.loads(x) for x in out.buffer.getvalue().splitlines()]  # type: ignore[attr-defined]
    # Test logs without a timestamp take the scan's clock as event time (and so as id).
    docs = [{k: v for k, v in d.items() if k not in ("id", "event_time", "first_seen")}
            for d in docs]
    return sorted((_stable(d) for d in docs), key=json.dumps), err.getvalue()


def _stable(value: Any) -> Any:
    """A finding without p_parse_time (the time of the scan, which rules may copy)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k != "p_parse_time"}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def inputs(root: Path, tmp_path: Path) -> list[str]:
    logs = tmp_path / "logs.jsonl"
    records = panther_test_logs(root) + crafted()
    logs.write_text("".join(json.dumps(r) + "\n" for r in records))
    return [str(logs), *sorted(str(p) for p in CORPUS.rglob("*.json*"))]


def test_every_side_file_entry_matches_the_corpus_rule_it_was_written_for(
        panther_analysis: Path) -> None:
    root = panther_root(panther_analysis)
    rules = load_rules([panther_analysis / "rules" / "kubernetes_rules"], include_disabled=True,
                       panther_root=root)
    with_requires = {r.rule_id for r in rules if r.requires}
    assert with_requires == set(_entries()) and len(with_requires) == 26
    without = {r.rule_id for r in rules} - with_requires
    assert without == {"Kubernetes.API.AnonymousAccess", "Kubernetes.API.IOC.Activity",
                       "Kubernetes.API.Multiple403.PublicIP",
                       "Kubernetes.System.Principal.PublicIP"}


def test_an_edited_rule_gets_no_requires(panther_analysis: Path, tmp_path: Path) -> None:
    src = panther_analysis / "rules" / "kubernetes_rules"
    for name in ("k8s_pod_host_pid.py", "k8s_pod_host_pid.yml"):
        shutil.copy(src / name, tmp_path / name)
    root = panther_root(panther_analysis)
    (rule,) = load_rules([tmp_path], panther_root=root)
    assert rule.requires == {"verb": {"create"}, "resource": {"pods"}}
    py = tmp_path / "k8s_pod_host_pid.py"
    py.write_text(py.read_text().replace('verb != "create"', 'verb not in ("create", "update")'))
    (rule,) = load_rules([tmp_path], panther_root=root)
    assert rule.requires == {}
    assert RuleSet([rule]).prefilter is None


def test_the_prefilter_never_changes_a_finding(panther_analysis: Path, tmp_path: Path) -> None:
    root = ["--panther-root", str(panther_analysis)]
    files = inputs(panther_analysis, tmp_path)
    side = [str(p) for p in sorted((panther_analysis / "rules" / "kubernetes_rules").glob("*.yml"))
            if yaml.safe_load(p.read_text())["RuleID"] in _entries()]
    rules = [arg for path in side for arg in ("--rules", path)]
    fast, fast_err = scan([*root, *rules, *files])
    slow, slow_err = scan([*root, *rules, "--no-prefilter", *files])
    assert fast == slow
    assert len(fast) >= 40  # the pod, role, secret and exec rules fire on their own test logs
    assert int(re.search(r"prefiltered=(\d+)", fast_err).group(1)) > 100  # type: ignore[union-attr]
    assert "prefiltered=0 " in slow_err
    crafted_hits = {d["rule_id"] for d in fast if d["cluster"] == "gke-1"}
    assert "Kubernetes.Pod.Host.PID" in crafted_hits  # Panther's reading of the GKE entry


def test_the_whole_pack_with_side_requires_finds_what_it_finds_without(
        panther_analysis: Path, tmp_path: Path) -> None:
    rules = panther_analysis / "rules"
    args = ["--panther-root", str(panther_analysis), "--rules", str(rules / "kubernetes_rules"),
            "--rules", str(rules / "aws_eks_rules")]
    files = inputs(panther_analysis, tmp_path)
    with_side, _ = scan([*args, *files])
    without, _ = scan([*args, "--no-prefilter", *files])
    assert with_side == without and len(with_side) > 50
