"""infra/azure without an azurerm provider (none is available offline): the HCL parses, is
`terraform fmt` clean, every app setting the function reads is set (and no key or connection
string is), every variable, local and resource referenced is declared, the security properties
the issue asks for hold, and checkov finds nothing that is not explained."""

from __future__ import annotations

import re

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

MODULE = ROOT / "infra" / "azure"
EXAMPLE = ROOT / "infra" / "examples" / "azure"
FUNCTION = ROOT / "functions" / "azure"
LOCAL_ONLY = {"KUBETRAIL_STORAGE_CONNECTION_STRING", "KUBETRAIL_EVENTGRID_KEY"}


MOD = load(MODULE)
RES = resources(MOD)


def settings_the_code_reads() -> set[str]:
    """App settings named in functions/azure: KUBETRAIL_* literals, %NAME% binding expressions,
    and the identity-based trigger connection `<connection>__fullyQualifiedNamespace`."""
    text = "\n".join(p.read_text() for p in FUNCTION.glob("*.py"))
    names = set(re.findall(r'"(KUBETRAIL_[A-Z_]+)"', text))
    names |= set(re.findall(r"%([A-Z_]+)%", text))
    connections = set(re.findall(r'connection="([A-Z_]+)"', text))
    return (names - connections) | {f"{c}__fullyQualifiedNamespace" for c in connections}


def test_every_setting_the_code_reads_is_set_and_no_secret_is() -> None:
    app = RES["azurerm_linux_function_app.kubetrail"]
    settings = set(app["app_settings"])
    read = settings_the_code_reads()
    assert {"KUBETRAIL_DEDUP_TABLE", "KUBETRAIL_EVENTGRID_ENDPOINT", "KUBETRAIL_EVENTHUB_NAME",
            "KUBETRAIL_EVENTHUB__fullyQualifiedNamespace"} <= read  # the scan finds them
    assert read - LOCAL_ONLY <= settings, read - LOCAL_ONLY - settings
    assert not settings & LOCAL_ONLY
    assert not any(re.search(r"key|secret|password|connection_?string", s, re.I)
                   for s in settings)
    assert app["storage_uses_managed_identity"] is True


def test_every_reference_is_declared() -> None:
    assert_references_declared(MODULE, "azurerm")


def test_the_example_calls_the_module_with_declared_inputs() -> None:
    example_module_call(EXAMPLE, MODULE)


def test_security_properties() -> None:
    storage = RES["azurerm_storage_account.kubetrail"]
    assert storage["min_tls_version"] == "TLS1_2"
    assert storage["allow_nested_items_to_be_public"] is False
    assert storage["shared_access_key_enabled"] is False
    app = RES["azurerm_linux_function_app.kubetrail"]
    assert app["identity"][0]["type"] == "SystemAssigned"
    assert app["https_only"] is True
    site = app["site_config"][0]
    assert site["minimum_tls_version"] == "1.2" and site["ftps_state"] == "Disabled"
    python = next(b for item in MOD["variable"] for n, b in item.items() if n == "python_version")
    assert tuple(map(int, python["default"].split("."))) >= (3, 11)
    assert "application_insights_connection_string" in site
    topic = RES["azurerm_eventgrid_topic.findings"]
    assert topic["input_schema"] == "CloudEventSchemaV1_0"
    assert topic["local_auth_enabled"] is False
    assert RES["azurerm_eventhub_namespace.audit"]["minimum_tls_version"] == "1.2"
    assert "azurerm_eventhub_consumer_group.kubetrail" in RES


def test_roles_are_the_four_data_roles_each_scoped_to_its_resource() -> None:
    [roles] = [item["function_roles"] for item in MOD["locals"] if "function_roles" in item]
    by_role = {r["role"]: r["scope"] for r in roles.values()}
    assert by_role == {
        "Storage Blob Data Owner": "${azurerm_storage_account.kubetrail.id}",  # host storage
        "Storage Table Data Contributor": "${azurerm_storage_table.dedup.resource_manager_id}",
        "Storage Queue Data Message Sender":
            "${azurerm_storage_queue.deadletter.resource_manager_id}",
        "Azure Event Hubs Data Receiver": "${azurerm_eventhub.audit.id}",
        "EventGrid Data Sender": "${azurerm_eventgrid_topic.findings.id}",
    }
    assignment = RES["azurerm_role_assignment.function"]
    assert "identity[0].principal_id" in assignment["principal_id"]


def test_a_diagnostic_setting_per_cluster_with_kube_audit_admin_by_default() -> None:
    diag = RES["azurerm_monitor_diagnostic_setting.aks_audit"]
    assert diag["for_each"] == "${toset(var.aks_cluster_ids)}"
    assert diag["target_resource_id"] == "${each.value}"
    assert diag["eventhub_name"] == "${azurerm_eventhub.audit.name}"
    dynamic = diag["dynamic"][0]["enabled_log"]
    assert dynamic["for_each"] == "${toset(var.audit_log_categories)}"
    categories = next(b for item in MOD["variable"] for n, b in item.items()
                      if n == "audit_log_categories")
    assert categories["default"] == ["kube-audit-admin"]
    assert "kube-audit" in categories["validation"][0]["condition"]


@pytest.mark.terraform
def test_terraform_fmt_is_clean() -> None:
    assert_fmt_clean(MODULE, EXAMPLE)


def test_checkov_finds_no_unexplained_failure() -> None:
    result = checkov(MODULE)
    assert_no_unexplained_failure(result)
    assert result.skipped
