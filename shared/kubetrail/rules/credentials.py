"""Does a ConfigMap's data look like it holds credentials? Bounded work on any input.

Two kinds of evidence, each named by a short label (the values themselves are never returned:
a finding must not spread the secret it reports):

* the text of a value matches a credential format: an AWS access key id, a PEM private key
  block, a GitHub / GitLab / Slack / Google API token, a GCP service-account key file, an Azure
  storage connection string, a `password=` / `secret:` / `token=` style assignment;
* a key is named like a credential (`password`, `db_pass`, `api-token`, `aws_secret_access_key`)
  and holds a non-empty value that is not a placeholder (`${VAR}`, `<changeme>`, `{{ .x }}`).

At most MAX_KEYS entries and the first MAX_VALUE_CHARS characters of each value are examined,
MAX_TOTAL_CHARS overall; the patterns have no nested quantifiers, so matching stays linear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_KEYS = 256
MAX_VALUE_CHARS = 64 * 1024
MAX_TOTAL_CHARS = 256 * 1024
MAX_REPORTED = 20

# (label, literal hints, pattern): the pattern runs only when the lower-cased value contains one
# of its hints, so the common value costs a few substring searches. The patterns are compiled on
# first use (re's own cache keeps them), not at every start-up.
VALUE_PATTERNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("aws-access-key-id", ("akia", "asia", "agpa", "aida", "aroa"), (
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}(?![A-Za-z0-9])")),
    ("private-key", ("private key-----",), (
        r"-----BEGIN (?:[A-Z0-9]{1,12} ){0,2}PRIVATE KEY-----")),
    ("github-token", ("gh", "github_pat_"), (
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,100})")),
    ("gitlab-token", ("glpat-",), r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20}"),
    ("slack-token", ("xox",), r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,100}"),
    ("google-api-key", ("aiza",), r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}"),
    ("gcp-service-account-key", ("private_key_id",), (
        r"\"private_key_id\"\s{0,8}:\s{0,8}\"[0-9a-f]{20,}")),
    ("azure-storage-key", ("accountkey=",), r"AccountKey=[A-Za-z0-9+/]{40,}={0,2}"),
    ("aws-secret-access-key", ("aws_secret_access_key",), (
        r"(?i:aws_secret_access_key)[ \t\"']{0,4}[=:][ \t\"']{0,4}[A-Za-z0-9/+]{40}")),
    ("password-assignment", ("pass", "pwd", "secret", "token", "key"), (
        r"(?i:password|passwd|pwd|secret|token|api[_-]?key)[ \t\"']{0,4}[=:][ \t\"']{0,4}"
        r"(?![$<{\"'\s]|changeme|none\b|null\b|\*{3})[^\s\"',;]{6,}")),
)
# Key names that say "credential": words split on _ - . and case changes.
CREDENTIAL_WORDS = frozenset({"password", "passwd", "pwd", "pass", "secret", "token", "apikey",
                              "credential", "credentials", "privatekey"})
_SPLIT = r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])"
_PLACEHOLDER = (r"(?is)^\s*(?:\$\{[^}]*\}|\$\([^)]*\)|<[^>]*>|\{\{.*\}\}|\*+|x+|changeme|"
                r"none|null|true|false|\d{1,5})\s*$")


def _named_like_credential(key: str) -> bool:
    """The key's last word (or last two, joined: api_key) is a credential word: `db_password`,
    `apiKey`, not `passwordPolicy` or `tokens_enabled`."""
    words = [w.lower() for w in re.split(_SPLIT, key[-256:]) if w]
    return bool(words) and (words[-1] in CREDENTIAL_WORDS
                            or "".join(words[-2:]) in CREDENTIAL_WORDS)


def credential_evidence(data: Any) -> list[dict[str, str]]:
    """[{"key": <data key>, "kind": <label>}] for every piece of evidence (bounded)."""
    if not isinstance(data, Mapping):
        return []
    found: list[dict[str, str]] = []
    budget = MAX_TOTAL_CHARS
    for i, (key, value) in enumerate(data.items()):
        if i >= MAX_KEYS or budget <= 0 or len(found) >= MAX_REPORTED:
            break
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        text = value[:min(MAX_VALUE_CHARS, budget)]
        budget -= len(text)
        label = key[:128]
        lower = text.lower()
        kinds = [kind for kind, hints, pattern in VALUE_PATTERNS
                 if any(h in lower for h in hints) and re.search(pattern, text)]
        if not kinds and text.strip() and not re.match(_PLACEHOLDER, text[:256]) \
                and _named_like_credential(key):
            kinds = ["credential-key-name"]
        found.extend({"key": label, "kind": kind} for kind in kinds)
    return found[:MAX_REPORTED]
