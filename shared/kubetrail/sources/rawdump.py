"""Bytes of an already-parsed JSON value for a failure's raw record and reasons, when the bytes it
was parsed from are gone: bounded in size, and never raising or recursing whatever the value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubetrail.sources.common import MAX_FAILURE_RAW, is_mapping


def dump(value: Any, limit: int = MAX_FAILURE_RAW) -> bytes:
    """Bytes of an already-parsed value (at most `limit` of them), for Failure.raw and failure
    reasons when the original bytes are gone. Never raises and never recurses: a value orjson
    cannot write (nesting beyond its limit, a non-JSON type) is written by a bounded loop."""
    import orjson

    try:
        out = orjson.dumps(value)
    except Exception:
        return _dump_bounded(value, limit)
    # A copy, also when not cut: orjson's result keeps a 4 KiB buffer even for b"{}".
    return bytes(memoryview(out)[:limit])


def _scalar(value: object) -> bytes:
    import orjson

    if value is None or type(value) is bool:
        return b"null" if value is None else (b"true" if value else b"false")
    if isinstance(value, int | float):
        try:
            return str(value).encode()
        except ValueError:  # an int beyond str()'s digit limit
            return b'"<large number>"'
    if isinstance(value, str):
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError:  # lone surrogates
            return orjson.dumps(value.encode("utf-8", "backslashreplace").decode("ascii"))
    return orjson.dumps(f"<{type(value).__name__}>")


def _dump_bounded(value: Any, limit: int) -> bytes:
    """JSON-like text of `value`, written with an explicit stack, stopped past `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    stack: list[tuple[Iterator[tuple[bytes, Any]], bytes]] = [(iter([(b"", value)]), b"")]
    while stack and size <= limit:
        items, closer = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            token = closer
        else:
            prefix, v = item
            if is_mapping(v):
                token = prefix + b"{"
                members = (((b"," if i else b"") + _scalar(str(k)) + b":", x)
                           for i, (k, x) in enumerate(v.items()))
                stack.append((members, b"}"))
            elif isinstance(v, list | tuple):
                token = prefix + b"["
                stack.append((((b"," if i else b"", x) for i, x in enumerate(v)), b"]"))
            else:
                token = prefix + _scalar(v)
        parts.append(token)
        size += len(token)
    return b"".join(parts)[:limit]
