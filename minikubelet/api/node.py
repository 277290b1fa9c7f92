"""core/v1 Node: the one node minikubelet is."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from minikubelet.api.meta import Bool, K8sModel, ObjectMeta, Str, Time
from minikubelet.api.quantity import Quantity

__all__ = ["Node", "NodeAddress", "NodeCondition", "NodeSpec", "NodeStatus", "NodeSystemInfo"]


class NodeSpec(K8sModel):
    pod_cidr: Str = Field(default="", alias="podCIDR")
    unschedulable: Bool = False


class NodeCondition(K8sModel):
    type: Str
    status: Literal["True", "False", "Unknown"]
    last_heartbeat_time: Time | None = None
    last_transition_time: Time | None = None
    reason: Str = ""
    message: Str = ""


class NodeAddress(K8sModel):
    type: Str
    address: Str


class NodeSystemInfo(K8sModel):
    machine_id: Str = Field(default="", alias="machineID")
    system_uuid: Str = Field(default="", alias="systemUUID")
    boot_id: Str = Field(default="", alias="bootID")
    kernel_version: Str = ""
    os_image: Str = ""
    container_runtime_version: Str = ""
    kubelet_version: Str = ""
    kube_proxy_version: Str = ""
    operating_system: Str = ""
    architecture: Str = ""


class NodeStatus(K8sModel):
    capacity: dict[Str, Quantity] = Field(default_factory=dict)
    allocatable: dict[Str, Quantity] = Field(default_factory=dict)
    conditions: list[NodeCondition] = Field(default_factory=list)
    addresses: list[NodeAddress] = Field(default_factory=list)
    node_info: NodeSystemInfo = Field(default_factory=NodeSystemInfo)


class Node(K8sModel):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Node"] = "Node"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: NodeSpec = Field(default_factory=NodeSpec)
    status: NodeStatus = Field(default_factory=NodeStatus)
