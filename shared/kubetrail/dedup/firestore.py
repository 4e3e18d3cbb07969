"""Firestore DedupStore (GCP). One document per dedup key in one collection.

Every claim is a compare-and-swap: read the window's document, then write it back with a
precondition — `create()` (the document must not exist) to open the first window, or an update /
delete conditioned on the `update_time` that was read. A racing writer makes the precondition fail
and the claim simply reads again, so concurrent invocations never both own a window. Documents
carry `expires_at` (a Timestamp: a period after both the window end and the wall clock, see
kubetrail.dedup.base) for a Firestore TTL policy.

The client honours FIRESTORE_EMULATOR_HOST; google-cloud-firestore is imported on first use.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import DEFAULT_LEASE, Claim, expires_at
from kubetrail.errors import ConfigError, KubetrailError, PublishError

MAX_ATTEMPTS = 64  # CAS rounds; each lost round means another writer won, so this is generous
_CONFIG_ERRORS = ("NotFound", "PermissionDenied", "Unauthenticated", "InvalidArgument")


def translate_error(exc: Exception, what: str) -> KubetrailError:
    """A google-api-core error as a kubetrail error: a missing database or collection, a denied
    permission or a bad argument is configuration (ConfigError); anything else is transient."""
    name = type(exc).__name__
    if name in _CONFIG_ERRORS:
        return ConfigError(f"{what}: {name}: {getattr(exc, 'message', exc)}")
    return PublishError(f"{what}: {name}: {exc}")


def document_id(key: str) -> str:
    """Dedup keys are arbitrary strings (slashes, NULs, 3,000+ chars); Firestore ids are not."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _utc(value: datetime) -> datetime:
    """Firestore returns DatetimeWithNanoseconds; claims carry plain, aware UTC datetimes."""
    return datetime.fromtimestamp(value.timestamp(), UTC)


class FirestoreDedupStore:
    """Dedup windows as Firestore documents in `collection` (see the module docstring).

    `client` is a `google.cloud.firestore.Client`; by default one is built for `project` and
    `database` (the `(default)` database when None). `timeout` bounds each call, retries included.
    """

    def __init__(
        self,
        collection: str,
        *,
        project: str | None = None,
        database: str | None = None,
        client: Any = None,
        lease: timedelta = DEFAULT_LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 30.0,
    ) -> None:
        if not collection or "/" in collection or collection.startswith("__"):
            raise ConfigError(f"invalid Firestore collection name {collection!r}")
        from google.api_core import exceptions, retry

        if client is None:
            from google.cloud import firestore

            kwargs = {"database": database} if database else {}
            client = firestore.Client(project=project, **kwargs)
        self.client = client
        self.collection = client.collection(collection)
        self.lease = lease
        self.clock = clock
        self.timeout = timeout
        self._exceptions = exceptions
        self._lost = (exceptions.AlreadyExists, exceptions.FailedPrecondition, exceptions.Aborted)
        self._retry = retry.Retry(
            initial=0.05, maximum=1.0, multiplier=2.0, timeout=timeout,
            predicate=retry.if_exception_type(
                exceptions.ServiceUnavailable, exceptions.InternalServerError,
                exceptions.DeadlineExceeded, exceptions.TooManyRequests,
            ),
        )

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, retry=self._retry, timeout=self.timeout, **kwargs)
        except self._exceptions.GoogleAPICallError as exc:
            if isinstance(exc, self._lost):
                raise  # a lost race: the caller reads again
            raise translate_error(exc, what) from exc
        except self._exceptions.RetryError as exc:
            raise PublishError(f"{what}: Firestore unreachable: {exc}") from exc

    def _cas(self, what: str, key: str, step: Callable[[Any, dict[str, Any] | None], Any]
             ) -> Any:
        """Read the key's document and let `step(ref, data)` write it with a precondition;
        repeat while another writer wins the race."""
        ref = self.collection.document(document_id(key))
        for attempt in range(MAX_ATTEMPTS):
            snap = self._call(f"{what}: read", ref.get)
            data = snap.to_dict() if snap.exists else None
            if data is not None and data.get("key") != key:
                raise ConfigError(f"{what}: document {ref.id} holds another key (hash collision?)")
            try:
                return step(snap, data)
            except self._lost:
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))
        raise PublishError(f"{what}: {MAX_ATTEMPTS} lost races on one key; giving up for a retry")

    def _precondition(self, snap: Any) -> Any:
        return self.client.write_option(last_update_time=snap.update_time)

    def claim(self, key: str, event_time: datetime, period: timedelta, threshold: int = 1
              ) -> Claim:
        """Open or count in the key's window; see kubetrail.dedup.base for ownership."""
        now, event_time = self.clock(), _utc(event_time)
        token = uuid.uuid4().hex
        lease_until = now + self.lease

        def step(snap: Any, data: dict[str, Any] | None) -> Claim:
            if data is not None and data["token"] == token:  # our write landed, its reply didn't
                return Claim(key, _utc(data["window_start"]), _utc(data["window_end"]),
                             int(data["count"]), data["state"] == "pending", token)
            if data is None or event_time >= _utc(data["window_end"]):
                end = event_time + period
                owner = threshold <= 1
                doc = {
                    "key": key, "window_start": event_time, "window_end": end, "count": 1,
                    "last_seen": event_time, "state": "pending" if owner else "counting",
                    "token": token, "lease_until": lease_until,
                    "expires_at": expires_at(end, now, period),
                }
                if data is None:
                    self._call("dedup claim: create", snap.reference.create, doc)
                else:
                    self._call("dedup claim: reopen", snap.reference.update, doc,
                               option=self._precondition(snap))
                return Claim(key, event_time, end, 1, owner, token)
            count = int(data["count"]) + 1
            reached = count == threshold and data["state"] == "counting"
            takeover = data["state"] == "pending" and _utc(data["lease_until"]) < now
            owner = reached or takeover
            update: dict[str, Any] = {
                "count": count, "last_seen": max(_utc(data["last_seen"]), event_time),
                # a window still counting stays at least a period past now (never shortened)
                "expires_at": max(_utc(data["expires_at"]),
                                  expires_at(_utc(data["window_end"]), now, period))}
            if owner:
                update.update(state="pending", token=token, lease_until=lease_until)
            self._call("dedup claim: count", snap.reference.update, update,
                       option=self._precondition(snap))
            return Claim(key, _utc(data["window_start"]), _utc(data["window_end"]), count, owner,
                         token if owner else str(data["token"]))

        result: Claim = self._cas("dedup claim", key, step)
        return result

    def confirm(self, claim: Claim) -> None:
        """Mark an owned claim's window as published (no-op when the token no longer owns it)."""
        def step(snap: Any, data: dict[str, Any] | None) -> None:
            if data is not None and data["token"] == claim.token and data["state"] != "published":
                self._call("dedup confirm", snap.reference.update, {"state": "published"},
                           option=self._precondition(snap))

        self._cas("dedup confirm", claim.key, step)

    def release(self, claim: Claim) -> None:
        """Delete a still-pending window owned by `claim`, so that a retry opens it again."""
        def step(snap: Any, data: dict[str, Any] | None) -> None:
            if data is not None and data["token"] == claim.token and data["state"] == "pending":
                self._call("dedup release", snap.reference.delete,
                           option=self._precondition(snap))

        self._cas("dedup release", claim.key, step)
