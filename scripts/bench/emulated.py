"""The emulators behind the per-invocation benchmark's second mode, started and stopped by the
bench itself with the tests' helpers (tests/emulators): the moto server (DynamoDB, SNS, SQS),
Azurite (Table and Queue storage) with the loopback Event Grid stand-in, and the gcloud Pub/Sub
and Firestore emulators.

Each `<cloud>(workdir)` context manager sets the function's settings in the environment for its
duration and yields `fresh()`, which makes a new dedup table / collection (and the rest) and sets
its name, so every timed pass starts from an empty dedup store. `missing(cloud)` says why an
emulator cannot run here (None when it can)."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from kubetrail.local.aws import patched_environ
from tests.emulators.azurite import AZURITE_BIN

Fresh = Callable[[], None]


def missing(cloud: str) -> str | None:
    """Why this cloud's emulators cannot run here, or None."""
    if cloud == "azure" and not AZURITE_BIN.exists():
        return f"{AZURITE_BIN} is missing (make test-deps-azure)"
    if cloud == "gcp" and not (shutil.which("gcloud") and shutil.which("java")):
        return "gcloud and java are needed for the Pub/Sub and Firestore emulators"
    return None


@contextlib.contextmanager
def aws(workdir: Path) -> Iterator[Fresh]:
    from tests.emulators.moto import Moto, MotoProcess
    from tests.emulators.net import free_port

    proc = MotoProcess(free_port(), workdir / "moto.log")
    proc.wait_ready()
    moto = Moto(proc.endpoint)
    try:
        with patched_environ({**moto.env(), "AWS_CONFIG_FILE": os.devnull,
                      "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                      "POWERTOOLS_SERVICE_NAME": "kubetrail-bench"}):
            topic, _ = moto.topic_with_queue()
            os.environ.update({"KUBETRAIL_SNS_TOPIC_ARN": topic,
                               "KUBETRAIL_DLQ_URL": moto.queue("kubetrail-dlq")})
            yield lambda: os.environ.update({"KUBETRAIL_DEDUP_TABLE": moto.dedup_table()})
    finally:
        proc.stop()


@contextlib.contextmanager
def azure(workdir: Path) -> Iterator[Fresh]:
    from azure.data.tables import TableServiceClient
    from azure.storage.queue import QueueClient

    from tests.emulators.azurite import Azurite, EventGridStandin

    azurite = Azurite(workdir).start()
    standin = EventGridStandin().start()
    conn = azurite.connection_string

    def fresh() -> None:
        table, queue = "dedup" + uuid.uuid4().hex[:12], "dl-" + uuid.uuid4().hex[:12]
        TableServiceClient.from_connection_string(conn).create_table(table)
        QueueClient.from_connection_string(conn, queue).create_queue()
        os.environ.update({"KUBETRAIL_DEDUP_TABLE": table, "KUBETRAIL_DEADLETTER_QUEUE": queue})

    try:
        with patched_environ({"KUBETRAIL_STORAGE_CONNECTION_STRING": conn,
                      "KUBETRAIL_EVENTGRID_ENDPOINT": standin.endpoint,
                      "KUBETRAIL_EVENTGRID_KEY": standin.key}):
            for name in ("KUBETRAIL_TABLE_ENDPOINT", "KUBETRAIL_QUEUE_ENDPOINT"):
                os.environ.pop(name, None)
            yield fresh
    finally:
        standin.stop()
        azurite.stop()


@contextlib.contextmanager
def gcp(workdir: Path) -> Iterator[Fresh]:
    from tests.emulators.gcloud import PROJECT, GcloudEmulators, start_emulators

    pubsub, firestore = start_emulators(workdir)
    try:
        emulators = GcloudEmulators(PROJECT, pubsub.host, firestore.host)
        findings, _ = emulators.topic_with_subscription("findings")
        deadletter, _ = emulators.topic_with_subscription("deadletter")
        with patched_environ({**emulators.env(), "KUBETRAIL_FINDINGS_TOPIC": findings,
                      "KUBETRAIL_DEADLETTER_TOPIC": deadletter,
                      "KUBETRAIL_TIMEOUT_SECONDS": "30"}):
            yield lambda: os.environ.update(
                {"KUBETRAIL_DEDUP_COLLECTION": emulators.unique("dedup")})
    finally:
        pubsub.stop()
        firestore.stop()


STARTERS = {"aws": aws, "azure": azure, "gcp": gcp}
