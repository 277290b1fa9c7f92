"""The Node object the kubelet registers and keeps fresh: capacity from the host, Ready, addresses.

Capacity is what the host has (cores, MemTotal, ephemeral storage of the state directory's disk, 110 pods as
the kubelet's default `maxPods`); allocatable equals capacity (no reservations on one machine). The Ready
condition's heartbeat is renewed every `HEARTBEAT_SECONDS`.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from minikubelet import KUBERNETES_VERSION, __version__

__all__ = ["HEARTBEAT_SECONDS", "default_node_name", "node_object", "refresh_conditions"]

HEARTBEAT_SECONDS = 20.0
MAX_PODS = 110


def default_node_name() -> str:
    """The host name as a DNS subdomain, as the kubelet's `--hostname-override` default."""
    name = re.sub(r"[^a-z0-9.-]", "-", socket.gethostname().lower()).strip("-.")
    return name or "minikubelet"


def node_object(name: str, *, now: datetime, state_dir: Path, runtime_version: str = "") -> dict[str, Any]:
    capacity = {
        "cpu": str(os.cpu_count() or 1),
        "memory": f"{_mem_total_kib()}Ki",
        "ephemeral-storage": f"{shutil.disk_usage(state_dir).total // 1024}Ki",
        "pods": str(MAX_PODS),
    }
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": arch,
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": arch,
            },
        },
        "spec": {},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": refresh_conditions([], now=now),
            "addresses": [{"type": "InternalIP", "address": _host_ip()}, {"type": "Hostname", "address": name}],
            "nodeInfo": {
                "machineID": _read_first_line(Path("/etc/machine-id")),
                "bootID": _read_first_line(Path("/proc/sys/kernel/random/boot_id")),
                "kernelVersion": platform.release(),
                "osImage": _os_image(),
                "containerRuntimeVersion": runtime_version,
                "kubeletVersion": f"{KUBERNETES_VERSION}-minikubelet.{__version__}",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": arch,
            },
        },
    }


def refresh_conditions(conditions: list[dict[str, Any]], *, now: datetime) -> list[dict[str, Any]]:
    """The kubelet's node conditions with a fresh heartbeat; transition times move only on change."""
    from minikubelet.api.meta import format_time  # not at the top: `up` imports this module for its node name only

    stamp = format_time(now)
    wanted = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    old = {c.get("type"): c for c in conditions}
    fresh = []
    for kind, status, reason, message in wanted:
        previous = old.get(kind, {})
        transition = previous.get("lastTransitionTime") if previous.get("status") == status else None
        fresh.append(
            {
                "type": kind,
                "status": status,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": transition or stamp,
                "reason": reason,
                "message": message,
            }
        )
    return fresh


def _mem_total_kib() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _host_ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def _os_image() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _read_first_line(path: Path) -> str:
    try:
        return path.read_text().strip().splitlines()[0]
    except (OSError, IndexError):
        return ""
