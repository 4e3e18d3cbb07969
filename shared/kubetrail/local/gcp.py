"""`kubetrail local invoke gcp FILE...`: deliver FILEs to the real Cloud Function
(functions/gcp/main.py, over HTTP through functions-framework) against the gcloud Pub/Sub and
Firestore emulators, then print each finding that arrived on the findings topic as one JSON line.

A FILE is a CloudEvent (structured JSON, `specversion`), a Pub/Sub push body (`message`,
`subscription`), a bare Pub/Sub message (`data`, `messageId`), or GKE audit LogEntries (one JSON
object, a JSON array, or JSON lines; gzip allowed). LogEntries and bare messages travel as they
would in GCP: published one message per LogEntry to the audit topic (the Log Router sink's job),
pulled from a subscription and wrapped in a `google.cloud.pubsub.topic.v1.messagePublished`
CloudEvent (Eventarc's job). Each delivery is made once: a failed one is reported (exit 1), not
retried. Emulator hosts come from the environment or `.kubetrail/gcp.env` (`make emulators`).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import os
import uuid
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import orjson

from kubetrail.errors import ConfigError
from kubetrail.textsafe import safe_json_text

ENV_FILE = Path(".kubetrail") / "gcp.env"
DEFAULTS = {
    "GOOGLE_CLOUD_PROJECT": "kubetrail-local",
    "KUBETRAIL_DEDUP_COLLECTION": "kubetrail-dedup",
    "KUBETRAIL_FINDINGS_TOPIC": "kubetrail-findings",
    "KUBETRAIL_DEADLETTER_TOPIC": "kubetrail-deadletter",
    "KUBETRAIL_AUDIT_TOPIC": "kubetrail-gke-audit",
}
EMULATOR_HOSTS = ("PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")
MESSAGE_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"


def function_dir() -> Path:
    """functions/gcp of this checkout (KUBETRAIL_GCP_FUNCTION_DIR overrides)."""
    explicit = os.environ.get("KUBETRAIL_GCP_FUNCTION_DIR")
    repo = Path(__file__).resolve().parents[3]
    for candidate in (Path(explicit) if explicit else None, repo / "functions" / "gcp",
                      Path.cwd() / "functions" / "gcp"):
        if candidate and (candidate / "main.py").is_file():
            return candidate
    raise ConfigError("functions/gcp/main.py not found (set KUBETRAIL_GCP_FUNCTION_DIR)")


def settings(env: Mapping[str, str] = os.environ, env_file: Path = ENV_FILE) -> dict[str, str]:
    """The function's settings: the environment, else `.kubetrail/gcp.env`, else defaults.
    Both emulator hosts are required, so that a local run never reaches a real project."""
    from_file: dict[str, str] = {}
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            key, sep, value = line.removeprefix("export ").partition("=")
            if sep and key.strip():
                from_file[key.strip()] = value.strip().strip("'\"")
    merged = {**DEFAULTS, **from_file, **{k: v for k, v in env.items() if v}}
    missing = [k for k in EMULATOR_HOSTS if not merged.get(k)]
    if missing:
        raise ConfigError(f"no emulator ({', '.join(missing)} unset): run `make emulators`")
    return merged


def _documents(data: bytes) -> Iterator[tuple[Any, bytes]]:
    """(parsed or None, raw bytes) per document: one JSON value, an array's items, or lines."""
    if data.startswith(b"\x1f\x8b"):
        data = gzip.decompress(data)
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        for line in data.splitlines():
            if line.strip():
                try:
                    yield orjson.loads(line), line.strip()
                except orjson.JSONDecodeError:
                    yield None, line.strip()  # garbage travels as is, as it would on the topic
        return
    for item in whole if isinstance(whole, list) else [whole]:
        yield item, orjson.dumps(item)


def classify(path: Path) -> Iterator[tuple[str, Any]]:
    """("cloudevent", dict) | ("push", dict) | ("publish", (data, attributes)) per delivery."""
    for doc, raw in _documents(path.read_bytes()):
        if isinstance(doc, dict) and "specversion" in doc:
            yield "cloudevent", doc
        elif isinstance(doc, dict) and isinstance(doc.get("message"), dict):
            yield "push", doc
        elif isinstance(doc, dict) and "data" in doc and (
                "messageId" in doc or "message_id" in doc or "attributes" in doc):
            try:
                data = base64.b64decode(str(doc.get("data") or ""), validate=True)
            except ValueError:
                data = raw  # not base64: let the function see (and dead-letter) what it is
            attributes = doc.get("attributes")
            yield "publish", (data, {str(k): str(v) for k, v in attributes.items()}
                              if isinstance(attributes, dict) else {})
        else:  # a LogEntry (or anything else the sink could have carried)
            timestamp = doc.get("timestamp") if isinstance(doc, dict) else None
            attrs = {"logging.googleapis.com/timestamp": timestamp} if timestamp else {}
            yield "publish", (raw, attrs)


def push_event(push: Mapping[str, Any], topic: str) -> dict[str, Any]:
    """The structured CloudEvent Eventarc makes of a Pub/Sub push body."""
    message = push["message"]
    message_id = str(message.get("messageId") or message.get("message_id") or uuid.uuid4())
    event = {"specversion": "1.0", "id": message_id, "source": f"//pubsub.googleapis.com/{topic}",
             "type": MESSAGE_TYPE, "datacontenttype": "application/json", "data": dict(push)}
    if message.get("publishTime"):
        event["time"] = message["publishTime"]
    return event


