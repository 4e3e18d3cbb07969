"""The dedup port's Claim and its fast constructor."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from kubetrail import record
from kubetrail.dedup.base import Claim, new_claim

START, END = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("args", "kwargs"), [
    (("k:1", START, END, 3, True, "m7", 2, True, 5), {}),
    (("k:2", START, END, 1, False, "m8"), {}),
    (("k:3", START, END), {"count": 4, "owner": False, "token": "t", "distinct_count": 2}),
    (("k:4", START, END, 9, True, "t"), {"escalation": True, "severity": 4}),
])
def test_new_claim_is_the_claim_the_record_makes(args: tuple[object, ...],
                                                 kwargs: dict[str, object]) -> None:
    made, fast = Claim(*args, **kwargs), new_claim(*args, **kwargs)  # type: ignore[arg-type]
    assert type(fast) is Claim
    names = [f.name for f in record.fields(Claim)]
    assert [getattr(fast, n) for n in names] == [getattr(made, n) for n in names]
    assert fast == made and hash(fast) == hash(made) and repr(fast) == repr(made)
    assert fast.first_seen == made.window_start
    assert record.replace(fast, count=99) == record.replace(made, count=99)
    assert pickle.loads(pickle.dumps(fast)) == made
    with pytest.raises(record.FrozenInstanceError):
        fast.count = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        new_claim("k", START)  # the required fields stay required
