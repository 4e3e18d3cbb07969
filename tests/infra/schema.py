"""Offline provider-schema check of Terraform HCL: every resource, data source and provider
block, argument and nested block of a directory against the committed extract of its
provider's schema (infra/schema/<provider>.json, made by scripts/terraform/extract_schema.py),
at every provider version the directory's `required_providers` constraint must support."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

from tests.infra.hcl import ROOT

SCHEMA_DIR = ROOT / "infra" / "schema"
PROVIDERS = ("aws", "azurerm", "google")

Version = tuple[int, int, int]

# Meta-arguments Terraform itself handles, per kind of block.
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider"}
META_BLOCKS = {"resource": {"lifecycle", "provisioner", "connection"}, "data": {"lifecycle"}}


def version(text: str) -> Version:
    major, minor, patch, *_ = [*(int(p) for p in text.strip().lstrip("v").split(".")), 0, 0]
    return major, minor, patch


def show(v: Version) -> str:
    return ".".join(map(str, v))


@dataclass(frozen=True)
class Constraint:
    """A `required_providers` version constraint (comma-separated `op version` terms)."""

    terms: tuple[tuple[str, Version, int], ...]  # (operator, version, parts written)

    @classmethod
    def parse(cls, text: str) -> Constraint:
        terms = []
        for term in text.split(","):
            match = re.fullmatch(r"\s*(~>|>=|<=|!=|>|<|=)?\s*v?(\d+(?:\.\d+){0,2})\s*", term)
            if match is None:
                raise ValueError(f"unsupported version constraint term {term!r}")
            terms.append((match.group(1) or "=", version(match.group(2)),
                          match.group(2).count(".") + 1))
        return cls(tuple(terms))

    def admits(self, v: Version) -> bool:
        for op, bound, parts in self.terms:
            if op == "~>":
                upper = (bound[0] + 1, 0, 0) if parts <= 2 else (bound[0], bound[1] + 1, 0)
                if not bound <= v < upper:
                    return False
            elif not {"=": v == bound, "!=": v != bound, ">": v > bound, ">=": v >= bound,
                      "<": v < bound, "<=": v <= bound}[op]:
                return False
        return True

    def floor(self) -> Version:
        """The lowest version admitted (constraints here always name one)."""
        candidates = [b for op, b, _ in self.terms if op in ("~>", ">=", "=")]
        if not candidates or not self.admits(max(candidates)):
            raise ValueError(f"constraint {self} has no lower bound it admits")
        return max(candidates)

    def majors(self) -> set[int]:
        """Major versions the constraint admits some release of (probed at both ends)."""
        first = self.floor()[0]
        return {m for m in range(first, first + 10)
                if self.admits((m, 0, 0)) or self.admits((m, 9999, 9999))}

    def __str__(self) -> str:
        return ", ".join(f"{op} {show(v)}" for op, v, _ in self.terms)


def load_extract(provider: str, directory: Path = SCHEMA_DIR) -> dict[str, Any]:
    extract: dict[str, Any] = json.loads((directory / f"{provider}.json").read_text())
    return extract


def schema_at(extract: dict[str, Any], at: Version) -> dict[str, Any] | None:
    """The schema of the newest extracted release at or below `at`, with the later changes the
    extract records (`later`: from changelogs and upgrade guides, each with its first release)
    up to `at`; None when the extract holds nothing that old."""
    releases = sorted((version(v), v) for v in extract["versions"])
    below = [name for v, name in releases if v <= at]
    if not below:
        return None
    schema: dict[str, Any] = json.loads(json.dumps(extract["versions"][below[-1]]))
    schema["release"] = show(at)
    for fact in extract.get("later", []):
        if version(fact["since"]) > at:
            continue
        node = schema["resources" if fact["kind"] == "resource" else "data_sources"][fact["type"]]
        *blocks, name = fact["path"].split(".")
        for block in blocks:
            node = node["blocks"][block]
        if fact["mode"] == "removed":
            node["arguments"].pop(name, None)
            node["blocks"].pop(name, None)
        else:
            node["arguments"][name] = fact["mode"]
    return schema


class Block(dict[str, Any]):
    """The body of an HCL block (python-hcl2 marks them `__is_block__`), as opposed to an
    object or map value of an argument."""


def _clean(value: Any) -> Any:
    """python-hcl2's tree without its quotes and bookkeeping keys, blocks as Block."""
    if isinstance(value, dict):
        body = {_clean(k): _clean(v) for k, v in value.items() if not str(k).startswith("__")}
        return Block(body) if value.get("__is_block__") else body
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse(text: str) -> dict[str, Any]:
    """One .tf file's top-level blocks, by kind."""
    return dict(_clean(hcl2.loads(text)))


def load_dir(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file name, parsed HCL) of the directory's .tf files."""
    return [(path.name, parse(path.read_text())) for path in sorted(directory.glob("*.tf"))]


def is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Block) for v in value)


def constraints(files: list[tuple[str, dict[str, Any]]]) -> dict[str, Constraint]:
    """provider name → its `required_providers` constraint."""
    found = {}
    for _, doc in files:
        for terraform in doc.get("terraform", []):
            for required in terraform.get("required_providers", []):
                for name, spec in required.items():
                    found[name] = Constraint.parse(spec["version"])
    return found


def provider_of(tf_type: str) -> str | None:
    return next((p for p in PROVIDERS if tf_type.startswith(p + "_")), None)


