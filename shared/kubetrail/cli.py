"""The `kubetrail` command: `scan` files, `test` rules, `local invoke` a cloud function."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from kubetrail.errors import ConfigError, KubetrailError
from kubetrail.sources.base import Failure, Outcome

CLOUDS = ("aws", "azure", "gcp")


def safe(text: str, limit: int = 500) -> str:
    """Attacker-controlled text for a terminal: control characters escaped, length bounded."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return out + ("…" if len(text) > limit else "")


def _report_failures(outcomes: Iterable[Outcome], err: TextIO) -> Iterator[Outcome]:
    """Print each failed record as it passes; keep its reason and origin, drop its raw bytes (the
    CLI prints, it does not dead-letter), so memory stays flat on files full of junk."""
    for outcome in outcomes:
        if isinstance(outcome, Failure):
            err.write(f"kubetrail: {safe(str(outcome.origin))}: failed: {safe(outcome.reason)}\n")
            outcome = replace(outcome, raw=b"")
        yield outcome


def cmd_scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from kubetrail.dedup.sqlite import SqliteDedupStore
    from kubetrail.pipeline import Pipeline
    from kubetrail.publish.stdout import StdoutPublisher
    from kubetrail.rules import RuleSet, load_rules
    from kubetrail.rules.config import configured_rules
    from kubetrail.sources import read_paths

    rules = RuleSet(configured_rules(load_rules(args.rules or None, include_disabled=True),
                                     args.config))
    prefilter = None if args.no_prefilter else rules.prefilter
    store = SqliteDedupStore(args.dedup_db)
    pipeline = Pipeline(rules, store, StdoutPublisher(out.buffer))
    outcomes = read_paths(args.files, prefilter, max_inflate=args.max_inflate)
    try:
        report = pipeline.process(_report_failures(outcomes, err))
    finally:
        store.close()
    for e in report.rule_errors:
        where = f"{safe(str(e.origin))}: " if e.origin else ""
        err.write(f"kubetrail: {where}rule {e.rule_id} {e.function}() raised {safe(e.message)}\n")
    err.write(f"kubetrail: {report.summary()}\n")
    return 0


def cmd_test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from kubetrail.rules.loader import load_rules
    from kubetrail.rules.testing import run_rule_tests

    passed = failed = 0
    for r in run_rule_tests(load_rules(args.paths or None, include_disabled=True)):
        status = "PASS" if r.passed else "FAIL"
        out.write(f"{status} {r.rule_id}: {r.name}" + (f" — {r.detail}" if r.detail else "") + "\n")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubetrail", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="detect on audit log files; findings as JSON lines")
    scan.add_argument("files", nargs="+", type=Path, metavar="FILE",
                      help="JSON lines, a JSON document or array, optionally gzip; - for stdin")
    scan.add_argument("--dedup-db", default=":memory:", metavar="PATH",
                      help="SQLite file keeping dedup windows across scans (default: in memory)")
    scan.add_argument("--rules", action="append", type=Path, metavar="PATH",
                      help="rule file or directory (repeatable; default: the bundled packs)")
    scan.add_argument("--max-inflate", type=int, default=64 * 1024 * 1024, metavar="BYTES",
                      help="largest decompressed size of one gzip payload (default 64 MiB)")
    scan.add_argument("--no-prefilter", action="store_true",
                      help="fully decode every record (slower; same findings)")
    scan.add_argument("--config", type=Path, metavar="FILE",
                      help="rules configuration (YAML): enable/disable, severity, allowlists")
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
    test.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    test.set_defaults(func=cmd_test)

    local = sub.add_parser("local", help="run a cloud function locally against emulators")
    local_sub = local.add_subparsers(dest="local_command", required=True)
    invoke = local_sub.add_parser("invoke", help="deliver FILE to the real function")
    invoke.add_argument("cloud", choices=CLOUDS)
    invoke.add_argument("files", nargs="+", type=Path, metavar="FILE")
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
