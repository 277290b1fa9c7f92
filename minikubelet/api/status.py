"""What the kubelet reports: PodStatus, container states and pod conditions (docs/kubelet.md#pod-status)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from minikubelet.api.meta import Bool, Int32, Int64, K8sModel, Str, Time

__all__ = [
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "HostIP",
    "PodCondition",
    "PodIP",
    "PodPhase",
    "PodStatus",
]

PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]
ConditionStatus = Literal["True", "False", "Unknown"]


class ContainerStateWaiting(K8sModel):
    reason: Str = ""
    message: Str = ""


class ContainerStateRunning(K8sModel):
    started_at: Time | None = None


class ContainerStateTerminated(K8sModel):
    exit_code: Int32 = 0
    signal: Int32 | None = None
    reason: Str = ""
    message: Str = ""
    started_at: Time | None = None
    finished_at: Time | None = None
    container_id: Str = Field(default="", alias="containerID")


class ContainerState(K8sModel):
    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


class ContainerStatus(K8sModel):
    _always_emit: ClassVar[frozenset[str]] = frozenset({"name", "ready", "image", "image_id"})

    name: Str = ""
    state: ContainerState = Field(default_factory=ContainerState)
    last_state: ContainerState = Field(default_factory=ContainerState)
    ready: Bool = False
    restart_count: Int32 = 0
    image: Str = ""
    image_id: Str = Field(default="", alias="imageID")
    container_id: Str = Field(default="", alias="containerID")
    started: Bool | None = None


class PodCondition(K8sModel):
    # PodObservedGenerationTracking (GA in 1.35): the metadata.generation the condition was set from; 0 is unset.
    _zero_means_default: ClassVar[frozenset[str]] = frozenset({"observedGeneration"})

    type: Str
    observed_generation: Int64 | None = None
    status: ConditionStatus
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: Str = ""
    message: Str = ""


class PodIP(K8sModel):
    ip: Str = ""


class HostIP(K8sModel):
    ip: Str = ""


class PodStatus(K8sModel):
    # PodObservedGenerationTracking (GA in 1.35): the metadata.generation the kubelet wrote this status from.
    _zero_means_default: ClassVar[frozenset[str]] = frozenset({"observedGeneration"})

    observed_generation: Int64 | None = None
    phase: PodPhase = "Pending"
    conditions: list[PodCondition] = Field(default_factory=list)
    message: Str = ""
    reason: Str = ""
    host_ip: Str = Field(default="", alias="hostIP")
    host_ips: list[HostIP] = Field(default_factory=list, alias="hostIPs")
    pod_ip: Str = Field(default="", alias="podIP")
    pod_ips: list[PodIP] = Field(default_factory=list, alias="podIPs")
    start_time: Time | None = None
    init_container_statuses: list[ContainerStatus] = Field(default_factory=list)
    container_statuses: list[ContainerStatus] = Field(default_factory=list)
    ephemeral_container_statuses: list[ContainerStatus] = Field(default_factory=list)
    qos_class: Literal["", "BestEffort", "Burstable", "Guaranteed"] = ""
