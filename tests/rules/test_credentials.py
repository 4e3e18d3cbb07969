"""kubetrail.rules.credentials: credential-looking ConfigMap data, with bounded work."""

from __future__ import annotations

from typing import Any

import pytest

from kubetrail.rules.credentials import MAX_KEYS, MAX_REPORTED, credential_evidence


@pytest.mark.parametrize(("data", "kind"), [
    ({"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}, "aws-access-key-id"),
    ({"creds": "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"},
     "aws-secret-access-key"),
    ({"tls.key": "-----BEGIN PRIVATE KEY-----\nMIIE\n"}, "private-key"),
    ({"id": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n"}, "private-key"),
    ({"gh": "token ghp_" + "a" * 36}, "github-token"),
    ({"x": "glpat-" + "b" * 20}, "gitlab-token"),
    ({"x": "xoxb-1234567890-abcdefghij"}, "slack-token"),
    ({"x": "AIza" + "c" * 35}, "google-api-key"),
    ({"sa.json": '{"type": "service_account", "private_key_id": "0123456789abcdef0123"}'},
     "gcp-service-account-key"),
    ({"conn": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=" + "d" * 88 + "=="},
     "azure-storage-key"),
    ({"app.properties": "db.password=Sup3rS3cret!\n"}, "password-assignment"),
    ({"DB_PASSWORD": "hunter2hunter2"}, "credential-key-name"),
    ({"apiKey": "abcdef123"}, "credential-key-name"),
    ({"redis-pass": "p4ssw0rd-x"}, "credential-key-name"),
])
def test_credentials_are_recognized(data: dict[str, Any], kind: str) -> None:
    assert {"key": next(iter(data)), "kind": kind} in credential_evidence(data)


@pytest.mark.parametrize("data", [
    {"LOG_LEVEL": "debug"}, {"passwordPolicy": "strict"}, {"tokens_enabled": "true"},
    {"DB_PASSWORD": "${DB_PASSWORD}"}, {"API_TOKEN": "<changeme>"}, {"secret": "{{ .Values.x }}"},
    {"password": ""}, {"password": "****"}, {"app.conf": "password=${PW}\n"},
    {"app.conf": "password: changeme\n"}, {"not-akia": "xAKIAIOSFODNN7EXAMPLEx"},
    {"k": 5}, {7: "AKIAIOSFODNN7EXAMPLE"}, None, ["AKIAIOSFODNN7EXAMPLE"],
])
def test_ordinary_data_is_not_credentials(data: Any) -> None:
    assert credential_evidence(data) == []


def test_evidence_never_carries_the_value() -> None:
    evidence = credential_evidence({"k": "AKIAIOSFODNN7EXAMPLE", "DB_PASSWORD": "hunter2hunter2"})
    assert "AKIAIOSFODNN7EXAMPLE" not in str(evidence) and "hunter2" not in str(evidence)


def test_work_is_bounded_on_huge_data() -> None:
    data = {f"k{i}": ("password=" + "a" * 70_000) for i in range(5_000)}
    data["late"] = "AKIAIOSFODNN7EXAMPLE"  # beyond MAX_KEYS: not examined
    evidence = credential_evidence(data)  # the bound is on what is examined, not on time
    assert len(evidence) <= MAX_REPORTED
    assert all(e["key"] != "late" for e in evidence)
    assert len(data) > MAX_KEYS
