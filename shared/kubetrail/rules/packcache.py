"""Rule packs cached whole, so that a start-up neither parses YAML nor compiles Python it has seen.

Per rule file, under the BLAKE2b digest of the YAML's bytes, the cache keeps: the name and digest
of the Python file the YAML names, the parsed YAML without its `Tests`, the `Tests` apart
(marshalled, decoded only when read: `kubetrail test`, never a scan), and the Python file's code
object (marshalled, used only by the Python that wrote it: importlib's MAGIC_NUMBER). An entry
serves a rule only when both files still have the digested bytes, so an edit is never served
stale; validation still runs on every load (the loader's checks, without the parse). Only
kubetrail's own rules are cached; Panther rules keep the parsed-YAML cache (speccache.py).

One cache file per set of rule paths, in this order:

* `packs/.rules.cache` beside the bundled packs, for the bundled packs: built at install and
  package time (`build_bundled()`, run by `make venv`), never written at run time;
* `$KUBETRAIL_CACHE_DIR/rules-<digest of the paths>.cache`, by default under
  `$XDG_CACHE_HOME/kubetrail` or `~/.cache/kubetrail`; rewritten (atomically) after a load that
  missed or left entries unused. An empty KUBETRAIL_CACHE_DIR turns it off. A file in use has
  its modification time renewed (at most once a day); each write removes the other `rules-*`
  files of the directory (and stray temporaries) left unused for STALE_DAYS, so rule paths
  tried once (a temporary checkout, a test run) do not pile up.

Reading or writing a cache never fails a load: a missing, damaged, foreign or unwritable file is
only slower. The file holds code, so it is trusted as much as the rule files beside it: the user
file is read only when the current user owns it and no one else may write it.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import time
from collections.abc import Callable, Mapping, Sequence
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import CodeType
from typing import Any

from kubetrail import __version__
from kubetrail.rules.speccache import SpecCache, blake2b, user_cache, write_atomically

_FORMAT = b"kubetrail-rules-1\n"  # then marshal of (version, MAGIC_NUMBER, {digest: entry})
PACKAGED = Path(__file__).resolve().parent.parent / "packs" / ".rules.cache"
# entry: (py name, py digest, spec without Tests, marshalled Tests or None, marshalled code)
Entry = tuple[str, bytes, dict[str, Any], bytes | None, bytes]
STALE_DAYS = 30  # a user file unused this long is removed by the next write of another
_DAY = 86_400.0


def _digest(data: bytes) -> bytes:
    return blake2b(data, digest_size=20).digest()


def user_file(paths: Sequence[Path]) -> Path | None:
    """The per-user cache file of this set of rule paths, or None when turned off."""
    specs = user_cache()
    if specs is None:
        return None
    key = "\0".join(os.path.abspath(p) for p in paths).encode("utf-8", "surrogateescape")
    return specs.with_name(f"rules-{blake2b(key, digest_size=10).hexdigest()}.cache")


def _read(path: Path | None, trusted: bool) -> tuple[dict[bytes, Entry], bool]:
    """The entries of a cache file, and whether its code is this Python's; ({}, False) when the
    file is absent, damaged, of another kubetrail, or (untrusted) writable by someone else."""
    if path is None:
        return {}, False
    try:
        with open(path, "rb") as f:
            if not trusted:
                st = os.fstat(f.fileno())
                if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                    return {}, False
                if time.time() - st.st_mtime > _DAY:  # in use: not stale (see _prune)
                    with contextlib.suppress(OSError):
                        os.utime(f.fileno())
            data = f.read()
        if not data.startswith(_FORMAT):
            return {}, False
        version, magic, entries = marshal.loads(memoryview(data)[len(_FORMAT):])  # noqa: S302
    except Exception:  # absent, unreadable, truncated, another format
        return {}, False
    if version != __version__ or type(entries) is not dict:
        return {}, False
    return entries, magic == MAGIC_NUMBER


def _write(path: Path, entries: dict[bytes, Entry]) -> None:
    try:
        data = _FORMAT + marshal.dumps((__version__, MAGIC_NUMBER, entries))
    except ValueError:  # a value marshal cannot hold
        return
    write_atomically(path, data, 0o600)


def _prune(kept: Path) -> None:
    """Remove this user's other `rules-*` cache files (and temporaries of writes that died)
    that nothing has used for STALE_DAYS; anything else in the directory is left alone."""
    oldest = time.time() - STALE_DAYS * _DAY
    try:
        entries = list(os.scandir(kept.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name == kept.name or not name.startswith("rules-") or not (
                name.endswith(".cache") or name.endswith(".tmp")):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if st.st_uid == os.geteuid() and st.st_mtime < oldest and entry.is_file(
                    follow_symlinks=False):
                os.unlink(entry.path)


class Hit:
    """What the cache holds for one rule file: its spec (without Tests), its Tests marshalled
    (None: none), and its code (None: compiled by another Python; import it)."""

    __slots__ = ("code", "spec", "tests")

    def __init__(self, spec: dict[str, Any], tests: bytes | None, code: CodeType | None) -> None:
        self.spec, self.tests, self.code = spec, tests, code


class PackCache:
    """One load's view of the cache files of one set of rule paths (`bundled`: the bundled
    packs, served first by the packaged file); `save` rewrites the user file when needed."""

    def __init__(self, paths: Sequence[Path], *, bundled: bool,
                 packaged: Path | None = PACKAGED, user: Path | bool | None = True) -> None:
        self._user_path = user_file(paths) if user is True else user or None
        mine, native = _read(self._user_path, trusted=False)
        self._user_count = len(mine)
        # digest -> (entry, whether its code is this Python's); the user file's only when it is
        self._entries = {k: (e, True) for k, e in mine.items()} if native else {}
        if bundled:
            shipped, native = _read(packaged, trusted=True)
            for key, entry in shipped.items():
                if native or key not in self._entries:
                    self._entries[key] = (entry, native)
        self._used: dict[bytes, Entry] = {}
        self._dirty = False

    def lookup(self, text: bytes, yml: Path) -> Hit | None:
        """The cached form of the rule file `yml` whose bytes are `text`, when its Python file
        still has the bytes the entry was made from."""
        key = _digest(text)
        found = self._entries.get(key)
        if found is None:
            return None
        entry, native = found
        try:
            py_name, py_digest, spec, tests, code = entry
            with open(yml.parent / py_name, "rb") as f:
                if _digest(f.read()) != py_digest:
                    return None
            loaded = marshal.loads(code) if native else None  # noqa: S302
        except Exception:  # an unreadable file, a damaged entry: loaded afresh
            return None
        if type(spec) is not dict or (tests is not None and type(tests) is not bytes) \
                or (loaded is not None and type(loaded) is not CodeType):
            return None  # a damaged entry
        if loaded is None:
            self._dirty = True  # code for this Python goes to the user file
        self._used[key] = entry
        return Hit(spec, tests, loaded)

    def remember(self, text: bytes, spec: Mapping[str, Any], py: Path, py_text: bytes,
                 code: CodeType) -> None:
        """Keep a rule loaded afresh (when marshal holds its YAML exactly)."""
        try:
            body = {k: v for k, v in spec.items() if k != "Tests"}
            raw_tests = spec.get("Tests")
            entry: Entry = (py.name, _digest(py_text), body,
                            None if raw_tests is None else _exact(raw_tests),
                            marshal.dumps(code))
            if marshal.loads(marshal.dumps(body)) != body:  # noqa: S302
                return
        except ValueError:  # a YAML timestamp or another value marshal cannot hold
            return
        self._used[_digest(text)] = entry
        self._dirty = True

    def save(self) -> None:
        """Rewrite the user file when this load added entries or left some unused."""
        if self._user_path is None:
            return
        if self._dirty or (self._user_count and len(self._used) != self._user_count):
            _write(self._user_path, self._used)
            _prune(self._user_path)


class Caches:
    """The pack cache of one load, and the parsed-YAML cache (speccache.py), opened on the first
    rule file the pack cache does not serve."""

    def __init__(self, pack: PackCache | None) -> None:
        self.pack = pack
        self._specs: SpecCache | None = None

    def spec(self, text: bytes, parse: Callable[[bytes], Any]) -> Any:
        """The parsed YAML `text`, from the parsed-YAML cache or `parse`."""
        if self._specs is None:
            self._specs = SpecCache()
        return self._specs.spec(text, parse)

    def save(self) -> None:
        """Write what this load added to either cache."""
        if self.pack is not None:
            self.pack.save()
        if self._specs is not None:
            self._specs.save()


def _exact(value: Any) -> bytes:
    """`value` marshalled; ValueError unless it reads back equal."""
    blob = marshal.dumps(value)
    if marshal.loads(blob) != value:  # noqa: S302 - our own cache file (see the module docstring)
        raise ValueError("not held exactly")
    return blob


def build(files: Sequence[Path], target: Path = PACKAGED) -> int:
    """Write the packaged cache of the kubetrail rule files among `files` (build time); the
    number of entries."""
    import _imp

    from kubetrail.rules.loader import load_rules

    target.unlink(missing_ok=True)
    cache = PackCache([], bundled=False, user=target)
    load_rules(files, include_disabled=True, pack_cache=cache)
    for key, (py_name, py_digest, spec, tests, blob) in cache._used.items():
        code = marshal.loads(blob)  # noqa: S302 - compiled just now
        # not this machine's paths in a shipped file: the loader sets the real one
        _imp._fix_co_filename(code, py_name)  # type: ignore[attr-defined]
        cache._used[key] = (py_name, py_digest, spec, tests, marshal.dumps(code))
    cache.save()
    if target.exists():
        target.chmod(0o644)
    return len(cache._used)


def build_bundled() -> None:
    """Write the packaged cache of the bundled packs (make venv, function packaging)."""
    from kubetrail.rules.loader import BUNDLED_PACKS, rule_files

    count = build(rule_files([BUNDLED_PACKS]))
    print(f"{PACKAGED}: {count} rule files")
