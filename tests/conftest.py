"""Test session wiring: emulator fixtures live in tests/emulators/, one module per cloud. Each
starts its emulator on a free loopback port the first time a test asks for it, and stops it at
the end of the session (or reuses one named by the environment, e.g. after `make emulators`)."""

pytest_plugins = [
    "tests.emulators.moto",
    "tests.emulators.azurite",
    "tests.emulators.gcloud",
]
