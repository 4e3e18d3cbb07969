"""The `kubetrail` command: `scan` files, `test` rules, `local invoke` a cloud function."""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kubetrail.cliargs import Parser, non_empty, non_empty_path, positive_int, safe
from kubetrail.errors import ConfigError, KubetrailError

if TYPE_CHECKING:
    from kubetrail.publish.base import Publisher
    from kubetrail.rules.engine import RuleError, RuleSet
    from kubetrail.rules.prefilter import Prefilter
    from kubetrail.sources.base import Evaluated, Failure, Outcome

CLOUDS = ("aws", "azure", "gcp")


def _print_failure(err: TextIO) -> Callable[[Failure], None]:
    def show(failure: Failure) -> None:
        err.write(f"kubetrail: {safe(str(failure.origin))}: failed: {safe(failure.reason)}\n")
    return show


def _print_rule_error(err: TextIO) -> Callable[[RuleError], None]:
    def show(e: RuleError) -> None:
        where = f"{safe(str(e.origin))}: " if e.origin else ""
        err.write(f"kubetrail: {where}rule {safe(e.rule_id)} {safe(e.function)}() raised "
                  f"{safe(e.message)}\n")
    return show


def _panther_root(args: argparse.Namespace) -> object:
    """--panther-root, else KUBETRAIL_PANTHER_ROOT, as a PantherRoot (or None)."""
    path = args.panther_root or os.environ.get("KUBETRAIL_PANTHER_ROOT") or None
    if path is None:  # kubetrail.panther is imported only when a root is given
        return None
    from kubetrail.panther.helpers import panther_root

    return panther_root(path)


def _publisher(fmt: str, out: TextIO) -> Publisher:
    """The findings' rendering on stdout: a table for a person at a terminal (`auto` there),
    JSON lines for pipes and files, or OCSF Detection Findings as JSON lines."""
    from kubetrail.publish.stdout import StdoutPublisher

    tty = _isatty(out)
    if fmt == "table" or (fmt == "auto" and tty):
        from kubetrail.publish.table import TablePublisher

        return TablePublisher(out, color=tty)
    out.flush()
    if fmt == "ocsf":
        from kubetrail.publish.formats import OcsfPublisher

        return OcsfPublisher(StdoutPublisher(out.buffer))
    return StdoutPublisher(out.buffer)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _scan_rules(args: argparse.Namespace, err: TextIO) -> tuple[RuleSet, Prefilter | None]:
    """The rules `scan` evaluates and the prefilter it reads with (None: --no-prefilter)."""
    from kubetrail.rules import RuleSet
    from kubetrail.rules.config import configured_rules
    from kubetrail.rules.loader import load_rule_set

    # --no-prefilter is the reference run: Panther rules lose the side file's Requires too.
    # --rules replaces the bundled pack unless --with-bundled-rules keeps it (then a rule with a
    # bundled rule's RuleID replaces that rule, with a note).
    bundled = args.with_bundled_rules or not args.rules
    loaded = load_rule_set(args.rules, bundled=bundled, include_disabled=True,
                           panther_root=_panther_root(args),  # type: ignore[arg-type]
                           panther_requires=not args.no_prefilter, err=err)
    rules = RuleSet(configured_rules(loaded, args.config))
    return rules, None if args.no_prefilter else rules.prefilter


def _worker_rules(args: argparse.Namespace) -> tuple[RuleSet, Prefilter | None]:
    """The rules again, in a spawned --jobs worker (notes were already shown by the scan)."""
    import io

    return _scan_rules(args, io.StringIO())


def cmd_scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from kubetrail import jobsettings
    from kubetrail.dedup.local import local_store
    from kubetrail.pipeline import Pipeline
    from kubetrail.progress import maybe_progress
    from kubetrail.sources import read_paths
    from kubetrail.sources.base import Evaluated, Prefiltered

    rules, prefilter = _scan_rules(args, err)
    store = local_store(args.dedup_db)
    published = [0]

    def count(_: object) -> None:
        published[0] += 1

    # Failures and rule errors are printed as they pass and findings written as they are
    # published; the report keeps counters only, so memory does not grow with the input.
    pipeline = Pipeline(rules, store, _publisher(args.format, out), keep_records=False,
                        on_failure=_print_failure(err), on_rule_error=_print_rule_error(err),
                        on_finding=count)
    jobs, chunk_bytes = jobsettings.jobs(args.jobs), jobsettings.chunk_bytes()
    outcomes: Iterable[Outcome | Evaluated]
    more_bytes = None
    if jobs > 1 and jobsettings.any_chunk(args.files, chunk_bytes):
        from kubetrail.jobs import read_by_workers, scan_paths  # (only then: start-up time)

        more_bytes = read_by_workers
        outcomes = scan_paths(args.files, rules, prefilter, max_inflate=args.max_inflate,
                              jobs=jobs, chunk_bytes=chunk_bytes,
                              setup=functools.partial(_worker_rules, args))
    else:
        outcomes = read_paths(args.files, prefilter, max_inflate=args.max_inflate)
    progress = maybe_progress(err, lambda: published[0], more_bytes)
    if progress is not None:  # only when stderr is a terminal
        outcomes = progress.track(
            outcomes, lambda o: o.count if isinstance(o, Prefiltered | Evaluated) else 1)
    try:
        report = pipeline.process(outcomes)
    finally:
        store.close()
        if progress is not None:
            progress.close()
    err.write(f"kubetrail: {report.summary()}\n")
    return 0


