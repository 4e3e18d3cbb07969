"""A panther-analysis checkout (`--panther-root`): its `global_helpers/*.py` importable by their own
names (`panther_base_helpers`, `panther_kubernetes_helpers`, ...) while Panther files load.

Nothing is added to sys.path. `PantherRoot.active()` installs, for the time a rule or data model
module executes, a finder for exactly the helper names of this root and this root's own module
objects; on exit they leave sys.modules again and whatever was there before is put back. The
functions a rule imported keep their module globals, so they work after loading; two roots (or a
project module that happens to share a helper's name) never see each other's modules.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from kubetrail.errors import ConfigError, Origin

if TYPE_CHECKING:
    from kubetrail.panther.datamodels import DataModels

# sys.modules and sys.meta_path are process-wide: one root is active at a time.
_ACTIVE = threading.RLock()


class _HelperFinder:
    """Finds the helper modules of one root by name (a sys.meta_path entry)."""

    def __init__(self, directory: Path, names: frozenset[str]) -> None:
        self.directory = directory
        self.names = names

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        return importlib.util.spec_from_file_location(
            fullname, self.directory / f"{fullname}.py")


class PantherRoot:
    """One panther-analysis checkout: its helpers, and (lazily) its data models."""

    def __init__(self, root: Path) -> None:
        self.path = root.resolve()
        self.helpers_dir = self.path / "global_helpers"
        if not self.helpers_dir.is_dir():
            raise ConfigError(f"--panther-root {root}: no global_helpers/ directory (expected a "
                              "panther-analysis checkout)")
        self.names = frozenset(p.stem for p in self.helpers_dir.glob("*.py")
                               if re.fullmatch(r"[A-Za-z_]\w*", p.stem))
        self._modules: dict[str, ModuleType] = {}
        self._data_models: DataModels | None = None

    @contextmanager
    def active(self) -> Iterator[None]:
        """The helpers importable by name for the duration of the block."""
        with _ACTIVE:
            saved = {n: sys.modules.pop(n) for n in self.names if n in sys.modules}
            sys.modules.update(self._modules)
            finder = _HelperFinder(self.helpers_dir, self.names)
            sys.meta_path.insert(0, finder)
            try:
                yield
            finally:
                sys.meta_path.remove(finder)
                for name in self.names:
                    module = sys.modules.pop(name, None)
                    if module is not None:
                        self._modules[name] = module
                sys.modules.update(saved)

    def load_module(self, path: Path, name: str, origin: Origin) -> ModuleType:
        """Execute a Panther Python file (a rule or a data model) with the helpers importable."""
        with self.active():
            return exec_module(path, name, origin)

    @property
    def data_models(self) -> DataModels:
        """data_models/ of this root, loaded on first use."""
        if self._data_models is None:
            from kubetrail.panther.datamodels import DataModels

            self._data_models = DataModels.load(self.path / "data_models", self)
        return self._data_models

    def __repr__(self) -> str:
        return f"PantherRoot({str(self.path)!r})"


def exec_module(path: Path, name: str, origin: Origin) -> ModuleType:
    """Load a Python file as a fresh module (not registered in sys.modules); ConfigError if it
    does not import."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path}", origin)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        hint = ""
        if isinstance(exc, ImportError) and (exc.name or "").startswith("panther_"):
            hint = " (a Panther helper: give --panther-root or KUBETRAIL_PANTHER_ROOT)"
        raise ConfigError(f"{path.name} failed to import: {exc!r}{hint}", origin) from exc
    return module


_ROOTS: dict[Path, PantherRoot] = {}


def panther_root(path: Path | str | None) -> PantherRoot | None:
    """The PantherRoot for a directory (one per directory per process), or None."""
    if path is None or str(path) == "":
        return None
    resolved = Path(path).resolve()
    with _ACTIVE:
        if resolved not in _ROOTS:
            _ROOTS[resolved] = PantherRoot(Path(path))
        return _ROOTS[resolved]
