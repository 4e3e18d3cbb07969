"""What a workload manifest asks of the node: the pod spec inside it and its risky settings.

Pure functions over a request object (the manifest the user sent). The pod spec is found by the
*resource the request was for*, never by the manifest's shape: a Pod whose spec also carries a
bogus `template` (the API server drops unknown fields) is judged on its real spec. Looked at:
every container list (containers, initContainers, ephemeralContainers), privileged containers
(and Windows HostProcess ones), dangerous added capabilities, hostPath volumes (normalized before
comparison, so `/etc/../etc` or `//var/run/docker.sock` cannot slip by), host namespaces, images.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

# Paths whose mount gives the pod the node: its root, config, credentials, kubelet or runtime.
SENSITIVE_HOST_PATHS = (
    "/", "/etc", "/proc", "/sys", "/root", "/boot", "/dev", "/home", "/var/lib/kubelet",
    "/var/lib/docker", "/var/lib/containerd", "/var/lib/crio", "/etc/kubernetes", "/var/run",
    "/run", "/var/run/docker.sock", "/run/containerd", "/var/run/containerd",
    "/run/containerd/containerd.sock", "/var/run/crio", "/run/crio", "/var/run/crio/crio.sock",
    "/var/log/pods",
)
# Directories under which any mount is sensitive too (/ itself only when mounted as such).
_SENSITIVE_TREES = tuple(p for p in SENSITIVE_HOST_PATHS if p not in ("/", "/home"))
# The node itself, its container runtime or the cluster's credentials: one mount is a takeover.
# Compared after /var/run is folded into /run (the same directory on every node image).
CRITICAL_HOST_PATHS = ("/", "/run/docker.sock", "/run/containerd", "/run/crio",
                       "/run/dockershim.sock", "/var/lib/kubelet", "/etc/kubernetes")
DANGEROUS_CAPABILITIES = frozenset({
    "ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_ADMIN", "NET_RAW", "DAC_READ_SEARCH",
    "DAC_OVERRIDE", "BPF", "PERFMON", "SYS_RAWIO", "SYS_BOOT", "SYS_TIME", "MAC_ADMIN",
    "MAC_OVERRIDE", "SYSLOG"})
# Capabilities that are, alone, a documented container escape or node takeover.
ESCAPE_CAPABILITIES = frozenset({"ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE",
                                 "DAC_READ_SEARCH", "BPF", "SYS_RAWIO"})
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
# Workload resources (objectRef.resource) and the kind whose pods they make.
WORKLOAD_KINDS = {
    "pods": "Pod", "deployments": "Deployment", "daemonsets": "DaemonSet",
    "statefulsets": "StatefulSet", "replicasets": "ReplicaSet",
    "replicationcontrollers": "ReplicationController", "jobs": "Job", "cronjobs": "CronJob",
}


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def pod_spec(request_object: Mapping[str, Any] | None,
             resource: str | None = None) -> Mapping[str, Any]:
    """The pod spec a manifest of `resource` carries: a Pod's own spec, a CronJob's
    spec.jobTemplate.spec.template.spec, any other workload's spec.template.spec.

    Without `resource` (callers that only have the manifest) the manifest's `kind` decides, and
    without a kind its shape (template → template spec)."""
    obj = _map(request_object)
    spec = _map(obj.get("spec"))
    kind = WORKLOAD_KINDS.get(resource) if resource else obj.get("kind")
    if kind == "Pod":
        return spec
    if kind == "CronJob" or (kind is None and "jobTemplate" in spec):
        spec = _map(_map(spec.get("jobTemplate")).get("spec"))
    template = _map(spec.get("template"))
    if kind is None and not template:
        return spec
    return _map(template.get("spec"))


def containers(spec: Mapping[str, Any], lists: tuple[str, ...] = CONTAINER_LISTS
               ) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(name, container) of every container in the given lists of a pod spec."""
    for list_name in lists:
        for c in map(_map, _list(spec.get(list_name))):
            yield str(c.get("name", "?")), c


