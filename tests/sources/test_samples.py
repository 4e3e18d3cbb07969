"""The bundled samples: exactly what gen_samples builds, and the findings `make run` shows."""

from __future__ import annotations

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
