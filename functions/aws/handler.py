"""kubetrail on AWS Lambda: EKS audit events from a CloudWatch Logs subscription (invoked
asynchronously) → DynamoDB dedup → findings on SNS; undecodable records → the SQS dead-letter
queue. Wiring only; the work is in the kubetrail package.

Importing this module imports neither powertools nor the kubetrail pipeline (the Lambda runtime
loads neither): the first invocation does, and loads the rules. When the environment is
initialized ahead of its invocations (provisioned concurrency, SnapStart), that work is done at
import instead, where it is not on any request's path."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from aws_settings import Components, Settings, build, traced

from kubetrail.errors import KubetrailError, Origin

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from kubetrail.sources.base import Outcome

Handler = Callable[[Any, Any], dict[str, Any]]


@functools.cache
def components() -> Components:
    """Settings read and clients built once per execution environment (the only globals)."""
    return build(Settings.from_env())


@functools.cache
def powertools() -> tuple[Logger, Metrics]:
    """Structured JSON logs (POWERTOOLS_LOG_LEVEL sets the level) and EMF metrics
    (POWERTOOLS_METRICS_NAMESPACE), made once per execution environment."""
    from aws_lambda_powertools import Logger, Metrics

    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or "kubetrail"
    return Logger(service=service), Metrics(namespace="kubetrail", service=service)


def outcomes(event: Any, origin: Origin, parts: Components) -> Iterator[Outcome]:
    """Open the delivery with kubetrail's bounded, multi-member inflate (powertools' data class
    inflates without a limit and reads one gzip member); one that does not open is the decoder's
    one Failure, kept whole for the dead-letter queue."""
    from kubetrail.sources.cloudwatch import awslogs_failure, decode_data_message, open_awslogs

    prefilter, limit = parts.pipeline.rules.prefilter, parts.max_inflate
    try:
        payload = open_awslogs(event, max_inflate=limit)
    except Exception as exc:  # the delivery's one Failure, without inflating it a second time
        return iter([awslogs_failure(event, exc, origin)])
    if isinstance(payload, dict):
        powertools()[0].append_keys(**{key: value[:512] for key, value in (
            ("log_group", payload.get("logGroup")), ("log_stream", payload.get("logStream")))
            if type(value) is str})
    return decode_data_message(payload, origin, prefilter)


def handle(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Decode, detect, dedup, publish; dead-letter what could not be decoded. Raising hands the
    batch back to Lambda's async retries, then to the on-failure destination."""
    from aws_lambda_powertools.metrics import MetricUnit

    logger, metrics = powertools()
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


@functools.cache
def entry() -> Handler:
    """`handle` with EMF metrics flushed, the Lambda context logged and (KUBETRAIL_TRACING) X-Ray
    tracing: powertools' decorators, applied once."""
    logger, metrics = powertools()
    wrapped: Handler = metrics.log_metrics(
        logger.inject_lambda_context(clear_state=True)(traced(handle)))
    return wrapped


def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """The Lambda entrypoint (handler.lambda_handler)."""
    return entry()(event, context)


if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in ("provisioned-concurrency", "snap-start"):
    import contextlib

    entry()
    with contextlib.suppress(KubetrailError):  # bad settings: each invocation raises it
        components()
