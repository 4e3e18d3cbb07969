"""Every module and example under infra/ against its providers' schemas (the committed extract
of the CDKTF bindings, infra/schema/), at every provider version its constraint admits; and the
check itself, on small .tf files, catching what it must and accepting Terraform's
meta-arguments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra.hcl import ROOT
from tests.infra.schema import (
    PROVIDERS,
    SCHEMA_DIR,
    Constraint,
    check_directory,
    constraints,
    load_dir,
    load_extract,
    provider_of,
    schema_at,
    version,
)

INFRA = ROOT / "infra"
DIRECTORIES = sorted({p.parent for p in INFRA.rglob("*.tf")})


def test_every_directory_with_terraform_is_checked() -> None:
    names = {str(d.relative_to(INFRA)) for d in DIRECTORIES}
    assert {"aws", "azure", "gcp", "examples/aws", "examples/azure", "examples/gcp"} <= names


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda d: str(d.relative_to(INFRA)))
def test_module_matches_its_providers_at_every_admitted_version(directory: Path) -> None:
    assert check_directory(directory) == []


@pytest.mark.parametrize("example", sorted((INFRA / "examples").iterdir()), ids=lambda d: d.name)
def test_examples_require_what_their_module_requires(example: Path) -> None:
    module = INFRA / {"gcp": "gcp", "aws": "aws", "azure": "azure"}[example.name]
    assert {k: str(v) for k, v in constraints(load_dir(example)).items()} == {
        k: str(v) for k, v in constraints(load_dir(module)).items()}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_extract_holds_every_type_infra_uses(provider: str) -> None:
    extract = load_extract(provider)
    used: dict[str, set[str]] = {"resources": set(), "data_sources": set()}
    for directory in DIRECTORIES:
        for _, doc in load_dir(directory):
            for kind, key in (("resource", "resources"), ("data", "data_sources")):
                used[key] |= {t for item in doc.get(kind, []) for t in item
                              if provider_of(t) == provider}
    assert used["resources"]
    for release, schema in extract["versions"].items():
        assert schema["binding"].startswith(f"@cdktf/provider-{provider}@"), release
        assert schema["absent"] == {}, release
        for key in used:
            assert used[key] <= set(schema[key]), (release, used[key] - set(schema[key]))


def test_the_extract_records_what_the_issue_is_about() -> None:
    """The facts the azurerm constraint rests on, as the bindings show them."""
    extract = load_extract("azurerm")
    queue = {v: s["resources"]["azurerm_storage_queue"]["arguments"]
             for v, s in extract["versions"].items()}
    assert "storage_account_id" not in queue["4.45.1"]
    assert queue["4.46.0"]["storage_account_id"] == "optional"
    for release, schema in extract["versions"].items():
        table = schema["resources"]["azurerm_storage_table"]["arguments"]
        assert "storage_account_id" not in table, release
        assert table["storage_account_name"] == "required", release
    later = schema_at(extract, version("4.77.0"))
    assert later is not None
    assert later["resources"]["azurerm_storage_table"]["arguments"]["storage_account_id"] == (
        "optional")
    before = schema_at(extract, version("4.76.0"))
    assert before is not None
    assert "storage_account_id" not in before["resources"]["azurerm_storage_table"]["arguments"]


def _from_terraform(block: dict[str, Any], *, top: bool = True) -> dict[str, Any]:
    """A block of `terraform providers schema -json` in the extract's form."""
    arguments = {name: "required" if spec.get("required") else "optional"
                 for name, spec in block.get("attributes", {}).items()
                 if spec.get("required") or spec.get("optional")}
    blocks = {}
    for name, nested in block.get("block_types", {}).items():
        blocks[name] = {**_from_terraform(nested["block"], top=False),
                        "min_items": 1 if nested.get("min_items", 0) > 0 else 0}
        if nested["nesting_mode"] == "single" or nested.get("max_items") == 1:
            blocks[name]["max_items"] = 1
    out: dict[str, Any] = {"arguments": dict(sorted(arguments.items())),
                           "blocks": dict(sorted(blocks.items()))}
    if top:  # what expressions can read: every attribute, computed or not, and every block
        out["attributes"] = sorted(set(block.get("attributes", {})) | set(blocks))
    return out


