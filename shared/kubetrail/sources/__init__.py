"""Decoders: one per delivery format, each yielding Outcomes (Decoded / Skip / Prefiltered /
Failure) that carry their Origin. See the modules for the formats."""
