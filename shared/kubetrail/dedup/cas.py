"""The claim/confirm/release loop every store shares: read the key's window, apply the pure
transition (kubetrail.dedup.window), write it back only if nobody wrote in between; on a lost
race read again. A store supplies two primitives over its own item, entity, document or row:

* `_read(key)` → (Window or None, version): the version is whatever the store conditions its
  next write on (an ETag, an update time, a version number);
* `_put(key, window, version)` → False when the version no longer matches (version None: create,
  False when it already exists).

A store may also offer `_count_only(request, now)`: the commonest claim (a match that only
counts) in one conditional write without a read, None when the condition does not hold.
"""

from __future__ import annotations

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
    counted,
    open_or_count,
    release_step,
)
from kubetrail.errors import PublishError

MAX_ATTEMPTS = 64  # lost races in a row on one key before the batch is handed back for a retry


def _now() -> datetime:
    return datetime.now(UTC)


class CasDedupStore(ABC):
    """A DedupStore made of `_read` and `_put` (see the module docstring)."""

    what = "dedup store"
    lease: timedelta = DEFAULT_LEASE
    clock: Callable[[], datetime] = staticmethod(_now)

    @abstractmethod
    def _read(self, key: str) -> tuple[Window | None, Any]: ...

    @abstractmethod
    def _put(self, key: str, window: Window, version: Any) -> bool: ...

    def claim(self, key: str, event_time: datetime, period: timedelta, threshold: int = 1, *,
              severity: int = 0, distinct: str | None = None) -> Claim:
        """Open or count in the key's window (see kubetrail.dedup.base)."""
        req = ClaimRequest(key, event_time, period, threshold, severity, distinct,
                           uuid.uuid4().hex)
        fast = self._count_only(req, self.clock())
        if fast is not None:
            return fast
        mine: Claim | None = None
        for attempt in range(MAX_ATTEMPTS):
            current, version = self._read(key)
            if current is not None and current.op == req.op:
                # our write landed, only its reply was lost (the SDK retried it)
                return mine if mine is not None else counted(current, req)
            window, mine = open_or_count(current, req, self.clock(), self.lease)
            if self._put(key, window, version):
                return mine
            _backoff(attempt)
        raise PublishError(f"{self.what}: claim lost {MAX_ATTEMPTS} races in a row; retry")

    def _count_only(self, req: ClaimRequest, now: datetime) -> Claim | None:
        """Count without reading, when the store can express the condition; None: no."""
        return None

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
            if self._put(claim.key, change, version):
                return
            _backoff(attempt)
        raise PublishError(f"{self.what}: {what} lost {MAX_ATTEMPTS} races in a row; retry")


def _backoff(attempt: int) -> None:
    import random  # here: random is a few ms of every cold start, and rarely needed

    time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))