def cmd_test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from kubetrail.rules.loader import load_rules
    from kubetrail.rules.testing import run_rule_tests

    passed = failed = 0
    rules = load_rules(args.paths or None, include_disabled=True,
                       panther_root=_panther_root(args))  # type: ignore[arg-type]
    for r in run_rule_tests(rules):
        status = "PASS" if r.passed else "FAIL"
        out.write(f"{status} {safe(r.rule_id)}: {safe(r.name)}\n")
        if r.detail:
            out.write("".join(f"    {safe(line)}\n" for line in r.detail.splitlines()))
        passed += r.passed
        failed += not r.passed
    out.write(f"{passed} passed, {failed} failed\n")
    return 1 if failed or not passed else 0


def cmd_rules_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from kubetrail.rules.listing import render_rules

    out.write(render_rules(args.rules or None, args.config, args.format))
    return 0


def cmd_local_invoke(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    module = importlib.import_module(f"kubetrail.local.{args.cloud}")
    status: int = module.invoke(list(args.files), out, err)
    return status


def _version() -> str:
    from kubetrail import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="kubetrail", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kubetrail {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="detect on audit log files; findings as JSON lines")
    scan.add_argument("files", nargs="+", type=non_empty_path, metavar="FILE",
                      help="JSON lines, a JSON document or array, optionally gzip; - for stdin")
    scan.add_argument("--dedup-db", default=":memory:", type=non_empty, metavar="PATH",
                      help="SQLite file keeping dedup windows across scans (default: in memory)")
    scan.add_argument("--rules", action="append", type=non_empty_path, metavar="PATH",
                      help="rule file or directory (repeatable; default: the bundled packs)")
    scan.add_argument("--with-bundled-rules", action="store_true",
                      help="load the bundled packs too; a --rules rule with a bundled rule's "
                           "RuleID replaces it")
    scan.add_argument("--panther-root", type=non_empty_path, metavar="DIR",
                      help="panther-analysis checkout for Panther rules' helpers and data models "
                           "(default: $KUBETRAIL_PANTHER_ROOT)")
    scan.add_argument("--format", choices=("auto", "json", "table", "ocsf"), default="auto",
                      help="auto (default): a table on a terminal, JSON lines otherwise; json: "
                      "kubetrail finding documents; ocsf: OCSF Detection Findings; table")
    scan.add_argument("--max-inflate", type=positive_int, default=64 * 1024 * 1024, metavar="BYTES",
                      help="largest decompressed size of one gzip payload (default 64 MiB)")
    scan.add_argument("--no-prefilter", action="store_true",
                      help="fully decode every record (slower; same findings)")
    scan.add_argument("--config", type=Path, metavar="FILE",
                      help="rules configuration (YAML): enable/disable, severity, allowlists")
    scan.add_argument("--jobs", type=positive_int, metavar="N",
                      help="processes reading a large JSON lines file (default: $KUBETRAIL_JOBS,"
                           " else the CPUs available, at most 8; 1: this process only)")
    scan.set_defaults(func=cmd_scan)

    rules = sub.add_parser("rules", help="inspect the rules")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    listing = rules_sub.add_parser("list", help="every rule with its settings")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.add_argument("--rules", action="append", type=Path, metavar="PATH",
                         help="rule file or directory (repeatable; default: the bundled packs)")
    listing.add_argument("--config", type=Path, metavar="FILE",
                         help="rules configuration (YAML) to apply before listing")
    listing.set_defaults(func=cmd_rules_list)

    test = sub.add_parser("test", help="run every rule's Tests")
    test.add_argument("paths", nargs="*", type=non_empty_path, metavar="PATH",
                      help="rule files or directories (default: the bundled packs)")
    test.add_argument("--panther-root", type=non_empty_path, metavar="DIR",
                      help="panther-analysis checkout for Panther rules' helpers and data models "
                           "(default: $KUBETRAIL_PANTHER_ROOT)")
    test.set_defaults(func=cmd_test)

    local = sub.add_parser("local", help="run a cloud function locally against emulators")
    local_sub = local.add_subparsers(dest="local_command", required=True)
    invoke = local_sub.add_parser("invoke", help="deliver FILE to the real function")
    invoke.add_argument("cloud", choices=CLOUDS)
    invoke.add_argument("files", nargs="+", type=non_empty_path, metavar="FILE")
    invoke.set_defaults(func=cmd_local_invoke)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr
         ) -> int:
    """Entry point of the console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args, out, err)
    except ConfigError as exc:
        err.write(f"kubetrail: error: {safe(str(exc))}\n")
        return 1
    except KubetrailError as exc:
        err.write(f"kubetrail: {type(exc).__name__}: {safe(str(exc))}\n")
        return 1
    except BrokenPipeError:
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
