"""Azure Table Storage DedupStore (`azure-data-tables`, imported on first use).

One entity per dedup key: PartitionKey = SHA-256 of the key (Table keys forbid `/ \\ # ?` and
control characters and stop at 1 KiB; any string is a dedup key), RowKey = "". Concurrency is
optimistic, as the service offers it:

* the opener creates the entity (insert = create-if-absent; `409 EntityAlreadyExists` → re-read);
* every other change (count, renewal of an expired window, lease takeover, confirm, release) is
  an update or delete conditional on the ETag read just before (`412` → re-read and re-decide).

So 8 racing workers serialize on the entity and exactly one of them becomes the owner. Table
Storage has no TTL: `purge_expired()` deletes windows past `expires_at` (the function app runs it
on a timer).
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
from kubetrail.errors import ConfigError, PublishError

MAX_ATTEMPTS = 64
MAX_KEY_PROPERTY_CHARS = 4096
_ORIGIN = "azure-table"


def _ts(t: datetime) -> float:
    return t.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def printable(key: str) -> str:
    """The key as stored for people reading the table: control characters escaped, bounded."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in key)
    return text[:MAX_KEY_PROPERTY_CHARS]


def row_id(key: str) -> str:
    """The entity's PartitionKey for a dedup key: hex SHA-256, valid whatever the key holds."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class AzureTableDedupStore:
    """Dedup windows in one Azure Storage table.

    Give `endpoint` (`https://<account>.table.core.windows.net`, authenticated with `credential`,
    by default `DefaultAzureCredential`, i.e. the function's managed identity) or a
    `connection_string` (Azurite), or an injected `client` (`azure.data.tables.TableClient`).
    """

    def __init__(
        self,
        table: str,
        *,
        endpoint: str | None = None,
        connection_string: str | None = None,
        credential: Any = None,
        client: Any = None,
        lease: timedelta = DEFAULT_LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from azure.core import MatchConditions
        from azure.core import exceptions as azure_errors
        from azure.data.tables import UpdateMode

        self.table, self.lease, self.clock = table, lease, clock
        self._errors, self._if_match = azure_errors, MatchConditions.IfNotModified
        self._replace = UpdateMode.REPLACE
        if client is None:
            client = _table_client(table, endpoint, connection_string, credential)
        self.client = client

    # -- the port -------------------------------------------------------------------------------
    def claim(self, key: str, event_time: datetime, period: timedelta, threshold: int = 1
              ) -> Claim:
        """Open or count in the key's window (see kubetrail.dedup.base)."""
        pk, ev, span = row_id(key), _ts(event_time), period.total_seconds()
        for attempt in range(MAX_ATTEMPTS):
            now = _ts(self.clock())
            token, lease_until = uuid.uuid4().hex, now + self.lease.total_seconds()
            entity = self._get(pk)
            if entity is None or ev >= entity["window_end"]:
                owner = threshold <= 1
                new = {
                    "PartitionKey": pk, "RowKey": "", "dedup_key": printable(key),
                    "window_start": ev, "window_end": ev + span, "count": 1, "last_seen": ev,
                    "state": "pending" if owner else "counting", "token": token,
                    "lease_until": lease_until,
                    "expires_at": _ts(expires_at(_dt(ev + span), _dt(now), period)),
                }
                written = self._create(new) if entity is None else self._replace_if(entity, new)
                if written:
                    return Claim(key, event_time, _dt(ev + span), 1, owner, token)
            else:
                count = int(entity["count"]) + 1
                reached = count == threshold and entity["state"] == "counting"
                takeover = entity["state"] == "pending" and entity["lease_until"] < now
                owner = reached or takeover
                held = token if owner else str(entity["token"])
                new = {**entity, "count": count, "last_seen": max(entity["last_seen"], ev),
                       "token": held}
                if owner:
                    new.update(state="pending", lease_until=lease_until)
                if self._replace_if(entity, new):
                    return Claim(key, _dt(entity["window_start"]), _dt(entity["window_end"]),
                                 count, owner, held)
            _backoff(attempt)
        raise PublishError(f"dedup claim on {self.table} lost {MAX_ATTEMPTS} races in a row")

    def confirm(self, claim: Claim) -> None:
        """Mark the window published, if the claim still owns it."""
        self._settle(claim, delete=False)

    def release(self, claim: Claim) -> None:
        """Delete the still-pending window the claim owns, so that a retry publishes it."""
        self._settle(claim, delete=True)

    # -- housekeeping ---------------------------------------------------------------------------
    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete windows whose `expires_at` has passed (Table Storage has no TTL); the count."""
        cutoff = _ts(now or self.clock())
        try:
            expired = list(self.client.query_entities(f"expires_at lt {cutoff!r}"))
        except self._errors.AzureError as exc:
            raise self._translate(exc) from exc
        return sum(self._delete_if(entity) for entity in expired)  # renewed ones stay

    # -- entity operations ----------------------------------------------------------------------
    def _settle(self, claim: Claim, *, delete: bool) -> None:
        pk = row_id(claim.key)
        for attempt in range(MAX_ATTEMPTS):
            entity = self._get(pk)
            if entity is None or entity["token"] != claim.token or entity["state"] != "pending":
                return  # not ours any more (taken over, reopened or already settled)
            if delete and self._delete_if(entity):
                return
            if not delete and self._replace_if(entity, {**entity, "state": "published"}):
                return
            _backoff(attempt)
        raise PublishError(f"dedup {'release' if delete else 'confirm'} on {self.table} kept "
                           f"losing races")

    def _get(self, pk: str) -> Any:
        try:
            return self.client.get_entity(pk, "")
        except self._errors.ResourceNotFoundError as exc:
            if _table_missing(exc):
                raise self._translate(exc) from exc
            return None
        except self._errors.AzureError as exc:
            raise self._translate(exc) from exc

    def _delete_if(self, current: Any) -> bool:
        """Delete `current` unless it changed since read; True when it is gone."""
        try:
            self.client.delete_entity(current["PartitionKey"], current["RowKey"],
                                      etag=current.metadata["etag"],
                                      match_condition=self._if_match)
            return True
        except self._errors.ResourceModifiedError:
            return False
        except self._errors.ResourceNotFoundError as exc:
            if _table_missing(exc):
                raise self._translate(exc) from exc
            return True  # someone else deleted it
        except self._errors.AzureError as exc:
            raise self._translate(exc) from exc

    def _create(self, entity: dict[str, Any]) -> bool:
        try:
            self.client.create_entity(entity)
            return True
        except self._errors.ResourceExistsError:
            return False  # another worker opened it first: re-read
        except self._errors.AzureError as exc:
            raise self._translate(exc) from exc

    def _replace_if(self, current: Any, new: dict[str, Any]) -> bool:
        try:
            self.client.update_entity(new, mode=self._replace, etag=current.metadata["etag"],
                                      match_condition=self._if_match)
            return True
        except self._errors.ResourceModifiedError:
            return False  # changed since we read it: re-read
        except self._errors.ResourceNotFoundError as exc:
            if _table_missing(exc):
                raise self._translate(exc) from exc
            return False  # deleted since we read it: re-read
        except self._errors.AzureError as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: Exception) -> Exception:
        return translate_storage_error(exc, f"dedup table {self.table}", self._errors)


def _table_missing(exc: Exception) -> bool:
    code = str(getattr(exc, "error_code", "") or "")
    return "TableNotFound" in code or "TABLE_NOT_FOUND" in code


def translate_storage_error(exc: Exception, what: str, errors: Any) -> Exception:
    """Storage SDK error → ConfigError (missing table/queue, refused credentials, bad request) or
    PublishError (unreachable, throttled, 5xx: the batch is retried)."""
    code = str(getattr(exc, "error_code", "") or "")
    status = getattr(exc, "status_code", None)
    if isinstance(exc, errors.ClientAuthenticationError) or status in (401, 403):
        return ConfigError(f"{what}: access refused ({code or status}); check the identity's "
                           f"role assignment")
    if "NotFound" in code or "NOT_FOUND" in code or status == 404:
        return ConfigError(f"{what} does not exist ({code or status})")
    if isinstance(exc, errors.HttpResponseError) and status is not None and 400 <= status < 500 \
            and status not in (408, 409, 412, 429):
        return ConfigError(f"{what}: request rejected ({status} {code})")
    return PublishError(f"{what} unavailable: {type(exc).__name__}: {exc}".split("\n")[0])


def _table_client(table: str, endpoint: str | None, connection_string: str | None,
                  credential: Any) -> Any:
    from azure.data.tables import TableClient

    if connection_string:
        return TableClient.from_connection_string(connection_string, table_name=table)
    if not endpoint:
        raise ConfigError("the dedup table needs an endpoint or a connection string")
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return TableClient(endpoint=endpoint, table_name=table, credential=credential)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * (attempt + 1))))
