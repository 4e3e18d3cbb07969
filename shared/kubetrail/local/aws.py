"""`kubetrail local invoke aws FILE...`: deliver each FILE to the real Lambda handler
(`functions/aws/handler.py`) against the moto server `make emulators` started, then print every
finding that reached SNS — read back through the SQS queue subscribed to the topic — as one JSON
line on `out`. Logs, metrics and the summary go to `err`.

FILE is a CloudWatch Logs subscription event (`{"awslogs": {"data": ...}}`, delivered as is) or
raw audit events (JSON lines, a JSON array, or one JSON object), which are wrapped exactly as
CloudWatch would: one DATA_MESSAGE per ~1 MB of events, gzip + base64, log group
`/aws/eks/$KUBETRAIL_LOCAL_CLUSTER/cluster` (default cluster `local`).

Settings come from `.kubetrail/aws.env` (or $KUBETRAIL_AWS_ENV); a variable set in the
environment wins over the file (`make demo` picks a fresh dedup table that way). Without an
AWS_ENDPOINT_URL from either, it refuses to run: this command never talks to AWS itself.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import orjson

from kubetrail.errors import ConfigError, KubetrailError
from kubetrail.record import field, record
from kubetrail.textsafe import safe_json_text

REPO = Path(__file__).resolve().parents[3]
FUNCTION_DIR = REPO / "functions" / "aws"
ENV_FILE = Path(".kubetrail") / "aws.env"
QUEUE_SETTING = "KUBETRAIL_LOCAL_FINDINGS_QUEUE_URL"
MAX_DELIVERY_BYTES = 1024 * 1024
READ_TIMEOUT_S = 10.0


@record
class LocalContext:
    """The attributes of Lambda's context object that powertools and the handler read."""

    function_name: str = "kubetrail-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:kubetrail-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/kubetrail-local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines (blank lines and # comments ignored)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.removeprefix("export ").split("=", 1)
            values[key.strip()] = value.strip().strip("'\"")
    return values


def settings(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The emulator settings: the environment over the env file; refuses to run without an
    emulator endpoint."""
    path = Path(environ.get("KUBETRAIL_AWS_ENV") or ENV_FILE)
    if not path.is_file() and (REPO / ENV_FILE).is_file() and "KUBETRAIL_AWS_ENV" not in environ:
        path = REPO / ENV_FILE
    values = {**(read_env_file(path) if path.is_file() else {}), **environ}
    missing = [k for k in ("AWS_ENDPOINT_URL", QUEUE_SETTING) if not values.get(k)]
    if missing:
        raise ConfigError(f"no emulator settings ({', '.join(missing)} unset and no {path}): "
                          "run `make emulators` first")
    values.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    values.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    values.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    return values


def compact(value: Any, otherwise: str) -> str:
    """`value` as compact JSON text; `otherwise` when no encoder writes it (deeper than 255
    levels), so that it still travels and is dead-lettered."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return otherwise


def deliveries(path: Path, cluster: str) -> Iterator[dict[str, Any]]:
    """The Lambda events for one file: itself if it is a subscription event, else its audit
    events wrapped by CloudWatch's rules (~1 MB of events per delivery)."""
    from kubetrail.sources.cloudwatch import encode_awslogs

    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    try:  # orjson: a document nested too deep is not JSON here, never a RecursionError
        doc: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and "awslogs" in doc:
        yield doc
        return
    if isinstance(doc, list):
        messages = [compact(e, f"kubetrail local: element {i} nests too deep to re-encode")
                    for i, e in enumerate(doc)]
    elif isinstance(doc, dict):
        messages = [compact(doc, text.strip())]
    else:  # JSON lines; a line that is not JSON still travels, and is dead-lettered
        messages = [line for line in text.splitlines() if line.strip()]
    group, stream = f"/aws/eks/{cluster}/cluster", "kube-apiserver-audit-local"
    batch: list[str] = []
    size = 0
    for message in messages:
        if batch and size + len(message) > MAX_DELIVERY_BYTES:
            yield encode_awslogs(group, stream, batch)
            batch, size = [], 0
        batch.append(message.encode("utf-8", "replace").decode("utf-8"))
        size += len(message) + 26
    if batch:
        yield encode_awslogs(group, stream, batch)


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    old = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(old)


def load_handler() -> Any:
    """A fresh import of the real handler module (one execution environment per command)."""
    if not (FUNCTION_DIR / "handler.py").is_file():
        raise ConfigError(f"{FUNCTION_DIR}/handler.py not found (run from a kubetrail checkout)")
    for name in ("handler", "aws_settings"):
        sys.modules.pop(name, None)
    if str(FUNCTION_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTION_DIR))
    return importlib.import_module("handler")


def read_findings(queue_url: str, ids: list[str]) -> list[str]:
    """The message bodies (finding JSON) with these ids, as they arrived on the subscribed queue
    (SNS envelope or raw delivery). Other messages are made visible again for their owner."""
    import boto3

    sqs = boto3.session.Session().client("sqs")
    wanted, found = set(ids), dict[str, str]()
    deadline = time.monotonic() + READ_TIMEOUT_S
    while wanted - found.keys() and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for msg in got.get("Messages", []):
            envelope = json.loads(msg["Body"])
            text = envelope["Message"] if envelope.get("Type") == "Notification" else msg["Body"]
            finding_id = json.loads(text).get("id")
            if finding_id in wanted:
                found[finding_id] = text
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"])
            else:
                sqs.change_message_visibility(QueueUrl=queue_url, VisibilityTimeout=0,
                                              ReceiptHandle=msg["ReceiptHandle"])
    return [found[i] for i in ids if i in found]


def invoke(files: list[Path], out: TextIO, err: TextIO) -> int:
    """Deliver every file; print the findings that reached SNS. Exit 0, or 1 when an
    invocation raised (Lambda would retry it), or 2 for bad settings."""
    try:
        values = settings()
        cluster = values.get("KUBETRAIL_LOCAL_CLUSTER", "local")
        with patched_environ(values), contextlib.redirect_stdout(err):
            handler = load_handler()
            events = [(f, e) for f in files for e in deliveries(f, cluster)]
            status = 0
            for path, event in events:
                try:
                    result = handler.lambda_handler(event, LocalContext())
                except KubetrailError as exc:
                    print(f"{path}: invocation failed (Lambda would retry it): {exc}", file=err)
                    status = 1
                    continue
                docs = read_findings(values[QUEUE_SETTING], result["findings"])
                for text in docs:  # one escaped line each, as `kubetrail scan` prints them
                    print(safe_json_text(json.loads(text)), file=out)
                print(f"{path}: {result['summary']} dead_lettered={result['dead_lettered']} "
                      f"received={len(docs)}", file=err)
            return status
    except ConfigError as exc:
        print(f"kubetrail local invoke aws: {exc}", file=err)
        return 2
    except OSError as exc:
        print(f"kubetrail local invoke aws: {exc}", file=err)
        return 2
