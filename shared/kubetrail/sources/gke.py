"""GKE: a Cloud Logging LogEntry whose protoPayload is a Cloud Audit Log of the k8s.io service.

Only `protoPayload.serviceName == "k8s.io"` is a Kubernetes audit event; any other entry
(the GKE cluster API `container.googleapis.com`, an entry without protoPayload) → Skip
("not-k8s-audit"). Panther-shaped logs, whose p_log_type already says GCP.AuditLog, may omit
serviceName (detect.decode_panther passes assume_k8s).

Mapping:
- `methodName` `io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>` gives verb,
  resource, subresource and api_version. The group in methodName is a reversed domain
  (`io.k8s.authorization.rbac` for rbac.authorization.k8s.io), so the API group is taken from
  `resourceName` `<group>/<version>/[namespaces/<ns>/]<resource>/<name>[/<subresource>]`, which
  also gives namespace and name; without a usable resourceName only the single-label groups
  (apps, batch, ...) are read from methodName. The core group (`core`) is None, as on EKS.
  Every value thus comes literally from the entry's text, which keeps the byte prefilter exact.
- A non-resource request is `io.k8s.<verb>` with resourceName the path (`readyz`): verb get,
  resource None, request_uri `/readyz`.
- username = authenticationInfo.principalEmail; source_ips = requestMetadata.callerIp (or
  callerIP, as hand-written logs spell it); user_agent = callerSuppliedUserAgent;
  request_object = protoPayload.request; cluster = resource.labels.cluster_name;
  time = timestamp, else receiveTimestamp; stage None (GKE does not record one).
- audit_id = operation.id — the Kubernetes auditID, shared by the entries of one request —
  else insertId.
- response_code from `status` only: missing, `{}`, without code or code 0 → 200 (proto3 omits a
  zero code: this *is* OK); a gRPC code 1..16 → its HTTP mapping (google.rpc.Code); any other
  value is a Failure. Nothing else (e.g. an empty response) is read as success or failure.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from kubetrail.errors import DecodeError, Origin
from kubetrail.events import AuditEvent, new_event
from kubetrail.sources.base import Decoded, Failure, Outcome, Skip
from kubetrail.sources.common import (
    cut,
    describe,
    is_mapping,
    opt_map,
    opt_str,
    request_body,
    type_name,
)
from kubetrail.sources.guard import isolated
from kubetrail.sources.k8s import opt_time
from kubetrail.sources.rawdump import dump

# google.rpc.Code → HTTP, as google/rpc/code.proto documents each code.
GRPC_TO_HTTP = {
    0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409,
    11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}
# API groups that are spelled the same in methodName and have no `.k8s.io` suffix.
SINGLE_LABEL_GROUPS = frozenset({"apps", "batch", "autoscaling", "policy", "extensions"})
_TIME_KEYS = ("timestamp", "receiveTimestamp")
_CACHED_METHOD_CHARS = 200


def _is_version(token: str) -> bool:
    """`v1`, `v2`, `v1beta1`, `v1alpha2`."""
    if len(token) < 2 or token[0] != "v" or not token[1].isdigit():
        return False
    rest = token[1:].lstrip("0123456789")
    for stage in ("alpha", "beta"):
        if rest.startswith(stage):
            rest = rest[len(stage):]
            return rest.isdigit()
    return rest == ""


def parse_method(method: str) -> tuple[str, str | None, str | None, str | None, str | None]:
    """methodName → (verb, group token, version, resource, subresource)."""
    tokens = method.split(".")
    n = len(tokens)
    if method.islower():  # API groups, versions, resources and verbs are all lower case
        if n >= 4 and _is_version(tokens[-3]):
            return tokens[-1], ".".join(tokens[:-3]), tokens[-3], tokens[-2], None
        if n >= 5 and _is_version(tokens[-4]):
            return tokens[-1], ".".join(tokens[:-4]), tokens[-4], tokens[-3], tokens[-2]
        if n == 3 and method.startswith("io.k8s.") and tokens[2]:
            return tokens[2], None, None, None, None  # non-resource request
    raise DecodeError(f"protoPayload.methodName: not a Kubernetes method: {describe(method)}")


@functools.lru_cache(maxsize=1024)
def _parsed(method: str) -> tuple[str, str | None, str | None, str | None, str | None] | str:
    """parse_method's answer, or the message of its DecodeError (a cluster has a few hundred
    methods: the candidates of a stream parse each once)."""
    try:
        return parse_method(method)
    except DecodeError as exc:
        return exc.message


def parsed_method(method: str
                  ) -> tuple[str, str | None, str | None, str | None, str | None] | str:
    """parse_method(method), or the message of its DecodeError; cached for names of real length
    (a long one, which only a crafted entry has, is parsed each time and not kept)."""
    if len(method) <= _CACHED_METHOD_CHARS:
        return _parsed(method)
    try:
        return parse_method(method)
    except DecodeError as exc:
        return exc.message


def _method(method: str) -> tuple[str, str | None, str | None, str | None, str | None]:
    parsed = parsed_method(method)
    if type(parsed) is str:
        raise DecodeError(parsed)
    return parsed  # type: ignore[return-value]


def _group_from_method(token: str | None) -> str | None:
    label = token[len("io.k8s."):] if token and token.startswith("io.k8s.") else None
    return label if label in SINGLE_LABEL_GROUPS else None


def _status_code(status: Mapping[str, Any] | None) -> int:
    code = None if status is None else status.get("code")
    if code is None:
        return 200
    if type(code) is not int:
        raise DecodeError(f"protoPayload.status.code: expected an integer, got {type_name(code)}")
    if code not in GRPC_TO_HTTP:
        raise DecodeError(f"protoPayload.status.code: {code} is not a google.rpc.Code")
    return GRPC_TO_HTTP[code]


def log_entry_event(
    entry: Mapping[str, Any], origin: Origin, *, default_cluster: str | None = None,
    assume_k8s: bool = False,
) -> AuditEvent | None:
    """The AuditEvent of a k8s.io LogEntry; None when the entry is not a k8s audit entry."""
    if not is_mapping(entry):
        raise DecodeError(f"LogEntry: expected an object, got {type_name(entry)}", origin)
    try:
        pp = opt_map(entry, "protoPayload", "")
        if pp is None:
            return None
        service = pp.get("serviceName")
        if service != "k8s.io" and not (assume_k8s and service is None):
            return None
        method = opt_str(pp, "methodName", "protoPayload.")
        if method is None:
            raise DecodeError("protoPayload.methodName: missing")
        verb, group_token, version, resource, subresource = _method(method)
        resource_name = opt_str(pp, "resourceName", "protoPayload.")
        group, namespace, name, request_uri = _group_from_method(group_token), None, None, None
        if resource is None:
            request_uri = "/" + resource_name.lstrip("/") if resource_name else None
        elif resource_name:
            segments = resource_name.split("/")
            if len(segments) >= 2 and segments[1] == version:
                group = None if segments[0] == "core" else segments[0] or None
                segments = segments[2:]
            if len(segments) >= 3 and segments[0] == "namespaces" and segments[2] == resource:
                namespace, segments = segments[1] or None, segments[2:]
            if len(segments) >= 2 and segments[0] == resource:
                name = segments[1] or None
        auth = opt_map(pp, "authenticationInfo", "protoPayload.")
        meta = opt_map(pp, "requestMetadata", "protoPayload.")
        caller_ip = None
        if meta is not None:
            caller_ip = opt_str(meta, "callerIp", "protoPayload.requestMetadata.")
            if caller_ip is None:
                caller_ip = opt_str(meta, "callerIP", "protoPayload.requestMetadata.")
        labels = opt_map(opt_map(entry, "resource", "") or {}, "labels", "resource.")
        operation = opt_map(entry, "operation", "")
        audit_id = None if operation is None else opt_str(operation, "id", "operation.")
        return new_event(  # AuditEvent's fields in order, each read (and checked) in turn
            "gcp", "GCP.AuditLog",
            (None if labels is None else opt_str(labels, "cluster_name", "resource.labels."))
            or default_cluster,
            audit_id or opt_str(entry, "insertId", ""),
            None, verb,
            None if auth is None else opt_str(auth, "principalEmail",
                                              "protoPayload.authenticationInfo."),
            (), () if caller_ip is None else (caller_ip,),
            None if meta is None else opt_str(meta, "callerSuppliedUserAgent",
                                              "protoPayload.requestMetadata."),
            resource, subresource, namespace, name, group, version, request_uri,
            _status_code(opt_map(pp, "status", "protoPayload.")),
            request_body(pp, "request", "protoPayload."),
            opt_time(entry, _TIME_KEYS), entry,
        )
    except DecodeError as exc:
        raise DecodeError(exc.message, origin) from None


@isolated
def decode_log_entry(
    entry: Mapping[str, Any], origin: Origin, *, default_cluster: str | None = None,
    assume_k8s: bool = False,
) -> Outcome:
    """Decode one LogEntry: Decoded, Skip("not-k8s-audit") or Failure."""
    try:
        event = log_entry_event(entry, origin, default_cluster=default_cluster,
                                assume_k8s=assume_k8s)
    except DecodeError as exc:
        return Failure(exc.message, origin, cut(dump(entry)))
    return Skip("not-k8s-audit", origin) if event is None else Decoded(event, origin)
