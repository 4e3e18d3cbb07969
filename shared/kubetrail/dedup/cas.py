"""The claim/confirm/release loop every store shares: read the key's window, apply the pure
transition (kubetrail.dedup.window), write it back only if nobody wrote in between; on a lost
race read again. A store supplies three primitives over its own item, entity, document or row:

* `_read(key)` → (Window or None, version): the version is whatever the store conditions its
  next write on (an ETag, an update time, a version number);
* `_put(key, window, version)` → False when the version no longer matches (version None: create,
  False when it already exists);
* `_delete(key, version)` → False when the version no longer matches.
"""

from __future__ import annotations

import random
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import DEFAULT_LEASE, Claim
from kubetrail.dedup.window import (
    ClaimRequest,
    Window,
    confirm_step,
    open_or_count,
    release_step,
)
from kubetrail.errors import PublishError

MAX_ATTEMPTS = 64  # lost races in a row on one key before the batch is handed back for a retry


def _now() -> datetime:
    return datetime.now(UTC)


class CasDedupStore(ABC):
    """A DedupStore made of `_read`, `_put` and `_delete` (see the module docstring)."""

    what = "dedup store"
    lease: timedelta = DEFAULT_LEASE
    clock: Callable[[], datetime] = staticmethod(_now)

    @abstractmethod
    def _read(self, key: str) -> tuple[Window | None, Any]: ...

    @abstractmethod
    def _put(self, key: str, window: Window, version: Any) -> bool: ...

    @abstractmethod
    def _delete(self, key: str, version: Any) -> bool: ...

    def claim(self, key: str, event_time: datetime, period: timedelta, threshold: int = 1, *,
              severity: int = 0, distinct: str | None = None) -> Claim:
        """Open or count in the key's window (see kubetrail.dedup.base)."""
        req = ClaimRequest(key, event_time, period, threshold, severity, distinct,
                           uuid.uuid4().hex)
        mine: Claim | None = None
        for attempt in range(MAX_ATTEMPTS):
            current, version = self._read(key)
            if mine is not None and current is not None and current.op == req.op:
                return mine  # our write landed, only its reply was lost (the SDK retried it)
            window, mine = open_or_count(current, req, self.clock(), self.lease)
            if self._put(key, window, version):
                return mine
            _backoff(attempt)
        raise PublishError(f"{self.what}: claim lost {MAX_ATTEMPTS} races in a row; retry")

    def confirm(self, claim: Claim) -> None:
        """Record that an owned claim's finding was published."""
        self._settle(claim, "confirm")

    def release(self, claim: Claim) -> None:
        """Undo an owned claim whose publish failed (see kubetrail.dedup.base)."""
        self._settle(claim, "release")

    def _settle(self, claim: Claim, what: str) -> None:
        for attempt in range(MAX_ATTEMPTS):
            current, version = self._read(claim.key)
            change = (confirm_step(current, claim) if what == "confirm"
                      else release_step(current, claim))
            if change is None:
                return
            if isinstance(change, Window):
                done = self._put(claim.key, change, version)
            else:  # DELETE
                done = self._delete(claim.key, version)
            if done:
                return
            _backoff(attempt)
        raise PublishError(f"{self.what}: {what} lost {MAX_ATTEMPTS} races in a row; retry")


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))
