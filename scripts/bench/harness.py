"""How the per-invocation benchmark runs each cloud's REAL entrypoint: the function module is
loaded as its runtime loads it, and either its Components are built here (in-memory stores: the
same shape as its settings' `build`, with SQLite `:memory:` dedup, a publisher and a dead-letter
sink that serialize and keep nothing) or its own `components()` builds them from settings that
point at the emulators. Either way the entrypoint's `components()` is wrapped so the pipeline's
report of every delivery is observed (records, matches, findings, failures): a run whose records
do not add up is reported, not timed silently.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from kubetrail import record

ROOT = Path(__file__).resolve().parents[2]
Entry = Callable[[Any], Any]


class NullPublisher:
    """Serializes each finding as the cloud publishers do, then drops it."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts

    def publish(self, findings: Sequence[Any]) -> list[Any]:
        from kubetrail.publish.base import PublishResult

        self.counts["publish_requests"] += 1
        for finding in findings:
            finding.to_json()
        return [PublishResult(f.id) for f in findings]


class NullDeadLetters:
    """Builds each dead-letter document as the cloud sinks do, then drops it."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts

    def send(self, failures: Sequence[Any]) -> None:
        import orjson  # (here: a cold start times the function's own imports, not the harness's)

        from kubetrail.deadletter.base import dead_letter_document

        for failure in failures:
            orjson.dumps(dead_letter_document(failure))
        self.counts["dead_letters"] += len(failures)


class CountingStore:
    """A dedup store that counts the calls made to it (each is one request in the cloud)."""

    def __init__(self, inner: Any, counts: Counter[str]) -> None:
        self._inner, self._counts = inner, counts

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._counts[f"dedup_{name}"] += 1
            return attr(*args, **kwargs)
        return call


class ObservedPipeline:
    """The function's pipeline, unchanged, with each batch report's counters kept."""

    def __init__(self, inner: Any, counts: Counter[str]) -> None:
        self._inner, self._counts = inner, counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def process(self, outcomes: Any) -> Any:
        report = self._inner.process(outcomes)
        published = getattr(report, "findings", None)
        failed = getattr(report, "failed", None)
        self._counts["records"] += report.records
        self._counts["matches"] += report.matches
        self._counts["findings"] += len(report.published) if published is None else published
        self._counts["failed"] += len(report.failures) if failed is None else failed
        return report


_LOADS = itertools.count()  # a fresh module name per load


def _load(name: str, path: Path) -> ModuleType:
    """A fresh instance of a function module (its cached components start empty)."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    for cached in ("aws_settings", "azure_settings", "gcp_settings"):
        sys.modules.pop(cached, None)
    spec = importlib.util.spec_from_file_location(f"{name}_{next(_LOADS)}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_entry(cloud: str) -> tuple[ModuleType, Entry]:
    """The cloud's function module and a one-argument call of its entrypoint, made the way the
    platform makes it."""
    if cloud == "aws":
        from kubetrail.local.aws import LocalContext

        module = _load("handler", ROOT / "functions" / "aws" / "handler.py")
        return module, lambda event: module.lambda_handler(event, LocalContext())
    if cloud == "azure":
        module = _load("function_app", ROOT / "functions" / "azure" / "function_app.py")
        user_function = module.kubetrail_audit.build().get_user_function()
        return module, user_function
    if cloud == "gcp":
        module = _load("main", ROOT / "functions" / "gcp" / "main.py")
        return module, module.handle
    raise ValueError(f"unknown cloud {cloud!r}")


def components_of(module: ModuleType, **parts: Any) -> Any:
    """The module's own Components dataclass, filled by field name (fields it lacks are
    ignored; fields with defaults keep them)."""
    names = {f.name for f in record.fields(module.Components)}
    return module.Components(**{k: v for k, v in parts.items() if k in names})


def in_memory(module: ModuleType, rules: Any, counts: Counter[str]) -> None:
    """Inject Components with in-memory stores, built like the settings' `build`."""
    from kubetrail.dedup.sqlite import SqliteDedupStore
    from kubetrail.pipeline import Pipeline

    store = CountingStore(SqliteDedupStore(":memory:"), counts)
    pipeline = ObservedPipeline(Pipeline(rules, store, NullPublisher(counts)), counts)
    parts = components_of(module, pipeline=pipeline, dedup=store,
                          deadletter=NullDeadLetters(counts))
    module.components = lambda: parts


def from_settings(module: ModuleType, counts: Counter[str]) -> None:
    """Fresh Components from the module's own settings and `build` (what its `components()`
    does once per instance), with its pipeline observed."""
    real = module.build(module.Settings.from_env())
    real.pipeline.dedup = CountingStore(real.pipeline.dedup, counts)
    parts = record.replace(real, pipeline=ObservedPipeline(real.pipeline, counts))
    module.components = lambda: parts
