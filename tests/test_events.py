"""AuditEvent's derived properties: never raise, and every doubt answers the safe way (a persisted
request must never pass for a dry run, which rules skip)."""

from __future__ import annotations

import pytest

from kubetrail.rules import RuleSet, load_rules
from tests.factories import make_event

RULES = RuleSet(load_rules())
DS_URI = "/apis/apps/v1/namespaces/default/daemonsets"


@pytest.mark.parametrize(("uri", "dry"), [
    (DS_URI + "?dryRun=All", True),
    (DS_URI + "?fieldManager=kubectl&dryRun=All", True),
    (DS_URI, False),
    (DS_URI + "?dryRun=all", False),                 # the API server rejects it (400)
    (DS_URI + "?dryRun=All&dryRun=All", False),
    (DS_URI + "?dryRun=All#x", False),               # the server reads `All#x`: not a dry run
    (DS_URI + "?dryRun=All;x=1", False),
    ("//[::1/apis?dryRun=All", False),               # urlsplit: Invalid IPv6 URL
    ("http://[bad/apis/apps/v1?dryRun=All", False),
    ("/apis\x00\ud800?dryRun=All", True),
    ("/apis?dryRun=All\ud800", False),
    (None, False),
    ("", False),
])
def test_dry_run_never_raises_and_a_malformed_uri_is_not_a_dry_run(uri: str | None, dry: bool
                                                                   ) -> None:
    assert make_event(request_uri=uri).dry_run is dry


def test_a_malformed_host_cannot_hide_a_daemonset_create() -> None:
    event = make_event(request_uri="//[::1/apis/apps/v1/namespaces/default/daemonsets?dryRun=All")
    matches, errors = RULES.evaluate(event)
    assert [m.rule.rule_id for m in matches] == ["Kubernetes.DaemonSet.Created"]
    assert errors == []


@pytest.mark.parametrize("code", [None, 201, "500", 2.5e9])
def test_failed_reads_only_integer_codes(code: object) -> None:
    assert make_event(response_code=code).failed is False


def test_new_event_is_the_event_the_record_makes() -> None:
    """The decoders' fast constructor: same class, fields, equality, hash, repr; still frozen."""
    import pickle

    from kubetrail import record
    from kubetrail.events import AuditEvent, new_event

    made = make_event(request_object={"spec": {}}, groups=("g1", "g2"), response_code=403)
    values = [getattr(made, f.name) for f in record.fields(AuditEvent)]
    fast = new_event(*values)
    assert type(fast) is AuditEvent
    assert [getattr(fast, f.name) for f in record.fields(AuditEvent)] == values
    assert fast == made and repr(fast) == repr(made)
    assert record.replace(fast, verb="get") == record.replace(made, verb="get")
    assert pickle.loads(pickle.dumps(fast)) == made
    with pytest.raises(record.FrozenInstanceError):
        fast.verb = "delete"  # type: ignore[misc]
    with pytest.raises(TypeError):
        new_event(*values[:-1])  # every field is required, as for AuditEvent