def is_privileged(container: Mapping[str, Any]) -> bool:
    """privileged: true, or a Windows HostProcess container (the same: the node's own rights)."""
    sc = _map(container.get("securityContext"))
    return sc.get("privileged") is True or \
        _map(sc.get("windowsOptions")).get("hostProcess") is True


def pod_host_process(spec: Mapping[str, Any]) -> bool:
    """The pod-level `securityContext.windowsOptions.hostProcess: true`: every container of a
    Windows pod then runs as a HostProcess container (the node's own rights)."""
    sc = _map(spec.get("securityContext"))
    return _map(sc.get("windowsOptions")).get("hostProcess") is True


def added_capabilities(container: Mapping[str, Any]) -> set[str]:
    """The capabilities a container adds, as the runtimes read them (case and CAP_ ignored)."""
    adds = _list(_map(_map(container.get("securityContext")).get("capabilities")).get("add"))
    return {str(a).strip().upper().removeprefix("CAP_") for a in adds}


def host_paths(spec: Mapping[str, Any]) -> list[str]:
    """The path of every hostPath volume of a pod spec (as written)."""
    return [str(_map(v.get("hostPath")).get("path", ""))
            for v in map(_map, _list(spec.get("volumes"))) if "hostPath" in v]


def normalize_host_path(path: str) -> str:
    """`//etc/./kubernetes/` → `/etc/kubernetes`; relative paths stay relative (kubelet refuses)."""
    if not path.startswith("/"):
        return path
    norm = posixpath.normpath(path)
    return "/" + norm.lstrip("/")


def is_sensitive_host_path(path: str) -> bool:
    """The path is, or is under, a directory that holds the node's secrets, config or runtime."""
    norm = normalize_host_path(path)
    if norm in SENSITIVE_HOST_PATHS:
        return True
    return any(norm.startswith(tree + "/") for tree in _SENSITIVE_TREES)


def host_path_severity(path: str) -> str:
    """CRITICAL for the node's root, runtime sockets, kubelet and cluster credentials; HIGH for
    other sensitive paths; MEDIUM for any other hostPath (still a write or read on the node)."""
    norm = normalize_host_path(path)
    if norm == "/var/run" or norm.startswith("/var/run/"):
        norm = norm.removeprefix("/var")
    if norm == "/" or any(norm == p or norm.startswith(p + "/")
                          for p in CRITICAL_HOST_PATHS if p != "/"):
        return "CRITICAL"
    return "HIGH" if is_sensitive_host_path(path) else "MEDIUM"


def host_namespaces(spec: Mapping[str, Any]) -> list[str]:
    """hostNetwork / hostPID / hostIPC set to true in a pod spec."""
    return [k for k in HOST_NAMESPACES if spec.get(k) is True]


def workload_risk(request_object: Mapping[str, Any] | None,
                  resource: str | None = None) -> dict[str, Any]:
    """Images, hostPath mounts (sensitive or not), privileged containers, dangerous capabilities
    and host namespaces of a manifest, plus the severity they warrant (HIGH / MEDIUM / None).
    `request_object_present` says whether the audit record carried the manifest at all."""
    spec = pod_spec(request_object, resource)
    images: list[str] = []
    privileged: list[str] = []
    capabilities: list[str] = []
    host_process = pod_host_process(spec)
    for name, c in containers(spec):
        if isinstance(c.get("image"), str):
            images.append(c["image"])
        if host_process or is_privileged(c):
            privileged.append(name)
        capabilities += [f"{name}:{a}" for a in sorted(added_capabilities(c)
                                                       & DANGEROUS_CAPABILITIES)]
    paths = host_paths(spec)
    sensitive = [p for p in paths if is_sensitive_host_path(p)]
    namespaces = host_namespaces(spec)
    if privileged or capabilities or sensitive:
        severity: str | None = "HIGH"
    elif namespaces or paths:
        severity = "MEDIUM"
    else:
        severity = None
    return {
        "request_object_present": request_object is not None,
        "images": images,
        "host_path_mounts": paths,
        "sensitive_host_paths": sensitive,
        "privileged_containers": privileged,
        "dangerous_capabilities": capabilities,
        "host_namespaces": namespaces,
        "severity": severity,
    }
