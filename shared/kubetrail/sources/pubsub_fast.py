"""The fast path of a Pub/Sub push body carrying a GKE LogEntry: decided on a light typed decode
of the few LogEntry fields the rules' Requires map to, without building the body or the entry.

`prefiltered_push(text, origin, prefilter)` answers [Prefiltered] when no rule can match the
entry, [] when it read the entry and some rule may match it (the caller decodes it fully, with
no byte prefilter: it could only agree), or None: the caller then decodes the line the full way,
as before. `verdict` is the same decision for one line, which pubsub_batch.py makes for a batch
of lines (jsonlines.py) in a few calls, and falls back to. It reads an entry only when

* the body is `{"message": {...}, "subscription": ...}` and nothing else, its `data` a
  non-empty string (msgspec, typed);
* `data` is base64 as msgspec reads it (a `bytes` field: the JSON string read as the full
  decoder reads it, then standard base64 with its padding — what common.b64decode's strict
  binascii decode reads too, with the same bytes, tests/sources/test_pubsub_batch.py), of one
  JSON object in UTF-8, not gzip;
* the entry is a k8s.io audit entry (`protoPayload.serviceName` "k8s.io") whose methodName
  gke.parse_method reads, and whose fields below have the types the full decoder accepts;
* and no rule can match the values the full decoder would give it: verb, resource and
  subresource from methodName (gke.parse_method itself, cached per method), username from
  authenticationInfo.principalEmail, response_code from status.code (gke.GRPC_TO_HTTP),
  source_ips from requestMetadata.callerIp (else callerIP), request_object from the JSON text
  of protoPayload.request (request_body reads that body; the prefilter looks for the required
  keys in its text, as for an EKS requestObject). The namespace and API group come from
  resourceName in ways this path does not repeat: rules requiring them are tested without
  those requirements (`gke_prefilter`), which can only let more entries through.

Whatever else surprises it (an error, a type, another service) answers None. As on the byte
path it replaces, a well-formed entry no rule can match is Prefiltered even where a field no
rule reads has a type the full decoder would refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from kubetrail.errors import Origin
from kubetrail.rules.lightevent import UNSET
from kubetrail.sources.base import Outcome, Prefiltered
from kubetrail.sources.common import GZIP_MAGIC, is_utf8
from kubetrail.sources.gke import GRPC_TO_HTTP, parsed_method

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

PUSH_PREFIX = b'{"message":'
_WILDCARDS = ("namespace", "api_group")  # read from resourceName: not repeated here


class _PushMessage(msgspec.Struct):
    data: bytes = b""  # (base64-decoded by msgspec)
    messageId: Any = None
    message_id: Any = None


class _PushBody(msgspec.Struct, forbid_unknown_fields=True):
    """The push body as this path reads it (pubsub_batch.py: the same field types)."""

    message: _PushMessage
    subscription: Any = None


# The leaves of the LogEntry as both this path and pubsub_batch.py read them.
class Auth(msgspec.Struct, gc=False):
    principalEmail: str | None = None


class Meta(msgspec.Struct, gc=False):
    callerIp: str | None = None
    callerIP: str | None = None


class Status(msgspec.Struct, gc=False):
    code: int | None = None


NO_BODY = msgspec.Raw()  # (no protoPayload.request: Metadata level)


class _Proto(msgspec.Struct):
    serviceName: Any = None
    methodName: str | None = None
    authenticationInfo: Auth | None = None
    requestMetadata: Meta | None = None
    status: Status | None = None
    request: msgspec.Raw = NO_BODY  # its JSON text, undecoded (what a duplicated key holds last)


class _LogEntry(msgspec.Struct):
    """The LogEntry fields this path reads (pubsub_batch.py: the same field types, a missing
    struct read as an empty one)."""

    protoPayload: _Proto | None = None


_decode_push = msgspec.json.Decoder(_PushBody).decode
_decode_entry = msgspec.json.Decoder(_LogEntry).decode


class _Ref:
    __slots__ = ("apiGroup", "namespace", "resource", "subresource")

    def __init__(self, resource: str | None, subresource: str | None) -> None:
        self.resource, self.subresource = resource, subresource
        self.namespace = self.apiGroup = None


class _User:
    __slots__ = ("username",)

    def __init__(self, username: str | None) -> None:
        self.username = username


class _Code:
    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code


class _LightEntry:
    """A light event (as rules/lightevent.py makes them) holding the entry's values."""

    __slots__ = ("objectRef", "requestObject", "responseStatus", "sourceIPs", "user", "verb")
    kind = "Event"
    p_log_type = UNSET

    def __init__(self, verb: str, ref: _Ref, user: _User, status: _Code, ips: list[str],
                 body: msgspec.Raw) -> None:
        self.verb, self.objectRef, self.user, self.responseStatus, self.sourceIPs = \
            verb, ref, user, status, ips
        self.requestObject = body


