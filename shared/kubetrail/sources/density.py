"""The memory bound of a full JSON parse: text that would build far more Python objects than
its size promises (millions of tiny containers) is refused before it is parsed."""

from __future__ import annotations

import re

from kubetrail.errors import DecodeError

# Memory bound of a full parse: a JSON text is refused (DecodeError) when it opens more
# containers ("{" or "[" outside strings) than one per DENSITY bytes, beyond a free
# allowance. Real audit records hold one per 25 bytes or more; "[{},{},...]"
# holds one per 3, and each empty container costs Python 60-70 bytes.
CONTAINER_DENSITY = 6
CONTAINER_ALLOWANCE = 16384


# A JSON string literal (unrolled so that matching is linear); what is left unmatched (an
# unterminated string) is counted as structure, which only errs towards refusing. Compiled on
# first use (by re's cache): only text dense enough to be suspect needs it.
_STRINGS = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_STRINGS_STR = r'"[^"\\]*(?:\\.[^"\\]*)*"'


def _count_openers(data: str | bytes | bytearray) -> int:
    if isinstance(data, str):
        return data.count("{") + data.count("[")
    return data.count(b"{") + data.count(b"[")


def check_density(data: bytes | bytearray | memoryview | str, what: str = "JSON") -> None:
    """DecodeError when `data` opens containers so densely that building it would cost far more
    memory than its size promises (see CONTAINER_DENSITY)."""
    if len(data) <= CONTAINER_ALLOWANCE:
        return
    limit = len(data) // CONTAINER_DENSITY + CONTAINER_ALLOWANCE
    view = data if isinstance(data, str | bytes | bytearray) else bytes(data)
    containers = _count_openers(view)
    if containers > limit:
        # Braces inside strings build nothing: an envelope whose string holds a dense record
        # (a CloudWatch message, an AKS properties.log) must not be refused for its contents,
        # or one record would cost the whole delivery. Count outside strings before refusing.
        containers = _count_openers(re.sub(_STRINGS_STR, "", view, flags=re.S)
                                    if isinstance(view, str)
                                    else re.sub(_STRINGS, b"", view, flags=re.S))
    if containers > limit:
        raise DecodeError(f"{what} refused: {containers} objects/arrays in {len(data)} bytes "
                          f"(more than one per {CONTAINER_DENSITY} bytes would exhaust memory)")
