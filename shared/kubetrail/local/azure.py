"""`kubetrail local invoke azure FILE...`: deliver files to the real Azure function
(functions/azure/function_app.py) against Azurite and the Event Grid stand-in, as the Event Hubs
trigger would, and print each finding the stand-in accepted (the CloudEvent's `data`) as one JSON
line.

Settings come from the environment, else from `.kubetrail/azure.env` (written by
`make emulators`). The files' contents become Event Hub events: a file holding one JSON body
(`{"records": [...]}`) or array is one event; a file of JSON lines gives one event per line that
is a body, while lines holding raw diagnostic records are wrapped into one `{"records": [...]}`
body; anything unparsable is delivered as it is (and dead-lettered by the function). The events
are built with the azure-functions worker's own Event Hubs trigger converter (bodies as
`collection_bytes`, per-event system properties, the partition context), since no Event Hubs
emulator runs without Docker.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import sys
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import orjson

from kubetrail.errors import KubetrailError

ROOT = Path(__file__).resolve().parents[3]
FUNCTION_DIR = ROOT / "functions" / "azure"
ENV_FILE = Path(".kubetrail") / "azure.env"
EVENT_HUB = "aks-audit"
CONSUMER_GROUP = "kubetrail"
NAMESPACE = "local.servicebus.windows.net"


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` / `KEY='value'` lines (as `make emulators` writes them)."""
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key and not key.startswith("#"):
                values[key] = value.strip().strip("'\"")
    return values


def parse(data: bytes) -> Any:
    """The JSON value of `data`, or None (orjson: too deep is not JSON, never a RecursionError)."""
    try:
        return orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None


def wrap(records: Sequence[bytes]) -> bytes:
    """`{"records": [...]}` around records' own JSON text (nothing is re-encoded)."""
    return b'{"records":[' + b",".join(records) + b"]}"


def bodies(path: Path) -> list[bytes]:
    """One Event Hub event body per element, as described in the module docstring."""
    data = path.read_bytes()
    whole = parse(data)
    if isinstance(whole, list) or (isinstance(whole, dict) and "records" in whole):
        return [data.strip()]
    if isinstance(whole, dict):
        return [wrap([data.strip()])]
    out: list[bytes] = []
    loose: list[bytes] = []
    for line in data.splitlines():
        if not line.strip():
            continue
        item = parse(line)
        if isinstance(item, dict) and "records" not in item:
            loose.append(line.strip())
        else:
            out.append(line)
    if loose:
        out.append(wrap(loose))
    return out


def eventhub_events(payloads: Sequence[bytes], partition: str = "0", first_sequence: int = 0
                    ) -> list[Any]:
    """`func.EventHubEvent`s exactly as the worker builds them for a `cardinality="many"`,
    `dataType="binary"` trigger: the host's Datum objects through the worker's converter."""
    from types import SimpleNamespace

    from azure.functions import meta
    from azure.functions.eventhub import EventHubTriggerConverter

    now = datetime.now(UTC).isoformat()
    props, offset = [], 0
    for i, payload in enumerate(payloads):
        props.append({"EnqueuedTimeUtc": now, "SequenceNumber": first_sequence + i,
                      "Offset": offset, "PartitionKey": None})
        offset += len(payload)
    context = {"EventHubName": EVENT_HUB, "ConsumerGroup": CONSUMER_GROUP,
               "FullyQualifiedNamespace": NAMESPACE, "PartitionId": partition}
    metadata = {
        "SystemPropertiesArray": meta.Datum(json.dumps(props), "json"),
        "PartitionContext": meta.Datum(json.dumps(context), "json"),
    }
    data = meta.Datum(SimpleNamespace(bytes=list(payloads)), "collection_bytes")
    events = EventHubTriggerConverter.decode(data, trigger_metadata=metadata)
    return events if isinstance(events, list) else [events]


def load_function(function_dir: Path = FUNCTION_DIR) -> ModuleType:
    """A fresh instance of function_app.py (its cached clients start empty)."""
    if str(function_dir) not in sys.path:
        sys.path.insert(0, str(function_dir))
    name = f"kubetrail_azure_function_app_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, function_dir / "function_app.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(function_dir / "function_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def user_function(module: ModuleType, name: str = "kubetrail_audit") -> Any:
    """The plain Python function the worker calls for the function defined as `name`."""
    return getattr(module, name).build().get_user_function()


def ensure_local_resources(settings: Mapping[str, str]) -> None:
    """Create the dedup table and dead-letter queue in Azurite if they are not there yet."""
    from azure.core.exceptions import ResourceExistsError
    from azure.data.tables import TableServiceClient
    from azure.storage.queue import QueueClient

    conn = settings["KUBETRAIL_STORAGE_CONNECTION_STRING"]
    TableServiceClient.from_connection_string(conn).create_table_if_not_exists(
        settings["KUBETRAIL_DEDUP_TABLE"])
    with contextlib.suppress(ResourceExistsError):
        QueueClient.from_connection_string(conn, settings["KUBETRAIL_DEADLETTER_QUEUE"]
                                           ).create_queue()


def received(endpoint: str, since: int = 0) -> list[dict[str, Any]]:
    """The events the Event Grid stand-in at `endpoint` accepted, from index `since` on."""
    base = endpoint.split("/api/events")[0]
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) endpoint: {endpoint}")
    with urllib.request.urlopen(  # noqa: S310 - http(s) only, checked above
f"{base}/kubetrail/events?since={since}", timeout=10) as resp:
        return list(json.load(resp))


def invoke(files: list[Path], out: TextIO, err: TextIO) -> int:
    """Deliver `files` to the function; print what Event Grid received; the exit status."""
    settings = {**read_env_file(ENV_FILE), **{k: v for k, v in os.environ.items()
                                              if k.startswith("KUBETRAIL_")}}
    needed = ("KUBETRAIL_STORAGE_CONNECTION_STRING", "KUBETRAIL_EVENTGRID_ENDPOINT")
    if any(not settings.get(k) for k in needed):
        print(f"kubetrail: {', '.join(needed)} are not set and {ENV_FILE} has none: start the "
              "local emulators with `make emulators`", file=err)
        return 2
    settings.setdefault("KUBETRAIL_DEDUP_TABLE", "kubetraildedup")
    settings.setdefault("KUBETRAIL_DEADLETTER_QUEUE", "kubetrail-deadletter")
    previous = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)  # the function reads its app settings from the environment
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("kubetrail[azure]: %(message)s"))
    logger = logging.getLogger("kubetrail")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        payloads = [b for path in files for b in bodies(path)]
        ensure_local_resources(settings)
        before = len(received(settings["KUBETRAIL_EVENTGRID_ENDPOINT"]))
        user_function(load_function())(eventhub_events(payloads))
        for event in received(settings["KUBETRAIL_EVENTGRID_ENDPOINT"], before):
            out.write(json.dumps(event.get("data"), separators=(",", ":")) + "\n")
    except (KubetrailError, OSError, ValueError) as exc:
        print(f"kubetrail: the function failed ({type(exc).__name__}): {exc}", file=err)
        return 1
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return 0
