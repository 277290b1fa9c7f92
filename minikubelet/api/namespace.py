"""core/v1 Namespace: `default` and `kube-system` exist from the start, as in a cluster."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from minikubelet.api.meta import K8sModel, ObjectMeta, Str

__all__ = ["Namespace", "NamespaceSpec", "NamespaceStatus"]


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
