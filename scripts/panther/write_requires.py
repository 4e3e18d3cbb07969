"""Write shared/kubetrail/panther/requires.yml: kubetrail's Requires for panther-analysis's
Kubernetes rules, each pinned to the hash of the rule file it was read from.

    python scripts/panther/write_requires.py [PANTHER_ROOT]   (default ../shared/panther-analysis)

REQUIRES below is the analysis (done by reading each rule's rule() function): only conditions
the rule checks first and literally in its own file (udm verb / resource / subresource compared
with constants of that file) are recorded. Rules that can match without such a condition
(anonymous access, 403 counts, system principals from public IPs, Tor enrichment) have no entry.
After reading a new version of a rule, update its line here and run the script again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "shared"))

from kubetrail.panther.requires import SIDE_FILE, rule_digest  # noqa: E402

_CREATE_PODS = {"verb": ["create"], "resource": ["pods"]}
_CREATE_ROLES = {"verb": ["create"], "resource": ["clusterroles", "roles"]}
_EXEC = {"verb": ["create", "get"], "resource": ["pods"], "subresource": ["exec"]}
REQUIRES: dict[str, dict[str, list[str]]] = {
    "k8s_admission_controller_created": {"verb": ["create"], "resource": [
        "mutatingwebhookconfigurations", "validatingwebhookconfigurations"]},
    "k8s_client_certificate_created": {"verb": ["create"],
                                       "resource": ["certificatesigningrequests"]},
    "k8s_clusterrolebinding_privileged": {"verb": ["create"], "resource": ["clusterrolebindings"]},
    "k8s_cronjob_created_or_modified": {"verb": ["create", "patch", "update"],
                                        "resource": ["cronjobs"]},
    "k8s_daemonset_created": {"verb": ["create"], "resource": ["daemonsets"]},
    "k8s_exec_into_pod": _EXEC,
    "k8s_ingress_without_tls": {"verb": ["create"], "resource": ["ingresses"]},
    "k8s_kubectl_cp_operation": _EXEC,
    "k8s_pod_created_in_system_namespace": _CREATE_PODS,
    "k8s_pod_dangerous_capabilities": _CREATE_PODS,
    "k8s_pod_host_ipc": _CREATE_PODS,
    "k8s_pod_host_network": _CREATE_PODS,
    "k8s_pod_host_pid": _CREATE_PODS,
    "k8s_pod_hostpath_volume": _CREATE_PODS,
    "k8s_privileged_pod_created": _CREATE_PODS,
    "k8s_role_node_proxy_permissions": _CREATE_ROLES,
    "k8s_role_pod_exec": _CREATE_ROLES,
    "k8s_role_wildcard": _CREATE_ROLES,
    "k8s_role_write_permissions": _CREATE_ROLES,
    "k8s_secret_access_denied": {"verb": ["get"], "resource": ["secrets"]},
    "k8s_secret_enumeration": {"verb": ["get", "list", "watch"], "resource": ["secrets"]},
    "k8s_secrets_dump_all_namespaces": {"verb": ["list"], "resource": ["secrets"]},
    "k8s_service_nodeport": {"verb": ["create"], "resource": ["services"]},
    "k8s_serviceaccount_token_created": {"verb": ["create"], "resource": ["serviceaccounts"],
                                         "subresource": ["token"]},
    "k8s_steal_serviceaccount_token": {"verb": ["create"], "resource": ["pods"],
                                       "subresource": ["exec"]},
    "k8s_system_role_modified": {"verb": ["delete", "patch", "update"],
                                 "resource": ["clusterroles", "roles"]},
}

HEADER = """\
# kubetrail's Requires for panther-analysis's Kubernetes rules (rules/kubernetes_rules), read from
# each rule's rule() by hand: the verbs/resources/subresources it can only match with. An entry
# applies only while sha256(rule YAML + NUL + rule Python) is the one below; an edited rule gets
# no Requires (no prefilter), never wrong ones. Written by scripts/panther/write_requires.py.
"""


def main(root: Path) -> None:
    rules_dir = root / "rules" / "kubernetes_rules"
    entries = {}
    for stem, requires in sorted(REQUIRES.items()):
        yml, py = rules_dir / f"{stem}.yml", rules_dir / f"{stem}.py"
        rule_id = yaml.safe_load(yml.read_text(encoding="utf-8"))["RuleID"]
        entries[rule_id] = {"file": f"rules/kubernetes_rules/{stem}.yml",
                            "sha256": rule_digest(yml, py), "Requires": requires}
    SIDE_FILE.write_text(HEADER + yaml.safe_dump(entries, sort_keys=True, width=100),
                         encoding="utf-8")
    print(f"{SIDE_FILE}: {len(entries)} rules")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "panther-analysis")
