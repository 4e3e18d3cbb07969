"""infra/gcp without a google provider (none is available offline): the HCL parses, is
`terraform fmt` clean, every setting the function reads is set (emulator hosts and secrets are
not), every variable, local and resource referenced is declared, the sink, trigger, Firestore TTL
and IAM are what the issue asks for, and checkov finds nothing that is not explained."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.infra.hcl import (
    ROOT,
    assert_fmt_clean,
    assert_no_unexplained_failure,
    assert_references_declared,
    checkov,
    example_module_call,
    load,
    resources,
)

MODULE = ROOT / "infra" / "gcp"
EXAMPLE = ROOT / "infra" / "examples" / "gcp"
FUNCTION = ROOT / "functions" / "gcp"
LOCAL_ONLY = {"PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"}


MOD = load(MODULE)
RES = resources(MOD)
LOCALS = {k: v for item in MOD["locals"] for k, v in item.items()}
FN = RES["google_cloudfunctions2_function.kubetrail"]


def settings_the_code_reads() -> set[str]:
    """Environment names in functions/gcp: the KUBETRAIL_* and GOOGLE_* literals."""
    text = "\n".join(p.read_text() for p in FUNCTION.glob("*.py"))
    return set(re.findall(r'"((?:KUBETRAIL|GOOGLE)_[A-Z_]+)"', text))


def test_every_setting_the_code_reads_is_set_and_no_secret_or_emulator_is() -> None:
    env = set(FN["service_config"][0]["environment_variables"])
    read = settings_the_code_reads()
    assert {"GOOGLE_CLOUD_PROJECT", "KUBETRAIL_DEDUP_COLLECTION", "KUBETRAIL_FINDINGS_TOPIC",
            "KUBETRAIL_DEADLETTER_TOPIC"} <= read  # the scan finds them
    assert read <= env, read - env
    assert not env & LOCAL_ONLY
    assert not any(re.search(r"key|secret|password|token|credential", s, re.I) for s in env)
    values = FN["service_config"][0]["environment_variables"]
    assert values["KUBETRAIL_FINDINGS_TOPIC"] == "${google_pubsub_topic.findings.id}"
    assert values["KUBETRAIL_DEADLETTER_TOPIC"] == "${google_pubsub_topic.deadletter.id}"
    assert values["KUBETRAIL_DEDUP_COLLECTION"] == "${var.dedup_collection}"


def test_every_reference_is_declared() -> None:
    assert_references_declared(MODULE, "google")


def test_the_example_calls_the_module_with_declared_inputs() -> None:
    call = example_module_call(EXAMPLE, MODULE)
    assert call["source_zip"].endswith("/.build/kubetrail-gcp.zip")  # what make package-gcp writes



def test_the_sink_routes_gke_audit_logs_at_each_scope_and_may_publish() -> None:
    audit_filter = LOCALS["audit_filter"]
    for part in ('resource.type=\\"k8s_cluster\\"', 'protoPayload.serviceName=\\"k8s.io\\"',
                 '" AND "', "LOG_ID"):
        assert part in audit_filter, part
    assert "cloudaudit.googleapis.com/activity" in LOCALS["audit_logs"]
    assert "var.include_data_access ?" in LOCALS["audit_logs"]  # data_access only on request
    for kind in ("project", "folder", "organization"):
        sink = RES[f"google_logging_{kind}_sink.audit"]
        assert sink["count"] == f'${{var.sink_scope == "{kind}" ? 1 : 0}}'
        assert sink["filter"] == "${local.audit_filter}"
        assert sink["destination"] == "${local.sink_destination}"
        assert kind == "project" or sink["include_children"] is True
    assert RES["google_logging_project_sink.audit"]["unique_writer_identity"] is True
    grant = RES["google_pubsub_topic_iam_member.sink_writer_publishes_audit"]
    assert (grant["topic"], grant["role"], grant["member"]) == (
        "${google_pubsub_topic.audit.name}", "roles/pubsub.publisher",
        "${local.sink_writer_identity}")


def test_the_function_is_gen2_python312_on_an_eventarc_pubsub_trigger_with_retry() -> None:
    build = FN["build_config"][0]
    assert build["runtime"] == "python312"
    assert f"def {build['entry_point']}(event: CloudEvent)" in (FUNCTION / "main.py").read_text()
    trigger = FN["event_trigger"][0]
    assert trigger["event_type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert trigger["pubsub_topic"] == "${google_pubsub_topic.audit.id}"
    assert trigger["retry_policy"] == "RETRY_POLICY_RETRY"
    assert trigger["service_account_email"] == "${google_service_account.trigger.email}"
    service = FN["service_config"][0]
    assert service["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    assert service["service_account_email"] == "${google_service_account.function.email}"


def test_the_trigger_subscription_dead_letters_to_the_dead_letter_topic() -> None:
    hook = RES["terraform_data.trigger_dead_letter"]
    env = hook["provisioner"][0]["local-exec"]["environment"]
    assert env["DEAD_LETTER_TOPIC"] == "${google_pubsub_topic.deadletter.id}"
    assert "event_trigger[0].trigger" in env["TRIGGER"]
    script = MODULE / "scripts" / "trigger-dead-letter.sh"
    assert "--dead-letter-topic" in script.read_text()
    subprocess.run(["bash", "-n", str(script)], check=True)
    agent = RES["google_pubsub_topic_iam_member.pubsub_agent_dead_letters"]
    assert agent["topic"] == "${google_pubsub_topic.deadletter.name}"
    assert agent["member"] == "${local.pubsub_service_agent}"


def test_firestore_ttl_policy_is_on_the_field_the_store_writes() -> None:
    field = RES["google_firestore_field.dedup_ttl"]
    assert field["collection"] == "${var.dedup_collection}"
    assert field["ttl_config"] == [{}]
    from kubetrail.dedup.firestore import FirestoreDedupStore

    assert field["field"] == FirestoreDedupStore.TTL_FIELD
    assert RES["google_firestore_database.kubetrail"]["type"] == "FIRESTORE_NATIVE"


def test_least_privilege() -> None:
    grants = {k: v for k, v in RES.items() if k.split(".")[0].endswith(("_iam_member",
                                                                         "_iam_binding"))}
    fn_member = "${google_service_account.function.member}"
    roles_by_member: dict[str, set[str]] = {}
    for name, grant in grants.items():
        assert "*" not in grant["role"] and not re.search(r"admin|owner|editor", grant["role"])
        roles_by_member.setdefault(grant["member"], set()).add(grant["role"])
        if name.startswith("google_project_iam_member."):  # project-wide only with a condition
            assert grant["member"] == fn_member and grant["role"] == "roles/datastore.user"
            assert "databases/${var.firestore_database}" in grant["condition"][0]["expression"]
    assert roles_by_member[fn_member] == {"roles/pubsub.publisher", "roles/datastore.user"}
    publishes = RES["google_pubsub_topic_iam_member.function_publishes"]
    assert set(publishes["for_each"]) == {"findings", "deadletter"}
    assert roles_by_member["${google_service_account.trigger.member}"] == {"roles/run.invoker"}
    invoke = RES["google_cloud_run_v2_service_iam_member.trigger_invokes"]
    assert invoke["name"] == "${google_cloudfunctions2_function.kubetrail.name}"
    assert not any(k.startswith("google_service_account_key.") for k in RES)  # no keys


@pytest.mark.terraform
def test_terraform_fmt_is_clean() -> None:
    assert_fmt_clean(MODULE, EXAMPLE)


def test_checkov_finds_no_unexplained_failure() -> None:
    result = checkov(MODULE)
    assert_no_unexplained_failure(result)
    assert result.skipped
    assert result.passed >= 10
