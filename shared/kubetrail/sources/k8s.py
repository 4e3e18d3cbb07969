"""The audit.k8s.io `Event` (v1 and v1beta1) → AuditEvent. EKS delivers it as is (one CloudWatch
message per Event), AKS inside `properties.log`; Panther's EKS test logs are the same Event plus
`p_*` fields.

Mapping (data, see the field maps below): auditID, stage, verb, userAgent, requestURI;
user.{username, groups}; sourceIPs; objectRef.{resource, subresource, namespace, name, apiGroup,
apiVersion}; responseStatus.code; requestObject; time = stageTimestamp, else
requestReceivedTimestamp, else v1beta1's top-level `timestamp`.

Decisions:
- `user: null` is a failure (the API server always records who asked; DESIGN). A missing `user`
  is tolerated (hand-written test logs omit it) and gives username None. Every other null is
  "absent" (see common.py).
- The core API group: EKS omits objectRef.apiGroup for it; an empty string is also read as None,
  so `api_group is None` means the core group on every cloud (GKE's `core` too).
- Timestamps: RFC 3339 with any number of fractional digits (9 are cut to Python's 6), and
  Panther's `2022-11-29 00:09:04.38`; a timestamp without offset is UTC. Always aware UTC.
  A time outside TIME_RANGE (years 1000 to 8999 UTC) is the record's Failure ("out of range"),
  never a datetime whose later arithmetic (dedup windows, epoch conversion) would overflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubetrail.errors import DecodeError, Origin
from kubetrail.events import LOG_TYPE_BY_CLOUD, AuditEvent, Cloud, new_event
from kubetrail.sources.common import (
    describe,
    is_mapping,
    loads,
    opt_map,
    opt_str,
    request_body,
    str_tuple,
    type_name,
)

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

# The Event's keys, in the order of the AuditEvent fields they fill (audit_id, stage, verb,
# user_agent, request_uri; resource, subresource, namespace, name, api_group, api_version).
# Each is copied when it is a string and None when absent or null.
_TOP_KEYS = ("auditID", "stage", "verb", "userAgent", "requestURI")
_OBJECT_REF_KEYS = ("resource", "subresource", "namespace", "name", "apiGroup", "apiVersion")
_NO_OBJECT_REF = (None,) * len(_OBJECT_REF_KEYS)
_STR_OR_NULL = frozenset({str, type(None)})
_STR = frozenset({str})
_ABSENT: Any = object()
_TIME_FIELDS = ("stageTimestamp", "requestReceivedTimestamp", "timestamp")
# Wide enough for any real log, far enough from datetime's limits (years 1 and 9999) that
# adding a dedup window or converting to epoch milliseconds never overflows.
TIME_RANGE = (datetime(1000, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


def parse_time(value: str, field: str) -> datetime:
    """An RFC 3339 / ISO 8601 timestamp as an aware UTC datetime; DecodeError if it is not one."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise DecodeError(f"{field}: not an RFC 3339 timestamp: {describe(value)}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    elif parsed.tzinfo is not UTC:
        try:
            parsed = parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            parsed = (datetime.min if parsed.year < 5000 else datetime.max).replace(tzinfo=UTC)
    if not TIME_RANGE[0] <= parsed < TIME_RANGE[1]:
        raise DecodeError(f"{field}: timestamp out of range (years 1000 to 8999 UTC): "
                          f"{describe(value)}")
    return parsed


def opt_time(obj: Mapping[str, Any], keys: tuple[str, ...], path: str = "") -> datetime | None:
    """The first of `keys` present (not null) in obj, parsed; None when none is."""
    for key in keys:
        value = obj.get(key)
        if value is None:
            continue
        if type(value) is not str:
            raise DecodeError(f"{path}{key}: expected a timestamp string, got {type_name(value)}")
        return parse_time(value, path + key)
    return None


def is_audit_event(obj: Mapping[str, Any]) -> bool:
    """`kind: Event` with an audit.k8s.io apiVersion (or none): not a core/v1 Event."""
    api_version = obj.get("apiVersion")
    return obj.get("kind") == "Event" and (
        api_version is None or (type(api_version) is str
                                and api_version.startswith("audit.k8s.io/")))


def require_audit_event(obj: Any) -> Mapping[str, Any]:
    """obj when it is an audit Event; else a DecodeError saying what it is instead."""
    if not is_mapping(obj):
        raise DecodeError(f"audit Event: expected an object, got {type_name(obj)}")
    if not is_audit_event(obj):
        raise DecodeError(f"not an audit Event: kind {describe(obj.get('kind'))}, apiVersion "
                          f"{describe(obj.get('apiVersion'))}")
    return obj


def embedded_audit_event(value: Any, field: str, json_label: str,
                         prefilter: Prefilter | None) -> Mapping[str, Any] | None:
    """The audit Event a delivery holds as JSON text or as an object (a CloudWatch message, an
    AKS properties.log); None when the prefilter's light decode proves no rule can match it (a
    cut or malformed text is never dropped that way: it fails here, with `json_label`)."""
    if type(value) is str:
        if value.startswith("\ufeff"):  # a BOM some producers write first (README)
            value = value[1:]
        if prefilter is not None and not prefilter.may_match_event(value):
            return None
        return require_audit_event(loads(value, json_label))
    if is_mapping(value):
        return require_audit_event(value)
    raise DecodeError(f"{field}: expected a JSON string or object, got {type_name(value)}")


def _type_error(obj: Mapping[str, Any], keys: tuple[str, ...], path: str) -> DecodeError:
    for key in keys:
        opt_str(obj, key, path)  # raises for the first key of the wrong type
    return DecodeError(f"{path}: unexpected value")  # pragma: no cover - unreachable


