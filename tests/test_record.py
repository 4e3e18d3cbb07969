"""kubetrail.record behaves as dataclasses does for what the core uses: the same classes made both
ways must agree on construction, defaults, repr, equality, hashing, freezing, pickling,
replace and fields."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from kubetrail import record


def _classes(deco: Any, fld: Any) -> tuple[type, type]:
    @deco(frozen=True, slots=True)
    class Frozen:
        a: int
        b: str = "x"
        c: tuple[int, ...] = fld(default_factory=tuple)
        hidden: object = fld(default=None, repr=False, compare=False)

        def doubled(self) -> int:
            return self.a * 2

    @deco
    class Mutable:
        x: int = 0
        items: list[int] = fld(default_factory=list)
        derived: int = fld(init=False, repr=False)

        def __post_init__(self) -> None:
            self.derived = self.x + 1

    return Frozen, Mutable


OURS = _classes(record.record, record.field)
THEIRS = _classes(dataclasses.dataclass, dataclasses.field)


def _observe(frozen: Any, mutable: Any, replace: Any, fields: Any) -> list[Any]:
    a = frozen(1)
    seen: list[Any] = [repr(a), repr(frozen(2, "y", (3,), hidden=[4])), a.doubled()]
    seen += [a == frozen(1, hidden="other"), a == frozen(2), a != frozen(1, "z"), a == (1,)]
    seen += [hash(a) == hash(frozen(1, hidden=5)), frozen.__match_args__]
    seen += [copy.copy(a) == a, copy.deepcopy(a) == a]
    seen += [repr(replace(a, b="q")), [f.name for f in fields(frozen)]]
    with pytest.raises(AttributeError) as raised:
        a.a = 5
    seen.append(str(raised.value))
    with pytest.raises(TypeError):
        frozen()
    m = mutable()
    seen += [repr(m), m.derived, m == mutable(), mutable.__hash__, mutable().items is not m.items]
    m.x = 7
    seen += [repr(m), repr(mutable(3, [1]))]
    return seen


def test_records_behave_as_dataclasses() -> None:
    ours = _observe(*OURS, record.replace, record.fields)
    theirs = _observe(*THEIRS, dataclasses.replace, dataclasses.fields)
    assert ours == theirs


def test_frozen_error_is_an_attribute_error() -> None:
    a = OURS[0](1)
    with pytest.raises(record.FrozenInstanceError, match="cannot assign to field 'b'"):
        a.b = "y"
    with pytest.raises(record.FrozenInstanceError):
        del a.a
    assert a.b == "x"


def test_core_records_pickle() -> None:
    from kubetrail.errors import Origin
    from kubetrail.sources.base import Failure

    failure = Failure("bad", Origin("f.jsonl", "3"), b"{")
    assert pickle.loads(pickle.dumps(failure)) == failure
    assert repr(failure) == (
        "Failure(reason='bad', origin=Origin(source='f.jsonl', position='3'), raw=b'{')")


def test_a_first_instantiation_with_wrong_arguments_fails_as_later_ones_do() -> None:
    """__init__ is compiled on the first instantiation: a failed first call leaves the class as
    usable as a successful one does."""
    frozen, _ = _classes(record.record, record.field)
    messages = []
    for _ in range(2):
        with pytest.raises(TypeError) as raised:
            frozen(1, "x", (), None, "one too many")
        messages.append(str(raised.value).split("__init__()")[-1])
    assert messages[0] == messages[1]
    assert frozen(1) == frozen(1) and frozen(1).b == "x"


def test_fast_constructors_build_the_records_themselves_and_pickle_by_name() -> None:
    from datetime import UTC, datetime

    from kubetrail.dedup.base import Claim, new_claim
    from kubetrail.events import new_event
    from kubetrail.record import FrozenInstanceError, fast_constructor

    slow = Claim("k", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), 1,
                 True, "t", severity=2)
    fast = new_claim("k", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC),
                     1, True, "t", severity=2)
    assert type(fast) is Claim and fast == slow and repr(fast) == repr(slow)
    with pytest.raises(FrozenInstanceError):
        fast.count = 2  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(new_event)) is new_event  # (how --jobs sends events)

    @record.record(frozen=True)
    class Unslotted:
        a: int

    with pytest.raises(TypeError, match="not a slotted record"):
        fast_constructor(Unslotted, "x")
