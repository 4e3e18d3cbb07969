"""Kubernetes.Pod.Host.Network: a pod spec sharing the node's Network namespace (hostNetwork: true)
took effect."""

from kubetrail.rules.hostns import host_namespace_rule

rule, title, dedup, alert_context = host_namespace_rule("hostNetwork")
