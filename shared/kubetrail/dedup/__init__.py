"""Dedup stores: the DedupStore port (base) and one adapter per backend (SDK on first use)."""

from kubetrail.dedup.base import Claim, DedupStore

__all__ = ["Claim", "DedupStore"]
