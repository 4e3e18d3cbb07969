"""Kubernetes.System.Principal.PublicIP: a cluster component's identity used from the internet.

Nodes, control-plane components, managed-service identities and kube-system service accounts
talk to the API server from inside the cluster's network. The same identity calling from a public
address suggests stolen node or service-account credentials. Clusters whose nodes legitimately
reach a public endpoint from public addresses list those ranges in the rule's `source CIDRs`
allowlist of the kubetrail config file. Any completed request counts, allowed or denied: the
credentials were accepted either way.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.network import public_source_ip, shown_source
from kubetrail.rules.principals import is_system_principal


def rule(event: AuditEvent) -> bool:
    return (event.completed and event.response_code != 401
            and is_system_principal(event.username) and public_source_ip(event) is not None)


def title(event: AuditEvent) -> str:
    return (f"System principal [{event.username}] called the Kubernetes API from public address "
            f"[{shown_source(event)}]")


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{public_source_ip(event) or ''}"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"username": event.username, "public_source_ip": public_source_ip(event),
            "source_ips": list(event.source_ips[:8]), "user_agent": event.user_agent}
