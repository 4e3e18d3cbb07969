"""Build the Cloud Function source zip (`make package-gcp`): main.py, gcp_settings.py and
requirements.txt at the root, the kubetrail package vendored beside them, and the extra rules and
Panther root given with --rules / --panther-root (scripts/panther/stage.py). Entries are sorted and
time-stamped 1980-01-01, so the same sources give the same bytes (and Terraform's object name,
derived from the zip's MD5, only changes when the code does). An optional second argument is a
rules configuration, validated and packaged as kubetrail-config.yml."""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: scripts.panther is a namespace package
from scripts.panther.stage import stage as stage_extras  # noqa: E402

FUNCTION = ROOT / "functions" / "gcp"
PACKAGE = ROOT / "shared" / "kubetrail"


CONFIG_NAME = "kubetrail-config.yml"  # what KUBETRAIL_CONFIG (Terraform: rules_config) names


def entries(config: Path | None = None, extras: Path | None = None) -> list[tuple[str, Path]]:
    files = [(p.name, p) for p in (FUNCTION / n for n in ("main.py", "gcp_settings.py",
                                                             "requirements.txt"))]
    if config is not None:
        files.append((CONFIG_NAME, config))
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append((f"kubetrail/{path.relative_to(PACKAGE).as_posix()}", path))
    if extras is not None:
        files.extend((p.relative_to(extras).as_posix(), p)
                     for p in sorted(extras.rglob("*")) if p.is_file())
    return files


def build(out: Path, config: Path | None = None, rules: list[Path] | None = None,
          panther_root: Path | None = None) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kubetrail-gcp-") as tmp:
        extras = Path(tmp)
        stage_extras(extras, rules or [], panther_root)
        return _write(out, entries(config, extras))


def _write(out: Path, items: list[tuple[str, Path]]) -> int:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in items:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return len(items)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=ROOT / ".build" / "kubetrail-gcp.zip")
    parser.add_argument("config", type=Path, nargs="?", default=None)
    parser.add_argument("--rules", action="append", type=Path, default=[])
    parser.add_argument("--panther-root", type=Path)
    args = parser.parse_args(sys.argv[1:])
    if args.config is not None:  # validated before it ships: a bad file fails here, not at start
        from kubetrail.panther.helpers import panther_root
        from kubetrail.rules.config import load_config
        from kubetrail.rules.loader import load_rule_set

        load_config(args.config).apply(load_rule_set(
            args.rules, include_disabled=True, panther_root=panther_root(args.panther_root)))
    built = build(args.out, args.config, args.rules, args.panther_root)
    print(f"gcp: {args.out} ({built} files)")
