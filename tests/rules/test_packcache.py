"""The pack cache: a load it serves gives the very rules (and findings) of a load that parses and
compiles; an edited YAML or Python file, a damaged or foreign cache file, an unwritable cache
directory only cost the parse again, never a wrong or failed load."""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from kubetrail.rules.loader import BUNDLED_PACKS, Rule, load_rules
from kubetrail.rules.packcache import _FORMAT, PackCache, build
from kubetrail.rules.testing import run_rule_tests

ROOT = Path(__file__).resolve().parents[2]
SEED = "k8s_daemonset_created"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A copy of the bundled packs (a set of rule paths the packaged cache does not serve)."""
    copy = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACKS, copy, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return copy


class Counting(PackCache):
    """A PackCache that counts the rule files it served."""

    hits = 0

    def lookup(self, text: bytes, yml: Path) -> Any:
        hit = super().lookup(text, yml)
        self.hits += hit is not None
        return hit


def load(pack: Path, cache: Path) -> tuple[list[Rule], int]:
    counting = Counting([pack], bundled=False, user=cache)
    rules = load_rules([pack], include_disabled=True, pack_cache=counting)
    counting.save()
    return rules, counting.hits


def fields(rules: list[Rule]) -> list[tuple[Any, ...]]:
    """Every field but the functions (compared by what they do: tests below)."""
    return [(r.rule_id, r.display_name, r.enabled, r.log_types, r.severity, r.description,
             r.runbook, r.reference, r.mitre, r.dedup_period_minutes, r.threshold,
             r.summary_attributes, r.tags, tuple(r.tests), r.requires, r.source, r.distinct,
             r.requires_log_types, [f is None for f in (r.title, r.dedup, r.alert_context,
                                                        r.dynamic_severity)])
            for r in rules]


def test_a_second_load_is_served_whole_and_equals_a_fresh_one(pack: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "rules.cache"
    fresh, hits = load(pack, cache)
    assert hits == 0 and cache.exists()
    cached, hits = load(pack, cache)
    assert hits == len(fresh) == 33
    assert fields(cached) == fields(fresh)
    verdicts = [(t.rule_id, t.name, t.passed) for t in run_rule_tests(cached)]
    assert verdicts == [(t.rule_id, t.name, t.passed) for t in run_rule_tests(fresh)]
    assert len(verdicts) > 100 and all(passed for *_, passed in verdicts)
    by_id = {r.rule_id: r for r in cached}
    # the code ran from the cache names the rule file where it is now (tracebacks)
    seed = by_id["Kubernetes.DaemonSet.Created"]
    assert seed.rule.__code__.co_filename == str(pack / "kubernetes" / f"{SEED}.py")


def test_a_moved_pack_is_served_and_its_code_names_the_new_place(pack: Path,
                                                                  tmp_path: Path) -> None:
    cache = tmp_path / "rules.cache"
    load(pack, cache)
    moved = tmp_path / "elsewhere"
    pack.rename(moved)
    rules, hits = load(moved, cache)
    assert hits == 33
    seed = next(r for r in rules if r.rule_id == "Kubernetes.DaemonSet.Created")
    assert seed.rule.__code__.co_filename == str(moved / "kubernetes" / f"{SEED}.py")
    assert seed.source == moved / "kubernetes" / f"{SEED}.yml"


@pytest.mark.parametrize("edit", ["yml", "py"])
def test_an_edited_rule_file_is_loaded_afresh(pack: Path, tmp_path: Path, edit: str) -> None:
    cache = tmp_path / "rules.cache"
    load(pack, cache)
    base = pack / "kubernetes" / SEED
    if edit == "yml":
        yml = base.with_suffix(".yml")
        yml.write_text(yml.read_text().replace("DedupPeriodMinutes: 60",
                                               "DedupPeriodMinutes: 61"))
    else:
        py = base.with_suffix(".py")
        py.write_text(py.read_text() + "\n\ndef title(event):\n    return 'edited'\n")
    rules, hits = load(pack, cache)
    assert hits == 32
    seed = next(r for r in rules if r.rule_id == "Kubernetes.DaemonSet.Created")
    if edit == "yml":
        assert seed.dedup_period_minutes == 61
    else:
        assert seed.title is not None and seed.title(None) == "edited"
    _, hits = load(pack, cache)  # the edit is in the cache now
    assert hits == 33


@pytest.mark.parametrize("damage", [b"", b"garbage", _FORMAT, _FORMAT + b"\x00\x01\x02",
                                    _FORMAT + marshal.dumps(("0.1.0", b"x", [])),
                                    _FORMAT + marshal.dumps(("0.0.0-other", b"x", {}))])
def test_a_damaged_or_foreign_cache_file_is_rebuilt(pack: Path, tmp_path: Path,
                                                    damage: bytes) -> None:
    cache = tmp_path / "rules.cache"
    fresh, _ = load(pack, cache)
    cache.write_bytes(damage)
    rules, hits = load(pack, cache)
    assert hits == 0 and fields(rules) == fields(fresh)
    _, hits = load(pack, cache)  # rewritten whole
    assert hits == 33


def test_a_damaged_entry_is_loaded_afresh(pack: Path, tmp_path: Path) -> None:
    cache = tmp_path / "rules.cache"
    fresh, _ = load(pack, cache)
    version, magic, entries = marshal.loads(cache.read_bytes()[len(_FORMAT):])
    first, second, third = list(entries)[:3]
    py_name, py_digest, spec, tests, _code = entries[first]
    entries[first] = (py_name, py_digest, spec, tests, b"\xff not code")
    entries[second] = ("a", "wrong", "shape")
    entries[third] = (*entries[third][:2], ["not", "a", "spec"], *entries[third][3:])
    cache.write_bytes(_FORMAT + marshal.dumps((version, magic, entries)))
    rules, hits = load(pack, cache)
    assert hits == 30 and fields(rules) == fields(fresh)


def test_damaged_tests_in_a_served_entry_are_read_from_the_rule_file(pack: Path,
                                                                    tmp_path: Path) -> None:
    cache = tmp_path / "rules.cache"
    fresh, _ = load(pack, cache)
    version, magic, entries = marshal.loads(cache.read_bytes()[len(_FORMAT):])
    entries = {k: (*e[:3], b"\xff damaged", e[4]) for k, e in entries.items()}
    cache.write_bytes(_FORMAT + marshal.dumps((version, magic, entries)))
    rules, hits = load(pack, cache)
    assert hits == 33 and fields(rules) == fields(fresh)


def test_code_of_another_python_is_not_run(pack: Path, tmp_path: Path) -> None:
    cache = tmp_path / "rules.cache"
    fresh, _ = load(pack, cache)
    version, _magic, entries = marshal.loads(cache.read_bytes()[len(_FORMAT):])
    bad = marshal.dumps(compile("raise SystemExit('foreign code ran')", "x", "exec"))
    entries = {k: (*e[:4], bad) for k, e in entries.items()}
    cache.write_bytes(_FORMAT + marshal.dumps((version, b"\x00\x00\r\n", entries)))
    rules, hits = load(pack, cache)  # a user file of another Python: not used at all
    assert hits == 0 and fields(rules) == fields(fresh)
    # a packaged file of another Python: its specs serve, its code does not
    packaged = tmp_path / "packaged.cache"
    build([pack], packaged)
    version, _magic, entries = marshal.loads(packaged.read_bytes()[len(_FORMAT):])
    entries = {k: (*e[:4], bad) for k, e in entries.items()}
    packaged.write_bytes(_FORMAT + marshal.dumps((version, b"\x00\x00\r\n", entries)))
    counting = Counting([pack], bundled=True, packaged=packaged, user=tmp_path / "user.cache")
    rules = load_rules([pack], include_disabled=True, pack_cache=counting)
    assert counting.hits == 33 and fields(rules) == fields(fresh)


def test_a_user_cache_others_may_write_is_ignored(pack: Path, tmp_path: Path) -> None:
    cache = tmp_path / "rules.cache"
    load(pack, cache)
    cache.chmod(0o666)
    _, hits = load(pack, cache)
    assert hits == 0


def test_an_unwritable_cache_directory_only_costs_time(pack: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    cache = blocker / "sub" / "rules.cache"  # mkdir fails, whoever runs the test
    fresh, hits = load(pack, cache)
    again, hits_again = load(pack, cache)
    assert hits == hits_again == 0 and fields(again) == fields(fresh)
    assert not list(tmp_path.glob("**/*.tmp"))


def findings(env: dict[str, str], *args: str) -> list[tuple[str, ...]]:
    samples = sorted(str(p) for p in (ROOT / "samples").glob("*.json*"))
    out = subprocess.run([sys.executable, "-m", "kubetrail.cli", "scan", "--format", "json",
                          *args, *samples], env=env, capture_output=True, check=True, cwd=ROOT)
    return sorted((d["id"], d["rule_id"], d["title"], d["severity"])
                  for d in map(orjson.loads, out.stdout.splitlines()))


def test_scans_find_the_same_with_and_without_the_cache(pack: Path, tmp_path: Path) -> None:
    off = {**os.environ, "KUBETRAIL_CACHE_DIR": ""}
    on = {**os.environ, "KUBETRAIL_CACHE_DIR": str(tmp_path / "cache")}
    uncached = findings(off, "--rules", str(pack))
    assert uncached  # the samples do match some rules
    assert findings(on, "--rules", str(pack)) == uncached  # fills the cache
    assert list((tmp_path / "cache").glob("rules-*.cache"))
    assert findings(on, "--rules", str(pack)) == uncached  # served by it
    assert findings(on) == uncached  # the bundled packs, by the packaged cache when built


def test_cache_files_unused_for_a_month_are_removed_by_the_next_write(pack: Path,
                                                                        tmp_path: Path) -> None:
    home = tmp_path / "cache"
    home.mkdir()
    month = 31 * 86_400
    old, recent, other = home / "rules-0a.cache", home / "rules-0b.cache", home / "specs.cache"
    died = home / "rules-0c.cache.4242.tmp"
    for path in (old, recent, other, died):
        path.write_bytes(b"x")
    for path in (old, other, died):
        os.utime(path, (os.path.getmtime(path) - month,) * 2)
    used = home / "rules-0d.cache"
    load(pack, used)  # a miss: writes its own file, prunes the stale ones
    assert sorted(p.name for p in home.iterdir()) == sorted(
        [recent.name, other.name, used.name])
    load(pack, home / "rules-0e.cache")  # nothing recent is touched
    assert recent.exists() and used.exists()


def test_a_cache_file_in_use_is_not_stale(pack: Path, tmp_path: Path) -> None:
    cache = tmp_path / "rules-0a.cache"
    load(pack, cache)
    long_ago = os.path.getmtime(cache) - 40 * 86_400
    os.utime(cache, (long_ago, long_ago))
    _, hits = load(pack, cache)  # served whole: not rewritten, but its time is renewed
    assert hits == 33 and os.path.getmtime(cache) > long_ago + 39 * 86_400
    load(pack, tmp_path / "rules-0b.cache")
    assert cache.exists()