@pytest.mark.terraform
def test_the_bindings_extract_equals_terraforms_own_schema(tmp_path: Path) -> None:
    """The one provider available offline (hashicorp/aws 5.100.0 in /opt/tf-plugins): what the
    extractor read from the CDKTF bindings is exactly what `terraform providers schema -json`
    reports, for every type infra/ uses and the provider block."""
    terraform = shutil.which("terraform")
    mirror = Path("/opt/tf-plugins/registry.terraform.io/hashicorp/aws/5.100.0")
    if terraform is None or not mirror.is_dir():
        pytest.skip("needs terraform and hashicorp/aws 5.100.0 in the /opt/tf-plugins mirror")
    (tmp_path / "main.tf").write_text('terraform {\n  required_providers {\n    aws = '
                                      '{ source = "hashicorp/aws", version = "5.100.0" }\n'
                                      '  }\n}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1",
               TF_CLI_CONFIG_FILE=str(INFRA / "terraformrc"))
    for args in (["init", "-backend=false", "-input=false"], ["providers", "schema", "-json"]):
        result = subprocess.run([terraform, *args, "-no-color"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stderr
    real = json.loads(result.stdout)["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    extract = load_extract("aws")["versions"]["5.100.0"]
    for key, real_key in (("resources", "resource_schemas"),
                          ("data_sources", "data_source_schemas")):
        assert extract[key]
        for tf_type, schema in extract[key].items():
            assert schema == _from_terraform(real[real_key][tf_type]["block"]), tf_type
    provider = _from_terraform(real["provider"]["block"])
    provider["arguments"].pop("alias", None)
    del provider["attributes"]
    assert extract["provider"] == provider


# --- the check itself, on synthetic directories ---------------------------------------------

AZURERM = """
terraform {
  required_providers {
    azurerm = { source = "hashicorp/azurerm", version = "%s" }
  }
}
"""


def write(directory: Path, body: str, constraint: str = "~> 4.55") -> Path:
    (directory / "versions.tf").write_text(AZURERM % constraint)
    (directory / "main.tf").write_text(body)
    return directory


def test_accepts_a_valid_resource_with_every_meta_argument(tmp_path: Path) -> None:
    write(tmp_path, """
resource "azurerm_resource_group" "rg" {
  for_each   = toset(["a", "b"])
  name       = each.value
  location   = "westeurope"
  provider   = azurerm
  depends_on = [azurerm_storage_account.sa]
  lifecycle {
    prevent_destroy = true
    precondition {
      condition     = true
      error_message = "never"
    }
  }
}

resource "azurerm_storage_account" "sa" {
  count                    = 1
  name                     = "sa"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
  blob_properties {
    delete_retention_policy {
      days = 7
    }
  }
  provisioner "local-exec" {
    command = "true"
  }
}

resource "azurerm_monitor_diagnostic_setting" "logs" {
  name               = "logs"
  target_resource_id = azurerm_storage_account.sa[0].id
  dynamic "enabled_log" {
    for_each = toset(["StorageRead"])
    content {
      category = enabled_log.value
    }
  }
}

data "azurerm_resource_group" "rg" {
  count = 0
  name  = "rg"
}

resource "terraform_data" "builtin" {
  input = "not a provider resource"
}
""")
    assert check_directory(tmp_path) == []


def test_catches_an_unknown_argument(tmp_path: Path) -> None:
    write(tmp_path, """
resource "azurerm_resource_group" "rg" {
  name      = "rg"
  location  = "westeurope"
  locaiton2 = "typo"
}
""")
    assert check_directory(tmp_path) == [
        "azurerm 4.55.0: main.tf: azurerm_resource_group.rg: unknown argument or block "
        "'locaiton2'"]


def test_catches_a_missing_required_argument(tmp_path: Path) -> None:
    write(tmp_path, """
resource "azurerm_resource_group" "rg" {
  name = "rg"
}
""")
    assert check_directory(tmp_path) == [
        "azurerm 4.55.0: main.tf: azurerm_resource_group.rg: required argument 'location' is "
        "missing"]


def test_catches_nested_mistakes(tmp_path: Path) -> None:
    write(tmp_path, """
resource "azurerm_linux_function_app" "app" {
  name                 = "app"
  resource_group_name  = "rg"
  location             = "westeurope"
  service_plan_id      = "plan"
  identity {
    type    = "SystemAssigned"
    colour  = "blue"
  }
  identity {
    type = "SystemAssigned"
  }
  dynamic "sticky_setting" {
    for_each = []
    content {}
  }
  tags {
    a = "b"
  }
}

resource "azurerm_monitor_diagnostic_setting" "logs" {
  name               = "logs"
  target_resource_id = "id"
  enabled_metric     = { category = "AllMetrics" }
  dynamic "enabled_log" {
    for_each = ["x"]
    content {
      categroy = enabled_log.value
    }
  }
}
""")
    problems = {p.split(": ", 3)[-1] for p in check_directory(tmp_path)}
    assert problems == {
        "unknown argument or block 'colour'",  # in a nested block
        "at most 1 identity block(s)",  # max_items 1
        "required block 'site_config' is missing",
        "unknown nested block 'sticky_setting' (dynamic)",
        "tags is an argument, written as a block",
        "enabled_metric is a block, set as an argument",
        "unknown argument or block 'categroy'",  # inside a dynamic block's content
    }


def test_catches_an_unknown_type_and_attribute(tmp_path: Path) -> None:
    write(tmp_path, """
resource "azurerm_storage_tabel" "t" {
  name = "t"
}

output "x" {
  value = azurerm_resource_group.rg.primary_endpoint
}

resource "azurerm_resource_group" "rg" {
  name     = "rg"
  location = "westeurope"
}
""")
    assert check_directory(tmp_path) == [
        "azurerm 4.55.0: main.tf: azurerm_storage_tabel.t: unknown resource type "
        "azurerm_storage_tabel in azurerm 4.55.0",
        "azurerm 4.55.0: main.tf: azurerm_resource_group has no attribute 'primary_endpoint'"]


QUEUE_AND_TABLE = """
resource "azurerm_storage_queue" "q" {
  name               = "q"
  storage_account_id = "id"
}

resource "azurerm_storage_table" "t" {
  name               = "t"
  storage_account_id = "id"
}
"""


def test_checks_the_lowest_version_the_constraint_admits(tmp_path: Path) -> None:
    write(tmp_path, QUEUE_AND_TABLE, "~> 4.20")
    problems = check_directory(tmp_path)
    assert "azurerm 4.20.0: main.tf: azurerm_storage_queue.q: unknown argument or block " \
           "'storage_account_id'" in problems
    assert "azurerm 4.46.0: main.tf: azurerm_storage_table.t: unknown argument or block " \
           "'storage_account_id'" in problems
    assert not any("storage_queue" in p for p in problems if p.startswith("azurerm 4.46.0"))


def test_accepts_the_table_from_the_release_that_added_storage_account_id(
        tmp_path: Path) -> None:
    assert check_directory(write(tmp_path, QUEUE_AND_TABLE, "~> 4.76")) != []
    assert check_directory(write(tmp_path, QUEUE_AND_TABLE, ">= 4.77, < 5.0")) == []


def test_a_major_version_without_schema_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, """
resource "azurerm_resource_group" "rg" {
  name     = "rg"
  location = "westeurope"
}
""", ">= 4.55, < 6.0")
    assert check_directory(tmp_path) == [
        f"{tmp_path.name}: azurerm >= 4.55.0, < 6.0.0 admits 5.x, for which the extract holds "
        "no schema"]


def test_google_7_is_checked_with_its_upgrade_guide(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("""
terraform {
  required_providers {
    google = { source = "hashicorp/google", version = ">= 6.40, < 8.0" }
  }
}

resource "google_cloudfunctions2_function" "f" {
  name     = "f"
  location = "europe-west1"
  event_trigger {
    pubsub_topic = "t"
  }
  service_config {
    service = "s"
  }
}
""")
    problems = check_directory(tmp_path)
    assert problems == [
        "google 7.0.0: main.tf: google_cloudfunctions2_function.f.event_trigger: required "
        "argument 'event_type' is missing",
        "google 7.0.0: main.tf: google_cloudfunctions2_function.f.service_config: unknown "
        "argument or block 'service'"]


@pytest.mark.parametrize(("text", "admitted", "refused", "floor"), [
    ("~> 4.77", ["4.77.0", "4.99.3"], ["4.76.9", "5.0.0"], "4.77.0"),
    ("~> 4.77.1", ["4.77.5"], ["4.78.0", "4.77.0"], "4.77.1"),
    (">= 6.10, < 8.0", ["6.10.0", "7.31.0"], ["6.9.9", "8.0.0"], "6.10.0"),
    (">= 5.40, < 6.0", ["5.100.0"], ["6.0.0", "5.39.0"], "5.40.0"),
    ("= 5.40.1", ["5.40.1"], ["5.40.0"], "5.40.1"),
])
def test_constraints(text: str, admitted: list[str], refused: list[str], floor: str) -> None:
    constraint = Constraint.parse(text)
    assert all(constraint.admits(version(v)) for v in admitted)
    assert not any(constraint.admits(version(v)) for v in refused)
    assert constraint.floor() == version(floor)


def test_the_extract_is_self_describing() -> None:
    for provider in PROVIDERS:
        extract = json.loads((SCHEMA_DIR / f"{provider}.json").read_text())
        assert extract["source"] == f"registry.terraform.io/hashicorp/{provider}"
        assert extract["generated_by"] == "scripts/terraform/extract_schema.py"
        assert all(fact["source"] and fact["since"] for fact in extract["later"])
