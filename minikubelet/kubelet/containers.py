"""From a pod's container spec to the runtime's ContainerSpec: command/args, env with `$(VAR)` expansion
and the downward API, volume mounts, resource limits, security settings (the host namespaces, privileged,
user, capabilities) and the spec hash that detects a changed definition.

The pod was admitted (`apiserver/admission.py`) before it got here: what it asks of the host, the node allows.
Everything a user wrote reaches Docker as data (argv lists, env pairs, label values), never as options. A
volumeMount's subPath is resolved inside its volume by `kubelet/subpath.py` (makeMounts, doSafeOpen), never
joined onto the host path as a string."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from minikubelet.api.expansion import expand
from minikubelet.api.podutil import pod_spec
from minikubelet.api.quantity import Quantity
from minikubelet.api.wire import ObjectMeta, as_container, as_pod
from minikubelet.kubelet.subpath import HeldSubPaths
from minikubelet.runtime.interface import (
    ContainerID,
    ContainerKind,
    ContainerSecurity,
    ContainerSpec,
    Mount,
    PodRef,
    PortBinding,
    SandboxSpec,
)

__all__ = [
    "build_spec",
    "container_security",
    "resolve_env",
    "sandbox_spec",
    "spec_hash",
    "volume_dirs",
]


def resolve_env(pod: Mapping[str, Any], container: Mapping[str, Any], *, pod_ip: str, host_ip: str) -> list[tuple[str, str]]:
    """The container's environment in order, each value expanded against the ones before it."""
    typed, spec = as_pod(pod), pod_spec(as_pod(pod))
    meta = typed.get("metadata", {})
    fields = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", "") or "default",
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    values: dict[str, str] = {}
    result: list[tuple[str, str]] = []
    for var in as_container(container).get("env", []):
        ref = var["valueFrom"].get("fieldRef") if var.get("valueFrom") else None
        value = _field_value(ref.get("fieldPath", ""), meta, fields) if ref else expand(var.get("value", ""), values)
        values[var["name"]] = value
        result.append((var["name"], value))
    return result


def _field_value(path: str, meta: ObjectMeta, fields: dict[str, str]) -> str:
    for prefix, source in (
        ("metadata.labels['", meta.get("labels", {})),
        ("metadata.annotations['", meta.get("annotations", {})),
    ):
        if path.startswith(prefix) and path.endswith("']"):
            return source.get(path[len(prefix) : -2], "")
    return fields.get(path, "")


def volume_dirs(pod: Mapping[str, Any], state_dir: Path) -> dict[str, tuple[Path, bool]]:
    """Each volume's host path, and whether the kubelet owns it (emptyDir, removed with the pod)."""
    typed = as_pod(pod)
    uid = typed["metadata"]["uid"]
    out: dict[str, tuple[Path, bool]] = {}
    for volume in pod_spec(typed).get("volumes", []):
        if "emptyDir" in volume:
            out[volume["name"]] = (state_dir / "pods" / uid / "volumes" / volume["name"], True)
        elif "hostPath" in volume:
            out[volume["name"]] = (Path(volume["hostPath"]["path"]), False)
    return out


def spec_hash(container: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(container, sort_keys=True).encode()).hexdigest()[:16]


