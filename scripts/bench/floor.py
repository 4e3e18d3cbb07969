"""The bench's floor: a whole process that does the least any exact detector written in Python
(wheels only, no native code of its own) must do per record — read each line, unwrap the
platform's envelope, and decode only the fields the bundled rules read from every record.

It finds nothing and checks nothing, so it is not a detector; it bounds what one can reach:
`make bench` prints its rate next to the orjson baseline's, and its ratio is the most a scan on
one CPU could get out of that stream (times the CPUs, with no serial share at all, for --jobs).

    python scripts/bench/floor.py KIND FILE     (KIND: eks-metadata, eks-request,
                                                 aks-eventhub, gke-pubsub)
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import msgspec


class Ref(msgspec.Struct, frozen=True):
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    apiGroup: str = ""


class User(msgspec.Struct, frozen=True):
    username: str = ""


class Status(msgspec.Struct, frozen=True):
    code: int = 0


class AuditFields(msgspec.Struct, frozen=True):
    """What the pack's prefilter reads from every EKS/AKS audit Event."""

    verb: str = ""
    stage: str = ""
    objectRef: Ref = Ref()
    user: User = User()
    responseStatus: Status = Status()


class Log(msgspec.Struct, frozen=True):
    log: str = ""


class Record(msgspec.Struct, frozen=True):
    properties: Log = Log()


class Body(msgspec.Struct, frozen=True):
    records: list[Record] = []


class Principal(msgspec.Struct, frozen=True):
    principalEmail: str = ""


class Payload(msgspec.Struct, frozen=True):
    methodName: str = ""
    resourceName: str = ""
    authenticationInfo: Principal = Principal()
    status: Status = Status()


class LogEntry(msgspec.Struct, frozen=True):
    protoPayload: Payload = Payload()


class Message(msgspec.Struct, frozen=True):
    data: bytes = b""  # base64 in the JSON, decoded by msgspec


class Push(msgspec.Struct, frozen=True):
    message: Message = Message()


def per_line(kind: str) -> Callable[[bytes], object]:
    """What the floor does with one line of a stream of `kind`: the decoded fields."""
    if kind.startswith("eks-"):
        return msgspec.json.Decoder(AuditFields).decode
    if kind == "aks-eventhub":
        body, event = msgspec.json.Decoder(Body).decode, msgspec.json.Decoder(AuditFields).decode
        return lambda line: [event(record.properties.log) for record in body(line).records]
    if kind == "gke-pubsub":
        push, entry = msgspec.json.Decoder(Push).decode, msgspec.json.Decoder(LogEntry).decode
        return lambda line: entry(push(line).message.data)
    raise SystemExit(f"floor.py: unknown stream kind {kind!r}")


def main(kind: str, path: str) -> None:
    decode = per_line(kind)
    with open(path, "rb") as lines:
        for line in lines:
            decode(line)


if __name__ == "__main__":
    main(*sys.argv[1:3])
