"""The event a Panther rule function receives: a read-only mapping over the record as Panther
stores it. Keys match case-insensitively at every level (an exact spelling wins over a look-alike);
nested objects and arrays come back read-only too (`copy()` / `to_dict()` give mutable copies).

`deep_get(*keys, default=None)` walks nested mappings; `deep_walk(*keys, default=None,
return_val="all")` also walks into arrays and collects the distinct values found ("first", "last"
or "all": one value alone, else the list); `udm(*keys, default=None)` answers a data model field
for the event's log type (then p_udm), descending into the result with the remaining keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

_MISSING: Any = object()
# A data model: field name → function of the event giving its value.
Model = Mapping[str, Callable[["PantherEvent"], Any]]


_SCALARS = frozenset({str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """Read-only views of JSON containers; scalars as they are."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return FrozenMapping(value)
    if kind is list:
        return FrozenList(value)
    if isinstance(value, FrozenMapping | FrozenList):
        return value
    if isinstance(value, Mapping):
        return FrozenMapping(value)
    if isinstance(value, list | tuple):
        return FrozenList(value)
    return value


def thaw(value: Any) -> Any:
    """Plain, mutable JSON-like data (dicts and lists) from any mix of views and containers."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple | FrozenList):
        return [thaw(v) for v in value]
    return value


class FrozenList(Sequence[Any]):
    """A read-only JSON array; its items are read-only views too."""

    __slots__ = ("_items",)

    def __init__(self, items: Sequence[Any]) -> None:
        self._items = items

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return FrozenList(self._items[index])
        return freeze(self._items[index])

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenList | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def copy(self) -> list[Any]:
        """A mutable deep copy."""
        return thaw(self)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return repr(thaw(self))


class FrozenMapping(Mapping[str, Any]):
    """A read-only JSON object whose keys match case-insensitively (the exact key first)."""

    __slots__ = ("_data", "_folded")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data
        self._folded: dict[str, Any] | None = None

    def _resolve(self, key: Any) -> Any:
        if key in self._data:
            return key
        if not isinstance(key, str):
            return _MISSING
        if self._folded is None:
            folded: dict[str, Any] = {}
            for k in self._data:
                if isinstance(k, str):
                    folded.setdefault(k.casefold(), k)  # the first spelling in the record wins
            self._folded = folded
        return self._folded.get(key.casefold(), _MISSING)

    def __getitem__(self, key: Any) -> Any:
        resolved = self._resolve(key)
        if resolved is _MISSING:
            raise KeyError(key)
        return freeze(self._data[resolved])

    def __contains__(self, key: object) -> bool:
        return self._resolve(key) is not _MISSING

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Any, default: Any = None) -> Any:
        resolved = self._resolve(key)
        return default if resolved is _MISSING else freeze(self._data[resolved])

    def deep_get(self, *keys: Any, default: Any = None) -> Any:
        """The value under `keys` through nested objects; `default` when absent or null."""
        value: Any = self
        for key in keys:
            value = value.get(key, default) if isinstance(value, Mapping) else default
        return default if value is None else value

    def deep_walk(self, *keys: Any, default: Any = None, return_val: str = "all") -> Any:
        """Like deep_get, but arrays on the way are walked item by item and the distinct values
        found are collected: `return_val` "first", "last" or "all" (one value, else the list)."""
        return _walk(self, keys, default, return_val)

    def to_dict(self) -> dict[str, Any]:
        """A mutable deep copy of the record."""
        return thaw(self)  # type: ignore[no-any-return]

    def copy(self) -> dict[str, Any]:
        """A mutable deep copy (as dict.copy, but deep: the view never changes)."""
        return self.to_dict()

    def __repr__(self) -> str:
        return repr(self.to_dict())


class PantherEvent(FrozenMapping):
    """The record a Panther rule receives, with its log type's data model for `udm`."""

    __slots__ = ("_model", "_udm")

    def __init__(self, record: Mapping[str, Any], model: Model | None = None) -> None:
        super().__init__(record)
        self._model = model or {}
        # Data model values, computed once per field: the record never changes, and rules ask for
        # the same fields again and again (AKS's methods parse properties.log on every call).
        self._udm: dict[str, Any] = {}

    def udm(self, *keys: str, default: Any = None) -> Any:
        """A data model field (the first key) of this log type, then p_udm; the remaining keys
        descend into the value. `default` when absent or null."""
        if not keys:
            return default
        field = keys[0]
        if field in self._udm:
            value = self._udm[field]
        else:
            getter = self._model.get(field)
            if getter is None:
                return self.deep_get("p_udm", *keys, default=default)
            value = self._udm[field] = freeze(getter(self))
        if len(keys) > 1:
            value = FrozenMapping({"v": value}).deep_get("v", *keys[1:])
        return default if value is None else value


def _is_array(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _all_empty(value: Any) -> bool:
    return _is_array(value) and all(_all_empty(v) for v in value)


def _walk(obj: Any, keys: Sequence[Any], default: Any, return_val: str) -> Any:
    if not keys:
        return default if _all_empty(obj) else obj
    if isinstance(obj, Mapping):
        value = obj.get(keys[0])
        return default if value is None else _walk(value, keys[1:], default, return_val)
    found: list[Any] = []
    if _is_array(obj):
        for item in obj:
            value = _walk(item, keys, default, return_val)
            if value is None:
                continue
            for v in (value if _is_array(value) else (value,)):
                if v not in found:
                    found.append(v)
    if not found:
        return default
    if return_val == "first":
        return found[0]
    if return_val == "last":
        return found[-1]
    return found[0] if len(found) == 1 else found
