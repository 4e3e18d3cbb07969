"""The dedup window's state and its transitions, as pure functions shared by every store.

Each store only reads a key's `Window`, and writes back what `open_or_count`, `confirm_step` or
`release_step` return, atomically (compare-and-swap or a transaction; kubetrail.dedup.cas). The
semantics are therefore identical in SQLite, DynamoDB, Table Storage and Firestore by
construction; tests/dedup/conformance.py checks each store against real emulators.

Severities are ranks (kubetrail.rules.loader.SEVERITIES order, INFO = 0 … CRITICAL = 4); -1 means
"none". A window remembers `severity`, the highest severity claimed for publication (pending or
published), and `published`, the highest severity whose publication was confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from kubetrail.dedup.base import Claim, new_claim
from kubetrail.digest import sha256
from kubetrail.record import record, replace

MIN_TIME = datetime.min.replace(tzinfo=UTC)
MAX_TIME = datetime.max.replace(tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
_ZERO = timedelta(0)
NONE = -1
# A distinct-count rule's Threshold is at most this many values: a window keeps at most that many
# 22-character hashes (22 KB), far below every store's item limit (DynamoDB 400 KB per item, Table
# Storage 64 KiB per property and 1 MiB per entity, Firestore 1 MiB per document).
MAX_DISTINCT = 1000

State = Literal["counting", "pending", "published"]


def later(t: datetime, delta: timedelta) -> datetime:
    """`t + delta`, clamped to the datetime range (year 1 … 9999) instead of raising."""
    if delta >= _ZERO:
        return MAX_TIME if t > MAX_TIME - delta else t + delta
    return MIN_TIME if t < MIN_TIME - delta else t + delta


def to_us(t: datetime) -> int:
    """Microseconds since the epoch (negative before 1970): exact over the whole range."""
    return (t - EPOCH) // US


def from_us(us: int) -> datetime:
    """Inverse of `to_us`, clamped to the datetime range."""
    return max(MIN_TIME, min(MAX_TIME, later(EPOCH, us * US)))


def expires_at(window_end: datetime, now: datetime, period: timedelta) -> datetime:
    """When a window may be garbage-collected: a full period after both its end and now."""
    return later(max(window_end, now), period)


def distinct_hash(value: str) -> str:
    """What a window stores of a distinct value: 128 bits of SHA-256, base64url (22 chars)."""
    import base64  # (here: 1 ms of every cold start)

    digest = sha256(value.encode("utf-8", "surrogatepass")).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@record(frozen=True, slots=True)
class Window:
    """One key's dedup window as every store keeps it. `op` names the claim that wrote it last,
    so a writer whose reply was lost recognizes its own write when it reads again."""

    key: str
    start: datetime
    end: datetime
    count: int
    last_seen: datetime
    state: State
    token: str
    lease_until: datetime
    expires: datetime
    severity: int
    published: int
    distinct: tuple[str, ...]
    op: str


@record(frozen=True, slots=True)
class ClaimRequest:
    """The arguments of `DedupStore.claim`, plus a fresh `op` id for this call."""

    key: str
    event_time: datetime
    period: timedelta
    threshold: int
    severity: int
    distinct: str | None
    op: str


def open_or_count(current: Window | None, req: ClaimRequest, now: datetime, lease: timedelta
                  ) -> tuple[Window, Claim]:
    """The window after this match, and the caller's claim (see kubetrail.dedup.base)."""
    ev, h = req.event_time, None if req.distinct is None else distinct_hash(req.distinct)
    if current is None or ev >= current.end:
        end = later(ev, req.period)
        distinct = () if h is None else (h,)
        owner = req.threshold <= 1
        window = Window(
            key=req.key, start=ev, end=end, count=1, last_seen=ev,
            state="pending" if owner else "counting", token=req.op,
            lease_until=later(now, lease), expires=expires_at(end, now, req.period),
            severity=req.severity if owner else NONE, published=NONE, distinct=distinct,
            op=req.op)
        return window, _claim(window, req, owner=owner, escalation=False)
    w = replace(current, count=current.count + 1, last_seen=max(current.last_seen, ev),
                expires=max(current.expires, expires_at(current.end, now, req.period)),
                op=req.op)
    if w.state == "counting" and h is not None and h not in w.distinct \
            and len(w.distinct) < min(req.threshold, MAX_DISTINCT):
        w = replace(w, distinct=(*w.distinct, h))
    if w.state == "pending" and w.lease_until < now:  # the owner died between claim and publish
        if w.published == NONE:  # it was the window's first finding: this match publishes it
            return _own(w, req, now, lease, escalation=False)
        w = replace(w, state="published", severity=w.published)  # drop its escalation
    if w.state == "counting":
        reached = (w.count if h is None else len(w.distinct)) >= req.threshold
        if reached:
            return _own(w, req, now, lease, escalation=False)
    elif req.severity > w.severity:
        return _own(w, req, now, lease, escalation=True)
    return w, _claim(w, req, owner=False, escalation=False)


# An escalation that overtakes a first finding still in flight (pending, nothing published)
# carries that first owner's token and severity after this separator (`op|first|severity`), so
# that its failed publish hands the slot back to the first owner instead of reopening it to
# anyone (which published a second first finding when the first owner then confirmed).
PRIOR = "|"


