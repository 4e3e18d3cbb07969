"""Emulator fixtures (filled in by the cloud issue)."""
