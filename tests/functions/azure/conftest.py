"""The `function` fixture: the real Azure function wired to the session's emulators."""

from __future__ import annotations

import pytest

from tests.emulators.azurite import EventGridStandin
from tests.functions.azure.harness import FunctionUnderTest, configure


@pytest.fixture
def function(azurite: str, eventgrid: EventGridStandin, monkeypatch: pytest.MonkeyPatch
             ) -> FunctionUnderTest:
    return configure(monkeypatch, azurite, eventgrid)
