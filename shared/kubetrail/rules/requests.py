"""What a request did, in the pack's shared vocabulary: succeeded, created, modified, streamed.

Every rule asks the same questions of an AuditEvent; answering them in one place keeps the pack's
semantics identical across rules:

* only completed requests count (no stage, or ResponseComplete), except streaming subresources
  (exec, attach, port-forward) whose connection stays open: ResponseStarted counts too and dedup
  removes the doubles;
* a failed request (HTTP >= 400, or a gRPC error mapped to one) did nothing;
* a server-side dry run (`?dryRun=All`) persisted nothing;
* "created" includes a server-side apply that creates (`kubectl apply --server-side`: verb
  `patch`, response 201); "modified" is update or patch. GKE records no HTTP status (a gRPC code
  only), so there a server-side apply (a patch whose body names its apiVersion and kind, as an
  apply must) may have created the object and counts as a create too, named "applied";
* exec, attach and port-forward arrive as verb `create` (SPDY) or `get` (WebSocket, the default
  of kubectl >= 1.30).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent

STREAMING_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})
STREAMING_VERBS = frozenset({"create", "get"})
STREAMING_STAGES = frozenset({"ResponseStarted", "ResponseComplete"})
CREATE_VERBS = frozenset({"create", "patch"})
MODIFY_VERBS = frozenset({"update", "patch"})


def succeeded(event: AuditEvent) -> bool:
    """Completed, not failed, not a dry run: the request took effect."""
    return event.completed and not event.failed and not event.dry_run


def creation(event: AuditEvent) -> str | None:
    """"created" when the request created its object (create, or a server-side apply answered
    201); "applied" for a server-side apply on GKE, whose log cannot say whether it created (it
    is judged as a create: an attacker must not evade by applying instead of creating); None
    otherwise."""
    if not succeeded(event):
        return None
    if event.verb == "create" or (event.verb == "patch" and event.response_code == 201):
        return "created"
    if event.verb == "patch" and event.cloud == "gcp" and is_apply_body(event.request_object):
        return "applied"
    return None


def created(event: AuditEvent) -> bool:
    """The request created (or, on GKE, may have created) its object: see creation()."""
    return creation(event) is not None


def is_apply_body(body: Mapping[str, Any] | None) -> bool:
    """A patch body that can be a server-side apply: it names its apiVersion and kind (the API
    server refuses an apply that does not; strategic merge patches usually do not)."""
    return (body is not None and isinstance(body.get("apiVersion"), str)
            and isinstance(body.get("kind"), str) and bool(body["kind"]))


def modified(event: AuditEvent) -> bool:
    """The request changed an existing object (update or patch that did not create)."""
    if not succeeded(event) or event.verb not in MODIFY_VERBS:
        return False
    return not (event.verb == "patch" and event.response_code == 201)


def created_or_modified(event: AuditEvent) -> bool:
    """Created, updated or patched, and it took effect."""
    return succeeded(event) and event.verb in ("create", "update", "patch")


def streamed(event: AuditEvent, subresources: frozenset[str] = STREAMING_SUBRESOURCES) -> bool:
    """An exec/attach/port-forward connection was opened on a pod (SPDY or WebSocket)."""
    if event.resource != "pods" or event.subresource not in subresources:
        return False
    if event.verb not in STREAMING_VERBS or event.failed or event.dry_run:
        return False
    return event.stage is None or event.stage in STREAMING_STAGES
