"""Record classes: what `@dataclasses.dataclass` makes of the core's classes, at a fraction of the
start-up cost.

`dataclasses` imports `inspect` (with `ast`, `dis`, `tokenize`) and compiles five to eight
methods for every class at every start: about 35 ms for the core's classes, before the first
record. `@record` compiles only `__init__` (so building a record is as fast as with a dataclass),
and only when the class is first instantiated (compiling costs 0.1-0.4 ms a class, and many are
not needed before the first record); `__repr__`, `__eq__`, `__hash__` and the frozen
`__setattr__` are generic, shared by all classes.

The semantics are those of dataclasses for what the core uses: fields from the class's own
annotations (and a record base's), defaults and `field(default_factory=..., init=False,
repr=False, compare=False)`, `__post_init__`, `frozen` (assigning raises FrozenInstanceError, an
AttributeError), `slots`, equality only between instances of the same class, a hash for frozen
records (mutable ones are unhashable), `repr` as `Name(a=1, b='x')`, pickling, `replace` and
`fields`. Type checkers see a dataclass (`typing.dataclass_transform`).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, cast, dataclass_transform, overload

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)
_MISSING: Any = object()
_FACTORY: Any = object()  # __init__'s default for a field made by a factory


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record."""


class Field:
    """One field of a record: its name and how __init__, repr and equality treat it."""

    __slots__ = ("compare", "default", "default_factory", "init", "name", "repr")

    def __init__(self, default: Any = _MISSING, default_factory: Any = _MISSING,
                 init: bool = True, repr: bool = True, compare: bool = True) -> None:
        self.name = ""
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.compare = init, repr, compare


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] = _MISSING,
          init: bool = True, repr: bool = True, compare: bool = True) -> Any:
    """A field's options, as `dataclasses.field` takes them."""
    return Field(default, default_factory, init, repr, compare)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record class or instance, in declaration order."""
    found: tuple[Field, ...] = obj.__record_fields__
    return found


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of the record `obj` with `changes` applied (through __init__, as
    `dataclasses.replace` does)."""
    for f in fields(obj):
        if f.init and f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


@overload
def record(cls: _C, /) -> _C: ...
@overload
def record(*, frozen: bool = False, slots: bool = False) -> Callable[[_C], _C]: ...


@dataclass_transform(field_specifiers=(field, Field))
def record(cls: Any = None, /, *, frozen: bool = False, slots: bool = False) -> Any:
    """Make a class a record (as `@dataclass(frozen=..., slots=...)` would)."""
    def wrap(c: type) -> type:
        return _build(c, frozen, slots)
    return wrap if cls is None else wrap(cls)


def _own_fields(cls: type) -> list[Field]:
    out = []
    # (not inspect.get_annotations: importing inspect is what this module avoids)
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name = name
        out.append(f)
    return out


def _build(cls: type, frozen: bool, slots: bool) -> type:
    inherited = [f for base in reversed(cls.__mro__[1:]) for f in base.__dict__.get(
        "__record_fields__", ())]
    own = _own_fields(cls)
    own_names = {f.name for f in own}
    all_fields = tuple([f for f in inherited if f.name not in own_names] + own)
    ns = dict(cls.__dict__)
    for f in own:
        ns.pop(f.name, None)
        if not slots and f.default is not _MISSING:
            ns[f.name] = f.default
    ns["__record_fields__"] = all_fields
    ns["__match_args__"] = tuple(f.name for f in all_fields if f.init)
    owner: list[type] = []  # the class made here, for its first __init__ call
    ns["__init__"] = _first_init(owner, all_fields, frozen, hasattr(cls, "__post_init__"))
    _generic_methods(ns, all_fields, frozen)
    if slots:  # (without slots, pickle copies __dict__, which holds every field)
        ns["__getstate__"] = lambda self: tuple(getattr(self, f.name) for f in all_fields)
        ns["__setstate__"] = _setstate(all_fields)
    if not slots:
        for name in (own_names - ns.keys()) & cls.__dict__.keys():
            delattr(cls, name)  # a field() without a default
        for name, value in ns.items():
            if name not in cls.__dict__ or cls.__dict__[name] is not value:
                setattr(cls, name, value)
        owner.append(cls)
        return cls
    ns["__slots__"] = tuple(f.name for f in own)
    ns.pop("__dict__", None)
    ns.pop("__weakref__", None)
    built = type(cls)(cls.__name__, cls.__bases__, ns)
    built.__qualname__ = cls.__qualname__
    owner.append(built)
    return built


