"""The prefilter is exact under every JSON spelling: `kubetrail scan` finds the DaemonSet create
that `--no-prefilter` finds when the record spells it with escapes the byte-level view does not
see (a backslash escaped as \\u005c inside embedded JSON, an envelope key spelled with an
escape) or with duplicated keys, in each delivery format that can carry the spelling."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path

import orjson
import pytest

from kubetrail.cli import main

DS_CREATE = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": "ResponseComplete",
             "auditID": "a1", "verb": "create", "user": {"username": "mallory@example.com"},
             "objectRef": {"resource": "daemonsets", "namespace": "default", "name": "x",
                           "apiGroup": "apps", "apiVersion": "v1"},
             "responseStatus": {"code": 201}, "stageTimestamp": "2024-05-01T10:00:00Z"}
GET_POD = {**DS_CREATE, "auditID": "a0", "verb": "get",
           "objectRef": {"resource": "pods", "namespace": "default", "name": "p",
                         "apiVersion": "v1"}}
AKS_ID = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/"
          "MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS1")
# The Event's text with the "d" of "daemonsets" escaped: {"resource":"\u0064aemonsets"}.
EVENT_TEXT = orjson.dumps(DS_CREATE).decode().replace('"daemonsets"', '"\\u0064aemonsets"')


def hide_backslash(outer: bytes) -> bytes:
    """In a JSON text embedding EVENT_TEXT as a string, spell the escape's backslash `\\u005c`:
    the outer text then holds neither "daemonsets" nor `\\u0064`, yet decodes to both."""
    hidden = outer.replace(b"\\\\u0064aemonsets", b"\\u005cu0064aemonsets")
    assert hidden != outer
    return hidden


def scan(path: Path, *extra: str) -> list[dict[str, object]]:
    out, err = io.StringIO(), io.StringIO()
    out.buffer = io.BytesIO()  # type: ignore[misc]
    assert main(["scan", *extra, str(path)], out=out, err=err) == 0, err.getvalue()
    return [orjson.loads(line) for line in out.buffer.getvalue().splitlines()]  # type: ignore[attr-defined]


def aks_record(log: str) -> dict[str, object]:
    return {"category": "kube-audit", "operationName": "Microsoft.ContainerService/"
            "managedClusters/diagnosticLogs/Read", "resourceId": AKS_ID,
            "time": "2024-05-01T10:00:00Z", "properties": {"log": log, "stream": "stdout"}}


def gke_entry() -> dict[str, object]:
    return {"protoPayload": {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": "k8s.io",
        "methodName": "io.k8s.apps.v1.daemonsets.create",
        "resourceName": "apps/v1/namespaces/default/daemonsets/x",
        "authenticationInfo": {"principalEmail": "mallory@example.com"},
        "status": {}}, "insertId": "i1", "timestamp": "2024-05-01T10:00:00Z",
        "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke1"}},
        "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity"}


def _b64(value: object) -> str:
    return base64.b64encode(orjson.dumps(value)).decode()


def spelled_lines() -> list[tuple[str, bytes]]:
    """(delivery format, one JSON line holding the DaemonSet create in a hard spelling)."""
    get_line = orjson.dumps(GET_POD).decode()
    cw_event = {"id": "1", "timestamp": 1714557600000, "message": EVENT_TEXT}
    data_message = {"messageType": "DATA_MESSAGE", "owner": "1", "logGroup":
                    "/aws/eks/eks1/cluster", "logStream": "kube-apiserver-audit-1",
                    "subscriptionFilters": ["f"], "logEvents": [cw_event]}
    cloudevent = {"specversion": "1.0", "id": "1", "type": "google.cloud.audit.log.v1.written",
                  "source": "//cloudaudit.googleapis.com/projects/p", "data_base64":
                  _b64(gke_entry())}
    duplicated = orjson.dumps(GET_POD)[:-1] + b',"verb":"create","objectRef":' + \
        orjson.dumps(DS_CREATE["objectRef"]) + b"}"
    return [
        ("AKS record, properties.log with \\u005c", hide_backslash(orjson.dumps(
            aks_record(EVENT_TEXT)))),
        ("Event Hub body, properties.log with \\u005c", hide_backslash(orjson.dumps(
            {"records": [aks_record(get_line), aks_record(EVENT_TEXT)]}))),
        ("CloudWatch log event, message with \\u005c", hide_backslash(orjson.dumps(cw_event))),
        ("DATA_MESSAGE, lo\\u0067Events and \\u005c", hide_backslash(orjson.dumps(
            data_message)).replace(b'"logEvents"', b'"lo\\u0067Events"')),
        ("CloudEvent, data_\\u0062ase64", orjson.dumps(cloudevent).replace(
            b'"data_base64"', b'"data_\\u0062ase64"')),
        ("audit Event, duplicated verb and objectRef", duplicated),
        ("audit Event, escaped resource", EVENT_TEXT.encode()),
    ]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(("name", "line"), spelled_lines(), ids=[n for n, _ in spelled_lines()])
def test_scan_finds_what_no_prefilter_finds(tmp_path: Path, name: str, line: bytes,
                                            compress: bool) -> None:
    get_line = orjson.dumps(GET_POD) + b"\n"
    text = get_line * 3 + line + b"\n" + get_line * 3
    path = tmp_path / ("in.jsonl.gz" if compress else "in.jsonl")
    path.write_bytes(gzip.compress(text) if compress else text)
    slow = scan(path, "--no-prefilter")
    fast = scan(path)
    assert [f["rule_id"] for f in slow] == ["Kubernetes.DaemonSet.Created"], name
    assert [timeless(f) for f in fast] == [timeless(f) for f in slow]


def timeless(finding: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in finding.items() if k not in ("id", "first_seen")}
