"""Dead-letter sinks: where undecodable records go, with their reason and origin."""

from kubetrail.deadletter.base import DeadLetterSink, dead_letter_document

__all__ = ["DeadLetterSink", "dead_letter_document"]
