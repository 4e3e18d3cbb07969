"""A Panther root's global_helpers import by their own names while its files load, each root
sees only its own modules, and nothing is left in sys.modules, sys.path or sys.meta_path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kubetrail.errors import ConfigError
from kubetrail.panther.helpers import PantherRoot
from kubetrail.rules.loader import load_rules
from kubetrail.rules.testing import run_rule_tests
from tests.panther.conftest import write_rule

RULE = """from panther_site_helpers import SITE, site_of


def rule(event):
    return event.get("site") == SITE


def title(event):
    return site_of(event)
"""
TEST = """Tests:
  - Name: own site
    ExpectedResult: true
    Log: {{"p_log_type": "Amazon.EKS.Audit", "kind": "Event", "site": "{site}"}}
"""


def make_root(base: Path, site: str) -> PantherRoot:
    helpers = base / "global_helpers"
    helpers.mkdir(parents=True)
    (helpers / "panther_site_helpers.py").write_text(
        "from panther_names import prefix\n"
        f"SITE = prefix() + {site!r}\n"
        "def site_of(event):\n    return 'site ' + event.get('site')\n")
    (helpers / "panther_names.py").write_text("def prefix():\n    return 'x-'\n")
    return PantherRoot(base)


def test_each_root_imports_its_own_helpers_and_leaves_nothing_behind(tmp_path: Path) -> None:
    path, meta_path, modules = list(sys.path), list(sys.meta_path), set(sys.modules)
    roots = {site: make_root(tmp_path / f"root-{site}", site) for site in ("one", "two")}
    for site, root in roots.items():
        rules_dir = tmp_path / f"rules-{site}"
        rules_dir.mkdir()
        write_rule(rules_dir, f"Site.{site}", RULE, TEST.format(site=f"x-{site}"))
        results = list(run_rule_tests(load_rules([rules_dir], panther_root=root)))
        assert [(r.passed, r.detail) for r in results] == [(True, "")]
    assert sys.path == path and sys.meta_path == meta_path
    assert not {"panther_site_helpers", "panther_names"} & set(sys.modules)
    new = set(sys.modules) - modules
    assert all(m.startswith(("kubetrail.", "unittest", "pkgutil")) for m in new), new


def test_a_module_named_like_a_helper_is_put_back(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sentinel = type(sys)("panther_names")
    monkeypatch.setitem(sys.modules, "panther_names", sentinel)
    root = make_root(tmp_path / "root", "one")
    with root.active():
        import panther_site_helpers  # type: ignore[import-not-found]

        assert panther_site_helpers.SITE == "x-one"
    assert sys.modules["panther_names"] is sentinel


def test_a_missing_helper_names_the_setting(tmp_path: Path) -> None:
    write_rule(tmp_path, "Needs.Helpers", RULE)
    with pytest.raises(ConfigError, match="give --panther-root"):
        load_rules([tmp_path])
    with pytest.raises(ConfigError, match="no global_helpers"):
        PantherRoot(tmp_path)
