"""Build the Cloud Function source zip (`make package-gcp`): main.py, gcp_settings.py and
requirements.txt at the root, the kubetrail package vendored beside them. Entries are sorted and
time-stamped 1980-01-01, so the same sources give the same bytes (and Terraform's object name,
derived from the zip's MD5, only changes when the code does). An optional second argument is a
rules configuration, validated and packaged as kubetrail-config.yml."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = ROOT / "functions" / "gcp"
PACKAGE = ROOT / "shared" / "kubetrail"


CONFIG_NAME = "kubetrail-config.yml"  # what KUBETRAIL_CONFIG (Terraform: rules_config) names


def entries(config: Path | None = None) -> list[tuple[str, Path]]:
    files = [(p.name, p) for p in (FUNCTION / n for n in ("main.py", "gcp_settings.py",
                                                             "requirements.txt"))]
    if config is not None:
        files.append((CONFIG_NAME, config))
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append((f"kubetrail/{path.relative_to(PACKAGE).as_posix()}", path))
    return files


def build(out: Path, config: Path | None = None) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    items = entries(config)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in items:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return len(items)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".build" / "kubetrail-gcp.zip")
    config = Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
    if config is not None:  # validated before it ships: a bad file must fail here, not at start
        from kubetrail.rules.config import load_config
        from kubetrail.rules.loader import load_rules

        load_config(config).apply(load_rules(include_disabled=True))
    print(f"gcp: {target} ({build(target, config)} files)")
