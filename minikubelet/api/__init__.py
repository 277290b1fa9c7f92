"""The object model of core/v1 as minikubelet serves it: pydantic models, defaults and validation.

This package does no I/O and imports nothing of ours but `minikubelet.errors`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each name lives. The models are imported on first use (PEP 562), not with the package: the pure modules
# (`wire`, `podutil`, `resources`...) serve the CLI, which must not pay for pydantic to print `get pods`.
_HOMES = {
    "Container": "pod",
    "ContainerPort": "pod",
    "ContainerRestartRule": "pod",
    "ContainerRestartRuleOnExitCodes": "pod",
    "ContainerState": "status",
    "ContainerStateRunning": "status",
    "ContainerStateTerminated": "status",
    "ContainerStateWaiting": "status",
    "ContainerStatus": "status",
    "EmptyDirVolumeSource": "pod",
    "EnvVar": "pod",
    "EnvVarSource": "pod",
    "Event": "event",
    "EventSource": "event",
    "ExecAction": "probe",
    "GRPCAction": "probe",
    "HTTPGetAction": "probe",
    "HTTPHeader": "probe",
    "HostIP": "status",
    "HostPathVolumeSource": "pod",
    "K8sModel": "meta",
    "Lifecycle": "probe",
    "LifecycleHandler": "probe",
    "ListMeta": "meta",
    "Namespace": "namespace",
    "NamespaceSpec": "namespace",
    "NamespaceStatus": "namespace",
    "Node": "node",
    "NodeAddress": "node",
    "NodeCondition": "node",
    "NodeSpec": "node",
    "NodeStatus": "node",
    "NodeSystemInfo": "node",
    "ObjectFieldSelector": "pod",
    "ObjectMeta": "meta",
    "ObjectReference": "event",
    "OwnerReference": "meta",
    "Pod": "pod",
    "PodCondition": "status",
    "PodIP": "status",
    "PodList": "pod",
    "PodSpec": "pod",
    "PodStatus": "status",
    "Probe": "probe",
    "Quantity": "quantity",
    "ResourceRequirements": "pod",
    "SleepAction": "probe",
    "TCPSocketAction": "probe",
    "TypeMeta": "meta",
    "Volume": "pod",
    "VolumeMount": "pod",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"minikubelet.api.{home}"), name)
    globals()[name] = value
    return value


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
