"""Azure emulators for the tests: Azurite (npm; real Table and Queue storage) and the Event Grid
stand-in (scripts/azure/eventgrid_standin.py; there is no Event Grid emulator without Docker).

Both start as subprocesses on free loopback ports the first time a test asks for them and stop at
the end of the session. `KUBETRAIL_AZURITE_CONNECTION_STRING` (e.g. from `.kubetrail/azure.env`
after `make emulators`) reuses a running Azurite instead.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite"
STANDIN = ROOT / "scripts" / "azure" / "eventgrid_standin.py"
# Azurite's well-known development account (public, documented; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")
_LISTENING = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at "
                        r"http://127\.0\.0\.1:(\d+)")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connection_string(queue_port: int, table_port: int) -> str:
    """The Azurite connection string for the table and queue services on these ports."""
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"QueueEndpoint=http://127.0.0.1:{queue_port}/{ACCOUNT};"
            f"TableEndpoint=http://127.0.0.1:{table_port}/{ACCOUNT};")


class Azurite:
    """One Azurite process. Ports 0 pick free ones; `location` persists data across restarts
    (in memory otherwise)."""

    def __init__(self, workdir: Path, location: Path | None = None) -> None:
        self.workdir, self.location = workdir, location
        self.ports = {"Blob": 0, "Queue": 0, "Table": 0}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(self.ports["Queue"], self.ports["Table"])

    def start(self, timeout: float = 60) -> Azurite:
        if not AZURITE_BIN.exists():
            pytest.fail(f"{AZURITE_BIN} is missing: run `make test-deps` (npm ci)")
        log = self.workdir / f"azurite-{time.monotonic_ns()}.log"
        storage = (["--location", str(self.location)] if self.location
                   else ["--inMemoryPersistence"])
        args = [str(AZURITE_BIN), "--silent", "--skipApiVersionCheck", "--loose",
                "--disableTelemetry", *storage,
                "--blobPort", str(self.ports["Blob"]), "--queuePort", str(self.ports["Queue"]),
                "--tablePort", str(self.ports["Table"])]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = dict(_LISTENING.findall(log.read_text(errors="replace")))
            if len(found) == 3:
                self.ports = {k: int(v) for k, v in found.items()}
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"Azurite did not start: {log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class EventGridStandin:
    """The Event Grid stand-in server as a subprocess; `port` 0 picks a free one. With `record`,
    accepted events are also kept in that file, so a restarted stand-in still lists them."""

    def __init__(self, key: str | None = None, port: int = 0, record: Path | None = None
                 ) -> None:
        self.key = key or secrets.token_urlsafe(24)
        self.port, self.record = port, record
        self.proc: subprocess.Popen[str] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/events"

    def start(self) -> EventGridStandin:
        env = {**os.environ, "KUBETRAIL_EVENTGRID_KEY": self.key}
        record = ["--record", str(self.record)] if self.record else []
        self.proc = subprocess.Popen(
            [sys.executable, str(STANDIN), "--port", str(self.port), *record],
            stdout=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r":(\d+)/api/events", line)
        if not match:
            self.stop()
            pytest.fail(f"the Event Grid stand-in did not start: {line!r}")
        self.port = int(match.group(1))
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def events(self) -> list[dict[str, Any]]:
        """Every CloudEvent the stand-in accepted."""
        url = f"http://127.0.0.1:{self.port}/kubetrail/events"
        with urllib.request.urlopen(url, timeout=10) as resp:
            return list(json.load(resp))

    def clear(self) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/kubetrail/events",
                                     method="DELETE")
        urllib.request.urlopen(req, timeout=10).close()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An Azurite connection string (table + queue)."""
    reuse = os.environ.get("KUBETRAIL_AZURITE_CONNECTION_STRING")
    if reuse:
        yield reuse
        return
    emulator = Azurite(tmp_path_factory.mktemp("azurite")).start()
    try:
        yield emulator.connection_string
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def _eventgrid_session() -> Iterator[EventGridStandin]:
    standin = EventGridStandin().start()
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture
def eventgrid(_eventgrid_session: EventGridStandin) -> EventGridStandin:
    """The session's Event Grid stand-in, with no events recorded yet."""
    _eventgrid_session.clear()
    return _eventgrid_session
