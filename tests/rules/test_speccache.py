"""The parsed-YAML cache: hits skip the parse, edits are never served stale, damage is ignored."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kubetrail.rules.loader import BUNDLED_PACKS, load_rules, parse_yaml, rule_files
from kubetrail.rules.speccache import SpecCache, build


def _counting() -> tuple[list[bytes], Any]:
    calls: list[bytes] = []

    def parse(text: bytes) -> Any:
        calls.append(text)
        return parse_yaml(text)
    return calls, parse


def test_a_packaged_cache_serves_every_bundled_rule_without_parsing(tmp_path: Path) -> None:
    files = rule_files([BUNDLED_PACKS])
    assert build(files, parse_yaml, tmp_path / "packaged") == len(files)
    cache = SpecCache(packaged=tmp_path / "packaged", user=tmp_path / "user" / "specs.cache")
    calls, parse = _counting()
    for f in files:
        assert cache.spec(f.read_bytes(), parse) == parse_yaml(f.read_bytes())
    assert calls == []


def test_the_user_cache_remembers_and_an_edit_is_parsed_again(tmp_path: Path) -> None:
    user = tmp_path / "cache" / "specs.cache"
    text = (BUNDLED_PACKS / "kubernetes" / "k8s_daemonset_created.yml").read_bytes()
    calls, parse = _counting()
    first = SpecCache(packaged=None, user=user)
    first.spec(text, parse)
    first.save()
    assert user.exists() and len(calls) == 1
    second = SpecCache(packaged=None, user=user)
    got = second.spec(text, parse)
    assert len(calls) == 1  # served from the file
    got["Severity"] = "changed"  # each read is a fresh object
    assert second.spec(text, parse)["Severity"] != "changed"
    edited = text.replace(b"Severity: Info", b"Severity: LOW")
    assert edited != text
    assert second.spec(edited, parse)["Severity"] == "LOW"
    assert len(calls) == 2


@pytest.mark.parametrize("damage", [b"", b"garbage", b"kubetrail-specs-1\n\x00\x01",
                                    b"kubetrail-specs-1\n[]", b"kubetrail-specs-1\n{\"a\":1}"])
def test_a_damaged_cache_is_ignored(tmp_path: Path, damage: bytes) -> None:
    user = tmp_path / "specs.cache"
    user.write_bytes(damage)
    text = (BUNDLED_PACKS / "kubernetes" / "k8s_daemonset_created.yml").read_bytes()
    calls, parse = _counting()
    assert SpecCache(packaged=user, user=user).spec(text, parse) == parse_yaml(text)
    assert len(calls) == 1


def test_rules_loaded_through_the_cache_equal_rules_parsed_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACKS, pack)
    monkeypatch.setenv("KUBETRAIL_CACHE_DIR", "")
    fresh = load_rules([pack], include_disabled=True)
    monkeypatch.setenv("KUBETRAIL_CACHE_DIR", str(tmp_path / "cache"))
    load_rules([pack], include_disabled=True)  # fills the cache
    cached = load_rules([pack], include_disabled=True)

    def strip(rules: list[Any]) -> list[Any]:
        return [(r.rule_id, r.severity, r.requires, r.tests, r.log_types, r.threshold, r.tags)
                for r in rules]
    assert strip(cached) == strip(fresh)
    yml = pack / "kubernetes" / "k8s_daemonset_created.yml"
    yml.write_text(yml.read_text().replace("DedupPeriodMinutes: 60", "DedupPeriodMinutes: 61"))
    after = {r.rule_id: r for r in load_rules([pack], include_disabled=True)}
    assert after["Kubernetes.DaemonSet.Created"].dedup_period_minutes == 61


def test_a_start_served_by_the_cache_never_imports_yaml(tmp_path: Path) -> None:
    env = {**os.environ, "KUBETRAIL_CACHE_DIR": str(tmp_path)}
    code = ("import sys; from kubetrail.rules import load_rules; load_rules();"
            "print('yaml' in sys.modules)")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_values_json_does_not_hold_exactly_are_parsed_each_time(tmp_path: Path) -> None:
    text = b"RuleID: x\nWhen: 2024-01-01\nKeys: {1: a}\n"
    calls, parse = _counting()
    cache = SpecCache(packaged=None, user=tmp_path / "specs.cache")
    first = cache.spec(text, parse)
    cache.save()
    again = SpecCache(packaged=None, user=tmp_path / "specs.cache").spec(text, parse)
    assert again == first and len(calls) == 2
