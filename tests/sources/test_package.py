"""kubetrail.sources imports a format's decoder when it is first asked for: the pipeline and one
cloud's decoder load without the other formats' (each function decodes one format)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import kubetrail.sources

FORMATS = ("cloudwatch", "eventhub", "gke", "pubsub", "detect", "files")


def loaded_after(statement: str) -> list[str]:
    probe = (f"import sys, json; {statement}; print(json.dumps(sorted(m for m in sys.modules "
             "if m.startswith('kubetrail.sources.'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    return [m.removeprefix("kubetrail.sources.") for m in json.loads(out.stdout)]


def test_the_pipeline_imports_no_decoder() -> None:
    loaded = loaded_after("import kubetrail.pipeline")
    assert [m for m in loaded if m in FORMATS] == []


@pytest.mark.parametrize(("name", "homes"), [("decode_awslogs", {"cloudwatch"}),
                                             ("decode_eventhub_body", {"eventhub"}),
                                             ("decode_pubsub_message", {"pubsub", "gke"})])
def test_one_decoder_comes_without_the_other_formats(name: str, homes: set[str]) -> None:
    """(Pub/Sub messages carry GKE LogEntries: the GKE decoder is part of that format.)"""
    loaded = loaded_after(f"from kubetrail.sources import {name}")
    assert {m for m in loaded if m in FORMATS} == homes


@pytest.mark.parametrize("name", kubetrail.sources.__all__)
def test_every_name_is_its_modules(name: str) -> None:
    value = getattr(kubetrail.sources, name)
    home = importlib.import_module(f"kubetrail.sources.{kubetrail.sources._HOMES[name]}")
    assert value is getattr(home, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'decode_nothing'"):
        kubetrail.sources.decode_nothing  # noqa: B018
