"""What every decoder shares: JSON parsing into DecodeError, bounded gzip inflation, strict
base64, type-checked field access and escaped text for failure reasons.

Null handling (every decoder): JSON `null` in an optional field is treated as if the field were
absent — `"namespace": null` is no namespace, `"sourceIPs": null` no source IPs. The exceptions are
spelled out where they apply (an audit Event's `user: null` is a failure, see k8s.py). A value of
the wrong type is never coerced: it is a DecodeError naming the field and the type found.

Prefilter (every decoder that sees a record's text before parsing it): a record is Prefiltered
only when its text is_json_object and the prefilter rejects it, so a truncated, mangled or badly
encoded record is still parsed and reported as the Failure it is.
"""

from __future__ import annotations

import binascii
import zlib
from collections.abc import Mapping
from typing import Any, TypeGuard

import msgspec
import orjson

from kubetrail.errors import DecodeError

DEFAULT_MAX_INFLATE = 64 * 1024 * 1024
# Failure.raw is cut here; the dead-letter document cuts again (smaller) and flags the cut.
MAX_FAILURE_RAW = 1024 * 1024
BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"


class _AnyObject(msgspec.Struct):
    """Decoding into this checks a JSON object's syntax and builds nothing of it."""


_check_object = msgspec.json.Decoder(_AnyObject).decode

_JSON_TYPES = {
    type(None): "null", bool: "boolean", int: "number", float: "number", str: "string",
    list: "array", dict: "object",
}


def is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """isinstance(value, Mapping), without the ABC machinery's cost for the usual dict."""
    return type(value) is dict or isinstance(value, Mapping)


def is_utf8(text: bytes) -> bool:
    """Valid UTF-8 (ASCII, the common case, is checked at memory speed)."""
    if text.isascii():
        return True
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def is_json_object(text: bytes) -> bool:
    """`text` is one well-formed JSON object in UTF-8, checked without building it (every field
    is skipped, at several times orjson's speed). Text failing this is always parsed fully, so
    that its failure is reported."""
    if not is_utf8(text):
        return False
    try:
        _check_object(text)
    except msgspec.DecodeError:
        return False
    return True


def type_name(value: object) -> str:
    """The JSON name of a parsed value's type, for failure reasons."""
    return _JSON_TYPES.get(type(value)) or ("object" if isinstance(value, Mapping)
                                            else type(value).__name__)


def describe(value: object, limit: int = 64) -> str:
    """A short, escaped rendering of an untrusted value: no newline, ANSI escape or other
    non-printable character survives (repr escapes them), and long text is cut."""
    text = value if isinstance(value, str) else str(value)
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def escaped(text: str, limit: int = 160) -> str:
    """Text with every non-printable character escaped, cut at `limit` characters."""
    return repr(text[:limit])[1:-1] + ("…" if len(text) > limit else "")


def describe_keys(obj: Mapping[Any, Any], limit: int = 12) -> str:
    """The keys of an untrusted object, sorted, each escaped and cut, at most `limit` of them."""
    keys = sorted(map(str, obj))
    text = ", ".join(describe(k, 40) for k in keys[:limit])
    return text + (f", … ({len(keys)} keys)" if len(keys) > limit else "")


def loads(data: bytes | bytearray | memoryview | str, what: str = "JSON") -> Any:
    """orjson.loads, with every parse error (broken JSON, invalid UTF-8, nesting beyond orjson's
    limit of 1024 levels) turned into a DecodeError."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"invalid {what}: {escaped(str(exc))}") from None


def dump(value: Any) -> bytes:
    """Bytes of an already-parsed value, for Failure.raw when the original bytes are gone."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return repr(value).encode("utf-8", "backslashreplace")


def cut(raw: bytes | bytearray | str) -> bytes:
    """Failure.raw: the record as it arrived, cut at MAX_FAILURE_RAW bytes."""
    if isinstance(raw, str):
        raw = raw[:MAX_FAILURE_RAW].encode("utf-8", "surrogatepass")
    return bytes(raw[:MAX_FAILURE_RAW])


def b64decode(text: object, field: str) -> bytes:
    """Strict standard base64 (padding required, no stray characters)."""
    if not isinstance(text, str):
        raise DecodeError(f"{field}: expected a base64 string, got {type_name(text)}")
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise DecodeError(f"{field} is not valid base64: {escaped(str(exc))}") from None


def inflate(data: bytes, max_inflate: int = DEFAULT_MAX_INFLATE) -> bytes:
    """Gunzip `data` (all members), incrementally, refusing to produce more than `max_inflate`
    bytes: a gzip bomb costs at most that much memory and is a DecodeError."""
    out: list[bytes] = []
    total = 0
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(data, max_inflate - total + 1)
        except zlib.error as exc:
            raise DecodeError(f"invalid gzip data: {escaped(str(exc))}") from None
        total += len(chunk)
        if total > max_inflate:
            raise DecodeError(f"gzip payload inflates beyond {max_inflate} bytes")
        if not inflater.eof:
            raise DecodeError("invalid gzip data: stream is truncated")
        out.append(chunk)
        data = inflater.unused_data
        if data and not data.startswith(GZIP_MAGIC):
            raise DecodeError("invalid gzip data: trailing garbage after the gzip stream")
    return b"".join(out)


def opt_str(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    """obj[key] when it is a string, None when absent or null; else a DecodeError."""
    value = obj.get(key)
    if value is None or type(value) is str:
        return value
    raise DecodeError(f"{path}{key}: expected a string, got {type_name(value)}")


def opt_map(obj: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    """obj[key] when it is an object, None when absent or null; else a DecodeError."""
    value = obj.get(key)
    if value is None or is_mapping(value):
        return value
    raise DecodeError(f"{path}{key}: expected an object, got {type_name(value)}")


def str_tuple(obj: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    """obj[key] as a tuple when it is a list of strings, () when absent or null."""
    value = obj.get(key)
    if value is None:
        return ()
    if type(value) is list and all(type(v) is str for v in value):
        return tuple(value)
    if type(value) is list:
        bad = next(v for v in value if type(v) is not str)
        raise DecodeError(f"{path}{key}: expected a list of strings, found a {type_name(bad)}")
    raise DecodeError(f"{path}{key}: expected a list of strings, got {type_name(value)}")
