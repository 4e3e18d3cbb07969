"""Publishers: the Publisher port (base) and one adapter per service, SDKs imported on first use."""

from kubetrail.publish.base import Publisher, PublishResult

__all__ = ["PublishResult", "Publisher"]
