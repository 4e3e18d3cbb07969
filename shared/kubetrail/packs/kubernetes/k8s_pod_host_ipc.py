"""Kubernetes.Pod.Host.IPC: a pod spec sharing the node's IPC namespace (hostIPC: true)
took effect."""

from kubetrail.rules.hostns import host_namespace_rule

rule, title, dedup, alert_context = host_namespace_rule("hostIPC")
