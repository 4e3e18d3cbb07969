"""What a request did, in the pack's shared vocabulary: succeeded, created, modified, streamed.

Every rule asks the same questions of an AuditEvent; answering them in one place keeps the pack's
semantics identical across rules:

* only completed requests count (no stage, or ResponseComplete), except streaming subresources
  (exec, attach, port-forward) whose connection stays open: ResponseStarted counts too and dedup
  removes the doubles;
* a failed request (HTTP >= 400, or a gRPC error mapped to one) did nothing;
* a server-side dry run (`?dryRun=All`) persisted nothing;
* "created" includes a server-side apply that creates (`kubectl apply --server-side`: verb
  `patch`, response 201); "modified" is update or patch;
* exec, attach and port-forward arrive as verb `create` (SPDY) or `get` (WebSocket, the default
  of kubectl >= 1.30).
"""

from __future__ import annotations

from kubetrail.events import AuditEvent

STREAMING_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})
STREAMING_VERBS = frozenset({"create", "get"})
STREAMING_STAGES = frozenset({"ResponseStarted", "ResponseComplete"})
CREATE_VERBS = frozenset({"create", "patch"})
MODIFY_VERBS = frozenset({"update", "patch"})


def succeeded(event: AuditEvent) -> bool:
    """Completed, not failed, not a dry run: the request took effect."""
    return event.completed and not event.failed and not event.dry_run


def created(event: AuditEvent) -> bool:
    """The request created its object (create, or a server-side apply answered 201)."""
    if not succeeded(event):
        return False
    return event.verb == "create" or (event.verb == "patch" and event.response_code == 201)


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
