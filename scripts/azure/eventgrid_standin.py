#!/usr/bin/env python3
"""A loopback stand-in for an Azure Event Grid custom topic's publish API (no Event Grid emulator
runs without Docker). It is NOT Event Grid: it serves only what kubetrail's publisher uses, with
the service's documented checks, and records every event it accepts so tests and
`kubetrail local invoke azure` can read back what subscribers would receive.

    POST /api/events?api-version=2018-01-01
        content-type: application/cloudevents-batch+json; charset=utf-8
        aeg-sas-key: <the topic key>
      200  accepted (the whole batch is recorded)
      400  malformed: missing api-version, wrong content type, not a JSON array of CloudEvents 1.0
           (specversion "1.0", non-empty string id, source, type)
      401  missing or wrong aeg-sas-key
      413  the batch is over 1 MB (1,048,576 bytes) or one event is over 1 MB
    GET    /kubetrail/events[?since=N]   the accepted events, as a JSON array (stand-in only)
    DELETE /kubetrail/events             forget them (stand-in only)

Run: `python scripts/azure/eventgrid_standin.py --port 0 --key KEY [--record FILE]`; it prints
`listening on http://127.0.0.1:PORT/api/events` once it accepts connections. The key may also come
from the environment (KUBETRAIL_EVENTGRID_KEY) so that it never appears in a process listing.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_BATCH_BYTES = 1024 * 1024
MAX_EVENT_BYTES = 1024 * 1024
MAX_DRAIN_BYTES = 16 * 1024 * 1024
API_VERSION = "2018-01-01"
CONTENT_TYPE = "application/cloudevents-batch+json"


class Topic:
    """The accepted events, in arrival order (optionally appended to a JSON-lines file)."""

    def __init__(self, key: str, record: Path | None = None) -> None:
        self.key = key
        self.record = record
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        if record and record.exists():
            self.events = [json.loads(line) for line in record.read_text().splitlines() if line]

    def accept(self, events: list[dict[str, Any]]) -> None:
        with self.lock:
            self.events.extend(events)
            if self.record:
                with self.record.open("a", encoding="utf-8") as fh:
                    fh.writelines(json.dumps(e, separators=(",", ":")) + "\n" for e in events)

    def clear(self) -> None:
        with self.lock:
            self.events.clear()
            if self.record:
                self.record.write_text("")


def validate(batch: Any) -> str | None:
    """Why a parsed body is not a CloudEvents 1.0 batch, or None."""
    if not isinstance(batch, list) or not batch:
        return "the body must be a non-empty JSON array of CloudEvents"
    for i, event in enumerate(batch):
        if not isinstance(event, dict):
            return f"event {i} is not an object"
        if event.get("specversion") != "1.0":
            return f"event {i}: specversion must be 1.0"
        for attr in ("id", "source", "type"):
            if not isinstance(event.get(attr), str) or not event[attr]:
                return f"event {i}: required attribute {attr} is missing"
    return None


class Handler(BaseHTTPRequestHandler):
    server_version = "kubetrail-eventgrid-standin/1"
    topic: Topic

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, body: Any, code: str = "") -> None:
        if status >= 400:
            body = {"error": {"code": code, "message": body}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/api/events":
            return self._reply(404, f"no such path {url.path}", "NotFound")
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_DRAIN_BYTES:
            self.close_connection = True
            return self._reply(413, f"batch of {length} bytes is over 1 MB", "RequestTooLarge")
        body = self.rfile.read(length)  # read even an oversized batch, so the client hears 413
        if length > MAX_BATCH_BYTES:
            return self._reply(413, f"batch of {length} bytes is over 1 MB", "RequestTooLarge")
        if not hmac.compare_digest(self.headers.get("aeg-sas-key", "").encode(),
                                   self.topic.key.encode()):
            return self._reply(401, "the aeg-sas-key header is missing or wrong", "Unauthorized")
        if parse_qs(url.query).get("api-version") != [API_VERSION]:
            return self._reply(400, f"api-version must be {API_VERSION}", "BadRequest")
        ctype = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != CONTENT_TYPE:
            return self._reply(400, f"content-type must be {CONTENT_TYPE}", "BadRequest")
        try:
            batch = json.loads(body)
        except ValueError as exc:
            return self._reply(400, f"the body is not JSON: {exc}", "BadRequest")
        problem = validate(batch)
        if problem:
            return self._reply(400, problem, "BadRequest")
        for event in batch:
            size = len(json.dumps(event, separators=(",", ":")).encode())
            if size > MAX_EVENT_BYTES:
                return self._reply(413, f"event {event['id']} is {size} bytes, over 1 MB",
                                   "RequestTooLarge")
        self.topic.accept(batch)
        return self._reply(200, {})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/kubetrail/events":
            return self._reply(404, f"no such path {url.path}", "NotFound")
        since = int(parse_qs(url.query).get("since", ["0"])[0])
        with self.topic.lock:
            events = list(self.topic.events[since:])
        return self._reply(200, events)

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path != "/kubetrail/events":
            return self._reply(404, "no such path", "NotFound")
        self.topic.clear()
        return self._reply(200, {})


def serve(host: str, port: int, key: str, record: Path | None = None) -> ThreadingHTTPServer:
    """A bound (not yet serving) stand-in server; call `serve_forever()` on it."""
    handler = type("BoundHandler", (Handler,), {"topic": Topic(key, record)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--key", default=os.environ.get("KUBETRAIL_EVENTGRID_KEY", ""))
    parser.add_argument("--record", type=Path, help="also append accepted events to this file")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("give --key or set KUBETRAIL_EVENTGRID_KEY")
    server = serve(args.host, args.port, args.key, args.record)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}/api/events", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
