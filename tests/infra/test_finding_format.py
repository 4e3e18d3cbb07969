"""Each cloud's module passes `finding_format` to its function as KUBETRAIL_FINDING_FORMAT,
admitting exactly the formats the code knows."""

from __future__ import annotations

import re

import pytest

from kubetrail.publish.formats import FORMATS
from tests.infra.hcl import ROOT, load, source_text

MODULES = {"aws": ROOT / "infra" / "aws", "azure": ROOT / "infra" / "azure",
           "gcp": ROOT / "infra" / "gcp"}


@pytest.mark.parametrize("cloud", sorted(MODULES))
def test_the_variable_reaches_the_function_and_admits_the_codes_formats(cloud: str) -> None:
    module = MODULES[cloud]
    variables = {name: body for item in load(module)["variable"] for name, body in item.items()}
    body = variables["finding_format"]
    assert body["default"] == "kubetrail"
    [validation] = body["validation"]
    admitted = re.findall(r'"([a-z]+)"', validation["condition"].split("[", 1)[1].split("]")[0])
    assert tuple(sorted(admitted)) == tuple(sorted(FORMATS))
    assert re.search(r"KUBETRAIL_FINDING_FORMAT\s*=\s*var\.finding_format", source_text(module))
