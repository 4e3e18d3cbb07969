"""scripts/terraform/extract_schema.py on a small jsii assembly shaped like the CDKTF bindings'
(the real packages need the npm registry; test_schema.py compares a real extract with
`terraform providers schema -json`)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.infra.hcl import ROOT

NS = "@cdktf/provider-x"
REGISTRY = "https://registry.terraform.io/providers/hashicorp/x/1.2.0/docs"


def load_extractor() -> ModuleType:
    path = ROOT / "scripts" / "terraform" / "extract_schema.py"
    spec = importlib.util.spec_from_file_location("extract_schema", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prop(name: str, tf_name: str, page: str, kind: dict[str, Any], *, optional: bool = True,
         block: bool = False) -> dict[str, Any]:
    link = f"Docs at Terraform Registry: {{@link {REGISTRY}/{page}#{tf_name} X#{tf_name}}}"
    docs = {"summary": f"{tf_name} block.", "remarks": link} if block else {"summary": link}
    return {"name": name, "docs": docs, "type": kind, **({"optional": True} if optional else {})}


def resource_class(fqn: str, base: str, page: str, tf_type: str,
                   getters: list[str]) -> dict[str, Any]:
    return {"kind": "class", "fqn": fqn, "base": base,
            "docs": {"summary": f"Represents a {{@link {REGISTRY}/{page} {tf_type}}}."},
            "properties": [{"name": g} for g in getters]
            + [{"name": "tfResourceType", "static": True}, {"name": "nameInput"}]}


def assembly() -> dict[str, Any]:
    page = "resources/thing"
    struct = {"kind": "interface", "datatype": True}
    return {"types": {
        f"{NS}.thing.Thing": resource_class(
            f"{NS}.thing.Thing", "cdktf.TerraformResource", page, "x_thing",
            ["name", "fooBar", "settings", "rule", "endpointUrl"]),
        f"{NS}.thing.ThingConfig": {**struct, "properties": [
            prop("name", "name", page, {"primitive": "string"}, optional=False),
            prop("fooBar", "foo_bar", page, {"primitive": "number"}),
            prop("settings", "settings", page, {"fqn": f"{NS}.thing.ThingSettings"},
                 block=True),
            prop("rule", "rule", page, {"union": {"types": [
                {"fqn": "cdktf.IResolvable"},
                {"collection": {"kind": "array",
                                "elementtype": {"fqn": f"{NS}.thing.ThingRule"}}}]}},
                 optional=False, block=True),
        ]},
        f"{NS}.thing.ThingSettings": {**struct, "properties": [
            prop("http2Enabled", "http2_enabled", page, {"primitive": "boolean"})]},
        f"{NS}.thing.ThingRule": {**struct, "properties": [
            prop("action", "action", page, {"primitive": "string"}, optional=False)]},
        f"{NS}.other.Other": resource_class(
            f"{NS}.other.Other", "cdktf.TerraformResource", "resources/other", "x_other", []),
        f"{NS}.dataThing.DataThing": resource_class(
            f"{NS}.dataThing.DataThing", "cdktf.TerraformDataSource", "data-sources/thing",
            "x_thing", ["name"]),
        f"{NS}.dataThing.DataThingConfig": {**struct, "properties": [
            prop("name", "name", "data-sources/thing", {"primitive": "string"})]},
        f"{NS}.provider.XProvider": {"kind": "class", "base": "cdktf.TerraformProvider",
                                     "docs": {"summary": "Represents a provider."}},
        f"{NS}.provider.XProviderConfig": {**struct, "properties": [
            prop("region", "region", "", {"primitive": "string"}),
            prop("alias", "alias", "", {"primitive": "string"})]},
    }}


def test_reads_arguments_blocks_and_attributes(tmp_path: Path) -> None:
    (tmp_path / ".jsii").write_text(json.dumps(assembly()))
    extractor = load_extractor()
    got = extractor.extract(tmp_path, {"resource": {"x_thing", "x_gone"}, "data": {"x_thing"}})
    assert got == {
        "provider": {"arguments": {"region": "optional"}, "blocks": {}},
        "resources": {"x_thing": {
            "arguments": {"foo_bar": "optional", "name": "required"},
            "blocks": {
                "rule": {"arguments": {"action": "required"}, "blocks": {}, "min_items": 1},
                "settings": {"arguments": {"http2_enabled": "optional"}, "blocks": {},
                             "min_items": 0, "max_items": 1},
            },
            "attributes": ["endpoint_url", "foo_bar", "name", "rule", "settings"],
        }},
        "data_sources": {"x_thing": {"arguments": {"name": "optional"}, "blocks": {},
                                     "attributes": ["name"]}},
        "absent": {"resource": ["x_gone"]},
    }
