"""Azure Table Storage DedupStore (`azure-data-tables`, imported on first use).

One entity per dedup key: PartitionKey = SHA-256 of the key (Table keys forbid `/ \\ # ?` and
control characters and stop at 1 KiB; any string is a dedup key), RowKey = "". Its properties are
the window's fields as kubetrail.dedup.window writes them (times as Int64 epoch microseconds, the
distinct hashes as one string of at most 23,000 characters, well under the 64 KiB property
limit), plus `expires_at` (Double epoch seconds, for `purge_expired`) and `dedup_key`, the key
made printable for people reading the table. Concurrency is optimistic, as the service offers it:

* the opener creates the entity (insert = create-if-absent; `409 EntityAlreadyExists` → re-read);
* every other change (count, renewal of an expired window, escalation, lease takeover, confirm,
  release) is a replace or delete conditional on the ETag read just before (`412` → re-read and
  re-decide, kubetrail.dedup.cas).

So 8 racing workers serialize on the entity and exactly one of them owns each publication. Table
Storage has no TTL: `purge_expired()` deletes windows past `expires_at` (the function app runs it
on a timer).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import DEFAULT_LEASE
from kubetrail.dedup.cas import CasDedupStore
from kubetrail.dedup.window import EPOCH, Window, from_fields, later, to_fields, to_us
from kubetrail.errors import ConfigError, PublishError

MAX_KEY_PROPERTY_CHARS = 4096
_TIMES = ("window_start", "window_end", "last_seen", "lease_until")


def printable(key: str) -> str:
    """The key as stored for people reading the table: control characters escaped, bounded."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in key)
    return text[:MAX_KEY_PROPERTY_CHARS]


def row_id(key: str) -> str:
    """The entity's PartitionKey for a dedup key: hex SHA-256, valid whatever the key holds."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(value: Any) -> Any:
    """Int64 properties come back as EntityProperty(value, edm_type)."""
    return getattr(value, "value", value)


class AzureTableDedupStore(CasDedupStore):
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
        from azure.data.tables import EdmType, EntityProperty, UpdateMode

        self.table, self.lease, self.clock = table, lease, clock
        self.what = f"dedup table {table}"
        self._errors, self._if_match = azure_errors, MatchConditions.IfNotModified
        self._replace = UpdateMode.REPLACE
        self._int64: Callable[[int], Any] = lambda v: EntityProperty(v, EdmType.INT64)
        if client is None:
            client = _table_client(table, endpoint, connection_string, credential)
        self.client = client

    # -- housekeeping ---------------------------------------------------------------------------
    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete windows whose `expires_at` has passed (Table Storage has no TTL); the count."""
        cutoff = to_us(now or self.clock()) / 1e6
        try:
            expired = list(self.client.query_entities(f"expires_at lt {cutoff!r}"))
        except self._errors.AzureError as exc:
            raise self._translate(exc) from exc
        # conditional on the ETag read: a window renewed meanwhile stays
        return sum(self._delete_entity(e["PartitionKey"], e.metadata["etag"]) for e in expired)

    # -- the CAS primitives ---------------------------------------------------------------------
    def _read(self, key: str) -> tuple[Window | None, Any]:
        try:
            entity = self.client.get_entity(row_id(key), "")
        except self._errors.ResourceNotFoundError as exc:
            if _table_missing(exc):
                raise self._translate(exc) from exc
            return None, None
        except self._errors.AzureError as exc:
            raise self._translate(exc) from exc
        fields = {k: _plain(v) for k, v in entity.items()}
        expires = later(EPOCH, timedelta(seconds=float(fields["expires_at"])))
        return from_fields(key, fields, expires), entity.metadata["etag"]

    def _put(self, key: str, window: Window, version: Any) -> bool:
        fields: dict[str, Any] = dict(to_fields(window))
        for name in _TIMES:
            fields[name] = self._int64(fields[name])
        fields["expires_at"] = to_us(window.expires) / 1e6
        entity = {"PartitionKey": row_id(key), "RowKey": "", "dedup_key": printable(key),
                  **fields}
        try:
            if version is None:
                self.client.create_entity(entity)
            else:
                self.client.update_entity(entity, mode=self._replace, etag=version,
                                          match_condition=self._if_match)
            return True
        except (self._errors.ResourceExistsError, self._errors.ResourceModifiedError):
            return False  # another worker wrote first: re-read
        except self._errors.ResourceNotFoundError as exc:
            if _table_missing(exc):
                raise self._translate(exc) from exc
            return False  # deleted since we read it: re-read
        except self._errors.AzureError as exc:
            raise self._translate(exc) from exc

    def _delete(self, key: str, version: Any) -> bool:
        return self._delete_entity(row_id(key), version)

    def _delete_entity(self, pk: str, etag: str) -> bool:
        try:
            self.client.delete_entity(pk, "", etag=etag, match_condition=self._if_match)
            return True
        except self._errors.ResourceModifiedError:
            return False
        except self._errors.ResourceNotFoundError as exc:
            if _table_missing(exc):
                raise self._translate(exc) from exc
            return False  # someone else deleted it: re-read
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
