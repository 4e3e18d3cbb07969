"""The bundled samples: exactly what gen_samples builds, and the findings `make run` shows."""

from __future__ import annotations

import io

import orjson

from kubetrail.cli import main
from kubetrail.sources import read_paths
from kubetrail.sources.base import Skip
from tests.sources import gen_samples
from tests.sources.helpers import RULES, events, findings, kinds

SAMPLES = gen_samples.SAMPLES
DATA_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl"))


def test_committed_samples_are_what_the_generator_builds() -> None:
    built = gen_samples.render()
    assert sorted(p.name for p in DATA_FILES) == sorted(built)
    for path in DATA_FILES:
        assert path.read_bytes() == built[path.name], "run python -m tests.sources.gen_samples"


def test_every_sample_decodes() -> None:
    outcomes = list(read_paths(DATA_FILES))
    assert kinds(outcomes).count("Failure") == 0
    assert [o.reason for o in outcomes if isinstance(o, Skip)] == ["non-audit-category"]
    clusters = {e.cloud: set() for e in events(outcomes)}
    for e in events(outcomes):
        clusters[e.cloud].add(e.cluster)
    assert clusters == {"aws": {"prod-eks-01", None}, "azure": {"AKS-PROD-WEU"},
                        "gcp": {"gke-prod-euw1"}}


def test_samples_give_the_expected_findings_with_and_without_prefilter() -> None:
    titles = sorted(t for _, _, t in findings(read_paths(DATA_FILES)))
    assert titles == sorted([
        "[alice@contoso.com] created DaemonSet [default/docker-cleaner]",
        "[arn:aws:sts::111122223333:assumed-role/platform-admins/jdoe] created DaemonSet "
        "[default/node-debugger]",
        "[system:serviceaccount:ci:deployer] created DaemonSet [monitoring/log-shipper]",
        "[dev@acme.example] created DaemonSet [default/metrics-agent]",
        "[ops-bot@acme-prod.iam.gserviceaccount.com] created DaemonSet [ops/node-shell]",
    ])  # not aksService in kube-system, not the 403 / PERMISSION_DENIED creates
    assert findings(read_paths(DATA_FILES, RULES.prefilter)) == findings(read_paths(DATA_FILES))


def test_risky_daemonset_of_the_cloudwatch_sample() -> None:
    path = SAMPLES / "eks-cloudwatch-subscription.json"
    (ds,) = [e for e in events(read_paths([path])) if e.resource == "daemonsets"]
    spec = ds.request_object["spec"]["template"]["spec"]  # type: ignore[index]
    assert spec["containers"][0]["securityContext"] == {"privileged": True}
    assert spec["volumes"][0]["hostPath"] == {"path": "/"}
    matches, _ = RULES.evaluate(ds)
    assert [m.severity for m in matches] == ["HIGH"]


# What `make run` shows with the whole bundled pack: (rule id without "Kubernetes.", severity,
# user, namespace/name). The exec that reads a token is logged twice (ResponseStarted and
# ResponseComplete): dedup keeps one finding per rule. aksService's DaemonSet in kube-system and
# the refused creates give none.
JDOE = "arn:aws:sts::111122223333:assumed-role/platform-admins/jdoe"
ASMITH = "arn:aws:sts::111122223333:assumed-role/developers/asmith"
DEPLOYER, ALICE = "system:serviceaccount:ci:deployer", "alice@contoso.com"
DEV, OPSBOT = "dev@acme.example", "ops-bot@acme-prod.iam.gserviceaccount.com"
PACK_FINDINGS = [
    ("CronJob.CreatedOrModified", "INFO", DEPLOYER, "monitoring/log-rotate"),
    ("DaemonSet.Created", "HIGH", ALICE, "default/docker-cleaner"),
    ("DaemonSet.Created", "HIGH", DEV, "default/metrics-agent"),
    ("DaemonSet.Created", "HIGH", JDOE, "default/node-debugger"),
    ("DaemonSet.Created", "HIGH", OPSBOT, "ops/node-shell"),
    ("DaemonSet.Created", "MEDIUM", DEPLOYER, "monitoring/log-shipper"),
    ("Kubectl.CP.Operation", "MEDIUM", ASMITH, "shop/db-0"),
    ("Pod.EphemeralContainer.Created", "HIGH", ALICE, "payments/api-6c9d8b7f5-m3n4p"),
    ("Pod.Exec", "HIGH", ALICE, "kube-system/coredns-5d8f7c6b9-q7w2e"),
    ("Pod.Exec", "MEDIUM", ASMITH, "shop/db-0"),
    ("Pod.Exec", "MEDIUM", ASMITH, "shop/web-7f9c6d5b8-x2x4q"),
    ("Pod.Host.Network", "MEDIUM", DEV, "kube-system/netshoot"),
    ("Pod.Host.PID", "HIGH", ALICE, "default/docker-cleaner"),
    ("Pod.Host.PID", "HIGH", JDOE, "default/node-debugger"),
    ("Pod.Host.PID", "HIGH", OPSBOT, "ops/node-shell"),
    ("Pod.HostPath.Volume", "CRITICAL", ALICE, "default/docker-cleaner"),
    ("Pod.HostPath.Volume", "CRITICAL", JDOE, "default/node-debugger"),
    ("Pod.HostPath.Volume", "CRITICAL", OPSBOT, "ops/node-shell"),
    ("Pod.HostPath.Volume", "HIGH", DEV, "default/metrics-agent"),
    ("Pod.HostPath.Volume", "MEDIUM", DEPLOYER, "monitoring/log-shipper"),
    ("Pod.PortForward", "LOW", ASMITH, "shop/db-0"),
    ("Pod.Privileged.Created", "HIGH", ALICE, "default/docker-cleaner"),
    ("Pod.Privileged.Created", "HIGH", ALICE, "payments/api-6c9d8b7f5-m3n4p"),
    ("Pod.Privileged.Created", "HIGH", JDOE, "default/node-debugger"),
    ("Pod.Privileged.Created", "HIGH", OPSBOT, "ops/node-shell"),
    ("Pod.StealServiceAccountToken", "HIGH", ASMITH, "shop/web-7f9c6d5b8-x2x4q"),
    ("Pod.SystemNamespace", "HIGH", DEV, "kube-system/netshoot"),
]


def scan_samples(*extra: str) -> list[tuple[str, str, str, str]]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert main(["scan", *extra, *map(str, DATA_FILES)], out=out, err=io.StringIO()) == 0
    out.flush()
    docs = [orjson.loads(x) for x in out.buffer.getvalue().splitlines()]  # type: ignore[attr-defined]
    return sorted((d["rule_id"].removeprefix("Kubernetes."), d["severity"],
                   d["context"]["username"], f"{d['context']['namespace']}/{d['context']['name']}")
                  for d in docs)


def test_make_run_shows_findings_of_the_whole_pack() -> None:
    found = scan_samples()
    assert found == sorted(PACK_FINDINGS)
    assert len({rule for rule, *_ in found}) >= 12
    assert scan_samples("--no-prefilter") == found
