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
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from kubetrail.errors import ConfigError, DecodeError
from kubetrail.sources.density import check_density
from kubetrail.sources.patches import is_json_patch, json_patch_manifest

DEFAULT_MAX_INFLATE = 64 * 1024 * 1024
# Failure.raw is cut here; the dead-letter document cuts again (smaller) and flags the cut.
MAX_FAILURE_RAW = 1024 * 1024
BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"


def _bind_parsers() -> None:
    """Bind the JSON checks and parser below to msgspec's and orjson's, on first use: both are
    imported with the first record (an empty input needs neither), and each call after that
    goes straight to them."""
    global _check_object, _check_value, _parse, _ParseError
    import msgspec
    import orjson

    class _AnyObject(msgspec.Struct):
        """Decoding into this checks a JSON object's syntax and builds nothing of it."""

    _check_object = msgspec.json.Decoder(_AnyObject).decode
    _check_value = msgspec.json.Decoder(msgspec.Raw).decode
    _parse, _ParseError = orjson.loads, orjson.JSONDecodeError


def _first_check_object(text: bytes) -> Any:
    _bind_parsers()
    return _check_object(text)


def _first_check_value(text: bytes) -> Any:
    _bind_parsers()
    return _check_value(text)


def _first_parse(data: bytes | bytearray | memoryview | str) -> Any:
    _bind_parsers()
    return _parse(data)


_check_object: Callable[[bytes], Any] = _first_check_object
_check_value: Callable[[bytes], Any] = _first_check_value
_parse: Callable[[bytes | bytearray | memoryview | str], Any] = _first_parse
_ParseError: type[Exception] = ValueError  # orjson.JSONDecodeError, once _parse has run

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
    except Exception:
        return False
    return True


def is_json(text: bytes) -> bool:
    """`text` is one well-formed JSON value (a leading BOM and whitespace allowed), checked
    without building it."""
    text = text.strip()
    if text.startswith(BOM):
        text = text[3:]
    if not is_utf8(text):
        return False
    try:
        _check_value(text)
    except Exception:
        return False
    return True


def type_name(value: object) -> str:
    """The JSON name of a parsed value's type, for failure reasons."""
    return _JSON_TYPES.get(type(value)) or ("object" if isinstance(value, Mapping)
                                            else type(value).__name__)


def describe(value: object, limit: int = 64) -> str:
    """A short, escaped rendering of an untrusted value: no newline, ANSI escape or other
    non-printable character survives (repr escapes them), and long text is cut. Bounded and
    non-recursive whatever the value (a parsed value is rendered by `dump`)."""
    if isinstance(value, str):
        text = value
    else:
        from kubetrail.sources.rawdump import dump

        text = dump(value, 4 * limit + 4).decode("utf-8", "backslashreplace")
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def escaped(text: str, limit: int = 160) -> str:
    """Text with every non-printable character escaped, cut at `limit` characters."""
    return repr(text[:limit])[1:-1] + ("…" if len(text) > limit else "")


def describe_keys(obj: Mapping[Any, Any], limit: int = 12) -> str:
    """The first keys of an untrusted object in sorted order, each escaped and cut, at most
    `limit` of them."""
    import heapq  # (here: only a failure's reason needs it)

    keys = heapq.nsmallest(limit, (k if type(k) is str else type_name(k) for k in obj))
    text = ", ".join(describe(k, 40) for k in keys)
    return text + (f", … ({len(obj)} keys)" if len(obj) > limit else "")


def _strip_bom(data: bytes | bytearray | memoryview | str) -> bytes | bytearray | memoryview | str:
    if isinstance(data, str):
        return data[1:] if data.startswith("\ufeff") else data
    return data[3:] if data[:3] == BOM else data


def loads(data: bytes | bytearray | memoryview | str, what: str = "JSON") -> Any:
    """orjson.loads, with every parse error (broken JSON, invalid UTF-8, nesting beyond orjson's
    limit of 1024 levels) turned into a DecodeError. A leading UTF-8 BOM is ignored (some
    producers write one); text too dense to build within its memory bound is refused
    (check_density)."""
    data = _strip_bom(data)
    check_density(data, what)
    try:
        return _parse(data)
    except _ParseError as exc:
        raise DecodeError(f"invalid {what}: {escaped(str(exc))}") from None


def check_max_inflate(max_inflate: int) -> int:
    """max_inflate itself, when it is a usable limit (a positive integer); else a ConfigError."""
    if type(max_inflate) is not int or max_inflate < 1:
        raise ConfigError(f"max_inflate must be a positive number of bytes, got "
                          f"{escaped(repr(max_inflate), 40)}")
    return max_inflate


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
    bytes: a gzip bomb costs at most that much memory and is a DecodeError. A max_inflate below 1
    is a ConfigError."""
    check_max_inflate(max_inflate)
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


def request_body(obj: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    """The request body as a manifest: an object, or None when absent or null. A JSON patch
    (`kubectl patch --type=json` sends a list of operations) is read as the sparse manifest of
    what it writes (sources/patches.py), so the rules judge it like any other partial body; any
    other list is None (the record itself keeps the body in `raw`). Anything else is a
    DecodeError."""
    value = obj.get(key)
    if type(value) is list:
        return json_patch_manifest(value) if value and is_json_patch(value) else None
    return opt_map(obj, key, path)


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
