"""Hypothesis profiles: `make test` runs a bounded, derandomized budget (the same examples every
run, well under a minute); `make fuzz` runs random examples for as long as asked
(KUBETRAIL_FUZZ_EXAMPLES per property, a fresh seed each run)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": list(HealthCheck), "print_blob": True}
settings.register_profile("ci", max_examples=25, derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz", max_examples=int(os.environ.get("KUBETRAIL_FUZZ_EXAMPLES",
                                                                  "2000")), **_COMMON)
PROFILE = os.environ.get("KUBETRAIL_FUZZ_PROFILE", "ci")
settings.load_profile(PROFILE)
