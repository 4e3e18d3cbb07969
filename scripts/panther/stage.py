"""Stage extra rule directories and a Panther root into a function package directory, where the
deployed function finds them (kubetrail/rules/deployed.py):

    <package>/kubetrail_rules/<n>_<name>/...   each RULES file or directory (.yml/.yaml/.py)
    <package>/kubetrail_panther/               PANTHER_ROOT's global_helpers/ and data_models/
                                               (.py/.yml) and its license files

    python scripts/panther/stage.py PACKAGE_DIR [--rules PATH]... [--panther-root DIR]

Used by scripts/aws/package.py, scripts/gcp/package.py and `make package-azure`. The rules are
loaded once here, as the function will load them, so a broken rule fails the build, not the
deployment.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE_SUFFIXES = (".yml", ".yaml", ".py")
PANTHER_PARTS = ("global_helpers", "data_models")


def _copy_tree(src: Path, dst: Path) -> int:
    count = 0
    files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
    for path in files:
        if path.suffix not in RULE_SUFFIXES or "__pycache__" in path.parts:
            continue
        target = dst / (path.name if src.is_file() else path.relative_to(src))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        count += 1
    return count


def stage(package: Path, rules: list[Path], panther_root: Path | None) -> int:
    """Copy the extras into `package`; returns the number of files copied."""
    count = 0
    for i, src in enumerate(rules):
        if not src.exists():
            raise SystemExit(f"stage: no such rule file or directory: {src}")
        count += _copy_tree(src, package / "kubetrail_rules" / f"{i}_{src.resolve().name}")
    if panther_root is not None:
        if not (panther_root / "global_helpers").is_dir():
            raise SystemExit(f"stage: {panther_root} has no global_helpers/ (PANTHER_ROOT must "
                             "be a panther-analysis checkout)")
        dst = package / "kubetrail_panther"
        for part in PANTHER_PARTS:
            if (panther_root / part).is_dir():
                count += _copy_tree(panther_root / part, dst / part)
        for lic in sorted(panther_root.glob("LICENSE*")) + sorted(panther_root.glob("NOTICE*")):
            shutil.copy2(lic, dst / lic.name)
            count += 1
    if rules or panther_root is not None:
        check(package)
    return count


def check(package: Path) -> None:
    """Load the staged rules as the deployed function will (bundled + staged)."""
    sys.path.insert(0, str(ROOT / "shared"))
    from kubetrail.rules.deployed import deployed_rules

    rules = deployed_rules(package, env={})
    print(f"stage: {len(rules)} rules load from {package}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", type=Path)
    parser.add_argument("--rules", action="append", type=Path, default=[])
    parser.add_argument("--panther-root", type=Path)
    args = parser.parse_args(argv)
    print(f"stage: {stage(args.package, args.rules, args.panther_root)} files", file=sys.stderr)


if __name__ == "__main__":
    main()
