"""The Pod and what it is made of: PodSpec, Container, ports, env, resources, volumes.

Fields follow core/v1. A few fields minikubelet does not act on are accepted so that manifests written
for a real cluster (or printed by `kubectl create --dry-run=client -o yaml`) load unchanged; they are
listed in docs/differences.md.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from minikubelet.api.images import default_pull_policy
from minikubelet.api.meta import Bool, Int32, Int64, K8sModel, ListMeta, ObjectMeta, Str, StringMap
from minikubelet.api.probe import Lifecycle, Probe
from minikubelet.api.quantity import Quantity
from minikubelet.api.status import PodStatus

__all__ = [
    "Capabilities",
    "Container",
    "ContainerPort",
    "ContainerRestartRule",
    "ContainerRestartRuleOnExitCodes",
    "EmptyDirVolumeSource",
    "EnvVar",
    "EnvVarSource",
    "EphemeralContainer",
    "HostPathVolumeSource",
    "ObjectFieldSelector",
    "Pod",
    "PodList",
    "PodSpec",
    "ResourceRequirements",
    "SecurityContext",
    "Volume",
    "VolumeMount",
]

RestartPolicy = Literal["Always", "OnFailure", "Never"]
PullPolicy = Literal["Always", "IfNotPresent", "Never"]
Protocol = Literal["SCTP", "TCP", "UDP"]
DNSPolicy = Literal["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
HostPathType = Literal["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"]


class ContainerPort(K8sModel):
    _zero_means_default: ClassVar[frozenset[str]] = frozenset({"protocol"})

    name: Str = ""
    container_port: Int32 = 0
    protocol: Protocol = "TCP"
    host_port: Int32 = 0
    host_ip: Str = Field(default="", alias="hostIP")


class ObjectFieldSelector(K8sModel):
    _zero_means_default: ClassVar[frozenset[str]] = frozenset({"apiVersion"})

    api_version: Str = "v1"
    field_path: Str = ""


class EnvVarSource(K8sModel):
    field_ref: ObjectFieldSelector | None = None
    # Known to Kubernetes, refused by validation: minikubelet serves no ConfigMaps or Secrets.
    resource_field_ref: dict[str, Any] | None = None
    config_map_key_ref: dict[str, Any] | None = None
    secret_key_ref: dict[str, Any] | None = None


class EnvVar(K8sModel):
    name: Str = ""
    value: Str = ""
    value_from: EnvVarSource | None = None


class ResourceRequirements(K8sModel):
    limits: dict[Str, Quantity] = Field(default_factory=dict)
    requests: dict[Str, Quantity] = Field(default_factory=dict)

    @classmethod
    def _default_raw(cls, data: dict[Any, Any]) -> dict[Any, Any]:
        # SetDefaults_Pod: a resource with a limit and no request requests its limit.
        limits, requests = data.get("limits"), data.get("requests")
        if isinstance(limits, dict) and (requests is None or isinstance(requests, dict)):
            merged = dict(limits)
            merged.update(requests or {})
            if merged:
                data["requests"] = merged
        return data


class VolumeMount(K8sModel):
    name: Str = ""
    mount_path: Str = ""
    read_only: Bool = False
    sub_path: Str = ""


class EmptyDirVolumeSource(K8sModel):
    medium: Literal["", "Memory"] = ""
    size_limit: Quantity | None = None


class HostPathVolumeSource(K8sModel):
    path: Str = ""
    type: HostPathType = ""


class Volume(K8sModel):
    name: Str = ""
    empty_dir: EmptyDirVolumeSource | None = None
    host_path: HostPathVolumeSource | None = None


class Capabilities(K8sModel):
    add: list[Str] = Field(default_factory=list)
    drop: list[Str] = Field(default_factory=list)


class SecurityContext(K8sModel):
    """A container's securityContext. The kubelet honours privileged, runAsUser/runAsGroup, readOnlyRootFilesystem,
    allowPrivilegeEscalation=false and capabilities; the rest is accepted, not acted on (docs/differences.md).
    Privileged containers and added capabilities outside Docker's defaults pass the node's admission only when
    it allows them (`apiserver/admission.py`)."""

    capabilities: Capabilities | None = None
    privileged: Bool | None = None
    run_as_user: Int64 | None = None
    run_as_group: Int64 | None = None
    run_as_non_root: Bool | None = None
    read_only_root_filesystem: Bool | None = None
    allow_privilege_escalation: Bool | None = None
    proc_mount: Literal["Default", "Unmasked"] | None = None
    # Accepted, not acted on.
    se_linux_options: dict[str, Any] | None = None
    windows_options: dict[str, Any] | None = None
    seccomp_profile: dict[str, Any] | None = None
    app_armor_profile: dict[str, Any] | None = None


class ContainerRestartRuleOnExitCodes(K8sModel):
    """When a rule matches: the container's exit code is `In` (or `NotIn`) `values`."""

    operator: Str = ""
    values: list[Int32] = Field(default_factory=list)


class ContainerRestartRule(K8sModel):
    """One of a container's `restartPolicyRules` (ContainerRestartRules, on by default since 1.35): on an exit
    matching `exitCodes`, `action` (only "Restart") is taken instead of what the container's restartPolicy says."""

    action: Str = ""
    exit_codes: ContainerRestartRuleOnExitCodes | None = None


