"""What an exec into a pod ran: its command, read robustly, and what the command touches.

The command of `kubectl exec` is in the request URI's query (`?command=sh&command=-c&command=...`,
URL-encoded, `+` for a space), as the API server reads it; GKE records it in the request body
(PodExecOptions `command`). Both are read. Everything here is attacker-crafted, so the reading
over-approximates rather than under: repeated, oddly encoded or oddly separated parameters
(`&` and `;`) are all taken; shell quoting, `$IFS` and `${IFS}` are undone before words are
split; paths are normalized (`//var/run/./secrets/../secrets/...`) and `/var/run` is folded into
`/run` before comparison; globs (`/var/run/secrets/kube*/serviceaccount/t*`) are matched against
the token paths. Sizes are bounded above what the API server accepts, so padding cannot push
the real command out of sight and a forged huge URI still costs little.

What cannot be seen from the audit log (a command that builds the path at run time, a script
already in the image) is out of reach of any audit-log rule: see docs/rules.md.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from fnmatch import fnmatchcase
from urllib.parse import unquote_plus

from kubetrail.events import AuditEvent
from kubetrail.rules.requests import kubelet_stream

# Go's HTTP server refuses request lines over 1 MiB, so nothing the API server ran is cut.
MAX_QUERY_CHARS = 2 * 1024 * 1024
MAX_ARGS = 200_000
# Projected service-account token files (and the directories holding them), /var/run as /run.
TOKEN_FILES = (
    "/run/secrets/kubernetes.io/serviceaccount/token",
    "/run/secrets/eks.amazonaws.com/serviceaccount/token",
    "/run/secrets/azure/tokens/azure-identity-token",
    "/run/secrets/tokens/gcp-ksa/token",
)
# Fragments that, in a normalized path, name a token directory or file (relative paths too).
TOKEN_MARKERS = (
    "secrets/kubernetes.io/serviceaccount", "secrets/eks.amazonaws.com/serviceaccount",
    "secrets/azure/tokens", "secrets/tokens", "serviceaccount/token",
)
# Files of the service-account directory that are not credentials.
NOT_TOKENS = frozenset({"ca.crt", "namespace"})
# Environment variables that hold a token file's path (IRSA, Azure workload identity).
TOKEN_VARIABLES = frozenset({"AWS_WEB_IDENTITY_TOKEN_FILE", "AZURE_FEDERATED_TOKEN_FILE"})
TAR_NAMES = ("tar", "gtar", "bsdtar")
# The patterns below are compiled on first use (by re's cache): only exec requests need them.
_SPLIT = r"[\s;|&<>()`{}$,=:\"'\\]+"
_IFS = r"\$\{?IFS\}?"
# Shell expansions whose result the log cannot show, inside a word: parameters (`$@`, `$x`,
# `${x}`), command substitutions (`$(...)`, backquotes), ANSI-C and locale quoting (`$'...'`),
# brace expansions (`{ount,x}`). Each becomes a `*`, so `serviceacc$@ount`, `to${x}ken` or
# `serviceacc{ount,}` is matched as the glob it could expand to.
_EXPANSIONS = (r"\$\{[^{}]*\}|\$\([^()]*\)|`[^`]*`|\$'[^']*'|\$\"[^\"]*\"|"
               r"\$[A-Za-z_][A-Za-z0-9_]*|\$[@*#?$!0-9-]|\{[^{}\s]*\}")
MAX_EXPANSION_PASSES = 4  # nested expansions collapse from the inside, one level a pass


def has_glob(word: str) -> bool:
    """The word holds a glob character (`*`, `?` or `[`; as the regex `[*?\\[]` finds them)."""
    return "*" in word or "?" in word or "[" in word


def without_glob(word: str) -> str:
    """The word without its glob characters `*`, `?` and `[`."""
    return word.replace("*", "").replace("?", "").replace("[", "")


def exec_command(event: AuditEvent) -> tuple[str, ...]:
    """The command arguments of an exec request: the URI's `command` parameters, then the
    request body's `command` list (GKE), at most MAX_ARGS of them."""
    args: list[str] = []
    uri = event.request_uri or ""
    if "?" in uri:
        query = uri.split("?", 1)[1][:MAX_QUERY_CHARS]
        for pair in re.split(r"[&;]", query):
            key, _, value = pair.partition("=")
            if unquote_plus(key) == "command":
                args.append(unquote_plus(value))
    body = event.request_object
    if isinstance(body, Mapping) and isinstance(body.get("command"), list):
        args.extend(str(a) for a in body["command"])
    return tuple(args[:MAX_ARGS])


