"""DynamoDB DedupStore: one item per dedup key, claims made with conditional writes.

Item (partition key `pk` = sha256 of the dedup key, so any string of any length is a key; the key
itself is kept in `dedup_key`): `window_start`, `window_end`, `last_seen`, `lease_until` (epoch
microseconds), `count`, `state` (counting | pending | published), `token`, and `expires_at`
(epoch *seconds*, the table's TTL attribute: window end + period, so old windows expire by
themselves).

* Opening a window is ONE conditional PutItem: `attribute_not_exists(pk) OR window_end <= :ev`.
* A match inside an open window is ONE conditional UpdateItem (`window_end > :ev`) that adds 1 to
  `count` (and moves `last_seen` when the event is newer), returning the new item. DynamoDB
  serializes writes to an item, so every racer sees a distinct count and exactly one opens.
* Ownership changes (threshold reached, or takeover of a pending claim whose lease expired) are
  one more conditional write on the token, so only one racer can win them.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import DEFAULT_LEASE, Claim
from kubetrail.errors import PublishError
from kubetrail.sdk.aws import LazyClient, error_code, translate

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
MAX_ATTEMPTS = 8  # open/count alternations under contention before giving up (transient)
_CONFLICT = "ConditionalCheckFailedException"
_NAMES = {"#ws": "window_start", "#we": "window_end", "#c": "count", "#ls": "last_seen",
          "#st": "state", "#tk": "token", "#lu": "lease_until", "#ex": "expires_at"}


def _us(t: datetime) -> int:
    return (t - EPOCH) // US


def _dt(us: int) -> datetime:
    return EPOCH + us * US


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoDBDedupStore:
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
        self.lease = lease
        self.clock = clock
        self._client = LazyClient("dynamodb", client)

    @staticmethod
    def item_key(key: str) -> dict[str, dict[str, str]]:
        """The table key of a dedup key."""
        return {"pk": _s(hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest())}

    def claim(self, key: str, event_time: datetime, period: timedelta, threshold: int = 1
              ) -> Claim:
        """Open or count in the key's window (see kubetrail.dedup.base for ownership)."""
        for _ in range(MAX_ATTEMPTS):
            claim = self._open(key, event_time, period, threshold)
            if claim is None:
                claim = self._count(key, event_time, threshold)
            if claim is not None:
                return claim
        raise PublishError(f"dedup claim on {self.table}: window kept changing under contention")

    def confirm(self, claim: Claim) -> None:
        """Mark the owned claim published (no-op if another owner has taken it over)."""
        self._conditional("confirm", "update_item", Key=self.item_key(claim.key),
                          UpdateExpression="SET #st = :published",
                          ConditionExpression="#tk = :token",
                          ExpressionAttributeNames={"#st": "state", "#tk": "token"},
                          ExpressionAttributeValues={":published": _s("published"),
                                                     ":token": _s(claim.token)})

    def release(self, claim: Claim) -> None:
        """Delete the window of an owned, still pending claim, so that a retry opens it again."""
        self._conditional("release", "delete_item", Key=self.item_key(claim.key),
                          ConditionExpression="#tk = :token AND #st = :pending",
                          ExpressionAttributeNames={"#st": "state", "#tk": "token"},
                          ExpressionAttributeValues={":pending": _s("pending"),
                                                     ":token": _s(claim.token)})

    # -- the two writes of a claim ---------------------------------------------------------

    def _open(self, key: str, event_time: datetime, period: timedelta, threshold: int
              ) -> Claim | None:
        ev, span = _us(event_time), period // US
        end, token, owner = ev + span, uuid.uuid4().hex, threshold <= 1
        item = {
            **self.item_key(key), "dedup_key": _s(key), "window_start": _n(ev),
            "window_end": _n(end), "count": _n(1), "last_seen": _n(ev),
            "state": _s("pending" if owner else "counting"), "token": _s(token),
            "lease_until": _n(_us(self.clock()) + self.lease // US),
            "expires_at": _n(math.ceil((end + span) / 1_000_000)),
        }
        done = self._conditional("claim", "put_item", Item=item,
                                 ConditionExpression="attribute_not_exists(pk) OR #we <= :ev",
                                 ExpressionAttributeNames={"#we": "window_end"},
                                 ExpressionAttributeValues={":ev": _n(ev)})
        return Claim(key, event_time, _dt(end), 1, owner, token) if done is not None else None

    def _count(self, key: str, event_time: datetime, threshold: int) -> Claim | None:
        ev = _us(event_time)
        # Usually events arrive in order: count and move last_seen in one write; else count only.
        new = self._update(key, "SET #c = #c + :one, #ls = :ev",
                           "#we > :ev AND #ls <= :ev", {":one": _n(1), ":ev": _n(ev)})
        if new is None:
            new = self._update(key, "SET #c = #c + :one", "#we > :ev AND #ls > :ev",
                               {":one": _n(1), ":ev": _n(ev)})
        if new is None:  # the window ended or was released meanwhile: try to open again
            return None
        count, state, token = int(new["count"]["N"]), new["state"]["S"], new["token"]["S"]
        start, end = _dt(int(new["window_start"]["N"])), _dt(int(new["window_end"]["N"]))
        now = _us(self.clock())
        reached = count == threshold and state == "counting"
        expired = state == "pending" and int(new["lease_until"]["N"]) < now
        if reached or expired:
            mine = uuid.uuid4().hex
            condition = "#tk = :old AND #st = :state" + (" AND #lu < :now" if expired else "")
            won = self._update(key, "SET #st = :pending, #tk = :mine, #lu = :lease", condition,
                               {":pending": _s("pending"), ":mine": _s(mine), ":old": _s(token),
                                ":state": _s(state), ":lease": _n(now + self.lease // US),
                                **({":now": _n(now)} if expired else {})})
            if won is not None:
                return Claim(key, start, end, count, True, mine)
        return Claim(key, start, end, count, False, token)

    def _update(self, key: str, expression: str, condition: str, values: dict[str, Any]
                ) -> dict[str, Any] | None:
        names = {k: v for k, v in _NAMES.items() if k in expression or k in condition}
        response = self._conditional("claim", "update_item", Key=self.item_key(key),
                                     UpdateExpression=expression, ConditionExpression=condition,
                                     ExpressionAttributeNames=names,
                                     ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        return None if response is None else dict(response["Attributes"])

    def _conditional(self, what: str, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """Run one conditional write: its response, None when the condition failed; SDK errors
        become ConfigError (missing table, no access) or PublishError (transient)."""
        try:
            response: dict[str, Any] = getattr(self._client.get(), operation)(
                TableName=self.table, **kwargs)
        except Exception as exc:
            if error_code(exc) == _CONFLICT:
                return None
            raise translate(exc, f"dynamodb {what} on table {self.table}") from exc
        return response