def _check_body(where: str, body: dict[str, Any], schema: dict[str, Any], meta: set[str],
                meta_blocks: set[str]) -> list[str]:
    problems = []
    arguments, blocks = schema["arguments"], schema["blocks"]
    dynamic = {name: spec for item in body.get("dynamic", []) for name, spec in item.items()}
    for key, value in body.items():
        if key == "dynamic" or key in meta or key in meta_blocks:
            continue
        if key in blocks:
            if not is_block(value):
                problems.append(f"{where}: {key} is a block, set as an argument")
                continue
            spec = blocks[key]
            if spec.get("max_items") is not None and len(value) > spec["max_items"]:
                problems.append(f"{where}: at most {spec['max_items']} {key} block(s)")
            for item in value:
                problems += _check_body(f"{where}.{key}", item, spec, set(), set())
        elif key in arguments:
            if is_block(value):
                problems.append(f"{where}: {key} is an argument, written as a block")
        else:
            problems.append(f"{where}: unknown argument or block {key!r}")
    for name, spec in dynamic.items():
        if name not in blocks:
            problems.append(f"{where}: unknown nested block {name!r} (dynamic)")
            continue
        for content in spec.get("content", []):
            problems += _check_body(f"{where}.{name}", content, blocks[name], set(), set())
    for name, mode in arguments.items():
        if mode == "required" and name not in body:
            problems.append(f"{where}: required argument {name!r} is missing")
    for name, spec in blocks.items():
        if spec.get("min_items", 0) >= 1 and name not in body and name not in dynamic:
            problems.append(f"{where}: required block {name!r} is missing")
    return problems


REFERENCE = re.compile(r"(?<![\w.])(data\.)?((?:aws|azurerm|google)_[a-z0-9_]+)\.[a-z0-9_]+"
                       r"(?:\[[^\]]*\])?\.([a-z0-9_]+)")


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _check_references(filename: str, doc: dict[str, Any],
                      schemas: dict[str, dict[str, Any]]) -> list[str]:
    """Every `type.name.attribute` read in an expression names an argument, block or computed
    attribute of that type."""
    problems = []
    for text in _strings(doc):
        for data, tf_type, attribute in REFERENCE.findall(text):
            provider = provider_of(tf_type)
            if provider not in schemas:
                continue
            schema = schemas[provider]["data_sources" if data else "resources"].get(tf_type)
            if schema is None:
                continue  # reported where the block is declared
            readable = set(schema["attributes"]) | set(schema["arguments"]) | set(
                schema["blocks"])
            if attribute not in readable:
                problems.append(f"{filename}: {data}{tf_type} has no attribute {attribute!r}")
    return sorted(set(problems))


def check_files(files: list[tuple[str, dict[str, Any]]],
                schemas: dict[str, dict[str, Any]]) -> list[str]:
    """Problems of the parsed files against one schema per provider (missing providers'
    blocks are not checked: each directory is checked against the providers it requires)."""
    problems = []
    for filename, doc in files:
        for kind, key in (("resource", "resources"), ("data", "data_sources")):
            for item in doc.get(kind, []):
                for tf_type, named in item.items():
                    provider = provider_of(tf_type)
                    if provider is None:
                        continue  # terraform_data and other built-ins
                    if provider not in schemas:
                        problems.append(f"{filename}: {tf_type} needs provider {provider}, "
                                        "which the directory does not require")
                        continue
                    prefix = "data." if kind == "data" else ""
                    for name, body in named.items():
                        where = f"{filename}: {prefix}{tf_type}.{name}"
                        schema = schemas[provider][key].get(tf_type)
                        if schema is None:
                            problems.append(f"{where}: unknown {kind} type {tf_type} in "
                                            f"{provider} {schemas[provider]['release']}")
                            continue
                        problems += _check_body(where, body, schema, META_ARGUMENTS,
                                                META_BLOCKS[kind])
        problems += _check_references(filename, doc, schemas)
        for item in doc.get("provider", []):
            for provider, body in item.items():
                if provider in schemas:
                    problems += _check_body(f"{filename}: provider {provider}", body,
                                            schemas[provider]["provider"], {"alias"}, set())
    return problems


def check_directory(directory: Path, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Every problem of the directory at every version its constraints must support: the
    lowest admitted version and each extracted release admitted. A constraint admitting a
    major version the extract has no schema for is itself a problem."""
    files = load_dir(directory)
    required = constraints(files)
    problems = []
    extracts = {p: load_extract(p, schema_dir) for p in required if p in PROVIDERS}
    points: dict[str, list[Version]] = {}
    for provider, extract in extracts.items():
        constraint = required[provider]
        extracted = {version(v) for v in extract["versions"]}
        reviewed = {int(m) for m in extract.get("reviewed_majors", {})}
        for major in sorted(constraint.majors() - {v[0] for v in extracted} - reviewed):
            problems.append(f"{directory.name}: {provider} {constraint} admits {major}.x, for "
                            "which the extract holds no schema")
        candidates = extracted | {(m, 0, 0) for m in reviewed}
        points[provider] = sorted({constraint.floor()} | {
            v for v in candidates if constraint.admits(v)})
    for provider, at_versions in points.items():
        for at in at_versions:
            schema = schema_at(extracts[provider], at)
            if schema is None:
                problems.append(f"{directory.name}: no {provider} schema at or below {show(at)}")
                continue
            schemas = {p: schema_at(extracts[p], points[p][-1]) for p in extracts if p != provider}
            schemas[provider] = schema
            problems += [f"{provider} {show(at)}: {p}"
                         for p in check_files(files, {k: v for k, v in schemas.items() if v})]
    return problems
