"""AKS: diagnostic-settings records delivered through Event Hub.

An Event Hub event body is `{"records": [record, ...]}`; a record is
`{"category", "operationName", "resourceId", "time", "properties": {"log", "stream", "pod"}}`.
One Outcome per record, origin position `records[<i>]`.

- Categories: only `kube-audit` and `kube-audit-admin`, compared case-insensitively (Azure's own
  casing of category names has varied between APIs; the names cannot be confused with any other).
  Others (kube-apiserver, guard, ...) → Skip("non-audit-category"); a record without a category
  is a Failure.
- `properties.log` is the audit Event as a JSON string (real records end it with "\\n"); a JSON
  object is accepted too (seen in an integration's test data). The prefilter sees the string
  before it is parsed.
- cluster = last segment of `resourceId`, kept as given: AKS upper-cases the whole path, so real
  clusters read e.g. `KUBETEST`. time = the Event's own timestamps, else the record's `time`.
- A body may start with a UTF-8 BOM (real captures do); it is ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kubetrail import record as records
from kubetrail.errors import DecodeError, Origin
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.common import (
    BOM,
    cut,
    is_mapping,
    loads,
    opt_map,
    opt_str,
    type_name,
)
from kubetrail.sources.guard import isolated, isolated_stream
from kubetrail.sources.k8s import (
    embedded_audit_event,
    event_from_k8s,
    opt_time,
)
from kubetrail.sources.rawdump import dump

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

AUDIT_CATEGORIES = frozenset({"kube-audit", "kube-audit-admin"})


def cluster_from_resource_id(resource_id: str | None) -> str | None:
    """`/SUBSCRIPTIONS/…/MANAGEDCLUSTERS/<NAME>` → `<NAME>` (as given); None when absent."""
    if not resource_id:
        return None
    return resource_id.rstrip("/").rpartition("/")[2] or None


@isolated_stream
def decode_eventhub_body(
    body: bytes | str | Mapping[str, Any] | list[Any], origin: Origin,
    prefilter: Prefilter | None = None,
) -> Iterator[Outcome]:
    """Decode one Event Hub event body: `{"records": [...]}`, a single record, or a JSON array
    of either (as a batch trigger may hand them over)."""
    if isinstance(body, bytes | bytearray | memoryview | str):
        text = bytes(body) if not isinstance(body, str) else body.encode("utf-8", "surrogatepass")
        try:
            body = loads(text[3:] if text.startswith(BOM) else text, "Event Hub body JSON")
        except DecodeError as exc:
            yield Failure(exc.message, origin, cut(text))
            return
    if isinstance(body, list):
        for i, item in enumerate(body):
            here = origin.child(f"[{i}]")
            if is_mapping(item) and "records" in item:
                yield from _records(item, here, prefilter)
            else:
                yield decode_aks_record(item, here, prefilter)
    elif is_mapping(body) and "records" in body:
        yield from _records(body, origin, prefilter)
    else:
        yield decode_aks_record(body, origin, prefilter)


def _records(body: Mapping[str, Any], origin: Origin, prefilter: Prefilter | None
             ) -> Iterator[Outcome]:
    records = body["records"]
    if type(records) is not list:
        yield Failure(f"records: expected an array, got {type_name(records)}", origin,
                      cut(dump(body)))
    elif not records:
        yield Skip("empty", origin)
    else:
        for i, record in enumerate(records):
            yield decode_aks_record(record, origin.child(f"records[{i}]"), prefilter)


@isolated
def decode_aks_record(
    rec: Mapping[str, Any] | Any, origin: Origin, prefilter: Prefilter | None = None,
    *, default_cluster: str | None = None,
) -> Outcome:
    """Decode one diagnostic record. `default_cluster` is used when it has no resourceId
    (Panther-shaped test logs pass their p_source_label)."""
    try:
        if not is_mapping(rec):
            raise DecodeError(f"AKS record: expected an object, got {type_name(rec)}")
        category = rec.get("category")
        if type(category) is not str:
            raise DecodeError(f"category: expected a string, got {type_name(category)}")
        if category.lower() not in AUDIT_CATEGORIES:
            return Skip("non-audit-category", origin)
        props = opt_map(rec, "properties", "")
        log = None if props is None else props.get("log")
        obj = embedded_audit_event(log, "properties.log", "properties.log JSON", prefilter)
        if obj is None:
            return Prefiltered(origin)
        cluster = cluster_from_resource_id(opt_str(rec, "resourceId", "")) or default_cluster
        event = event_from_k8s(obj, cloud="azure", cluster=cluster, raw=rec, origin=origin)
        if event.time is None:
            record_time = opt_time(rec, ("time",))
            if record_time is not None:
                event = records.replace(event, time=record_time)
    except DecodeError as exc:
        return Failure(exc.message, origin, cut(dump(rec)))
    return Decoded(event, origin)
