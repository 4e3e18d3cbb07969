"""What the emulator fixtures share: free loopback ports, a server subprocess that starts and
stops cleanly, and a TCP relay that a test can cut and restore to make a real emulator
unreachable mid-run."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path


def answers_ok(url: str, timeout: float = 1.0) -> bool:
    """`GET url` answers 200: how every emulator here says it is up."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status) == 200
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackProxy:
    """A TCP relay on a free loopback port to `target` ("host:port" or "http://host:port"), at
    `address` ("127.0.0.1:port") / `endpoint` ("http://127.0.0.1:port"). `cut()` closes the
    port and every open connection; `restore()` listens on the same port again."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").rsplit(":", 1)
        self.target = (host, int(port))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.endpoint = f"http://{self.address}"
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            conns, self._conns = self._conns, []
        for s in [*conns, *([server] if server else [])]:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    close = cut

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


class ServerProcess:
    """A server subprocess in its own process group (so a forking launcher such as gcloud is
    stopped with everything it started), its output in `log`."""

    def __init__(self, argv: list[str], log: Path, name: str) -> None:
        self.log, self.name = log, name
        with log.open("wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    start_timeout = 30.0
    poll_interval = 0.1

    def ready(self) -> bool:  # pragma: no cover - each server says how it answers
        raise NotImplementedError

    def wait_ready(self) -> None:
        """Poll `ready()` until it answers; stop and raise with the log's tail if the process
        exits or `start_timeout` seconds pass first."""
        deadline = time.monotonic() + self.start_timeout
        while not self.ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start:\n"
                                   + self.log.read_text(errors="replace")[-3000:])
            time.sleep(self.poll_interval)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
