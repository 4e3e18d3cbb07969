"""Build the Lambda deployment zip that infra/aws consumes (`make package-aws`).

    python scripts/aws/package.py [--out .build/aws/kubetrail-aws.zip] [--sources-only]

The zip holds, at its root: the handler (`handler.lambda_handler`) and its settings module, the
kubetrail package (rule packs included), and the wheels of functions/aws/requirements.txt built
for the Lambda runtime (python3.12, arm64: `pip install --platform manylinux2014_aarch64
--only-binary=:all: --no-deps`). boto3 comes with the runtime. Entries are sorted and dated
1980-01-01, so the same sources give the same zip and Terraform's source_code_hash only moves
when the code does. Modules are byte-compiled for python3.12 when that interpreter is installed
(see compile_for_lambda). `--sources-only` skips the wheels (a quick build for tests);
`--config FILE` validates a rules configuration and packages it as kubetrail-config.yml;
`--rules` / `--panther-root` add rule directories and a panther-analysis root (its helpers and
data models) to the package (scripts/panther/stage.py); the function loads them at cold start."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: scripts.panther is a namespace package
from scripts.panther.stage import stage as stage_extras  # noqa: E402

FUNCTION = ROOT / "functions" / "aws"
PACKAGE = ROOT / "shared" / "kubetrail"
PYTHON_VERSION = "3.12"
PLATFORM = "manylinux2014_aarch64"
SKIP = {"__pycache__", ".mypy_cache", ".pytest_cache"}


CONFIG_NAME = "kubetrail-config.yml"  # what KUBETRAIL_CONFIG (Terraform: rules_config) names


def stage(target: Path, sources_only: bool, config: Path | None = None,
          rules: list[Path] | None = None, panther_root: Path | None = None) -> None:
    """Copy the function and the package into `target`, then install the bundled wheels."""
    for name in ("handler.py", "aws_settings.py"):
        shutil.copy2(FUNCTION / name, target / name)
    if config is not None:
        shutil.copyfile(config, target / CONFIG_NAME)
    shutil.copytree(PACKAGE, target / "kubetrail",
                    ignore=lambda _d, names: [n for n in names if n in SKIP or n.endswith(".pyc")])
    stage_extras(target, rules or [], panther_root)
    if not sources_only:
        install_wheels(target)
    compile_for_lambda(target)


def install_wheels(target: Path) -> None:
    """functions/aws/requirements.txt, built for the Lambda runtime, without dependencies."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(target), "--platform", PLATFORM, "--implementation", "cp",
         "--python-version", PYTHON_VERSION, "--only-binary=:all:", "--no-deps", "--no-compile",
         "-r", str(FUNCTION / "requirements.txt")],
        check=True)
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def compile_for_lambda(target: Path) -> None:
    """Byte-compile everything with the runtime's Python (3.12) when it is installed here.
    /var/task is read-only, so Lambda cannot cache what it compiles: without these, every cold
    start compiles every module again. `unchecked-hash` pycs stay valid whatever the file times
    after unzipping, and keep the zip reproducible."""
    python = runtime_python()
    if python is None:
        print(f"package: python{PYTHON_VERSION} not found; the zip ships sources only "
              "(Lambda compiles them at each cold start)", file=sys.stderr)
        return
    subprocess.run([python, "-m", "compileall", "-q", "--invalidation-mode",
                    "unchecked-hash", "-s", str(target), "-p", "/var/task", str(target)],
                   check=True)  # file names as Lambda sees them (/var/task), not our temp dir


def runtime_python() -> str | None:
    """An interpreter of the runtime's version: $KUBETRAIL_LAMBDA_PYTHON, python3.12 on PATH,
    or pyenv's; each is tried, since a pyenv shim may exist for a version that is not active."""
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{PYTHON_VERSION}*/bin/python3"))
    candidates = [os.environ.get("KUBETRAIL_LAMBDA_PYTHON"),
                  shutil.which(f"python{PYTHON_VERSION}"), *map(str, pyenv)]
    want = "({}, {})".format(*PYTHON_VERSION.split("."))
    for python in filter(None, candidates):
        probe = subprocess.run([python, "-c", "import sys; print(tuple(sys.version_info[:2]))"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == want:
            return python
    return None


def write_zip(source: Path, out: Path) -> int:
    """A reproducible zip of `source`; returns the number of files."""
    files = sorted(p for p in source.rglob("*") if p.is_file())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    tmp.replace(out)
    return len(files)


def build(out: Path, sources_only: bool = False, config: Path | None = None,
          rules: list[Path] | None = None, panther_root: Path | None = None) -> int:
    """Stage and zip; returns the number of files in the zip."""
    with tempfile.TemporaryDirectory(prefix="kubetrail-aws-") as tmp:
        staged = Path(tmp)
        stage(staged, sources_only, config, rules, panther_root)
        return write_zip(staged, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".build" / "aws" / "kubetrail-aws.zip")
    parser.add_argument("--sources-only", action="store_true")
    parser.add_argument("--config", type=Path, default=None,
                        help=f"rules configuration to package as {CONFIG_NAME} (validated first)")
    parser.add_argument("--rules", action="append", type=Path, default=[])
    parser.add_argument("--panther-root", type=Path)
    args = parser.parse_args(argv)
    if args.config is not None:  # against the rules the function will load
        from kubetrail.panther.helpers import panther_root
        from kubetrail.rules.config import load_config
        from kubetrail.rules.loader import load_rule_set

        load_config(args.config).apply(load_rule_set(
            args.rules, include_disabled=True, panther_root=panther_root(args.panther_root)))
    count = build(args.out, args.sources_only, args.config, args.rules, args.panther_root)
    print(f"{args.out}: {count} files, {args.out.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
