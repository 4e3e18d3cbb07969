"""Importing a function's entrypoint, after what its platform has imported by then (nothing on
Lambda, azure.functions in the Azure worker, functions_framework in the GCP server), imports no
kubetrail pipeline, rule, decoder or adapter, no SDK and no powertools: the first invocation
does (tests/functions/<cloud> run those invocations on the emulators)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
DEFERRED = ("kubetrail.pipeline", "kubetrail.rules", "kubetrail.sources", "kubetrail.dedup",
            "kubetrail.publish", "kubetrail.deadletter", "msgspec", "orjson", "yaml", "sqlite3",
            "hashlib", "boto3", "botocore", "aws_lambda_powertools", "azure.data.tables",
            "azure.storage.queue", "azure.identity", "google.cloud.pubsub",
            "google.cloud.firestore")
ENTRYPOINTS = [("aws", "handler", ()), ("azure", "function_app", ("azure.functions",)),
               ("gcp", "main", ("functions_framework",))]


def imported_by(cloud: str, module: str, preload: tuple[str, ...]) -> list[str]:
    """The modules importing the entrypoint added, in a fresh interpreter."""
    probe = (f"import sys, json; [__import__(m) for m in {list(preload)!r}]; "
             "before = set(sys.modules); "
             f"sys.path.insert(0, {str(FUNCTIONS / cloud)!r}); import {module}; "
             "print(json.dumps(sorted(set(sys.modules) - before)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    return list(json.loads(out.stdout))


@pytest.mark.parametrize(("cloud", "module", "preload"), ENTRYPOINTS)
def test_importing_an_entrypoint_defers_the_pipeline_and_the_sdks(
        cloud: str, module: str, preload: tuple[str, ...]) -> None:
    added = imported_by(cloud, module, preload)
    assert module in added and f"{cloud}_settings" in added
    assert [m for m in added if m.startswith(DEFERRED)] == []


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_the_settings_default_inflate_limit_is_the_decoders(cloud: str) -> None:
    from kubetrail.sources.common import DEFAULT_MAX_INFLATE

    probe = (f"import sys; sys.path.insert(0, {str(FUNCTIONS / cloud)!r}); "
             f"import {cloud}_settings as s; from kubetrail.record import fields; "
             "print(s.DEFAULT_MAX_INFLATE, "
             "next(f.default for f in fields(s.Settings) if f.name == 'max_inflate'))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == [str(DEFAULT_MAX_INFLATE)] * 2


@pytest.mark.parametrize("init", ["provisioned-concurrency", "snap-start"])
def test_a_lambda_initialized_ahead_of_its_invocations_loads_everything_at_import(
        init: str) -> None:
    env = {**os.environ, "AWS_LAMBDA_INITIALIZATION_TYPE": init,
           "KUBETRAIL_DEDUP_TABLE": "kubetrail-dedup",
           "KUBETRAIL_SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:kubetrail",
           "KUBETRAIL_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"}
    env.pop("KUBETRAIL_CONFIG", None)
    probe = (f"import sys; sys.path.insert(0, {str(FUNCTIONS / 'aws')!r}); import handler; "
             "print(handler.components.cache_info().currsize, handler.entry.cache_info().currsize,"
             " 'kubetrail.pipeline' in sys.modules, 'aws_lambda_powertools' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env, timeout=120)
    assert out.stdout.split() == ["1", "1", "True", "True"]
    # bad settings are not an import error there either: each invocation reports them
    env.pop("KUBETRAIL_DEDUP_TABLE")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env, timeout=120)
    assert out.stdout.split() == ["0", "1", "False", "True"]


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_the_deployed_rules_load_without_panther_when_no_root_is_packaged(cloud: str) -> None:
    """The first invocation's rule load imports kubetrail.panther only for a Panther root."""
    probe = ("import sys, json; from pathlib import Path; "
             "from kubetrail.rules.deployed import deployed_rules; "
             f"rules = deployed_rules(Path({str(FUNCTIONS / cloud)!r}), {{}}); "
             "print(json.dumps([len(rules), sorted(m for m in sys.modules "
             "if m.startswith('kubetrail.panther'))]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    count, panther = json.loads(out.stdout)
    assert count > 0 and panther == []
