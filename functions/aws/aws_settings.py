"""The Lambda's settings (environment → one frozen record, read once per execution
environment) and the components built from them. Only `functions/aws/handler.py` uses this module.

In AWS the clients authenticate as the function's execution role; locally boto3's standard
AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) points them at an emulator. No SDK is imported
here: the adapters create their boto3 clients on first use and keep them. Importing this module
imports no kubetrail component either: `build` does, on the first invocation (cold start)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from kubetrail.errors import ConfigError
from kubetrail.record import record

if TYPE_CHECKING:
    from kubetrail.deadletter.sqs import SqsDeadLetterSink
    from kubetrail.pipeline import Pipeline

# kubetrail.sources.common.DEFAULT_MAX_INFLATE (tests/functions check they agree), not imported
# from there: kubetrail.sources is imported on the first delivery, not with this module.
DEFAULT_MAX_INFLATE = 64 * 1024 * 1024

# KUBETRAIL_CONFIG names a rules configuration packaged here (make package-* RULES_CONFIG=).
FUNCTION_DIR = Path(__file__).resolve().parent
REQUIRED = ("KUBETRAIL_DEDUP_TABLE", "KUBETRAIL_SNS_TOPIC_ARN", "KUBETRAIL_DLQ_URL")
F = TypeVar("F", bound=Callable[..., Any])


@record(frozen=True, slots=True)
class Settings:
    """Table name, topic ARN and queue URL of the resources Terraform made; the most one
    delivery may inflate to (KUBETRAIL_MAX_INFLATE bytes, default 64 MiB)."""

    dedup_table: str
    topic_arn: str
    dlq_url: str
    max_inflate: int = DEFAULT_MAX_INFLATE

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings; ConfigError names every required one that is missing or bad."""
        def get(name: str) -> str:
            return (env.get(name) or "").strip()

        missing = [name for name in REQUIRED if not get(name)]
        if missing:
            raise ConfigError(f"missing settings: {', '.join(missing)}")
        if not get("KUBETRAIL_SNS_TOPIC_ARN").startswith("arn:"):
            raise ConfigError("KUBETRAIL_SNS_TOPIC_ARN must be a topic ARN (arn:aws:sns:...)")
        if not get("KUBETRAIL_DLQ_URL").startswith(("https://", "http://")):
            raise ConfigError("KUBETRAIL_DLQ_URL must be a queue URL (https://sqs...)")
        return cls(get("KUBETRAIL_DEDUP_TABLE"), get("KUBETRAIL_SNS_TOPIC_ARN"),
                   get("KUBETRAIL_DLQ_URL"), max_inflate(get("KUBETRAIL_MAX_INFLATE")))


def max_inflate(text: str) -> int:
    """KUBETRAIL_MAX_INFLATE: a positive number of bytes; unset → the default."""
    if not text:
        return DEFAULT_MAX_INFLATE
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise ConfigError("KUBETRAIL_MAX_INFLATE must be a positive number of bytes")
    return int(text)


def tracing_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """X-Ray tracing is on when Terraform sets KUBETRAIL_TRACING=true (tracing_mode Active)."""
    return env.get("KUBETRAIL_TRACING", "").strip().lower() in ("1", "true", "yes")


def traced(handler: F) -> F:
    """Wrap the handler with powertools' Tracer only when tracing is on: the X-Ray SDK (and
    botocore's patching) is then never imported, so a disabled tracer costs nothing."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    return cast(F, Tracer().capture_lambda_handler(handler))


@record(frozen=True, slots=True)
class Components:
    """What one execution environment keeps between invocations (clients inside, lazily)."""

    pipeline: Pipeline
    deadletter: SqsDeadLetterSink
    max_inflate: int = DEFAULT_MAX_INFLATE


def build(settings: Settings) -> Components:
    """Rules, the DynamoDB dedup store, the SNS publisher and the SQS dead-letter sink."""
    from kubetrail.deadletter.sqs import SqsDeadLetterSink
    from kubetrail.dedup.dynamodb import DynamoDBDedupStore
    from kubetrail.pipeline import Pipeline
    from kubetrail.publish.formats import finding_format, with_format
    from kubetrail.publish.sns import SnsPublisher
    from kubetrail.rules import RuleSet
    from kubetrail.rules.config import rules_for_function

    rules = RuleSet(rules_for_function(os.environ, FUNCTION_DIR))
    publisher = with_format(SnsPublisher(settings.topic_arn), finding_format(os.environ))
    pipeline = Pipeline(rules, DynamoDBDedupStore(settings.dedup_table), publisher)
    return Components(pipeline, SqsDeadLetterSink(settings.dlq_url), settings.max_inflate)