def fast_constructor(cls: type[_T], name: str) -> Callable[..., _T]:
    """`cls(...)` (same arguments and defaults) built faster, for a frozen, slotted record
    without __post_init__ or record bases made on a hot path: an object of a twin class with
    cls's slots is filled by plain assignments (a frozen record's __init__ sets each field
    through object.__setattr__, several times slower), then given its real class (identical
    slots, so an identical layout: CPython allows the switch) and is from then on a `cls` like
    any other, frozen included. `name`: the module-level name it is bound to, in cls's module
    (pickle finds it there)."""
    all_fields: tuple[Field, ...] = cls.__record_fields__  # type: ignore[attr-defined]
    if cls.__bases__ != (object,) or hasattr(cls, "__post_init__") or \
            tuple(f.name for f in all_fields) != tuple(getattr(cls, "__slots__", ())):
        raise TypeError(f"{cls.__qualname__}: not a slotted record of its own fields")
    owner: list[type] = []
    twin = type(name, (), {
        "__slots__": cls.__slots__,  # type: ignore[attr-defined]
        "__module__": cls.__module__,
        "__init__": _first_init(owner, all_fields, False, False, become=cls)})
    owner.append(twin)
    return cast("Callable[..., _T]", twin)


def _first_init(owner: list[type], all_fields: tuple[Field, ...], frozen: bool,
                post_init: bool, become: type | None = None) -> Callable[..., None]:
    """An __init__ that compiles the class's real one, puts it in its place and runs it."""
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        cls = owner[0]
        init = _make_init(cls.__qualname__, all_fields, frozen, post_init, become)
        cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)
    return __init__


def _make_init(qualname: str, all_fields: tuple[Field, ...], frozen: bool,
               post_init: bool, become: type | None = None) -> Callable[..., None]:
    env: dict[str, Any] = {"_FACTORY": _FACTORY, "_set": object.__setattr__, "_class": become}
    params, body = [], []
    for i, f in enumerate(all_fields):
        if f.default_factory is not _MISSING:
            env[f"_f{i}"] = f.default_factory
        if f.default is not _MISSING:
            env[f"_d{i}"] = f.default
        if f.init:
            params.append(f.name if f.default is f.default_factory is _MISSING else
                          f"{f.name}=_d{i}" if f.default is not _MISSING else
                          f"{f.name}=_FACTORY")
            value = (f"_f{i}() if {f.name} is _FACTORY else {f.name}"
                     if f.default_factory is not _MISSING else f.name)
        elif f.default_factory is not _MISSING:
            value = f"_f{i}()"
        elif f.default is not _MISSING:
            value = f"_d{i}"
        else:
            continue
        body.append(f"_set(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
    if post_init:
        body.append("self.__post_init__()")
    if become is not None:
        body.append("self.__class__ = _class")
    source = f"def __init__(self, {', '.join(params)}):\n " + "\n ".join(body or ["pass"])
    exec(compile(source, f"<record {qualname}>", "exec"), env)  # noqa: S102 - our own text
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{qualname}.__init__"
    return init


def _key(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda obj: ()
    get = attrgetter(*names)
    return (lambda obj: (get(obj),)) if len(names) == 1 else get


def _generic_methods(ns: dict[str, Any], all_fields: tuple[Field, ...], frozen: bool) -> None:
    shown = [f.name for f in all_fields if f.repr]
    key = _key([f.name for f in all_fields if f.compare])

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(key(self))

    ns.setdefault("__repr__", __repr__)
    if "__eq__" not in ns:
        ns["__eq__"] = __eq__
        if ns.get("__hash__") is None:
            ns["__hash__"] = __hash__ if frozen else None
    if frozen:
        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        ns["__setattr__"], ns["__delattr__"] = __setattr__, __delattr__


def _setstate(all_fields: tuple[Field, ...]) -> Callable[[Any, tuple[Any, ...]], None]:
    def __setstate__(self: Any, state: tuple[Any, ...]) -> None:
        for f, value in zip(all_fields, state, strict=True):
            object.__setattr__(self, f.name, value)
    return __setstate__