class Emulators:
    """Topics and throw-away subscriptions on the Pub/Sub emulator."""

    def __init__(self, project: str) -> None:
        from google.api_core import exceptions
        from google.cloud import pubsub_v1

        self.project = project
        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()
        self._exists = exceptions.AlreadyExists
        self._subscriptions: list[str] = []

    def topic(self, name: str) -> str:
        path = name if name.startswith("projects/") else f"projects/{self.project}/topics/{name}"
        with contextlib.suppress(self._exists):
            self.publisher.create_topic(name=path)
        return path

    def tap(self, topic: str) -> str:
        """A new subscription: it sees only what is published from now on."""
        path = f"projects/{self.project}/subscriptions/kubetrail-local-{uuid.uuid4().hex[:12]}"
        self.subscriber.create_subscription(name=path, topic=topic)
        self._subscriptions.append(path)
        return path

    def pull(self, subscription: str, want: int | None = None) -> list[Any]:
        """Pull and ack until `want` messages (or, without `want`, until none is waiting)."""
        got: list[Any] = []
        while want is None or len(got) < want:
            with warnings.catch_warnings():  # return_immediately: deprecated, wanted here
                warnings.simplefilter("ignore", DeprecationWarning)
                resp = self.subscriber.pull(
                    request={"subscription": subscription, "max_messages": 100,
                             "return_immediately": want is None}, timeout=30)
            if not resp.received_messages and want is None:
                break
            got.extend(resp.received_messages)
            if resp.received_messages:
                self.subscriber.acknowledge(request={"subscription": subscription, "ack_ids": [
                    m.ack_id for m in resp.received_messages]})
        return got

    def close(self) -> None:
        for sub in self._subscriptions:
            with contextlib.suppress(Exception):
                self.subscriber.delete_subscription(subscription=sub)
        self.subscriber.close()


def _events(paths: list[Path], emu: Emulators, audit: str) -> list[dict[str, Any]]:
    """Every FILE as the structured CloudEvents the function would receive, in order."""
    events: list[dict[str, Any]] = []
    eventarc = emu.tap(audit)
    for path in paths:
        published: list[str] = []
        for kind, item in classify(path):
            if kind == "cloudevent":
                events.append(item)
            elif kind == "push":
                events.append(push_event(item, audit))
            else:
                data, attributes = item
                published.append(emu.publisher.publish(audit, data, **attributes).result(30))
        received = {m.message.message_id: m for m in emu.pull(eventarc, want=len(published))}
        for message_id in published:  # file order, whatever order the pull returned
            message = received[message_id].message
            events.append(push_event({"message": {
                "data": base64.b64encode(message.data).decode(), "messageId": message_id,
                "publishTime": message.publish_time.isoformat().replace("+00:00", "Z"),
                "attributes": dict(message.attributes)}, "subscription": eventarc}, audit))
    return events


def invoke(files: list[Path], out: TextIO, err: TextIO) -> int:
    """Deliver FILEs to the function; print the findings that arrived; exit status."""
    env = settings()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return _invoke(files, env, out, err)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _invoke(files: list[Path], env: dict[str, str], out: TextIO, err: TextIO) -> int:
    import functions_framework
    from cloudevents.conversion import to_structured
    from cloudevents.http import from_dict

    from kubetrail.cliargs import safe

    emu = Emulators(env["GOOGLE_CLOUD_PROJECT"])
    try:
        findings_tap = emu.tap(emu.topic(env["KUBETRAIL_FINDINGS_TOPIC"]))
        dead_tap = emu.tap(emu.topic(env["KUBETRAIL_DEADLETTER_TOPIC"]))
        events = _events(files, emu, emu.topic(env["KUBETRAIL_AUDIT_TOPIC"]))
        create_app: Any = functions_framework.create_app  # untyped upstream
        client = create_app("handle", str(function_dir() / "main.py"), "cloudevent").test_client()
        status = 0
        for event in events:
            headers, body = to_structured(from_dict(event))
            logged = io.StringIO()
            with contextlib.redirect_stdout(logged):  # the function's log lines are not findings
                resp = client.post("/", headers=headers, data=body)
            err.writelines(line + "\n" for line in logged.getvalue().splitlines()
                           if not line.startswith('{"severity": "INFO"'))
            if resp.status_code != 200:
                status = 1
                err.write(f"kubetrail: gcp: message {safe(str(event.get('id')))}: function "
                          f"returned HTTP {resp.status_code} (Pub/Sub would redeliver it)\n")
        findings = sorted((orjson.loads(m.message.data) for m in emu.pull(findings_tap)),
                          key=lambda d: (str(d.get("event_time")), str(d.get("id"))))
        for doc in findings:
            out.write(safe_json_text(doc) + "\n")  # one escaped line, as `scan` prints it
        dead = emu.pull(dead_tap)
        for m in dead:
            err.write(f"kubetrail: gcp: dead-lettered message "
                      f"{safe(m.message.attributes.get('position', ''))}: "
                      f"{safe(m.message.attributes.get('reason', ''))}\n")
        err.write(f"kubetrail: gcp: delivered {len(events)} message(s); {len(findings)} "
                  f"finding(s) on {env['KUBETRAIL_FINDINGS_TOPIC']}; {len(dead)} dead-lettered "
                  f"on {env['KUBETRAIL_DEADLETTER_TOPIC']}\n")
        return status
    finally:
        emu.close()
