"""kubetrail.rules.network: which source address the pack trusts, and what counts as public."""

from __future__ import annotations

import itertools

import pytest

from kubetrail.rules.network import (
    PUBLIC_SOURCE_IPS,
    is_public_ip,
    last_public_ip,
    public_flags,
    public_source_ip,
    text_has_public_ip,
)
from tests.factories import make_event


@pytest.mark.parametrize("text", ["34.120.8.17", "8.8.8.8", "2600:1f18::7", "::ffff:34.1.2.3",
                                  "2a00:1450:4001:80b::200e"])
def test_public_addresses(text: str) -> None:
    assert is_public_ip(text)


@pytest.mark.parametrize("text", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1",
    "203.0.113.9", "198.51.100.1", "192.0.2.1", "0.0.0.0", "255.255.255.255", "224.0.0.1",
    "::1", "fe80::1", "fd00::1", "2001:db8::1", "::ffff:10.1.1.1", "2600::1%eth0", " 8.8.8.8",
    "8.8.8.8 ", "08.8.8.8", "8.8.8", "gce-internal-ip", "private", "", "8" * 100, None, 8,
])
def test_not_public(text: object) -> None:
    assert not is_public_ip(text)


def test_public_flags_are_is_public_ip_of_each() -> None:
    private = ["10.0.0.1", "192.168.1.1", "172.16.5.4", "127.0.0.1", "100.64.0.1"] * 40
    assert public_flags(private) == [False] * len(private)  # the one-pass answer
    mixed = [*private, "34.120.8.17", None, "::ffff:34.1.2.3", 8, "10.", "2600:1f18::7", ""]
    assert public_flags(mixed) == list(map(is_public_ip, mixed))
    assert public_flags(mixed).count(True) == 3
    assert public_flags([]) == []


def test_the_last_public_address_is_the_source() -> None:
    # X-Forwarded-For entries come first and can be forged; the connection's address is last.
    assert last_public_ip(["1.1.1.1", "34.1.2.3"]) == "34.1.2.3"
    assert last_public_ip(["34.1.2.3", "10.0.0.7"]) == "34.1.2.3"  # behind a private proxy
    assert last_public_ip(["10.0.0.1", "192.168.0.1"]) is None
    assert last_public_ip(["::ffff:34.1.2.3"]) == "34.1.2.3"  # canonical form: one dedup key
    assert public_source_ip(make_event(source_ips=("8.8.4.4", "10.0.0.2"))) == "8.8.4.4"
    assert public_source_ip(make_event(source_ips=())) is None


def test_public_source_requirement_reads_event_tuples_and_light_lists() -> None:
    assert ("10.0.0.1", "8.8.8.8") in PUBLIC_SOURCE_IPS
    assert ["8.8.8.8"] in PUBLIC_SOURCE_IPS
    assert ["10.0.0.1"] not in PUBLIC_SOURCE_IPS and None not in PUBLIC_SOURCE_IPS
    assert "8.8.8.8" not in PUBLIC_SOURCE_IPS  # a string is not a list of addresses
    assert PUBLIC_SOURCE_IPS.isdisjoint([None, ["10.0.0.1"]])
    assert not PUBLIC_SOURCE_IPS.isdisjoint([None, ["8.8.8.8"]])
    assert sorted(PUBLIC_SOURCE_IPS) == ["public"]  # listed as the YAML spells it


@pytest.mark.parametrize(("text", "found"), [
    (b'{"callerIp":"34.1.2.3","timestamp":"2026-11-27T12:00:00.123Z"}', True),
    (b'{"log":"{\\"sourceIPs\\":[\\"2600:1f18::7\\"]}"}', True),  # inside an escaped string
    (b'{"callerIp":"10.1.2.3","timestamp":"2026-11-27T12:00:00.123Z","id":"deadbeef"}', False),
    (b'{"callerIp":"gce-internal-ip"}', False),
])
def test_public_addresses_are_found_in_record_text(text: bytes, found: bool) -> None:
    assert text_has_public_ip(text) is found


def test_isdisjoint_agrees_with_membership_on_every_shape_of_value() -> None:
    # the one-pass screen on never-public prefixes, and its fallback on odd values
    shapes: list[object] = [
        None, [], ["10.0.0.1"], ["10.0.0.1", "192.168.1.1"], ["8.8.8.8"], ["10.0.0.1", "8.8.8.8"],
        ["8.8.8.8", "10.0.0.1"], ["100.64.0.1"], ["100.128.0.1"], ["172.15.0.1"], ["::1"],
        ["2600:1f18::7"], ["::ffff:34.1.2.3"], ["10.0.0.1x"], "10.0.0.1", "8.8.8.8", 7,
        [7], ("8.8.8.8",), ("10.0.0.1",), {"8.8.8.8": 1}, [""], ["1" * 80],
    ]
    for size in (1, 2, 3):
        for values in itertools.combinations(shapes, size):
            expected = not any(v in PUBLIC_SOURCE_IPS for v in values)
            assert PUBLIC_SOURCE_IPS.isdisjoint(list(values)) is expected, values
            assert PUBLIC_SOURCE_IPS.isdisjoint(iter(values)) is expected, values
