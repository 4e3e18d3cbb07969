"""Firestore DedupStore (GCP). One document per dedup key in one collection.

Every claim is a compare-and-swap (kubetrail.dedup.cas): read the window's document, then write
it back with a precondition — `create()` (the document must not exist) to open the first window,
or an update / delete conditioned on the `update_time` that was read. A racing writer makes the
precondition fail and the claim simply reads again, so concurrent invocations never both own a
publication. Documents hold the key itself, the window's fields as kubetrail.dedup.window writes
them (times as integer epoch microseconds, the distinct hashes as one string, far below the
1 MiB document limit) and `expires_at` (a Timestamp: a period after both the window end and the
wall clock) for a Firestore TTL policy.

The client honours FIRESTORE_EMULATOR_HOST; google-cloud-firestore is imported on first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import DEFAULT_LEASE
from kubetrail.dedup.cas import CasDedupStore
from kubetrail.dedup.window import Window, from_fields, from_us, to_fields, to_us
from kubetrail.errors import ConfigError, KubetrailError, PublishError

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
    return from_us(to_us(value))  # exact, and never out of range near year 9999


class FirestoreDedupStore(CasDedupStore):
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
        self.what = f"firestore dedup collection {collection}"
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

    def _read(self, key: str) -> tuple[Window | None, Any]:
        ref = self.collection.document(document_id(key))
        snap = self._call("dedup claim: read", ref.get)
        if not snap.exists:
            return None, None
        data = snap.to_dict()
        if data.get("key") != key:
            raise ConfigError(f"dedup: document {ref.id} holds another key (hash collision?)")
        return from_fields(key, data, _utc(data["expires_at"])), snap.update_time

    def _put(self, key: str, window: Window, version: Any) -> bool:
        ref = self.collection.document(document_id(key))
        doc = {"key": key, **to_fields(window)}
        try:
            if version is None:
                self._call("dedup claim: create", ref.create, doc)
            else:
                self._call("dedup claim: update", ref.update, doc,
                           option=self.client.write_option(last_update_time=version))
        except self._lost:
            return False  # another writer won: read again
        return True

    def _delete(self, key: str, version: Any) -> bool:
        ref = self.collection.document(document_id(key))
        try:
            self._call("dedup release", ref.delete,
                       option=self.client.write_option(last_update_time=version))
        except self._lost:
            return False
        return True
