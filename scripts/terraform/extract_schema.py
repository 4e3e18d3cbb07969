"""Regenerate infra/schema/<provider>.json: the part of each provider's schema that infra/ uses,
read from the prebuilt CDKTF provider bindings on the npm registry.

Each @cdktf/provider-<name> package is generated from `terraform providers schema -json` of one
provider release (package.json `cdktf.provider.version`) and ships that schema as a jsii assembly
(`.jsii`): per resource and data source a `<Type>Config` interface (one property per argument,
`optional` unless required, nested blocks documented as "<name> block.") and one struct per
nested block (a single struct when the block allows at most one item, an array otherwise). The
Terraform names come from the registry links in the generated docs.

    .venv/bin/python scripts/terraform/extract_schema.py            # every provider
    .venv/bin/python scripts/terraform/extract_schema.py azurerm     # one provider

Needs npm and the registry; `make test` needs only the committed extract. The binding versions
per provider are listed in BINDINGS below: pick the ones whose provider versions bracket the
modules' version constraints (the floor and the newest release of the admitted major).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
OUT = INFRA / "schema"

# Binding package version → the provider release it was generated from (checked on extract).
BINDINGS: dict[str, dict[str, str]] = {
    "azurerm": {"13.19.0": "4.20.0", "14.13.1": "4.45.1", "14.14.0": "4.46.0",
                "14.23.0": "4.55.0"},
    "google": {"14.9.0": "6.10.0", "16.12.0": "6.50.0"},
    "aws": {"19.9.0": "5.40.0", "20.1.0": "5.100.0"},
}
PREFIX = {"azurerm": "azurerm_", "google": "google_", "aws": "aws_"}
# Types outside the modules that the tests' synthetic snippets use.
EXTRA_TYPES = {"azurerm": {"azurerm_resource_group"}, "google": set(), "aws": set()}

# What the bindings cannot show, from the providers' changelogs and upgrade guides: changes
# after the last published binding (azurerm stops at 4.55.0, google at 6.50.0) to the types
# infra/ uses. Each names the argument by its block path, what it became ("optional",
# "required" or "removed"), the first release with the change, and where that is recorded.
# REVIEWED_MAJORS: major versions without bindings whose upgrade guide was read for the types
# infra/ uses (their changes are in LATER), so constraints may admit them.
AZURERM_TABLE = ("hashicorp/terraform-provider-azurerm #28764: storage_account_id supersedes "
                 "storage_account_name (the table is then managed through Resource Manager); "
                 "in the 4.77.0 changelog (#32528), used with 4.78.0 in #32684")
GOOGLE_7 = ("Terraform Google Provider 7.0.0 Upgrade Guide "
            "(website/docs/guides/version_7_upgrade.html.markdown)")
LATER: dict[str, list[dict[str, str]]] = {
    "azurerm": [
        {"kind": "resource", "type": "azurerm_storage_table", "path": "storage_account_id",
         "mode": "optional", "since": "4.77.0", "source": AZURERM_TABLE},
        {"kind": "resource", "type": "azurerm_storage_table", "path": "storage_account_name",
         "mode": "optional", "since": "4.77.0", "source": AZURERM_TABLE},
    ],
    "google": [
        {"kind": "resource", "type": "google_cloudfunctions2_function",
         "path": "event_trigger.event_type", "mode": "required", "since": "7.0.0",
         "source": GOOGLE_7},
        {"kind": "resource", "type": "google_cloudfunctions2_function",
         "path": "service_config.service", "mode": "removed", "since": "7.0.0",
         "source": GOOGLE_7 + ": now an attribute only"},
    ],
}
REVIEWED_MAJORS: dict[str, dict[str, str]] = {
    "google": {"7": GOOGLE_7 + "; of the types used, only google_cloudfunctions2_function "
                               "changes (google_storage_bucket.retention_period, unused, "
                               "becomes a string; google_project_service's "
                               "disable_on_destroy default, set explicitly here, flips)"},
}

LINK = re.compile(r"/docs/(resources|data-sources)/([a-z0-9_]+)[ }]")
ARG = re.compile(r"#([a-z0-9_]+) [A-Za-z0-9]+#")


def used_types(provider: str) -> dict[str, set[str]]:
    """Resource and data-source types of `provider` in every .tf file under infra/."""
    found: dict[str, set[str]] = {"resource": set(), "data": set()}
    for path in sorted(INFRA.rglob("*.tf")):
        with path.open() as fh:
            doc = hcl2.load(fh)
        for kind in found:
            for item in doc.get(kind, []):
                found[kind] |= {t.strip('"') for t in item if t.strip('"').startswith(
                    PREFIX[provider])}
    found["resource"] |= EXTRA_TYPES[provider]
    return found


def fetch(package: str, version: str, workdir: Path) -> Path:
    """`npm pack` the binding and unpack its .jsii and package.json; return the package dir."""
    subprocess.run(["npm", "pack", f"{package}@{version}", "--silent",
                    "--pack-destination", str(workdir)], check=True, cwd=workdir,
                   stdout=subprocess.DEVNULL)
    [tgz] = list(workdir.glob("*.tgz"))
    with tarfile.open(tgz) as tar:
        members = [m for m in tar.getmembers()
                   if m.name in ("package/.jsii", "package/package.json")]
        tar.extractall(workdir, members=members, filter="data")
    tgz.unlink()
    return workdir / "package"


def snake(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    match = ARG.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
    if match:
        return match.group(1)
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", prop["name"]).lower()


def block_type(prop: dict[str, Any]) -> tuple[str, int | None] | None:
    """(struct fqn, max_items) when the property is a nested block, else None."""
    if not prop.get("docs", {}).get("summary", "").endswith(" block."):
        return None
    kind = prop["type"]
    if "fqn" in kind:
        return kind["fqn"], 1
    for option in kind.get("union", {}).get("types", []):
        element = option.get("collection", {}).get("elementtype", {})
        if "fqn" in element:
            return element["fqn"], None
    raise ValueError(f"unrecognised block type {kind}")


def body(types: dict[str, Any], fqn: str) -> dict[str, Any]:
    """Arguments and nested blocks of a config interface or block struct."""
    arguments: dict[str, str] = {}
    blocks: dict[str, Any] = {}
    for prop in types[fqn].get("properties", []):
        name = snake(prop)
        nested = block_type(prop)
        if nested is None:
            arguments[name] = "optional" if prop.get("optional") else "required"
            continue
        struct, max_items = nested
        block = body(types, struct)
        block["min_items"] = 0 if prop.get("optional") else 1
        if max_items is not None:
            block["max_items"] = max_items
        blocks[name] = block
    return {"arguments": dict(sorted(arguments.items())), "blocks": dict(sorted(blocks.items()))}


def attributes(types: dict[str, Any], fqn: str) -> list[str]:
    """Names readable on the resource (arguments and computed attributes): its getters."""
    names = set()
    for prop in types[fqn].get("properties", []):
        if prop.get("static") or prop["name"].endswith("Input") or prop.get("protected"):
            continue
        if prop["name"] in ("fqn", "friendlyUniqueId", "terraformMetaArguments",
                            "terraformResourceType", "terraformGeneratorMetadata", "node",
                            "cdktfStack", "rawOverrides", "dependsOn", "count", "forEach",
                            "lifecycle", "provider", "connection", "provisioners"):
            continue
        names.add(re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", prop["name"]).lower())
    return sorted(names)


def extract(package_dir: Path, wanted: dict[str, set[str]]) -> dict[str, Any]:
    assembly = json.loads((package_dir / ".jsii").read_text())
    types = assembly["types"]
    found: dict[str, dict[str, Any]] = {"resource": {}, "data": {}}
    provider: dict[str, Any] = {}
    for fqn, spec in types.items():
        if spec.get("kind") == "class" and spec.get("base") == "cdktf.TerraformProvider":
            provider = body(types, fqn + "Config")
            provider["arguments"].pop("alias", None)  # a meta-argument, checked by Terraform
            continue
        if spec.get("kind") != "class" or spec.get("base") not in (
                "cdktf.TerraformResource", "cdktf.TerraformDataSource"):
            continue
        match = LINK.search(spec.get("docs", {}).get("summary", ""))
        if match is None:
            continue
        kind = "resource" if match.group(1) == "resources" else "data"
        tf_type = re.search(r"\{@link \S+ ([a-z0-9_]+)\}", spec["docs"]["summary"])
        name = tf_type.group(1) if tf_type else ""
        if name in wanted[kind]:
            schema = body(types, fqn + "Config")
            schema["attributes"] = attributes(types, fqn)
            found[kind][name] = schema
    missing = {k: sorted(wanted[k] - set(found[k])) for k in found if wanted[k] - set(found[k])}
    return {"provider": provider, "resources": dict(sorted(found["resource"].items())),
            "data_sources": dict(sorted(found["data"].items())), "absent": missing}


def run(provider: str) -> dict[str, Any]:
    package = f"@cdktf/provider-{provider}"
    wanted = used_types(provider)
    versions: dict[str, Any] = {}
    for binding, expected in BINDINGS[provider].items():
        with tempfile.TemporaryDirectory() as tmp:
            package_dir = fetch(package, binding, Path(tmp))
            meta = json.loads((package_dir / "package.json").read_text())
            release = meta["cdktf"]["provider"]["version"]
            if release != expected:
                sys.exit(f"{package}@{binding} is {provider} {release}, not {expected}")
            print(f"{package}@{binding}: {provider} {release}", file=sys.stderr)
            schema = extract(package_dir, wanted)
        versions[release] = {"binding": f"{package}@{binding}", **schema}
    return {
        "provider": provider,
        "source": f"registry.terraform.io/hashicorp/{provider}",
        "generated_by": "scripts/terraform/extract_schema.py",
        "versions": versions,
        "later": LATER.get(provider, []),
        "reviewed_majors": REVIEWED_MAJORS.get(provider, {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("providers", nargs="*", default=sorted(BINDINGS))
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    for provider in args.providers:
        extract_ = run(provider)
        path = OUT / f"{provider}.json"
        path.write_text(json.dumps(extract_, indent=1, sort_keys=False) + "\n")
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