class Container(K8sModel):
    _zero_means_default: ClassVar[frozenset[str]] = frozenset({"terminationMessagePath", "terminationMessagePolicy"})

    name: Str = ""
    image: Str = ""
    image_pull_policy: PullPolicy = "IfNotPresent"
    command: list[Str] = Field(default_factory=list)
    args: list[Str] = Field(default_factory=list)
    working_dir: Str = ""
    ports: list[ContainerPort] = Field(default_factory=list)
    env: list[EnvVar] = Field(default_factory=list)
    resources: ResourceRequirements = Field(default_factory=ResourceRequirements)
    volume_mounts: list[VolumeMount] = Field(default_factory=list)
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Lifecycle | None = None
    termination_message_path: Str = "/dev/termination-log"
    termination_message_policy: Literal["File", "FallbackToLogsOnError"] = "File"
    stdin: Bool = False
    stdin_once: Bool = False
    tty: Bool = False
    # An init container's "Always" makes it a sidecar; otherwise (any container, ContainerRestartRules) it overrides
    # the pod's restartPolicy for this container, and restartPolicyRules refine it by exit code.
    restart_policy: Str | None = None
    restart_policy_rules: list[ContainerRestartRule] = Field(default_factory=list)
    security_context: SecurityContext | None = None

    @classmethod
    def _default_raw(cls, data: dict[Any, Any]) -> dict[Any, Any]:
        image = data.get("image")
        if data.get("imagePullPolicy") in (None, "") and isinstance(image, str):
            data["imagePullPolicy"] = default_pull_policy(image)
        return data


class EphemeralContainer(Container):
    """A container added to a running pod through `pods/ephemeralcontainers` (`kubectl debug`): a Container's fields
    (validation forbids those an ephemeral container may not have: ports, probes, lifecycle, resources) and the
    container whose process namespace it joins."""

    target_container_name: Str = ""


class PodSpec(K8sModel):
    _zero_means_default: ClassVar[frozenset[str]] = frozenset({"restartPolicy", "dnsPolicy", "schedulerName"})
    # SetDefaults_PodSpec: a pod always has a (possibly empty) securityContext; kubectl debug dereferences it.
    _always_emit: ClassVar[frozenset[str]] = frozenset({"security_context"})

    containers: list[Container] = Field(default_factory=list)
    init_containers: list[Container] = Field(default_factory=list)
    # Only through the pods/ephemeralcontainers subresource (validation forbids them on create).
    ephemeral_containers: list[EphemeralContainer] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    restart_policy: RestartPolicy = "Always"
    termination_grace_period_seconds: Int64 = 30
    active_deadline_seconds: Int64 | None = None
    node_name: Str = ""
    node_selector: StringMap = Field(default_factory=dict)
    hostname: Str = ""
    subdomain: Str = ""
    scheduler_name: Str = "default-scheduler"
    dns_policy: DNSPolicy = "ClusterFirst"
    # Host namespaces: refused by the node's admission unless it allows privileged pods.
    host_network: Bool = False
    host_pid: Bool = Field(default=False, alias="hostPID")
    host_ipc: Bool = Field(default=False, alias="hostIPC")
    # Every container in the sandbox's process namespace (the pause process is PID 1), as `kubectl debug --copy-to`
    # asks with --share-processes (its default).
    share_process_namespace: Bool | None = None
    # Accepted, not acted on (docs/differences.md).
    service_account_name: Str = ""
    service_account: Str = ""
    automount_service_account_token: Bool | None = None
    enable_service_links: Bool | None = None
    priority: Int32 | None = None
    priority_class_name: Str = ""
    tolerations: list[dict[str, Any]] = Field(default_factory=list)
    affinity: dict[str, Any] | None = None
    security_context: dict[str, Any] = Field(default_factory=dict)
    image_pull_secrets: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def _default_raw(cls, data: dict[Any, Any]) -> dict[Any, Any]:
        # SetDefaults_PodSpec: on the host's network a container port is also a host port.
        if data.get("hostNetwork") is True:
            for key in ("containers", "initContainers"):
                if key in data:
                    data[key] = _with_host_ports(data[key])
        return data

    def all_containers(self) -> list[Container]:
        """Init containers, then regular containers, in spec order."""
        return [*self.init_containers, *self.containers]


def _with_host_ports(containers: Any) -> Any:
    """A copy of raw `containers` in which every port without a hostPort gets its containerPort as one."""
    if not isinstance(containers, list):
        return containers
    out = []
    for container in containers:
        ports = container.get("ports") if isinstance(container, dict) else None
        if isinstance(ports, list):
            container = {**container, "ports": [_host_port_defaulted(port) for port in ports]}
        out.append(container)
    return out


def _host_port_defaulted(port: Any) -> Any:
    if isinstance(port, dict) and port.get("hostPort") in (None, 0) and type(port.get("containerPort")) is int:
        return {**port, "hostPort": port["containerPort"]}
    return port


class Pod(K8sModel):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Pod"] = "Pod"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PodSpec = Field(default_factory=PodSpec)
    status: PodStatus | None = None


class PodList(K8sModel):
    api_version: Literal["v1"] = "v1"
    kind: Literal["PodList"] = "PodList"
    metadata: ListMeta = Field(default_factory=ListMeta)
    items: list[Pod] = Field(default_factory=list)