def _light_entry(pp: Any, parsed: tuple[str, str | None, str | None], http: int) -> Any:
    """The light event of a read protoPayload `pp` (its methodName parsed, its HTTP code)."""
    meta, auth = pp.requestMetadata, pp.authenticationInfo
    ip = None if meta is None else (meta.callerIp if meta.callerIp is not None else meta.callerIP)
    verb, resource, subresource = parsed
    return _LightEntry(verb, _Ref(resource, subresource),
                       _User(None if auth is None else auth.principalEmail), _Code(http),
                       [] if ip is None else [ip], pp.request)


def parse_method_cached(method: str) -> tuple[str, str | None, str | None] | None:
    """(verb, resource, subresource) of a methodName, None when parse_method refuses it (the
    full decoder's bounded cache of parsed names serves both)."""
    try:
        parsed = parsed_method(method)
    except Exception:
        return None
    if isinstance(parsed, str):
        return None
    verb, _, _, resource, subresource = parsed
    return verb, resource, subresource


def gke_prefilter(prefilter: Prefilter) -> Prefilter | None:
    """`prefilter` without the namespace and API group requirements; None when some rule then
    requires nothing (every entry may match). Made once per prefilter."""
    kept = _REDUCED.get(id(prefilter))
    if kept is not None and kept[0] is prefilter:
        return kept[1]
    from kubetrail.rules.prefilter import Prefilter

    reduced = tuple({f: v for f, v in req.items() if f not in _WILDCARDS}
                    for req in prefilter.requirements)
    made = Prefilter(reduced) if all(reduced) else None
    if len(_REDUCED) > 16:
        _REDUCED.clear()
    _REDUCED[id(prefilter)] = (prefilter, made)
    return made


_REDUCED: dict[int, tuple[Prefilter, Prefilter | None]] = {}


def prefiltered_push(text: bytes, origin: Origin, prefilter: Prefilter) -> list[Outcome] | None:
    """[Prefiltered] when no rule can match the push body `text`'s entry; [] when the entry was
    read and some rule may match it (decode it fully: a byte test could only agree); None when
    this path declines it (decode it the full way, prefilter included)."""
    found = verdict(text, prefilter)
    if found is None or found is CANDIDATE:
        return None if found is None else []
    return [Prefiltered(origin.child(found) if type(found) is str else origin)]


CANDIDATE = object()
_NO_ID = object()


def verdict(text: bytes, prefilter: Prefilter) -> object:
    """None (declined), CANDIDATE, or for a prefiltered entry its message id (a str) or
    _NO_ID."""
    try:
        return _read(text, prefilter)
    except Exception:  # a decode error, RecursionError, ...: the full way
        return None


def _read(text: bytes, prefilter: Prefilter) -> object:
    reduced = gke_prefilter(prefilter)
    if reduced is None or not is_utf8(text):
        return None
    message = _decode_push(text).message
    data = message.data
    if not data or data.startswith(GZIP_MAGIC) or not is_utf8(data):
        return None
    pp = _decode_entry(data).protoPayload
    if pp is None or pp.serviceName != "k8s.io" or pp.methodName is None:
        return None
    parsed = parse_method_cached(pp.methodName)
    if parsed is None:
        return None
    code = None if pp.status is None else pp.status.code
    http = 200 if code is None else GRPC_TO_HTTP.get(code)
    if http is None:
        return None
    if reduced.event_may_match(_light_entry(pp, parsed, http)):
        return CANDIDATE
    message_id = message.messageId or message.message_id
    return message_id if type(message_id) is str else _NO_ID
