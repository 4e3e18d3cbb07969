"""A JSON patch (RFC 6902, `kubectl patch --type=json`) read as the manifest fragment it writes.

The audit log records a JSON patch as the list of operations the client sent, which is no
manifest: read as one, `[{"op": "add", "path": "/spec/template/spec/hostPID", "value": true}]`
holds nothing a rule looks at, and every rule that judges the request body (privileged
containers, host namespaces, hostPath volumes, RBAC rules, binding subjects, Service types,
ConfigMap data) would be blind to it. So each `add` / `replace` value is placed at its path in a
sparse manifest: `{"spec": {"template": {"spec": {"hostPID": true}}}}`, which the rules then judge
like any other partial body (a merge patch, a strategic merge patch).

A `copy` or `move` writes a value that is already somewhere in the object and is not in the
record; it is placed as `true`, so a boolean switch copied from another true field
(`privileged`, `hostPID`, ...) is still seen. A `remove` is placed as `null`, as a merge patch
spells a removal (a rule can tell "TLS removed" from "TLS not mentioned"); `test` writes nothing.
Bounded work: at most MAX_OPS operations, MAX_DEPTH path tokens, list indexes up to MAX_INDEX
and MAX_PADDING placeholder slots in all (an index past them is a new slot at the end).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

MAX_OPS = 1024
MAX_DEPTH = 64
MAX_INDEX = 256
MAX_PADDING = 4096  # placeholder list slots, over the whole patch
MAX_PATH_CHARS = 4096
_WRITES = frozenset({"add", "replace"})
_COPIES = frozenset({"copy", "move"})


def _token(text: str) -> str:
    """A JSON pointer reference token, unescaped (`~1` is `/`, `~0` is `~`, in that order)."""
    return text.replace("~1", "/").replace("~0", "~")


def _is_index(ref: str) -> bool:
    return ref == "-" or (ref.isdigit() and ref.isascii())


class _Builder:
    """Places values into one sparse manifest, padding lists within a budget shared by the
    whole patch (so no patch, however its paths are spelled, allocates more than MAX_PADDING
    placeholder slots)."""

    def __init__(self) -> None:
        self.root: dict[str, Any] = {}
        self.padding = MAX_PADDING

    def child(self, node: dict[str, Any] | list[Any], token: str, next_token: str) -> Any:
        """The container at `token` under `node`, made (a list when the next token indexes
        one)."""
        fresh: Any = [] if _is_index(next_token) else {}
        if isinstance(node, dict):
            current = node.get(token)
            if not isinstance(current, type(fresh)):
                node[token] = current = fresh
            return current
        index = self.index(node, token)
        if not isinstance(node[index], type(fresh)):
            node[index] = fresh
        return node[index]

    def index(self, node: list[Any], token: str) -> int:
        """The slot of `token` in a list: its index (padded with empty objects while the budget
        lasts), or a new slot at the end."""
        if len(token) <= 3 and token.isdigit() and token.isascii():
            position = int(token)
            if position < len(node):
                return position
            if position - len(node) <= min(MAX_INDEX, self.padding):
                self.padding -= position - len(node)
                node.extend({} for _ in range(position - len(node) + 1))
                return position
        node.append({})
        return len(node) - 1

    def place(self, path: str, value: Any) -> None:
        if path == "":
            if isinstance(value, dict):
                self.root.update(value)  # the whole document replaced
            return
        if not path.startswith("/"):
            return  # not a JSON pointer: the API server refuses the patch
        tokens = [_token(t) for t in path[1:MAX_PATH_CHARS].split("/")[:MAX_DEPTH]]
        node: dict[str, Any] | list[Any] = self.root
        for token, next_token in pairwise(tokens):
            node = self.child(node, token, next_token)
        last = tokens[-1]
        if isinstance(node, dict):
            node[last] = value
        else:
            node[self.index(node, last)] = value


def json_patch_manifest(operations: list[Any]) -> dict[str, Any]:
    """The sparse manifest of what a JSON patch writes (see the module doc)."""
    builder = _Builder()
    for op in operations[:MAX_OPS]:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            continue
        kind = op.get("op")
        if kind in _WRITES and "value" in op:
            builder.place(op["path"], op["value"])
        elif kind in _COPIES:
            builder.place(op["path"], True)
        elif kind == "remove":
            builder.place(op["path"], None)  # as a merge patch spells a removal
    return builder.root


def is_json_patch(value: list[Any]) -> bool:
    """A list whose items are all JSON patch operations (objects with an `op`)."""
    return all(isinstance(op, dict) and "op" in op for op in value[:MAX_OPS])
