"""`kubetrail scan` starts without what it does not use: PyYAML (the rule caches hold the parsed
YAML), kubetrail.panther (no --panther-root), hashlib and its OpenSSL (no finding to hash yet),
shutil with bz2 and lzma (argparse's formatter is sized without it), threading (the in-memory
dedup store's lock is _thread's), and before the first record msgspec, orjson and the decoders
(with them dataclasses, inspect and uuid): the whole pack is loaded all the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NOT_AT_START = ("yaml", "kubetrail.panther", "hashlib", "_hashlib", "shutil", "bz2", "lzma",
                "secrets", "random", "threading")
# What the first record brings: the JSON parsers and the decoders.
FIRST_RECORD = ("msgspec", "orjson", "kubetrail.sources.detect", "kubetrail.sources.jsonlines",
                "kubetrail.rules.lightevent")
NOT_BEFORE_A_RECORD = ("dataclasses", "inspect", "uuid", "platform", "typing_extensions")
# A record some rule of the bundled pack matches (TokenCreated: a service account token made).
RECORD = (b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1",'
          b'"stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns/serviceaccounts/sa/'
          b'token","verb":"create","user":{"username":"alice"},"sourceIPs":["203.0.113.9"],'
          b'"objectRef":{"resource":"serviceaccounts","namespace":"ns","name":"sa",'
          b'"apiVersion":"v1","subresource":"token"},"responseStatus":{"code":201},'
          b'"requestReceivedTimestamp":"2024-01-01T00:00:00.000000Z",'
          b'"stageTimestamp":"2024-01-01T00:00:00.100000Z"}\n')


def started(tmp_path: Path, *args: str, content: bytes = b"") -> tuple[list[str], str]:
    """The modules a scan of a file (empty by default) had imported, and what it said on
    stderr."""
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(content)
    probe = ("import io, json, sys; from kubetrail.cli import main; err = io.StringIO(); "
             "out = io.TextIOWrapper(io.BytesIO()); "
             f"status = main(['scan', *{list(args)!r}, {str(empty)!r}], out=out, err=err); "
             "print(json.dumps([status, sorted(sys.modules), err.getvalue()]))")
    env = {**os.environ, "KUBETRAIL_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("KUBETRAIL_PANTHER_ROOT", None)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env, timeout=120)
    status, modules, err = json.loads(out.stdout)
    assert status == 0, err
    return modules, err


def test_a_scan_starts_without_what_it_does_not_use(tmp_path: Path) -> None:
    started(tmp_path)  # fills the user cache if the packaged one is not built
    modules, err = started(tmp_path)
    assert "records=0" in err
    assert [m for m in modules if m in NOT_AT_START] == []
    assert [m for m in modules if m in FIRST_RECORD + NOT_BEFORE_A_RECORD] == []
    # the whole bundled pack was loaded, from the pack cache, and its prefilter built
    assert "kubetrail.rules.packcache" in modules and "kubetrail.rules.prefilter" in modules
    assert "kubetrail.rules.execs" in modules  # imported by the pack's rule modules


def test_the_first_record_brings_the_decoders(tmp_path: Path) -> None:
    started(tmp_path)
    modules, err = started(tmp_path, "--format", "json", content=RECORD)
    assert "records=1" in err and "matched=1" in err and "findings=1" in err, err
    assert [m for m in FIRST_RECORD if m not in modules] == []
    assert [m for m in modules if m in NOT_AT_START and m not in ("hashlib", "_hashlib")] == []


def test_the_help_is_sized_as_argparse_sizes_it(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "52"}
    code = ("import argparse, contextlib, io, sys; from kubetrail.cli import build_parser\n"
            "def text(parser):\n"
            "    out = io.StringIO()\n"
            "    with contextlib.redirect_stdout(out):\n"
            "        parser.print_help()\n"
            "    return out.getvalue()\n"
            "ours = build_parser()\n"
            "plain = argparse.ArgumentParser(prog=ours.prog, description=ours.description)\n"
            "plain._actions, plain._action_groups = ours._actions, ours._action_groups\n"
            "plain._mutually_exclusive_groups = ours._mutually_exclusive_groups\n"
            "print(text(ours) == text(plain), max(map(len, text(ours).splitlines())))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env, timeout=60)
    same, widest = out.stdout.split()
    assert same == "True" and int(widest) <= 52
