"""A live record a Panther Kubernetes rule fires on and kubetrail's bundled pack does not: a
ClusterRoleBinding of cluster-admin created by a user (Kubernetes.ClusterRoleBinding.Privileged),
as an audit Event (EKS, AKS) and as a GKE LogEntry."""

from __future__ import annotations

import uuid
from typing import Any

RULE_ID = "Kubernetes.ClusterRoleBinding.Privileged"
BINDING = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
           "metadata": {"name": "backdoor"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                       "name": "cluster-admin"},
           "subjects": [{"kind": "User", "name": "mallory@example.com"}]}


def binding_event(user: str = "mallory@example.com") -> dict[str, Any]:
    """The audit Event of the create, as the API server writes it."""
    return {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": str(uuid.uuid4()), "stage": "ResponseComplete",
        "requestURI": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "verb": "create",
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["198.51.100.23"], "userAgent": "kubectl/v1.31.0 (linux/amd64)",
        "objectRef": {"resource": "clusterrolebindings", "name": "backdoor",
                      "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 201}, "requestObject": BINDING,
        "requestReceivedTimestamp": "2026-11-27T12:00:00.000000Z",
        "stageTimestamp": "2026-11-27T12:00:00.012000Z",
    }


def binding_entry(user: str = "mallory@example.com", cluster: str = "gke-prod"
                  ) -> dict[str, Any]:
    """The GKE audit LogEntry of the create."""
    name = "rbac.authorization.k8s.io/v1/clusterrolebindings/backdoor"
    method = "io.k8s.authorization.rbac.v1.clusterrolebindings.create"
    return {
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": user},
            "authorizationInfo": [{"granted": True, "permission": method, "resource": name}],
            "methodName": method, "resourceName": name, "serviceName": "k8s.io",
            "requestMetadata": {"callerIp": "198.51.100.23",
                                "callerSuppliedUserAgent": "kubectl/v1.31.2 (linux/amd64)"},
            "request": BINDING, "status": {},
        },
        "insertId": uuid.uuid4().hex,
        "resource": {"type": "k8s_cluster", "labels": {
            "project_id": "kubetrail-test", "location": "us-central1", "cluster_name": cluster}},
        "timestamp": "2026-11-27T12:00:00.012000Z",
        "logName": "projects/kubetrail-test/logs/cloudaudit.googleapis.com%2Factivity",
        "operation": {"id": str(uuid.uuid4()), "producer": "k8s.io", "first": True, "last": True},
        "receiveTimestamp": "2026-11-27T12:00:01Z",
    }
