"""Decoders: one per delivery format, each yielding Outcomes (Decoded / Skip / Prefiltered /
Failure) that carry their Origin.

  k8s         the audit.k8s.io Event → AuditEvent (shared by EKS, AKS and Panther's EKS logs)
  cloudwatch  EKS: CloudWatch Logs subscription (Lambda awslogs event, DATA_MESSAGE)
  eventhub    AKS: Event Hub bodies of diagnostic-settings records
  gke         GKE: Cloud Logging LogEntry of the k8s.io service
  pubsub      GKE: Pub/Sub push/pull messages and Eventarc CloudEvents carrying LogEntries
  detect      decode_document: recognize any of the above in one JSON document, and
              Panther-shaped test logs (native record + p_log_type)
  files       read_paths: JSON lines / JSON documents / arrays, gzip or not, and stdin

Every entry point is wrapped by sources/guard.py: iterating the outcomes of any decoder raises
nothing but ConfigError (settings) and interrupts; whatever one record raises is its Failure.

The names below are imported from their module on first use: importing one format's decoder
(or `kubetrail.sources.base`, as the pipeline does) does not import every other format's.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubetrail.sources.cloudwatch import (
        decode_awslogs,
        decode_data_message,
        decode_log_event,
        encode_awslogs,
    )
    from kubetrail.sources.common import DEFAULT_MAX_INFLATE
    from kubetrail.sources.detect import decode_document, decode_panther
    from kubetrail.sources.eventhub import decode_aks_record, decode_eventhub_body
    from kubetrail.sources.files import read_paths
    from kubetrail.sources.gke import decode_log_entry
    from kubetrail.sources.k8s import event_from_k8s
    from kubetrail.sources.pubsub import decode_cloudevent, decode_pubsub_message

_HOMES = {
    "DEFAULT_MAX_INFLATE": "common",
    "decode_aks_record": "eventhub",
    "decode_awslogs": "cloudwatch",
    "decode_cloudevent": "pubsub",
    "decode_data_message": "cloudwatch",
    "decode_document": "detect",
    "decode_eventhub_body": "eventhub",
    "decode_log_entry": "gke",
    "decode_log_event": "cloudwatch",
    "decode_panther": "detect",
    "decode_pubsub_message": "pubsub",
    "encode_awslogs": "cloudwatch",
    "event_from_k8s": "k8s",
    "read_paths": "files",
}
__all__ = [
    "DEFAULT_MAX_INFLATE",
    "decode_aks_record",
    "decode_awslogs",
    "decode_cloudevent",
    "decode_data_message",
    "decode_document",
    "decode_eventhub_body",
    "decode_log_entry",
    "decode_log_event",
    "decode_panther",
    "decode_pubsub_message",
    "encode_awslogs",
    "event_from_k8s",
    "read_paths",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value
