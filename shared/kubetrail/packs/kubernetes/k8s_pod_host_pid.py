"""Kubernetes.Pod.Host.PID: a pod spec sharing the node's PID namespace (hostPID: true)
took effect."""

from kubetrail.rules.hostns import host_namespace_rule

rule, title, dedup, alert_context = host_namespace_rule("hostPID")
