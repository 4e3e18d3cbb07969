"""The GCP function's settings (environment → one frozen record, read once) and the
components built from them. Only `functions/gcp/main.py` uses this module.

In GCP the clients authenticate as the function's service account; locally they honour
PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST (no credentials are involved). Importing this
module imports no kubetrail component: `build` does, on the first invocation (cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kubetrail.errors import ConfigError
from kubetrail.record import record

if TYPE_CHECKING:
    from kubetrail.deadletter.pubsub import PubSubDeadLetterSink
    from kubetrail.pipeline import Pipeline

# kubetrail.sources.common.DEFAULT_MAX_INFLATE (tests/functions check they agree), not imported
# from there: kubetrail.sources is imported on the first delivery, not with this module.
DEFAULT_MAX_INFLATE = 64 * 1024 * 1024

REQUIRED = ("GOOGLE_CLOUD_PROJECT", "KUBETRAIL_DEDUP_COLLECTION", "KUBETRAIL_FINDINGS_TOPIC",
            "KUBETRAIL_DEADLETTER_TOPIC")
OPTIONAL = ("KUBETRAIL_FIRESTORE_DATABASE", "KUBETRAIL_TIMEOUT_SECONDS", "KUBETRAIL_MAX_INFLATE")
# KUBETRAIL_CONFIG names a rules configuration packaged here (make package-* RULES_CONFIG=).
FUNCTION_DIR = Path(__file__).resolve().parent


@record(frozen=True, slots=True)
class Settings:
    """Topics are short names in `project` or full `projects/<p>/topics/<t>` paths;
    `max_inflate` bounds what a gzip-compressed message may inflate to (bytes)."""

    project: str
    dedup_collection: str
    findings_topic: str
    deadletter_topic: str
    firestore_database: str | None = None
    timeout_seconds: float = 30.0
    max_inflate: int = DEFAULT_MAX_INFLATE

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings; ConfigError names every required one that is missing."""
        def get(name: str) -> str:
            return (env.get(name) or "").strip()

        missing = [name for name in REQUIRED if not get(name)]
        if missing:
            raise ConfigError(f"missing settings: {', '.join(missing)}")
        try:
            timeout = float(get("KUBETRAIL_TIMEOUT_SECONDS") or 30)
        except ValueError:
            raise ConfigError("KUBETRAIL_TIMEOUT_SECONDS must be a number of seconds") from None
        if not 0 < timeout <= 540:
            raise ConfigError("KUBETRAIL_TIMEOUT_SECONDS must be in (0, 540]")
        inflate = get("KUBETRAIL_MAX_INFLATE") or str(DEFAULT_MAX_INFLATE)
        if not (inflate.isascii() and inflate.isdigit()) or int(inflate) <= 0:
            raise ConfigError("KUBETRAIL_MAX_INFLATE must be a positive number of bytes")
        return cls(get("GOOGLE_CLOUD_PROJECT"), get("KUBETRAIL_DEDUP_COLLECTION"),
                   get("KUBETRAIL_FINDINGS_TOPIC"), get("KUBETRAIL_DEADLETTER_TOPIC"),
                   get("KUBETRAIL_FIRESTORE_DATABASE") or None, timeout, int(inflate))


@record(frozen=True, slots=True)
class Components:
    """What one function instance keeps between invocations."""

    pipeline: Pipeline
    deadletter: PubSubDeadLetterSink
    max_inflate: int = DEFAULT_MAX_INFLATE


def build(settings: Settings) -> Components:
    """Rules, Firestore dedup, the findings publisher and the dead-letter sink."""
    from kubetrail.deadletter.pubsub import PubSubDeadLetterSink
    from kubetrail.dedup.firestore import FirestoreDedupStore
    from kubetrail.pipeline import Pipeline
    from kubetrail.publish.formats import finding_format, with_format
    from kubetrail.publish.pubsub import PubSubPublisher
    from kubetrail.rules import RuleSet
    from kubetrail.rules.config import rules_for_function

    rules = RuleSet(rules_for_function(os.environ, FUNCTION_DIR))
    fmt = finding_format(os.environ)
    timeout = settings.timeout_seconds
    dedup = FirestoreDedupStore(settings.dedup_collection, project=settings.project,
                                database=settings.firestore_database, timeout=timeout)
    publisher = PubSubPublisher(settings.findings_topic, project=settings.project,
                                timeout=timeout)
    deadletter = PubSubDeadLetterSink(settings.deadletter_topic, project=settings.project,
                                      timeout=timeout)
    return Components(Pipeline(rules, dedup, with_format(publisher, fmt)), deadletter,
                      settings.max_inflate)
