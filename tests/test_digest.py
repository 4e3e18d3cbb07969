"""SHA-256 without hashlib: the same digests, and OpenSSL is not loaded for them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from kubetrail.digest import sha256


@pytest.mark.parametrize("data", [b"", b"abc", b"\x00" * 1000, "é\u202e".encode(),
                                  bytes(range(256))])
def test_the_digests_are_hashlibs(data: bytes) -> None:
    assert sha256(data).digest() == hashlib.sha256(data).digest()
    assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()


def test_finding_ids_and_long_dedup_keys_are_unchanged() -> None:
    from kubetrail.dedup.window import distinct_hash
    from kubetrail.findings import escalation_id, finding_id
    from kubetrail.rules.engine import dedup_key

    start = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert finding_id("R:k", start) == hashlib.sha256(
        b"R:k\x002026-11-27T12:00:00Z").hexdigest()[:32]
    assert escalation_id("f" * 32, "HIGH") == hashlib.sha256(
        b"f" * 32 + b"\x00escalation\x00HIGH").hexdigest()[:32]
    long = "u" * 600
    assert dedup_key("R", long).endswith("#sha256:" + hashlib.sha256(long.encode()).hexdigest())
    assert len(distinct_hash("alice")) == 22


def test_hashing_a_finding_id_does_not_load_openssl() -> None:
    code = ("import sys; from datetime import datetime, UTC; from kubetrail.findings import "
            "finding_id; finding_id('k', datetime.now(UTC)); print('hashlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
