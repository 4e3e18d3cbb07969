"""DynamoDB DedupStore: one item per dedup key, every change a conditional write.

Item (partition key `pk` = sha256 of the dedup key, so any string of any length is a key; the key
itself is kept in `dedup_key`): the window's fields as kubetrail.dedup.window writes them (times
in epoch microseconds, `distinct` hashes), a `version` number, and `expires_at` in epoch
*seconds*, the table's TTL attribute (a period after both the window end and the wall clock).

A claim reads the item (strongly consistent), applies the shared transition and writes it back
with PutItem conditioned on `attribute_not_exists(pk)` (open the first window) or on the version
read (`version = :v`); DeleteItem on a release is conditioned the same way. A racing writer makes
the condition fail (`ConditionalCheckFailedException`) and the claim reads again, so 8 concurrent
invocations serialize on the item and exactly one of them owns each publication.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import DEFAULT_LEASE
from kubetrail.dedup.cas import CasDedupStore
from kubetrail.dedup.window import EPOCH, Window, from_fields, later, to_fields, to_us
from kubetrail.errors import ConfigError
from kubetrail.sdk.aws import LazyClient, error_code, translate

_CONFLICT = "ConditionalCheckFailedException"


class DynamoDBDedupStore(CasDedupStore):
    """Dedup windows in a DynamoDB table whose partition key is the string attribute `pk`."""

    KEY_ATTRIBUTE = "pk"
    TTL_ATTRIBUTE = "expires_at"

    @classmethod
    def table_definition(cls, table: str) -> dict[str, Any]:
        """`CreateTable` arguments for a table this store can use (on-demand); the TTL on
        `expires_at` is set separately (UpdateTimeToLive). Terraform declares the same table."""
        return {"TableName": table, "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": cls.KEY_ATTRIBUTE,
                                          "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": cls.KEY_ATTRIBUTE, "KeyType": "HASH"}]}

    def __init__(
        self,
        table: str,
        *,
        client: Any | None = None,
        lease: timedelta = DEFAULT_LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table = table
        self.what = f"dynamodb dedup table {table}"
        self.lease = lease
        self.clock = clock
        self._client = LazyClient("dynamodb", client)

    @staticmethod
    def item_key(key: str) -> dict[str, dict[str, str]]:
        """The table key of a dedup key."""
        return {"pk": {"S": hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()}}

    def _read(self, key: str) -> tuple[Window | None, Any]:
        got = self._call("claim", "get_item", Key=self.item_key(key), ConsistentRead=True)
        item = (got or {}).get("Item")
        if not item:
            return None, None
        fields = {name: next(iter(value.values())) for name, value in item.items()}
        if fields.get("dedup_key") != key:
            raise ConfigError(f"{self.what}: item {fields.get('pk')} holds another key")
        expires = later(EPOCH, timedelta(seconds=int(fields["expires_at"])))
        return from_fields(key, fields, expires), int(fields["version"])

    def _put(self, key: str, window: Window, version: Any) -> bool:
        fields = to_fields(window)
        fields["expires_at"] = math.ceil(to_us(window.expires) / 1_000_000)
        item = {**self.item_key(key), "dedup_key": {"S": key},
                "version": {"N": str(1 if version is None else version + 1)},
                **{name: {"N": str(v)} if isinstance(v, int) else {"S": str(v)}
                   for name, v in fields.items()}}
        if version is None:
            return self._call("claim", "put_item", Item=item,
                              ConditionExpression="attribute_not_exists(pk)") is not None
        return self._call("claim", "put_item", Item=item, ConditionExpression="#v = :v",
                          ExpressionAttributeNames={"#v": "version"},
                          ExpressionAttributeValues={":v": {"N": str(version)}}) is not None

    def _delete(self, key: str, version: Any) -> bool:
        return self._call("release", "delete_item", Key=self.item_key(key),
                          ConditionExpression="#v = :v",
                          ExpressionAttributeNames={"#v": "version"},
                          ExpressionAttributeValues={":v": {"N": str(version)}}) is not None

    def _call(self, what: str, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """Run one call: its response, None when its condition failed; SDK errors become
        ConfigError (missing table, no access) or PublishError (transient)."""
        try:
            response: dict[str, Any] = getattr(self._client.get(), operation)(
                TableName=self.table, **kwargs)
        except Exception as exc:
            if error_code(exc) == _CONFLICT:
                return None
            raise translate(exc, f"dynamodb {what} on table {self.table}") from exc
        return response
