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
  of kubectl >= 1.30); the same streams reached through the node proxy
  (`/api/v1/nodes/<node>/proxy/exec/<ns>/<pod>/<container>?command=...`, which `nodes/proxy`
  get allows) are exec, attach and port-forward too: see kubelet_stream().
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from kubetrail.events import AuditEvent

STREAMING_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})
STREAMING_VERBS = frozenset({"create", "get"})
STREAMING_STAGES = frozenset({"ResponseStarted", "ResponseComplete"})
CREATE_VERBS = frozenset({"create", "patch"})
MODIFY_VERBS = frozenset({"update", "patch"})
# The kubelet's streaming endpoints (its API, reached through the API server's node proxy) and
# the pod subresource each one is: /run runs a command like exec does.
KUBELET_STREAMS = {"exec": "exec", "run": "exec", "attach": "attach",
                   "portforward": "portforward"}
MAX_URI_CHARS = 8192


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


def kubelet_stream(event: AuditEvent) -> tuple[str, str | None, str | None] | None:
    """(subresource, namespace, pod) of a node-proxy request that reaches the kubelet's exec,
    run, attach or portForward endpoint (`/api/v1/nodes/<node>/proxy/exec/<ns>/<pod>/...`),
    None for any other request. The path is read as the kubelet would route it, and more
    loosely: percent-decoded, `.`/`..` and repeated slashes resolved, the endpoint's case
    ignored. It counts like `streamed()`: not failed, not a dry run, started or completed."""
    if event.resource != "nodes" or event.subresource != "proxy":
        return None
    if event.verb not in STREAMING_VERBS or event.failed or event.dry_run:
        return None
    if not (event.stage is None or event.stage in STREAMING_STAGES):
        return None
    path = unquote((event.request_uri or "")[:MAX_URI_CHARS].partition("?")[0])
    head, sep, rest = path.partition("/proxy/")
    if not sep or "/nodes/" not in head:
        return None
    parts = [p for p in posixpath.normpath("/" + rest).split("/") if p]
    kind = KUBELET_STREAMS.get(parts[0].lower()) if parts else None
    if kind is None:
        return None
    return kind, (parts[1] if len(parts) > 1 else None), (parts[2] if len(parts) > 2 else None)
