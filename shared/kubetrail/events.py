"""AuditEvent: the one normalized Kubernetes audit event every decoder produces."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from kubetrail.record import fast_constructor, record

Cloud = Literal["aws", "azure", "gcp"]
LogType = Literal["Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"]

LOG_TYPE_BY_CLOUD: dict[str, LogType] = {
    "aws": "Amazon.EKS.Audit",
    "azure": "Azure.MonitorActivity",
    "gcp": "GCP.AuditLog",
}
CLOUD_BY_LOG_TYPE: dict[str, Cloud] = {
    "Amazon.EKS.Audit": "aws",
    "Azure.MonitorActivity": "azure",
    "GCP.AuditLog": "gcp",
}


# Verbs whose options carry dryRun (CreateOptions, UpdateOptions, PatchOptions, DeleteOptions).
DRY_RUN_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
# Connect subresources: their options (PodExecOptions, ...) have no dryRun; it is ignored.
CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})


@record(frozen=True, slots=True)
class AuditEvent:
    """A Kubernetes API request as the API server audited it, whichever cloud delivered it.

    Field names follow the audit.k8s.io Event so rules read naturally. `response_code` is an HTTP
    status code; GKE's gRPC status codes are mapped to their HTTP equivalents (google.rpc.Code),
    the original stays in `raw`. `raw` is the record as delivered (for GKE the LogEntry, for AKS
    the diagnostic record, for EKS the audit Event).
    """

    cloud: Cloud
    log_type: LogType
    cluster: str | None
    audit_id: str | None
    stage: str | None
    verb: str | None
    username: str | None
    groups: tuple[str, ...]
    source_ips: tuple[str, ...]
    user_agent: str | None
    resource: str | None
    subresource: str | None
    namespace: str | None
    name: str | None
    api_group: str | None
    api_version: str | None
    request_uri: str | None
    response_code: int | None
    request_object: Mapping[str, Any] | None
    time: datetime | None
    raw: Mapping[str, Any]

    @property
    def completed(self) -> bool:
        """The request finished: no stage recorded, or the ResponseComplete stage."""
        return self.stage is None or self.stage == "ResponseComplete"

    @property
    def failed(self) -> bool:
        """The API server refused or failed the request (HTTP status >= 400)."""
        code = self.response_code
        return isinstance(code, int) and code >= 400

    @property
    def dry_run(self) -> bool:
        """The request was a server-side dry run (`?dryRun=All`): nothing was persisted.

        Strict on purpose, and never raises: every doubt answers False, so a persisted request
        cannot pass itself off as a dry run (rules skip dry runs). The API server rejects any
        other dryRun value with 400; a URI that `urlsplit` cannot parse (e.g. a malformed `[...]`
        host) is not a dry run; the query is everything after the first `?`, fragment included,
        as the API server reads a request URI, so `?dryRun=All#x` is not a dry run either.
        Only writes take the parameter: a read (get, list, watch) or a connection to a pod or node
        (exec, attach, portforward, proxy) ignores it and happens, so it is never a dry run."""
        uri = self.request_uri
        if not isinstance(uri, str) or "dryRun" not in uri:
            return False
        if self.verb not in DRY_RUN_VERBS or self.subresource in CONNECT_SUBRESOURCES:
            return False  # the parameter is ignored there: the read or the stream happened
        try:
            urlsplit(uri)
            _, sep, query = uri.partition("?")
            return bool(sep) and parse_qs(query, keep_blank_values=True).get("dryRun") == ["All"]
        except Exception:  # an unreadable URI is not a dry run
            return False



# `AuditEvent(...)` with the same arguments, built faster: the decoders' hot path. Equal to it in
# every way (tests/test_events.py checks it field by field).
new_event = fast_constructor(AuditEvent, "new_event")
