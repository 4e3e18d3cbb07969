"""Kubernetes.API.AnonymousAccess: the API server let an unauthenticated request through.

Health and version probes (/healthz, /livez, /readyz, /version and their sub-paths) are public by
design and are not findings. The path is compared segment by segment after splitting off the
query: `/healthz/../api/v1/secrets`, `/healthzx`, `/%68ealthz` or `/healthz//x` are not probes.
Server-side dry runs count: a dry run that the API server authorized shows what the anonymous
user may do, which is the finding. The YAML's Requires (username system:anonymous, the identity
the API server gives every request without credentials) keeps the prefilter selective.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from kubetrail.events import AuditEvent
from kubetrail.rules.network import public_source_ip, shown_source
from kubetrail.rules.principals import is_anonymous

PROBE_ROOTS = frozenset({"healthz", "livez", "readyz", "version"})
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


def is_probe(event: AuditEvent) -> bool:
    """A non-resource GET of a health or version endpoint (exact path segments)."""
    if event.resource is not None or event.verb != "get" or not event.request_uri:
        return False
    path = urlsplit(event.request_uri[:2048]).path
    segments = path.split("/")
    if len(segments) < 2 or segments[0] != "" or segments[1] not in PROBE_ROOTS:
        return False
    rest = segments[2:]
    if rest and rest[-1] == "":
        rest = rest[:-1]  # one trailing slash: `/version/`
    return all(_SEGMENT.fullmatch(s) and s not in (".", "..") for s in rest)


def rule(event: AuditEvent) -> bool:
    if not is_anonymous(event) or not event.completed or event.failed:
        return False
    return not is_probe(event)


def title(event: AuditEvent) -> str:
    target = event.resource or event.request_uri or "<unknown>"
    source = (shown_source(event) if public_source_ip(event)
              else ", ".join(event.source_ips)[:256] or "<unknown>")
    return f"Anonymous request [{event.verb or '<unknown>'} {target}] allowed from [{source}]"


def dedup(event: AuditEvent) -> str:
    # The public source (or the connection's own address): forged X-Forwarded-For values in
    # front of it must not split one caller into many findings.
    source = public_source_ip(event) or (event.source_ips[-1] if event.source_ips else "")
    return f"{source}\x1f{event.verb or ''}\x1f{event.resource or ''}"


def severity(event: AuditEvent) -> str:
    # Anything beyond a read is a cluster takeover waiting to happen.
    return "CRITICAL" if event.verb not in ("get", "list", "watch") else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"username": event.username, "groups": list(event.groups),
            "dry_run": event.dry_run, "public_source_ip": public_source_ip(event)}
