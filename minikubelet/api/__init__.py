"""The object model of core/v1 as minikubelet serves it: pydantic models, defaults and validation.

This package does no I/O and imports nothing of ours but `minikubelet.errors`.
"""

from __future__ import annotations

from minikubelet.api.event import Event, EventSource, ObjectReference
from minikubelet.api.meta import K8sModel, ListMeta, ObjectMeta, OwnerReference, TypeMeta
from minikubelet.api.namespace import Namespace, NamespaceSpec, NamespaceStatus
from minikubelet.api.node import Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo
from minikubelet.api.pod import (
    Container,
    ContainerPort,
    ContainerRestartRule,
    ContainerRestartRuleOnExitCodes,
    EmptyDirVolumeSource,
    EnvVar,
    EnvVarSource,
    HostPathVolumeSource,
    ObjectFieldSelector,
    Pod,
    PodList,
    PodSpec,
    ResourceRequirements,
    Volume,
    VolumeMount,
)
from minikubelet.api.probe import (
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    HTTPHeader,
    Lifecycle,
    LifecycleHandler,
    Probe,
    SleepAction,
    TCPSocketAction,
)
from minikubelet.api.quantity import Quantity
from minikubelet.api.status import (
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    HostIP,
    PodCondition,
    PodIP,
    PodStatus,
)

__all__ = [
    "Container",
    "ContainerPort",
    "ContainerRestartRule",
    "ContainerRestartRuleOnExitCodes",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "EmptyDirVolumeSource",
    "EnvVar",
    "EnvVarSource",
    "Event",
    "EventSource",
    "ExecAction",
    "GRPCAction",
    "HTTPGetAction",
    "HTTPHeader",
    "HostIP",
    "HostPathVolumeSource",
    "K8sModel",
    "Lifecycle",
    "LifecycleHandler",
    "ListMeta",
    "Namespace",
    "NamespaceSpec",
    "NamespaceStatus",
    "Node",
    "NodeAddress",
    "NodeCondition",
    "NodeSpec",
    "NodeStatus",
    "NodeSystemInfo",
    "ObjectFieldSelector",
    "ObjectMeta",
    "ObjectReference",
    "OwnerReference",
    "Pod",
    "PodCondition",
    "PodIP",
    "PodList",
    "PodSpec",
    "PodStatus",
    "Probe",
    "Quantity",
    "ResourceRequirements",
    "SleepAction",
    "TCPSocketAction",
    "TypeMeta",
    "Volume",
    "VolumeMount",
]