def _strings(obj: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = obj.get(key)
    if type(value) is list and _STR.issuperset(map(type, value)):
        return tuple(value)
    return str_tuple(obj, key, path)  # absent/null → (); else raises the precise error


def event_from_k8s(
    obj: Mapping[str, Any], *, cloud: Cloud, cluster: str | None, raw: Mapping[str, Any],
    origin: Origin,
) -> AuditEvent:
    """Normalize one audit Event; DecodeError (with a reason naming the field) on wrong types."""
    if type(obj) is dict:
        event = _usual_event(obj, cloud, cluster, raw)
        if event is not None:
            return event
    return _checked_event(obj, cloud=cloud, cluster=cluster, raw=raw, origin=origin)


def _usual_event(obj: dict[str, Any], cloud: Cloud, cluster: str | None, raw: Mapping[str, Any]
                 ) -> AuditEvent | None:
    """The event of a parsed Event whose every field read has its usual type (objects are
    dicts, strings str, lists of strings lists, the code an int), as `_checked_event` makes it;
    None for anything else, which `_checked_event` then decides and names. Never raises."""
    get = obj.get
    audit_id, stage, verb = get("auditID"), get("stage"), get("verb")
    user_agent, request_uri = get("userAgent"), get("requestURI")
    if not _STR_OR_NULL.issuperset((type(audit_id), type(stage), type(verb), type(user_agent),
                                    type(request_uri))):
        return None
    ref = get("objectRef")
    if ref is None:
        resource = subresource = namespace = name = api_group = api_version = None
    elif type(ref) is dict:
        rget = ref.get
        resource, subresource, namespace = rget("resource"), rget("subresource"), rget("namespace")
        name, api_group, api_version = rget("name"), rget("apiGroup"), rget("apiVersion")
        if not _STR_OR_NULL.issuperset((type(resource), type(subresource), type(namespace),
                                        type(name), type(api_group), type(api_version))):
            return None
    else:
        return None
    user = get("user", _ABSENT)
    if user is _ABSENT:
        username, groups = None, ()
    elif type(user) is dict:
        username, group_list = user.get("username"), user.get("groups")
        if username is not None and type(username) is not str:
            return None
        if group_list is None:
            groups = ()
        elif type(group_list) is list and _STR.issuperset(map(type, group_list)):
            groups = tuple(group_list)
        else:
            return None
    else:
        return None
    status = get("responseStatus")
    if status is None:
        code = None
    elif type(status) is dict:
        code = status.get("code")
        if code is not None and type(code) is not int:
            return None
    else:
        return None
    ip_list = get("sourceIPs")
    if ip_list is None:
        ips = ()
    elif type(ip_list) is list and _STR.issuperset(map(type, ip_list)):
        ips = tuple(ip_list)
    else:
        return None
    body = get("requestObject")
    if body is not None and type(body) is not dict:
        return None  # a JSON patch (list), or a wrong type
    time = None
    for key in _TIME_FIELDS:
        value = get(key)
        if value is None:
            continue
        if type(value) is not str:
            return None
        try:
            time = parse_time(value, key)
        except DecodeError:
            return None
        break
    return new_event(cloud, LOG_TYPE_BY_CLOUD[cloud], cluster, audit_id, stage, verb, username,
                     groups, ips, user_agent, resource, subresource, namespace, name,
                     api_group or None, api_version, request_uri, code, body, time, raw)


def _checked_event(
    obj: Mapping[str, Any], *, cloud: Cloud, cluster: str | None, raw: Mapping[str, Any],
    origin: Origin,
) -> AuditEvent:
    """event_from_k8s for any input: every field checked, a wrong one named in the error."""
    if not is_mapping(obj):
        raise DecodeError(f"audit Event: expected an object, got {type_name(obj)}", origin)
    try:
        get = obj.get
        top = tuple(map(get, _TOP_KEYS))
        if not _STR_OR_NULL.issuperset(map(type, top)):
            raise _type_error(obj, _TOP_KEYS, "")
        ref = get("objectRef")
        if ref is None:
            ref_values = _NO_OBJECT_REF
        elif is_mapping(ref):
            ref_values = tuple(map(ref.get, _OBJECT_REF_KEYS))
            if not _STR_OR_NULL.issuperset(map(type, ref_values)):
                raise _type_error(ref, _OBJECT_REF_KEYS, "objectRef.")
        else:
            raise DecodeError(f"objectRef: expected an object, got {type_name(ref)}")
        user = get("user", _ABSENT)
        groups: tuple[str, ...] = ()
        if user is None:
            raise DecodeError("user: null (an audit Event always names its user)")
        if user is _ABSENT:
            username = None
        elif is_mapping(user):
            username = opt_str(user, "username", "user.")
            groups = _strings(user, "groups", "user.")
        else:
            raise DecodeError(f"user: expected an object, got {type_name(user)}")
        status = opt_map(obj, "responseStatus", "")
        code = None if status is None else status.get("code")
        if code is not None and type(code) is not int:
            raise DecodeError(f"responseStatus.code: expected an integer, got {type_name(code)}")
        audit_id, stage, verb, user_agent, request_uri = top
        resource, subresource, namespace, name, api_group, api_version = ref_values
        return new_event(
            cloud, LOG_TYPE_BY_CLOUD[cloud], cluster, audit_id, stage, verb, username, groups,
            _strings(obj, "sourceIPs", ""), user_agent, resource, subresource, namespace, name,
            api_group or None, api_version, request_uri, code,
            request_body(obj, "requestObject", ""), opt_time(obj, _TIME_FIELDS), raw)
    except DecodeError as exc:
        raise DecodeError(exc.message, origin) from None
