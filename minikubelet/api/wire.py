"""The wire shape of the objects the daemon passes around as JSON dicts: `TypedDict`s over core/v1's JSON.

The API server validates and defaults an object through the pydantic models (`minikubelet.api.pod` and
friends), then stores and serves it as plain JSON; everything past that point (scheduler, kubelet, printers,
the CLI) reads the dict. These types name its fields exactly as Kubernetes' JSON does (`initContainers`,
`containerStatuses`, `hostIP`) so that `mypy --strict` checks every field read, at no cost at run time: a
`TypedDict` is a dict.

Every key is optional (`total=False`) but those the API server always writes on a stored pod (`Required`);
an object read from a file or from a client not yet validated is better typed `Mapping[str, Any]` and turned
into one of these with `as_pod` only after validation. Only the kinds and fields minikubelet serves appear;
an unknown key is still there at run time, just not typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, Required, TypedDict, cast

__all__ = [
    "Capabilities",
    "ConditionStatus",
    "Container",
    "ContainerKind",
    "ContainerPort",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "EmptyDirVolumeSource",
    "EnvVar",
    "EnvVarSource",
    "EphemeralContainer",
    "Event",
    "EventSource",
    "ExecAction",
    "GRPCAction",
    "HTTPGetAction",
    "HTTPHeader",
    "HostIP",
    "HostPathVolumeSource",
    "Lifecycle",
    "LifecycleHandler",
    "ObjectFieldSelector",
    "ObjectMeta",
    "ObjectReference",
    "OwnerReference",
    "Pod",
    "PodCondition",
    "PodIP",
    "PodPhase",
    "PodSpec",
    "PodStatus",
    "Probe",
    "ProbeKind",
    "QOSClass",
    "ResourceList",
    "ResourceRequirements",
    "SecurityContext",
    "SleepAction",
    "TCPSocketAction",
    "Volume",
    "VolumeMount",
    "as_container",
    "as_pod",
    "as_pod_status",
]

# A quantity as it travels: a string in canonical form once the API server stored it (`100m`, `64Mi`).
ResourceList = dict[str, str]
PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]
QOSClass = Literal["BestEffort", "Burstable", "Guaranteed"]
ConditionStatus = Literal["True", "False", "Unknown"]
ProbeKind = Literal["liveness", "readiness", "startup"]
ContainerKind = Literal["init", "regular", "ephemeral"]
# An int or a port name, as `intstr.IntOrString` marshals.
IntOrString = int | str


# --- metadata -------------------------------------------------------------------------------------------------------


class OwnerReference(TypedDict, total=False):
    apiVersion: Required[str]
    kind: Required[str]
    name: Required[str]
    uid: Required[str]
    controller: bool
    blockOwnerDeletion: bool


class ObjectMeta(TypedDict, total=False):
    name: str
    generateName: str
    namespace: str
    uid: str
    resourceVersion: str
    generation: int
    creationTimestamp: str
    deletionTimestamp: str
    deletionGracePeriodSeconds: int
    labels: dict[str, str]
    annotations: dict[str, str]
    ownerReferences: list[OwnerReference]
    finalizers: list[str]
    managedFields: list[dict[str, Any]]


# --- probes and lifecycle hooks -------------------------------------------------------------------------------------


class ExecAction(TypedDict, total=False):
    command: list[str]


class HTTPHeader(TypedDict):
    name: str
    value: str


class HTTPGetAction(TypedDict, total=False):
    path: str
    port: Required[IntOrString]
    host: str
    scheme: Literal["HTTP", "HTTPS"]
    httpHeaders: list[HTTPHeader]


class TCPSocketAction(TypedDict, total=False):
    port: Required[IntOrString]
    host: str


class GRPCAction(TypedDict, total=False):
    port: Required[int]
    service: str


class SleepAction(TypedDict):
    seconds: int


class Probe(TypedDict, total=False):
    exec: ExecAction
    httpGet: HTTPGetAction
    tcpSocket: TCPSocketAction
    grpc: GRPCAction
    initialDelaySeconds: int
    timeoutSeconds: int
    periodSeconds: int
    successThreshold: int
    failureThreshold: int
    terminationGracePeriodSeconds: int


class LifecycleHandler(TypedDict, total=False):
    exec: ExecAction
    httpGet: HTTPGetAction
    tcpSocket: TCPSocketAction
    sleep: SleepAction


class Lifecycle(TypedDict, total=False):
    postStart: LifecycleHandler
    preStop: LifecycleHandler


# --- containers -----------------------------------------------------------------------------------------------------


class ContainerPort(TypedDict, total=False):
    name: str
    containerPort: Required[int]
    protocol: Literal["SCTP", "TCP", "UDP"]
    hostPort: int
    hostIP: str


class ObjectFieldSelector(TypedDict, total=False):
    apiVersion: str
    fieldPath: Required[str]


class EnvVarSource(TypedDict, total=False):
    fieldRef: ObjectFieldSelector
    resourceFieldRef: dict[str, Any]
    configMapKeyRef: dict[str, Any]
    secretKeyRef: dict[str, Any]


class EnvVar(TypedDict, total=False):
    name: Required[str]
    value: str
    valueFrom: EnvVarSource


class ResourceRequirements(TypedDict, total=False):
    limits: ResourceList
    requests: ResourceList


class VolumeMount(TypedDict, total=False):
    name: Required[str]
    mountPath: Required[str]
    readOnly: bool
    subPath: str


class Capabilities(TypedDict, total=False):
    add: list[str]
    drop: list[str]


class SecurityContext(TypedDict, total=False):
    capabilities: Capabilities
    privileged: bool
    runAsUser: int
    runAsGroup: int
    runAsNonRoot: bool
    readOnlyRootFilesystem: bool
    allowPrivilegeEscalation: bool
    procMount: Literal["Default", "Unmasked"]
    seLinuxOptions: dict[str, Any]
    windowsOptions: dict[str, Any]
    seccompProfile: dict[str, Any]
    appArmorProfile: dict[str, Any]


class Container(TypedDict, total=False):
    name: Required[str]
    image: str
    imagePullPolicy: Literal["Always", "IfNotPresent", "Never"]
    command: list[str]
    args: list[str]
    workingDir: str
    ports: list[ContainerPort]
    env: list[EnvVar]
    resources: ResourceRequirements
    volumeMounts: list[VolumeMount]
    livenessProbe: Probe
    readinessProbe: Probe
    startupProbe: Probe
    lifecycle: Lifecycle
    terminationMessagePath: str
    terminationMessagePolicy: Literal["File", "FallbackToLogsOnError"]
    stdin: bool
    stdinOnce: bool
    tty: bool
    # Only on an init container, and only "Always": a sidecar (a restartable init container).
    restartPolicy: Literal["Always"]
    securityContext: SecurityContext


class EphemeralContainer(Container, total=False):
    targetContainerName: str


# --- volumes (the kinds minikubelet mounts) -------------------------------------------------------------------------


class EmptyDirVolumeSource(TypedDict, total=False):
    medium: Literal["", "Memory"]
    sizeLimit: str


class HostPathVolumeSource(TypedDict, total=False):
    path: Required[str]
    type: str


class Volume(TypedDict, total=False):
    name: Required[str]
    emptyDir: EmptyDirVolumeSource
    hostPath: HostPathVolumeSource


# --- the pod --------------------------------------------------------------------------------------------------------


class PodSpec(TypedDict, total=False):
    containers: list[Container]
    initContainers: list[Container]
    ephemeralContainers: list[EphemeralContainer]
    volumes: list[Volume]
    restartPolicy: Literal["Always", "OnFailure", "Never"]
    terminationGracePeriodSeconds: int
    activeDeadlineSeconds: int
    nodeName: str
    nodeSelector: dict[str, str]
    hostname: str
    subdomain: str
    schedulerName: str
    dnsPolicy: str
    hostNetwork: bool
    hostPID: bool
    hostIPC: bool
    shareProcessNamespace: bool
    serviceAccountName: str
    serviceAccount: str
    priority: int
    priorityClassName: str
    tolerations: list[dict[str, Any]]
    affinity: dict[str, Any]
    securityContext: dict[str, Any]
    imagePullSecrets: list[dict[str, Any]]
    # Not served by minikubelet (its API server refuses them), read by the resource helpers all the same, as
    # component-helpers does, for a pod that carries them (kubectl describe of a pod from elsewhere).
    resources: ResourceRequirements
    overhead: ResourceList


class ContainerStateWaiting(TypedDict, total=False):
    reason: str
    message: str


class ContainerStateRunning(TypedDict, total=False):
    startedAt: str | None


class ContainerStateTerminated(TypedDict, total=False):
    exitCode: Required[int]
    signal: int
    reason: str
    message: str
    startedAt: str | None
    finishedAt: str | None
    containerID: str


class ContainerState(TypedDict, total=False):
    waiting: ContainerStateWaiting
    running: ContainerStateRunning
    terminated: ContainerStateTerminated


class ContainerStatus(TypedDict, total=False):
    name: Required[str]
    state: ContainerState
    lastState: ContainerState
    ready: bool
    restartCount: int
    image: str
    imageID: str
    containerID: str
    started: bool
    # In-place resize (not done by minikubelet; read by the resource helpers when present).
    allocatedResources: ResourceList
    resources: ResourceRequirements


class PodCondition(TypedDict, total=False):
    type: Required[str]
    status: Required[ConditionStatus]
    # PodObservedGenerationTracking (GA in 1.35): the metadata.generation the condition was set from.
    observedGeneration: int
    lastProbeTime: str | None
    lastTransitionTime: str | None
    reason: str
    message: str


class PodIP(TypedDict):
    ip: str


class HostIP(TypedDict):
    ip: str


class PodStatus(TypedDict, total=False):
    # PodObservedGenerationTracking (GA in 1.35): the metadata.generation the kubelet wrote this status from.
    observedGeneration: int
    phase: PodPhase
    conditions: list[PodCondition]
    message: str
    reason: str
    hostIP: str
    hostIPs: list[HostIP]
    podIP: str
    podIPs: list[PodIP]
    startTime: str
    initContainerStatuses: list[ContainerStatus]
    containerStatuses: list[ContainerStatus]
    ephemeralContainerStatuses: list[ContainerStatus]
    qosClass: QOSClass


class Pod(TypedDict):
    apiVersion: NotRequired[str]
    kind: NotRequired[str]
    metadata: ObjectMeta
    spec: PodSpec
    status: NotRequired[PodStatus]


# --- events ---------------------------------------------------------------------------------------------------------


class ObjectReference(TypedDict, total=False):
    kind: str
    namespace: str
    name: str
    uid: str
    apiVersion: str
    resourceVersion: str
    fieldPath: str


class EventSource(TypedDict, total=False):
    component: str
    host: str


class Event(TypedDict, total=False):
    apiVersion: str
    kind: str
    metadata: Required[ObjectMeta]
    involvedObject: Required[ObjectReference]
    reason: str
    message: str
    source: EventSource
    firstTimestamp: str | None
    lastTimestamp: str | None
    count: int
    type: Literal["Normal", "Warning"]
    reportingComponent: str
    reportingInstance: str


def as_pod(obj: Mapping[str, Any]) -> Pod:
    """`obj` typed as the stored pod it is (no check at run time: call it on what the API server validated)."""
    return cast(Pod, obj)


def as_pod_status(obj: Mapping[str, Any]) -> PodStatus:
    """`obj` typed as a pod's status as the kubelet writes it (no check at run time)."""
    return cast(PodStatus, obj)


def as_container(obj: Mapping[str, Any]) -> Container:
    """`obj` typed as one of a stored pod's containers (no check at run time)."""
    return cast(Container, obj)
