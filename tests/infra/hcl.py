"""What the infrastructure tests share: reading a Terraform module's HCL without its provider
(python-hcl2), `terraform fmt`, and checkov's report."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"


def unquote(value: Any) -> Any:
    """python-hcl2 keeps HCL's quotes on keys and string literals: drop them (and its
    bookkeeping keys)."""
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load(directory: Path) -> dict[str, list[Any]]:
    """Every top-level block of the directory's .tf files, by kind."""
    blocks: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as fh:
            for kind, items in unquote(hcl2.load(fh)).items():
                blocks.setdefault(kind, []).extend(items)
    return blocks


def resources(blocks: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """`type.name` → body."""
    return {f"{rtype}.{name}": body for item in blocks["resource"]
            for rtype, named in item.items() for name, body in named.items()}


def source_text(directory: Path) -> str:
    """All .tf text without comments."""
    text = "\n".join(p.read_text() for p in sorted(directory.glob("*.tf")))
    return re.sub(r"(?m)^\s*#.*$|\s#[^\"\n]*$", "", text)


def assert_fmt_clean(*paths: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed")
    result = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", *map(str, paths)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@dataclass(frozen=True)
class Checkov:
    failed: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    passed: int


def checkov(module: Path) -> Checkov:
    """checkov's verdict on a module (installed by `make tools`)."""
    if not CHECKOV.exists():
        pytest.skip("checkov is installed by `make tools`")
    result = subprocess.run(
        [str(CHECKOV), "-d", str(module), "--framework", "terraform", "--skip-download",
         "-o", "json"], capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    assert len(skipped) == sum(r["summary"]["skipped"] for r in reports)
    return Checkov([c for r in reports for c in r["results"]["failed_checks"]], skipped,
                   sum(r["summary"]["passed"] for r in reports))


def assert_no_unexplained_failure(result: Checkov, *, min_reason: int = 20) -> None:
    """No failed check; every skip carries a written reason."""
    assert result.failed == [], [(c["check_id"], c["resource"]) for c in result.failed]
    assert all(len(c["check_result"].get("suppress_comment", "")) > min_reason
               for c in result.skipped)


def assert_references_declared(module: Path, provider_prefix: str) -> None:
    """Every var./local./resource reference of the module is declared; every variable is used
    and described."""
    blocks, text = load(module), source_text(module)
    variables = {name for item in blocks["variable"] for name in item}
    used_vars = set(re.findall(r"\bvar\.([a-z0-9_]+)", text))
    assert used_vars <= variables, used_vars - variables
    assert variables <= used_vars, f"declared but unused: {variables - used_vars}"
    locals_ = {name for item in blocks.get("locals", []) for name in item}
    assert set(re.findall(r"\blocal\.([a-z0-9_]+)", text)) <= locals_
    declared = set(resources(blocks)) | {
        f"data.{t}.{n}" for item in blocks.get("data", []) for t, named in item.items()
        for n in named}
    refs = set(re.findall(rf"\b((?:data\.)?{provider_prefix}_[a-z0-9_]+\.[a-z0-9_]+)", text))
    assert refs <= declared, refs - declared
    for item in blocks["variable"]:
        for name, body in item.items():
            assert body.get("description"), f"variable {name} has no description"


def example_module_call(example: Path, module: Path) -> dict[str, Any]:
    """The example's one module call, checked: it points at the module, passes only declared
    inputs and every required one, and uses only its own declared variables."""
    blocks, module_blocks = load(example), load(module)
    [call] = [body for item in blocks["module"] for body in item.values()]
    assert (example / call["source"]).resolve() == module
    module_vars = {name: body for item in module_blocks["variable"] for name, body in item.items()}
    inputs = set(call) - {"source"}
    assert inputs <= set(module_vars), inputs - set(module_vars)
    required = {name for name, body in module_vars.items() if "default" not in body}
    assert required <= inputs, required - inputs
    example_vars = {name for item in blocks["variable"] for name in item}
    assert set(re.findall(r"\bvar\.([a-z0-9_]+)", source_text(example))) <= example_vars
    return call
