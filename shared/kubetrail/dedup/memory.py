"""In-memory DedupStore: what `kubetrail scan` uses when no `--dedup-db` file is given.

The windows live in a dict for the life of the process. The transitions are those of
kubetrail.dedup.window, step for step (tests/dedup/test_memory.py checks this against the pure
functions on random sequences), applied in place to one mutable record per key under a lock
instead of being read, rebuilt (`record.replace`) and written back with a condition: a
claim that only counts is a few comparisons and additions. Times stay datetimes, clamped by
`window.later` exactly like every other store, so extreme event times behave identically.

Stores made over one `MemoryWindows` share its windows and its lock: several threads (or several
store objects, as the conformance suite's racing workers) claim atomically. Nothing is shared
across processes; a run that must remember its windows uses the SQLite store.
"""

from __future__ import annotations

from _thread import allocate_lock  # threading.Lock, without importing threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import count

from kubetrail.dedup.base import DEFAULT_LEASE, Claim, new_claim
from kubetrail.dedup.window import MAX_DISTINCT, NONE, PRIOR, State, Window, distinct_hash, later


class _Slot:
    """One key's window, mutable (the fields of window.Window; `op` is not kept: no write of
    this store can lose its reply)."""

    __slots__ = ("count", "distinct", "end", "expires", "last_seen", "lease_until",
                 "published", "severity", "start", "state", "token")

    def __init__(self, start: datetime, end: datetime, state: State, token: str,
                 lease_until: datetime, expires: datetime, severity: int,
                 distinct: tuple[str, ...]) -> None:
        self.start, self.end, self.count, self.last_seen = start, end, 1, start
        self.state, self.token, self.lease_until, self.expires = state, token, lease_until, expires
        self.severity, self.published, self.distinct = severity, NONE, distinct


class MemoryWindows:
    """The windows (and their lock) that one or more MemoryDedupStores share."""

    def __init__(self) -> None:
        self.slots: dict[str, _Slot] = {}
        self.lock = allocate_lock()

    def __len__(self) -> int:
        return len(self.slots)


_now = partial(datetime.now, UTC)  # (a call in C: one is made per claim)


class MemoryDedupStore:
    """Dedup windows in this process's memory (see the module docstring)."""

    what = "memory dedup store"

    def __init__(self, windows: MemoryWindows | None = None, *,
                 lease: timedelta = DEFAULT_LEASE,
                 clock: Callable[[], datetime] = _now) -> None:
        self.windows = windows if windows is not None else MemoryWindows()
        self.lease = lease
        self.clock = clock

    def close(self) -> None:
        """Nothing to release (present so that callers treat every local store alike)."""

    def claim(self, key: str, event_time: datetime, period: timedelta, threshold: int = 1, *,
              severity: int = 0, distinct: str | None = None) -> Claim:
        """Open or count in the key's window (see kubetrail.dedup.base)."""
        now = self.clock()
        with self.windows.lock:
            slots = self.windows.slots
            w = slots.get(key)
            ev = event_time
            if w is None or ev >= w.end:
                end = later(ev, period)
                owner = threshold <= 1
                token = next(_TOKENS)
                w = _Slot(ev, end, "pending" if owner else "counting", token,
                          later(now, self.lease), later(max(end, now), period),
                          severity if owner else NONE,
                          () if distinct is None else (distinct_hash(distinct),))
                slots[key] = w
                return new_claim(key, ev, end, 1, owner, token, severity, False,
                                 len(w.distinct))
            w.count += 1
            if ev > w.last_seen:
                w.last_seen = ev
            expires = later(max(w.end, now), period)
            if expires > w.expires:
                w.expires = expires
            state = w.state
            if state == "counting" and distinct is not None \
                    and len(w.distinct) < min(threshold, MAX_DISTINCT):
                h = distinct_hash(distinct)
                if h not in w.distinct:
                    w.distinct = (*w.distinct, h)
            if state == "pending" and w.lease_until < now:  # the owner died before publishing
                if w.published == NONE:
                    return self._own(w, key, severity, now, escalation=False)
                w.state = state = "published"
                w.severity = w.published  # its escalation is dropped
            if state == "counting":
                if (w.count if distinct is None else len(w.distinct)) >= threshold:
                    return self._own(w, key, severity, now, escalation=False)
            elif severity > w.severity:
                return self._own(w, key, severity, now, escalation=True)
            return new_claim(key, w.start, w.end, w.count, False, w.token, severity, False,
                         len(w.distinct))

    def _own(self, w: _Slot, key: str, severity: int, now: datetime, *, escalation: bool
             ) -> Claim:
        token = next(_TOKENS)
        if escalation and w.state == "pending" and w.published == NONE:
            holder, _, prior = w.token.partition(PRIOR)
            token = f"{token}{PRIOR}{prior or f'{holder}{PRIOR}{w.severity}'}"
        w.state, w.token, w.lease_until, w.severity = ("pending", token,
                                                      later(now, self.lease), severity)
        return new_claim(key, w.start, w.end, w.count, True, token, severity, escalation,
                     len(w.distinct))

    def confirm(self, claim: Claim) -> None:
        """Record that an owned claim's finding was published (window.confirm_step)."""
        with self.windows.lock:
            w = self.windows.slots.get(claim.key)
            if w is None or w.start != claim.window_start or not claim.owner:
                return
            if _holder(w.token) == _holder(claim.token) and w.state == "pending":
                w.state = "published"
                w.published = max(w.published, claim.severity)
            elif claim.severity > w.published:  # a late confirm: its finding did go out
                if w.state == "counting":
                    w.state = "published"
                w.published = claim.severity
                w.severity = max(w.severity, claim.severity)

    def release(self, claim: Claim) -> None:
        """Undo an owned claim whose publish failed (window.release_step)."""
        with self.windows.lock:
            w = self.windows.slots.get(claim.key)
            if w is None or w.start != claim.window_start or w.state != "pending":
                return
            holder, _, prior = w.token.partition(PRIOR)
            prior_token, _, prior_severity = prior.partition(PRIOR)
            mine = _holder(claim.token)
            if prior and prior_token == mine and w.published == NONE:
                w.token = holder
            elif holder != mine:
                return
            elif w.published == NONE:
                if prior:
                    w.token, w.severity = prior_token, int(prior_severity)
                else:
                    w.state, w.severity = "counting", NONE
            else:
                w.state, w.severity = "published", w.published

    # The store primitives of kubetrail.dedup.cas, for tests and tools that look inside.

    def _read(self, key: str) -> tuple[Window | None, None]:
        with self.windows.lock:
            w = self.windows.slots.get(key)
            if w is None:
                return None, None
            return Window(key=key, start=w.start, end=w.end, count=w.count,
                          last_seen=w.last_seen, state=w.state, token=w.token,
                          lease_until=w.lease_until, expires=w.expires, severity=w.severity,
                          published=w.published, distinct=w.distinct, op=""), None

    def _put(self, key: str, window: Window, version: object) -> bool:
        """Write `window` (version None: only if the key has none yet)."""
        with self.windows.lock:
            if version is None and key in self.windows.slots:
                return False
            slot = _Slot(window.start, window.end, window.state, window.token,
                         window.lease_until, window.expires, window.severity,
                         window.distinct)
            slot.count, slot.last_seen, slot.published = (window.count, window.last_seen,
                                                          window.published)
            self.windows.slots[key] = slot
            return True


def _holder(token: str) -> str:
    return token.partition(PRIOR)[0]


# Tokens only need to be unique among the stores sharing windows, all in this process: one
# counter for the process (its `next` is atomic), short strings (a window keeps one).
_TOKENS = map("m{}".format, count())