def target_pod(event: AuditEvent) -> str:
    """`[namespace/pod]` of an exec, attach or port-forward, with the node when it went through
    the node proxy (kubetrail.rules.requests.kubelet_stream)."""
    stream = kubelet_stream(event)
    if stream is None:
        return f"[{event.namespace or '<unknown>'}/{event.name or '<unknown>'}]"
    return (f"[{stream[1] or '<unknown>'}/{stream[2] or '<unknown>'}] through the proxy of node "
            f"[{event.name or '<unknown>'}]")


def shown_command(args: tuple[str, ...], max_args: int = 64, max_chars: int = 512) -> list[str]:
    """The command for a finding's context: the first arguments, each cut, with a marker when
    something was left out (the whole command can be 1 MiB of attacker text)."""
    shown = [a if len(a) <= max_chars else a[:max_chars] + "…" for a in args[:max_args]]
    if len(args) > max_args:
        shown.append(f"… {len(args) - max_args} more arguments")
    return shown


def command_words(args: tuple[str, ...], expand: bool = False) -> list[str]:
    """The words a shell would see, over-approximated: quotes and escapes dropped, $IFS as a
    space, split on whitespace and shell punctuation. With `expand`, every expansion inside a
    word is first replaced by a `*` (see _EXPANSIONS): the words as globs of what they become."""
    text = re.sub(_IFS, " ", " ".join(args)[:MAX_QUERY_CHARS])
    if expand:
        for _ in range(MAX_EXPANSION_PASSES):
            text, found = re.subn(_EXPANSIONS, "*", text)
            if not found:
                break
    text = text.replace("'", "").replace('"', "").replace("\\", "")
    return [w for w in re.split(_SPLIT, text) if w]


def _canonical(word: str, fold: bool = True) -> str:
    norm = posixpath.normpath(word)
    if word.startswith("/"):
        norm = "/" + norm.lstrip("/")
    if fold and (norm == "/var/run" or norm.startswith("/var/run/")):
        norm = norm.removeprefix("/var")
    return norm


def token_reads(args: tuple[str, ...]) -> list[str]:
    """The words of the command that name a service-account token (file, directory, glob or
    the variable holding its path); empty when none does."""
    hits = []
    words = dict.fromkeys([*command_words(args), *command_words(args, expand=True)])
    for word in words:
        if word in TOKEN_VARIABLES:
            hits.append(word)
            continue
        if "/" not in word:
            continue
        norm = _canonical(word)
        if has_glob(word):
            if _glob_names_token(word, norm):
                hits.append(word)
            continue
        if posixpath.basename(norm) in NOT_TOKENS:
            continue
        if any(marker in norm for marker in TOKEN_MARKERS):
            hits.append(word)
    return hits


_GLOB_SPLIT = r"[*?\[\]]"
# Every spelling a token file's path is compared in: as is, with /var/run, and each suffix.
_TOKEN_TEXTS = tuple({*TOKEN_FILES, *("/var" + f for f in TOKEN_FILES)})


def _literals_fit(glob: str, texts: tuple[str, ...]) -> bool:
    """Every literal piece of the glob occurs in one of the texts: a cheap necessary condition
    (substring tests) before compiling a pattern, so many decoy globs cost little."""
    pieces = [p for p in re.split(_GLOB_SPLIT, glob) if p]
    return any(all(p in text for p in pieces) for text in texts)


def _glob_names_token(word: str, norm: str) -> bool:
    """A glob naming a token file: absolute (three or more `/`), or relative to a directory the
    command changed into, matching the last segments of a token file with a literal character
    in each segment (so `*/*` alone is not one)."""
    if not (_literals_fit(norm, _TOKEN_TEXTS) or _literals_fit(_canonical(word, False),
                                                                _TOKEN_TEXTS)):
        return False
    if word.count("/") >= 3 and any(
            fnmatchcase(f, norm) or fnmatchcase("/var" + f, _canonical(word, False))
            for f in TOKEN_FILES):
        return True
    segments = norm.split("/")
    if norm.startswith("/") or len(segments) < 2 or \
            not all(without_glob(s).strip(".") for s in segments):
        return False
    return any(fnmatchcase("/".join(f.split("/")[-len(segments):]), norm) for f in TOKEN_FILES)


def tar_direction(args: tuple[str, ...]) -> str | None:
    """`from pod` (tar creates: a download, as `kubectl cp pod:/x .` runs it), `to pod` (tar
    extracts: an upload), `unknown` (tar with other flags), or None when no tar runs."""
    words = command_words(args, expand=True)
    for i, word in enumerate(words):
        name = posixpath.basename(word)
        if name not in TAR_NAMES and not (
                has_glob(name) and without_glob(name) and _literals_fit(name, TAR_NAMES)
                and any(fnmatchcase(t, name) for t in TAR_NAMES)):
            continue
        flags = words[i + 1].lstrip("-") if i + 1 < len(words) else ""
        if "x" in flags and "c" not in flags:
            return "to pod"
        if "c" in flags:
            return "from pod"
        return "unknown"
    return None