def _holder(token: str) -> str:
    """The claim that holds a window's slot (its token without an overtaken first owner's)."""
    return token.partition(PRIOR)[0]


def _own(w: Window, req: ClaimRequest, now: datetime, lease: timedelta, *, escalation: bool
         ) -> tuple[Window, Claim]:
    token = req.op
    if escalation and w.state == "pending" and w.published == NONE:
        holder, _, prior = w.token.partition(PRIOR)
        token = f"{req.op}{PRIOR}{prior or f'{holder}{PRIOR}{w.severity}'}"
    w = replace(w, state="pending", token=token, lease_until=later(now, lease),
                severity=req.severity)
    return w, _claim(w, req, owner=True, escalation=escalation)


def counted(w: Window, req: ClaimRequest) -> Claim:
    """The claim of a match that only counted in `w` (what `w` is after the count)."""
    return _claim(w, req, owner=False, escalation=False)


def _claim(w: Window, req: ClaimRequest, *, owner: bool, escalation: bool) -> Claim:
    return new_claim(w.key, w.start, w.end, w.count, owner, w.token, severity=req.severity,
                     escalation=escalation, distinct_count=len(w.distinct))


def confirm_step(current: Window | None, claim: Claim) -> Window | None:
    """The window after `claim`'s finding was published; None when nothing changes.

    The owner marks the window published. An owner whose slot a higher escalation took over in
    the meantime still records that its severity was published, so that a failed publish of the
    newer escalation falls back to it rather than to something lower."""
    if current is None or current.start != claim.window_start or not claim.owner:
        return None
    if _holder(current.token) == _holder(claim.token) and current.state == "pending":
        return replace(current, state="published", published=max(current.published,
                                                                  claim.severity))
    if claim.severity > current.published:  # a late confirm: its finding did go out
        state = "published" if current.state == "counting" else current.state
        return replace(current, state=state, published=claim.severity,
                       severity=max(current.severity, claim.severity))
    return None


def release_step(current: Window | None, claim: Claim) -> Window | None:
    """The window after `claim`'s publish failed; None when the claim no longer owns it.

    The window stays, with its count and distinct values. A failed first finding puts it back
    to counting, already at its threshold, so the next match in it (the batch's retry, usually)
    publishes: a threshold reached over earlier batches is not lost, and a late match of an older
    window that this one replaced cannot reopen that one. A failed escalation restores the
    highest severity whose publication was confirmed, so its retry escalates again."""
    if current is None or current.start != claim.window_start or current.state != "pending":
        return None
    holder, _, prior = current.token.partition(PRIOR)
    prior_token, _, prior_severity = prior.partition(PRIOR)
    if prior and prior_token == _holder(claim.token) and current.published == NONE:
        # the first owner failed while an escalation holds the slot: if that one fails too, the
        # window goes back to counting (the first finding is still to be published)
        return replace(current, token=holder)
    if holder != _holder(claim.token):
        return None
    if current.published == NONE:
        if prior:  # an escalation over a first finding in flight: the slot goes back to it
            return replace(current, token=prior_token, severity=int(prior_severity))
        return replace(current, state="counting", severity=NONE)
    return replace(current, state="published", severity=current.published)


def to_fields(w: Window) -> dict[str, int | str | datetime]:
    """A window as flat store fields: times as epoch microseconds (exact from year 1 to 9999),
    the distinct hashes as one comma-separated string; `expires_at` stays a datetime, for each
    store to write in the form its TTL wants."""
    return {"window_start": to_us(w.start), "window_end": to_us(w.end), "count": w.count,
            "last_seen": to_us(w.last_seen), "state": w.state, "token": w.token,
            "lease_until": to_us(w.lease_until), "expires_at": w.expires,
            "severity": w.severity, "published": w.published, "distinct": ",".join(w.distinct),
            "op": w.op}


def from_fields(key: str, f: dict[str, object], expires: Callable[[object], datetime]
                ) -> Window | None:
    """The window a store read back (`f` as `to_fields` wrote it, numbers possibly as strings or
    Decimals); `expires` converts the store's `expires_at`. None for a window in another layout
    (written by an earlier kubetrail): it is replaced by a new window, conditionally like any
    other write."""
    try:
        return _parse(key, f, expires)
    except (KeyError, ValueError, TypeError):
        return None


def _parse(key: str, f: dict[str, object], expires: Callable[[object], datetime]) -> Window:
    def num(name: str) -> int:
        return int(str(f[name]))

    state = str(f["state"])
    if state not in ("counting", "pending", "published"):
        raise ValueError(f"dedup window {key!r} has an unknown state {state!r}")
    distinct = str(f.get("distinct") or "")
    return Window(
        key=key, start=from_us(num("window_start")), end=from_us(num("window_end")),
        count=num("count"), last_seen=from_us(num("last_seen")), state=state,  # type: ignore[arg-type]
        token=str(f["token"]), lease_until=from_us(num("lease_until")),
        expires=expires(f["expires_at"]),
        severity=num("severity"), published=num("published"),
        distinct=tuple(distinct.split(",")) if distinct else (), op=str(f.get("op") or ""))
