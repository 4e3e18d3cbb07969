"""kubetrail: one normalized Kubernetes audit event from EKS, AKS and GKE, detection rules over it,
deduplicated findings to each cloud's alerting service.

The core imports no cloud SDK at module load; adapters import theirs on first use.
"""

__version__ = "0.1.0"
