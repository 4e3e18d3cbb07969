"""Build AuditEvents directly for rule-logic tests (the decoders have their own tests on real
delivery formats; here the input of a rule *is* an AuditEvent)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubetrail.events import CLOUD_BY_LOG_TYPE, AuditEvent

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def ds_manifest(**pod_spec: Any) -> dict[str, Any]:
    containers = pod_spec.pop("containers", [{"name": "agent", "image": "busybox:1.36"}])
    return {"kind": "DaemonSet", "apiVersion": "apps/v1",
            "metadata": {"name": "node-agent"},
            "spec": {"template": {"spec": {"containers": containers, **pod_spec}}}}


def make_event(**overrides: Any) -> AuditEvent:
    log_type = overrides.pop("log_type", "Amazon.EKS.Audit")
    fields: dict[str, Any] = {
        "cloud": CLOUD_BY_LOG_TYPE[log_type], "log_type": log_type, "cluster": "prod",
        "audit_id": "a-1", "stage": "ResponseComplete", "verb": "create",
        "username": "alice@example.com", "groups": ("system:authenticated",),
        "source_ips": ("203.0.113.7",), "user_agent": "kubectl/v1.31.0",
        "resource": "daemonsets", "subresource": None, "namespace": "default",
        "name": "node-agent", "api_group": "apps", "api_version": "v1",
        "request_uri": "/apis/apps/v1/namespaces/default/daemonsets", "response_code": 201,
        "request_object": None, "time": T0, "raw": {},
    }
    fields.update(overrides)
    return AuditEvent(**fields)


# The seed rule alone: tests of the decoders, prefilter mechanics, findings and publishers use it
# so that their expectations do not move when the bundled pack grows.
SEED_RULE = (Path(__file__).resolve().parents[1] / "shared" / "kubetrail" / "packs" / "kubernetes"
             / "k8s_daemonset_created.yml")


def seed_only_config(directory: Path) -> Path:
    """A rules configuration (KUBETRAIL_CONFIG) that leaves only the seed rule enabled, for the
    cloud-function tests whose expectations are about delivery, dedup and publishing: written
    from the bundled pack, so rules added later are disabled too."""
    from kubetrail.rules import load_rules

    seed = "Kubernetes.DaemonSet.Created"
    others = sorted(r.rule_id for r in load_rules(include_disabled=True) if r.rule_id != seed)
    path = directory / "kubetrail-seed-only.yml"
    path.write_text("rules:\n" + "".join(f"  {rid}: {{enabled: false}}\n" for rid in others))
    return path
