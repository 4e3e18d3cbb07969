"""kubetrail on Azure Functions (Python v2 model): AKS audit records from Event Hub → findings on
Event Grid. Wiring only; the work is in the kubetrail package.

The Functions worker imports azure.functions before it indexes this module; the module itself
imports no kubetrail component: the first invocation does, and loads the rules."""

from __future__ import annotations

import functools
import itertools
import json
import logging

import azure.functions as func
from azure_settings import Components, Settings, build

from kubetrail.errors import Origin

app = func.FunctionApp()
log = logging.getLogger("kubetrail")


@functools.cache
def components() -> Components:
    """Settings read and clients built once per instance (the only globals)."""
    return build(Settings.from_env())


def origin_of(event: func.EventHubEvent) -> Origin:
    """`eventhub:<hub>/<partition>` at `offset=<o>,seq=<n>`: where the record can be re-read."""
    context = (event.metadata or {}).get("PartitionContext") or {}
    hub, partition = context.get("EventHubName", "eventhub"), context.get("PartitionId", "?")
    return Origin(f"eventhub:{hub}/{partition}",
                  f"offset={event.offset},seq={event.sequence_number}")


# Infinite exponential-backoff retries: a batch that raised (dedup/publish unreachable, bad
# settings) is re-run and its checkpoint never advances past it; decode failures never raise.
@app.function_name("kubetrail_audit")
@app.retry(strategy="exponential_backoff", max_retry_count="-1",
           minimum_interval="00:00:05", maximum_interval="00:15:00")
@app.event_hub_message_trigger(
    arg_name="events", event_hub_name="%KUBETRAIL_EVENTHUB_NAME%",
    connection="KUBETRAIL_EVENTHUB", consumer_group="%KUBETRAIL_EVENTHUB_CONSUMER_GROUP%",
    cardinality="many", data_type="binary")
def kubetrail_audit(events: list[func.EventHubEvent]) -> None:
    """Decode every record of the batch, detect, dedup, publish; dead-letter what failed."""
    from kubetrail.sources.eventhub import decode_eventhub_body

    parts = components()
    prefilter = parts.pipeline.rules.prefilter
    outcomes = itertools.chain.from_iterable(
        decode_eventhub_body(e.get_body(), origin_of(e), prefilter) for e in events)
    report = parts.pipeline.process(outcomes)  # raises PublishError/ConfigError: retried
    parts.deadletter.send(report.failures)
    for error in report.rule_errors:
        log.warning("rule %s.%s failed at %s: %s", error.rule_id, error.function,
                    error.origin, error.message)
    log.info("kubetrail batch %s", report.summary())
    log.info("kubetrail.metrics %s", json.dumps({  # customMetrics-style trace for KQL
        "records": report.records, "findings": report.findings,
        "deduplicated": report.deduplicated, "failed": report.failed,
        "rule_errors": report.rule_error_count}))


@app.function_name("kubetrail_purge")
@app.timer_trigger(arg_name="timer", schedule="0 17 * * * *", run_on_startup=False)
def kubetrail_purge(timer: func.TimerRequest) -> None:
    """Table Storage has no TTL: delete expired dedup windows hourly."""
    log.info("kubetrail purged %d expired dedup windows", components().dedup.purge_expired())
