"""The node Lease (`coordination.k8s.io/v1` in `kube-node-lease`), read from the Node object.

A real kubelet keeps a Lease named after its node and renews it every 10 s; `kubectl describe node` GETs
it and prints its HolderIdentity, AcquireTime and RenewTime, or `Failed to get lease: ...` when it cannot.
Our kubelet's heartbeat is the Node's Ready condition (renewed every `nodestatus.HEARTBEAT_SECONDS`), so
instead of a second object to keep in step, the API server derives the Lease from the Node whenever it
is read: held by the node, renewed at the Ready heartbeat, 40 s long (the kubelet's default), owned by the
Node. It is read-only: `get` and `list`, as discovery says.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from minikubelet.printing.durations import parse_time

__all__ = ["LEASE_DURATION_SECONDS", "NODE_LEASE_NAMESPACE", "lease_list", "node_lease", "node_leases"]

NODE_LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40


def _renew_time(node: Mapping[str, Any]) -> str | None:
    """The Ready condition's heartbeat as a MicroTime (`2006-01-02T15:04:05.000000Z`)."""
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    heartbeat = parse_time(ready.get("lastHeartbeatTime")) if ready else None
    return heartbeat.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if heartbeat else None


def node_lease(node: Mapping[str, Any]) -> dict[str, Any]:
    """The Lease a kubelet would keep for `node`."""
    metadata = node.get("metadata") or {}
    name, node_uid = metadata.get("name", ""), metadata.get("uid", "")
    spec: dict[str, Any] = {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS}
    renew = _renew_time(node)
    if renew is not None:
        spec["renewTime"] = renew
    return {
        "kind": "Lease",
        "apiVersion": "coordination.k8s.io/v1",
        "metadata": {
            "name": name,
            "namespace": NODE_LEASE_NAMESPACE,
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"minikubelet:lease:{node_uid}")),
            "resourceVersion": metadata.get("resourceVersion", ""),
            "creationTimestamp": metadata.get("creationTimestamp"),
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}],
        },
        "spec": spec,
    }


def node_leases(nodes: Sequence[Mapping[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The Leases in `namespace` ("" for all namespaces): one per node, all in `kube-node-lease`."""
    if namespace not in ("", NODE_LEASE_NAMESPACE):
        return []
    return [node_lease(node) for node in nodes]


def lease_list(leases: list[dict[str, Any]], resource_version: str) -> dict[str, Any]:
    return {
        "kind": "LeaseList",
        "apiVersion": "coordination.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "items": leases,
    }