def build_spec(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    *,
    kind: ContainerKind,
    attempt: int,
    sandbox_id: ContainerID,
    pod_ip: str,
    host_ip: str,
    volumes: dict[str, tuple[Path, bool]],
    subpaths: HeldSubPaths,
    target: ContainerID | None = None,
) -> ContainerSpec:
    """The runtime's spec of one container instance. Mounts with a subPath are resolved safely and held open by
    `subpaths` (close it once the container has started, or failed to); raises SubPathError when one cannot be
    used (the kubelet's CreateContainerConfigError). `target` is the container whose process namespace an
    ephemeral container joins (its targetContainerName's instance); in a pod sharing its process namespace every
    container joins the sandbox's instead, as the kubelet's namespacesForPod (POD, which a target does not change)."""
    typed, spec, own = as_pod(pod), pod_spec(as_pod(pod)), as_container(container)
    meta = typed["metadata"]
    if spec.get("hostNetwork"):
        pod_ip = host_ip  # a pod on the host's network has the host's address, as in Kubernetes
    env = resolve_env(pod, container, pod_ip=pod_ip, host_ip=host_ip)
    values = dict(env)
    command = own.get("command")
    args = own.get("args")
    mounts = []
    for index, mount in enumerate(own.get("volumeMounts", [])):
        source, pinned = str(volumes[mount["name"]][0]), False
        if mount.get("subPath"):
            # Never the joined string: the volume is the pod's to write, links included (kubelet/subpath.py).
            source, pinned = subpaths.source(
                volumes[mount["name"]][0], mount["subPath"], volume=mount["name"], container=own["name"], index=index
            )
        mounts.append(Mount(source, mount["mountPath"], bool(mount.get("readOnly")), pinned=pinned))
    limits = own.get("resources", {}).get("limits", {})
    memory = Quantity.parse(limits["memory"]).as_int() if "memory" in limits else None
    cpus = Quantity.parse(limits["cpu"]).milli() * 1_000_000 if "cpu" in limits else None
    return ContainerSpec(
        pod=PodRef(meta["uid"], meta["name"], meta["namespace"]),
        name=own["name"],
        kind=kind,
        attempt=attempt,
        image=own["image"],
        sandbox_id=sandbox_id,
        entrypoint=[expand(a, values) for a in command] if command else None,
        cmd=[expand(a, values) for a in args] if args else ([] if command else None),
        env=env,
        working_dir=own.get("workingDir", ""),
        mounts=mounts,
        memory_bytes=memory,
        nano_cpus=cpus,
        stdin=bool(own.get("stdin")),
        stdin_once=bool(own.get("stdinOnce")),
        tty=bool(own.get("tty")),
        spec_hash=spec_hash(container),
        security=container_security(pod, container),
        pid_namespace_of=sandbox_id if spec.get("shareProcessNamespace") is True else target,
    )


def container_security(pod: Mapping[str, Any], container: Mapping[str, Any]) -> ContainerSecurity:
    """The container's securityContext (runAsUser and runAsGroup default to the pod's) and the host namespaces the
    pod shares (the network one comes with the sandbox's, which the container joins)."""
    spec = pod_spec(as_pod(pod))
    context: dict[str, Any] = {
        key: value for key, value in (spec.get("securityContext") or {}).items() if key in ("runAsUser", "runAsGroup")
    }
    context.update(as_container(container).get("securityContext") or {})
    user, group = context.get("runAsUser"), context.get("runAsGroup")
    capabilities = context.get("capabilities") or {}
    return ContainerSecurity(
        privileged=context.get("privileged") is True,
        host_pid=spec.get("hostPID") is True,
        host_ipc=spec.get("hostIPC") is True,
        host_uts=spec.get("hostNetwork") is True,
        user="" if user is None else f"{int(user)}" + ("" if group is None else f":{int(group)}"),
        read_only_rootfs=context.get("readOnlyRootFilesystem") is True,
        no_new_privileges=context.get("allowPrivilegeEscalation") is False,
        cap_add=tuple(str(cap) for cap in capabilities.get("add") or []),
        cap_drop=tuple(str(cap) for cap in capabilities.get("drop") or []),
    )


def sandbox_spec(pod: Mapping[str, Any], *, image: str, hostname: str, attempt: int, ports: list[PortBinding]) -> SandboxSpec:
    """The pod's sandbox: its hostname and host ports, or the host's namespaces when the pod shares them."""
    meta, spec = as_pod(pod)["metadata"], pod_spec(as_pod(pod))
    return SandboxSpec(
        PodRef(meta["uid"], meta["name"], meta["namespace"]),
        image,
        hostname,
        attempt,
        ports,
        host_network=spec.get("hostNetwork") is True,
        host_pid=spec.get("hostPID") is True,
        host_ipc=spec.get("hostIPC") is True,
    )
