"""Risk of a workload's pod template, for rules over workload creation (DaemonSet, Deployment, ...).

Pure functions over a request object (the manifest the user sent). What they look at: privileged
containers and dangerous added capabilities, hostPath volumes (sensitive paths normalized before
comparison, so `/etc/../etc` or `//var/run/docker.sock` cannot slip by), host namespaces, images.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
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
DANGEROUS_CAPABILITIES = frozenset({"ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_ADMIN",
                                    "DAC_READ_SEARCH", "BPF", "SYS_RAWIO"})
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def pod_spec(request_object: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The pod spec inside a workload manifest (spec.template.spec), or a Pod's own spec."""
    obj = _map(request_object)
    spec = _map(obj.get("spec"))
    template = _map(spec.get("template"))
    return _map(template.get("spec")) if template else spec


def normalize_host_path(path: str) -> str:
    """`//etc/./kubernetes/` → `/etc/kubernetes`; relative paths stay relative (kubelet refuses)."""
    if not path.startswith("/"):
        return path
    norm = posixpath.normpath(path)
    return "/" + norm.lstrip("/")


def is_sensitive_host_path(path: str) -> bool:
    norm = normalize_host_path(path)
    if norm in SENSITIVE_HOST_PATHS:
        return True
    return any(norm.startswith(tree + "/") for tree in _SENSITIVE_TREES)


def workload_risk(request_object: Mapping[str, Any] | None) -> dict[str, Any]:
    """Images, hostPath mounts (sensitive or not), privileged containers, dangerous capabilities
    and host namespaces of a manifest, plus the severity they warrant (HIGH / MEDIUM / None).
    `request_object_present` says whether the audit record carried the manifest at all."""
    spec = pod_spec(request_object)
    images: list[str] = []
    privileged: list[str] = []
    capabilities: list[str] = []
    for list_name in CONTAINER_LISTS:
        for c in _list(spec.get(list_name)):
            c = _map(c)
            name = str(c.get("name", "?"))
            if isinstance(c.get("image"), str):
                images.append(c["image"])
            sc = _map(c.get("securityContext"))
            if sc.get("privileged") is True:
                privileged.append(name)
            added = {str(a).upper().removeprefix("CAP_")
                     for a in _list(_map(sc.get("capabilities")).get("add"))}
            capabilities += [f"{name}:{a}" for a in sorted(added & DANGEROUS_CAPABILITIES)]
    host_paths = [str(_map(v.get("hostPath")).get("path", ""))
                  for v in map(_map, _list(spec.get("volumes"))) if "hostPath" in v]
    sensitive = [p for p in host_paths if is_sensitive_host_path(p)]
    host_namespaces = [k for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k) is True]
    if privileged or capabilities or sensitive:
        severity: str | None = "HIGH"
    elif host_namespaces or host_paths:
        severity = "MEDIUM"
    else:
        severity = None
    return {
        "request_object_present": request_object is not None,
        "images": images,
        "host_path_mounts": host_paths,
        "sensitive_host_paths": sensitive,
        "privileged_containers": privileged,
        "dangerous_capabilities": capabilities,
        "host_namespaces": host_namespaces,
        "severity": severity,
    }
