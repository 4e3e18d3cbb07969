"""Evaluate rules over AuditEvents. A rule that raises is reported and never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubetrail.digest import sha256
from kubetrail.errors import Origin
from kubetrail.events import AuditEvent
from kubetrail.record import fast_constructor, field, record
from kubetrail.rules.index import RequiresIndex
from kubetrail.rules.loader import SEVERITIES, Rule
from kubetrail.rules.prefilter import Prefilter

MAX_DEDUP_CHARS = 512
MAX_TITLE_CHARS = 1000


@record(frozen=True, slots=True)
class Match:
    """A rule matched an event; title, dedup string, severity and context are resolved."""

    rule: Rule
    event: AuditEvent
    title: str
    dedup_key: str
    severity: str
    alert_context: Mapping[str, Any]
    # Finding fields from the rule's functions (Rule.annotate): description, runbook, ...
    overrides: Mapping[str, Any] = field(default_factory=dict)


# `Match(...)`, built faster (tests/rules/test_engine_titles.py).
new_match = fast_constructor(Match, "new_match")


@record(frozen=True, slots=True)
class RuleError:
    """A rule function raised (or returned something unusable) on one event. `error_type` is the
    exception's class name, `message` reads like a traceback's last line, `KeyError: 'spec'`
    (bounded; see `describe_error`)."""

    rule_id: str
    function: str
    message: str
    origin: Origin | None = None
    error_type: str = "Exception"


MAX_ERROR_CHARS = 1000


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(class name, `Class: text`) of an exception a rule raised, bounded; never raises itself,
    even for an exception whose __str__ raises or recurses."""
    error_type = type(exc).__name__[:200]
    try:
        text = str(exc)
    except Exception:  # a rule's own exception class may be broken
        text = "<unprintable exception>"
    message = f"{error_type}: {text}" if text else error_type
    if len(message) > MAX_ERROR_CHARS:
        message = message[:MAX_ERROR_CHARS] + "…"
    return error_type, message


def rule_error(rule_id: str, function: str, exc: BaseException, origin: Origin | None
               ) -> RuleError:
    """The RuleError for `exc` raised by `rule_id`'s `function`."""
    error_type, message = describe_error(exc)
    return RuleError(rule_id, function, message, origin, error_type)


def _printable(text: str, limit: int) -> str:
    """Titles go into e-mail subjects and chat messages: no control characters, bounded length,
    and no look-alikes: a non-ASCII letter, digit or mark is shown as its `\\uXXXX` code, so
    `aksService` spelled with a Cyrillic a (not a system principal) cannot pass for AKS's own."""
    if text.isascii() and text.isprintable():
        return text if len(text) <= limit else text[:limit] + "…"
    clean = "".join(_shown(c) for c in text)
    return clean if len(clean) <= limit else clean[:limit] + "…"


def _shown(char: str) -> str:
    if char.isascii():
        return char if char.isprintable() else "\ufffd"
    if not char.isprintable():
        return "\ufffd"
    import unicodedata  # (here: only a title with a non-ASCII character needs it)

    if unicodedata.category(char)[0] in "LMN":
        code = ord(char)
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return char


def _answer(call: Callable[[Any], Any], rule: Rule, function: str, event: AuditEvent,
            origin: Origin | None, errors: list[RuleError], default: Any) -> Any:
    """`call(event)` (the rule's `function`); `default` when it raised (its error appended)."""
    try:
        return call(event)
    except Exception as exc:
        errors.append(rule_error(rule.rule_id, function, exc, origin))
        return default


def dedup_key(rule_id: str, dedup: str) -> str:
    """`<rule id>:<dedup string>`, long strings cut and completed with their hash so that two
    different values never share a key and stores' key limits hold."""
    if len(dedup) > MAX_DEDUP_CHARS:
        digest = sha256(dedup.encode("utf-8", "surrogatepass")).hexdigest()
        dedup = f"{dedup[:MAX_DEDUP_CHARS]}…#sha256:{digest}"
    return f"{rule_id}:{dedup}"


@record
class RuleSet:
    """The enabled rules and the prefilter derived from them."""

    rules: Sequence[Rule]
    prefilter: Prefilter | None = field(init=False)
    _index: RequiresIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.prefilter = Prefilter.from_rules(self.rules)
        self._index = RequiresIndex(self.rules)

    def evaluate(
        self, event: AuditEvent, origin: Origin | None = None
    ) -> tuple[list[Match], list[RuleError]]:
        """Every rule whose log type and Requires fit the event; matches and errors."""
        matches: list[Match] = []
        errors: list[RuleError] = []
        for rule in self._index.candidates(event):
            try:
                if not rule.rule(event):
                    continue
            except Exception as exc:
                errors.append(rule_error(rule.rule_id, "rule", exc, origin))
                continue
            try:
                match, err = self._resolve(rule, event, origin)
            except Exception as exc:  # e.g. a title whose __str__ raises: the alert stays
                errors.append(rule_error(rule.rule_id, "resolve", exc, origin))
                match, err = self._default_match(rule, event), None
            if err:
                errors.append(err)
            matches.append(match)
        return matches, errors

    @staticmethod
    def _default_match(rule: Rule, event: AuditEvent) -> Match:
        """The match with every optional function's default (display name, severity...)."""
        title = _printable(rule.display_name, MAX_TITLE_CHARS)
        return Match(rule, event, title, dedup_key(rule.rule_id, title), rule.severity, {})

    @staticmethod
    def _resolve(
        rule: Rule, event: AuditEvent, origin: Origin | None
    ) -> tuple[Match, RuleError | None]:
        """Call the optional functions; one that fails falls back to the default and is reported
        (the last failure), so a bug in title() never costs the alert."""
        # (per match: each function read from the rule directly, and not called when absent)
        errors: list[RuleError] = []
        name = rule.display_name
        call = rule.title
        title = name if call is None else _answer(call, rule, "title", event, origin, errors, name)
        title = _printable(title if type(title) is str and title else str(title or name),
                           MAX_TITLE_CHARS)
        call = rule.dedup
        dedup = title if call is None else _answer(call, rule, "dedup", event, origin, errors,
                                                   title)
        dedup = dedup if type(dedup) is str and dedup else str(dedup or title)
        call = rule.dynamic_severity
        if call is None:
            severity = rule.severity
        else:
            severity = str(_answer(call, rule, "severity", event, origin, errors, "DEFAULT")
                           or "DEFAULT").upper()
            if severity not in SEVERITIES:
                severity = rule.severity
        call = rule.alert_context
        context = {} if call is None else _answer(call, rule, "alert_context", event, origin,
                                                  errors, {})
        if type(context) is not dict and not isinstance(context, Mapping):
            context = {"value": context}
        call = rule.annotate
        overrides = {} if call is None else _answer(call, rule, "annotate", event, origin,
                                                    errors, {})
        if type(overrides) is not dict and not isinstance(overrides, Mapping):
            overrides = {}
        match = new_match(rule, event, title, dedup_key(rule.rule_id, dedup), severity, context,
                          overrides)
        return match, errors[-1] if errors else None
