"""kubetrail on AWS Lambda: EKS audit events from a CloudWatch Logs subscription (invoked
asynchronously) → DynamoDB dedup → findings on SNS; undecodable records → the SQS dead-letter
queue. Wiring only; the work is in the kubetrail package. boto3 is imported on first use."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from aws_settings import Components, Settings, build, traced

from kubetrail.errors import KubetrailError, Origin
from kubetrail.sources.base import Outcome
from kubetrail.sources.cloudwatch import awslogs_failure, decode_data_message, open_awslogs

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "kubetrail"
logger = Logger(service=SERVICE)  # structured JSON; POWERTOOLS_LOG_LEVEL sets the level
metrics = Metrics(namespace="kubetrail", service=SERVICE)  # EMF; POWERTOOLS_METRICS_NAMESPACE


@functools.cache
def components() -> Components:
    """Settings read and clients built once per execution environment (the only globals)."""
    return build(Settings.from_env())


def outcomes(event: Any, origin: Origin, parts: Components) -> Iterator[Outcome]:
    """Open the delivery with kubetrail's bounded, multi-member inflate (powertools' data class
    inflates without a limit and reads one gzip member); one that does not open is the decoder's
    one Failure, kept whole for the dead-letter queue."""
    prefilter, limit = parts.pipeline.rules.prefilter, parts.max_inflate
    try:
        payload = open_awslogs(event, max_inflate=limit)
    except Exception as exc:  # the delivery's one Failure, without inflating it a second time
        return iter([awslogs_failure(event, exc, origin)])
    if isinstance(payload, dict):
        logger.append_keys(**{key: value[:512] for key, value in (
            ("log_group", payload.get("logGroup")), ("log_stream", payload.get("logStream")))
            if type(value) is str})
    return decode_data_message(payload, origin, prefilter)


# Raising hands the batch back to Lambda's async retries, then to the on-failure destination.
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Decode, detect, dedup, publish; dead-letter what could not be decoded."""
    origin = Origin(f"lambda:{context.aws_request_id}")
    try:
        parts = components()
        report = parts.pipeline.process(outcomes(event, origin, parts))
        parts.deadletter.send(report.failures)  # the records are kept before we succeed
    except KubetrailError as exc:
        metrics.add_metric(name=f"{type(exc).__name__}s", unit=MetricUnit.Count, value=1)
        logger.exception("batch handed back to Lambda for retry")
        raise
    for name, value in (("RecordsIn", report.records), ("Findings", report.findings),
                        ("Deduplicated", report.deduplicated),
                        ("Skipped", sum(report.skipped.values())),
                        ("Failed", report.failed), ("RuleErrors", report.rule_error_count)):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for error in report.rule_errors:
        logger.warning("rule error", rule_id=error.rule_id, function=error.function,
                       origin=str(error.origin), error=error.message)
    for failure in report.failures:
        logger.warning("record dead-lettered", reason=failure.reason, origin=str(failure.origin))
    logger.info(f"kubetrail batch {report.summary()}")
    return {"summary": report.summary(), "findings": [f.id for f in report.published],
            "dead_lettered": len(report.failures)}
