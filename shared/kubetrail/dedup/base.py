"""The DedupStore port.

Semantics (shared by every adapter, checked by tests/dedup/conformance.py):

* A window for a key opens at the *event time* of the match that opens it and lasts `period`.
* `claim` is atomic across concurrent invocations. It either
  - opens a window (no window yet, or `event_time >= window_end`): count = 1; or
  - counts the match in the open window (any `event_time < window_end`, late ones included):
    count += 1, last_seen = max(last_seen, event_time).
  The caller *owns* the claim, and must publish, when its match made `count == threshold` (the
  opener, for the usual threshold of 1), or when it finds the window still `pending` with an
  expired lease: the previous owner died between claim and publish, so its finding is taken over.
* After publishing, the owner calls `confirm` (state `published`); if publishing failed it calls
  `release`, which deletes the window so a retry of the batch opens it again and publishes.
* Windows carry an expiry for the backend's TTL: `expires_at = max(window end, wall clock now)
  + period`, set whenever a window is opened or renewed. Anchoring it on the wall clock too
  matters for replays and backlogs: events hours old must still be deduplicated against each
  other, not expire the moment they are written (see `expires_at` below).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

DEFAULT_LEASE = timedelta(minutes=5)


def expires_at(window_end: datetime, now: datetime, period: timedelta) -> datetime:
    """When a window may be garbage-collected: a full period after both its end and now."""
    return max(window_end, now) + period


@dataclass(frozen=True, slots=True)
class Claim:
    """What `claim` found or made. `token` identifies the owner's claim for confirm/release."""

    key: str
    window_start: datetime
    window_end: datetime
    count: int
    owner: bool
    token: str

    @property
    def first_seen(self) -> datetime:
        return self.window_start


class DedupStore(Protocol):
    """Atomic, event-time windows per dedup key."""

    def claim(
        self, key: str, event_time: datetime, period: timedelta, threshold: int = 1
    ) -> Claim:
        """Open or count in the key's window; see the module docstring for ownership."""
        ...

    def confirm(self, claim: Claim) -> None:
        """Mark an owned claim's finding as published."""
        ...

    def release(self, claim: Claim) -> None:
        """Undo an owned claim whose publish failed, so that a retry publishes it."""
        ...
