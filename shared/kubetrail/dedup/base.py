"""The DedupStore port.

Semantics (shared by every adapter through kubetrail.dedup.window, checked by
tests/dedup/conformance.py against each store):

* A window for a key opens at the *event time* of the match that opens it and lasts `period`
  (its end clamped to year 9999: extreme event times never raise).
* `claim` is atomic across concurrent invocations. It either
  - opens a window (no window yet, or `event_time >= window_end`): count = 1; or
  - counts the match in the open window (any `event_time < window_end`, late ones included):
    count += 1, last_seen = max(last_seen, event_time).
* The caller *owns* the claim, and must publish, when
  - its match made the window reach `threshold` (the opener, for the usual threshold of 1): the
    number of matches, or with `distinct` the number of distinct values (kept hashed, at most
    `threshold` of them); `Claim.escalation` is False;
  - or, once the window has published (or is publishing), its `severity` rank is higher than
    every severity claimed in the window so far: an escalation (`Claim.escalation` True);
  - or it finds the window `pending` with an expired lease: the previous owner died between
    claim and publish. A dead first finding is taken over by this match; a dead escalation is
    dropped and this match escalates only if it is higher than what was published.
* After publishing, the owner calls `confirm`; if publishing failed it calls `release`, which
  keeps the window and its count: a failed first finding puts it back to counting, already at
  its threshold, so the next match in it (the batch's retry) owns and publishes; a failed
  escalation restores the highest severity published before, so its retry escalates again.
* Windows carry an expiry for the backend's TTL: `expires_at = max(window end, wall clock now)
  + period`, renewed by every match. Anchoring it on the wall clock too matters for replays and
  backlogs: events hours old must still be deduplicated against each other, not expire the
  moment they are written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from kubetrail.record import fast_constructor, record

DEFAULT_LEASE = timedelta(minutes=5)


@record(frozen=True, slots=True)
class Claim:
    """What `claim` found or made. `token` identifies the owner's claim for confirm/release;
    `severity` is the rank the claim was made with; `escalation` says the owner publishes an
    escalation; `distinct_count` is the number of distinct values the window holds (0 for rules
    without Distinct)."""

    key: str
    window_start: datetime
    window_end: datetime
    count: int
    owner: bool
    token: str
    severity: int = 0
    escalation: bool = False
    distinct_count: int = 0

    @property
    def first_seen(self) -> datetime:
        return self.window_start


# `Claim(...)` with the same arguments (positional or by name), built faster: the stores' hot
# path. Equal to it in every way (tests/dedup/test_base.py).
new_claim = fast_constructor(Claim, "new_claim")


class DedupStore(Protocol):
    """Atomic, event-time windows per dedup key."""

    def claim(
        self, key: str, event_time: datetime, period: timedelta, threshold: int = 1, *,
        severity: int = 0, distinct: str | None = None,
    ) -> Claim:
        """Open or count in the key's window; see the module docstring for ownership.
        `severity` is the match's rank (INFO 0 … CRITICAL 4); `distinct` the value of the rule's
        Distinct field (None for rules without one)."""
        ...

    def confirm(self, claim: Claim) -> None:
        """Mark an owned claim's finding as published."""
        ...

    def release(self, claim: Claim) -> None:
        """Undo an owned claim whose publish failed, so that a retry publishes it."""
        ...
