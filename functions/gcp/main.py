"""kubetrail on Cloud Functions (2nd gen): GKE audit LogEntries, published to Pub/Sub by a Log
Router sink and delivered by an Eventarc `google.cloud.pubsub.topic.v1.messagePublished` trigger
→ findings on a Pub/Sub topic. Wiring only; the work is in the kubetrail package.

functions-framework is the server that imports this module (flask, cloudevents and itself are
loaded by then); the module itself imports no kubetrail component: the first invocation does,
and loads the rules."""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

import functions_framework
from gcp_settings import Components, Settings, build

from kubetrail.errors import Origin

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent


@functools.cache
def components() -> Components:
    """Settings read and clients built once per instance (the only globals)."""
    return build(Settings.from_env())


def log(severity: str, message: str, **fields: Any) -> None:
    """One structured line on stdout: Cloud Logging keeps it as a jsonPayload (log metrics)."""
    print(json.dumps({"severity": severity, "message": message, **fields}), flush=True)


# Retry policy on (Terraform): raising makes Pub/Sub redeliver with backoff until the trigger
# subscription's dead-letter policy gives up; decode failures never raise.
@functions_framework.cloud_event
def handle(event: CloudEvent) -> None:
    """Decode the message, detect, dedup, publish; dead-letter what could not be decoded."""
    from kubetrail.sources.pubsub import decode_cloudevent

    parts = components()
    attributes = event.get_attributes()
    envelope = {**attributes, "data": event.get_data()}
    origin = Origin(str(attributes.get("source") or "eventarc"))
    outcomes = decode_cloudevent(envelope, origin, parts.pipeline.rules.prefilter,
                                 max_inflate=parts.max_inflate)
    report = parts.pipeline.process(outcomes)  # raises PublishError/ConfigError: redelivered
    parts.deadletter.send(report.failures)
    for error in report.rule_errors:
        log("WARNING", f"rule {error.rule_id}.{error.function} failed at {error.origin}: "
            f"{error.message}")
    log("WARNING" if report.failed else "INFO", f"kubetrail batch {report.summary()}",
        kubetrail={"event_id": attributes.get("id"), "records": report.records,
                   "findings": report.findings, "deduplicated": report.deduplicated,
                   "failed": report.failed, "rule_errors": report.rule_error_count})
