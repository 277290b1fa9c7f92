"""core/v1 Namespace: `default` and `kube-system` exist from the start, as in a cluster."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from minikubelet.api.meta import K8sModel, ObjectMeta, Str

__all__ = ["Namespace", "NamespaceSpec", "NamespaceStatus", "active_namespace"]


class NamespaceSpec(K8sModel):
    finalizers: list[Str] = Field(default_factory=list)


class NamespaceStatus(K8sModel):
    phase: Literal["Active", "Terminating"] = "Active"


class Namespace(K8sModel):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Namespace"] = "Namespace"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: NamespaceSpec = Field(default_factory=NamespaceSpec)
    status: NamespaceStatus = Field(default_factory=NamespaceStatus)


def active_namespace(name: str) -> dict[str, Any]:
    """A Namespace as the node creates its own (`default`, `kube-system`, ...): no spec, phase Active."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": {}, "status": {"phase": "Active"}}
