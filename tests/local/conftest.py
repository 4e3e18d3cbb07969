"""The local-invoke fixtures of each cloud's tests, shared with test_poison.py."""

from tests.local.test_aws import env_file
from tests.local.test_azure import settings
from tests.local.test_gcp import emulator_env

__all__ = ["emulator_env", "env_file", "settings"]
