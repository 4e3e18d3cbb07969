"""The gcloud Pub/Sub and Firestore emulators for the test session.

`gcloud_emulators` starts both (in parallel, on free loopback ports) the first time a test asks,
waits until each answers HTTP, and stops them at the end of the session. When
PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST name emulators that answer (e.g. after
`make emulators`), those are reused and left running.

Outage tests put a `tests.emulators.net.LoopbackProxy` in front of an emulator and cut it: to the
clients it is the emulator going away and coming back, while the emulator keeps its state."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.net import ServerProcess, answers_ok, free_port

PROJECT = "kubetrail-test"
START_TIMEOUT = 90.0


def answers(host: str, timeout: float = 1.0) -> bool:
    """The emulators answer `GET /` with 200 "Ok"."""
    return answers_ok(f"http://{host}/", timeout)


class EmulatorProcess(ServerProcess):
    """One `gcloud ... emulators ... start` on a loopback port (gcloud forks the JVM: the
    process group is stopped as a whole)."""

    def __init__(self, args: list[str], port: int, log: Path) -> None:
        self.host = f"127.0.0.1:{port}"
        super().__init__([*args, f"--host-port={self.host}"], log, f"emulator on {self.host}")

    start_timeout, poll_interval = START_TIMEOUT, 0.2

    def ready(self) -> bool:
        return answers(self.host)


def start_emulators(logdir: Path) -> tuple[EmulatorProcess, EmulatorProcess]:
    """Start Pub/Sub and Firestore together (JVM start-up overlaps), then wait for both."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise RuntimeError("gcloud is not installed; the GCP tests need its emulators")
    (logdir / "pubsub-data").mkdir(parents=True, exist_ok=True)
    pubsub = EmulatorProcess([gcloud, "beta", "emulators", "pubsub", "start", "--quiet",
                              f"--data-dir={logdir / 'pubsub-data'}"],
                             free_port(), logdir / "pubsub.log")
    firestore = EmulatorProcess([gcloud, "emulators", "firestore", "start", "--quiet"],
                                free_port(), logdir / "firestore.log")
    try:
        pubsub.wait_ready()
        firestore.wait_ready()
    except BaseException:
        pubsub.stop()
        firestore.stop()
        raise
    return pubsub, firestore


@dataclass(frozen=True)
class GcloudEmulators:
    """Where the emulators listen, plus helpers to make topics and read what arrived."""

    project: str
    pubsub_host: str
    firestore_host: str

    def env(self) -> dict[str, str]:
        return {"GOOGLE_CLOUD_PROJECT": self.project, "PUBSUB_EMULATOR_HOST": self.pubsub_host,
                "FIRESTORE_EMULATOR_HOST": self.firestore_host}

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def topic_with_subscription(self, prefix: str) -> tuple[str, str]:
        """A new topic and a pull subscription on it: (topic path, subscription path)."""
        from google.cloud import pubsub_v1

        name = self.unique(prefix)
        topic = f"projects/{self.project}/topics/{name}"
        sub = f"projects/{self.project}/subscriptions/{name}-sub"
        with _emulator_env(self):
            pubsub_v1.PublisherClient().create_topic(name=topic)
            with pubsub_v1.SubscriberClient() as subscriber:
                subscriber.create_subscription(name=sub, topic=topic)
        return topic, sub

    def pull(self, subscription: str) -> list[Any]:
        """Every message waiting on the subscription (acknowledged): ReceivedMessage.message."""
        from google.cloud import pubsub_v1

        messages: list[Any] = []
        with _emulator_env(self), pubsub_v1.SubscriberClient() as subscriber, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # return_immediately: wanted here
            while True:
                resp = subscriber.pull(request={"subscription": subscription,
                                                "max_messages": 100,
                                                "return_immediately": True}, timeout=10)
                if not resp.received_messages:
                    return messages
                messages.extend(m.message for m in resp.received_messages)
                subscriber.acknowledge(request={
                    "subscription": subscription,
                    "ack_ids": [m.ack_id for m in resp.received_messages]})


@contextlib.contextmanager
def _emulator_env(emulators: GcloudEmulators) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in emulators.env()}
    os.environ.update(emulators.env())
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def gcloud_emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcloudEmulators]:
    """Both emulators for the whole session (reused when the environment names live ones)."""
    ps, fs = os.environ.get("PUBSUB_EMULATOR_HOST"), os.environ.get("FIRESTORE_EMULATOR_HOST")
    if ps and fs and answers(ps) and answers(fs):
        yield GcloudEmulators(os.environ.get("GOOGLE_CLOUD_PROJECT") or PROJECT, ps, fs)
        return
    pubsub, firestore = start_emulators(tmp_path_factory.mktemp("gcloud-emulators"))
    try:
        yield GcloudEmulators(PROJECT, pubsub.host, firestore.host)
    finally:
        pubsub.stop()
        firestore.stop()


@pytest.fixture
def pubsub_env(gcloud_emulators: GcloudEmulators, monkeypatch: pytest.MonkeyPatch
               ) -> GcloudEmulators:
    """The emulators, with PUBSUB_EMULATOR_HOST set for the client libraries."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", gcloud_emulators.pubsub_host)
    return gcloud_emulators
