"""The `kubetrail` command's argument types and parser: what argparse needs to validate options
and print help, and the escaping of attacker-controlled text written to a terminal."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def safe(text: str, limit: int = 500) -> str:
    """Attacker-controlled text for a terminal: every non-printable character (C0 and C1
    controls, bidi overrides and isolates, U+2028/U+2029 and every other Unicode format or
    separator character) shown as its escape (\\x9b, \\u202e), length bounded."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return out + ("…" if len(text) > limit else "")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a size or a count that zero or less would make absurd)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_empty(text: str) -> str:
    """argparse type: any text but the empty string (an empty path names nothing)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def non_empty_path(text: str) -> Path:
    """argparse type: a path that is not empty (Path("") would silently mean ".")."""
    return Path(non_empty(text))


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size reports it ($COLUMNS, else the size of
    stdout's terminal, else 80), without importing shutil (and with it bz2 and lzma)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, as wide as argparse makes it; argparse builds one per argument."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser (its subparsers too) with HelpFormatter: a start-up never imports
    shutil."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
