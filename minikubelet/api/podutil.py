"""Reading a pod's containers, their statuses and probes: the one home of the idioms every layer repeats.

All take the wire shape (`minikubelet.api.wire`), never mutate it, and tolerate a missing or null list (a pod
read from a client, a status not yet written). The orders are Kubernetes': init containers, then regular,
then ephemeral (`podutil.VisitContainers` with AllContainers); statuses likewise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from minikubelet.api.wire import (
    Container,
    ContainerKind,
    ContainerStatus,
    EphemeralContainer,
    Pod,
    PodSpec,
    PodStatus,
    Probe,
    ProbeKind,
)

__all__ = [
    "all_containers",
    "all_statuses",
    "app_containers",
    "container_kind",
    "container_names",
    "container_should_restart",
    "ephemeral_containers",
    "find_container",
    "find_status",
    "init_containers",
    "is_container_restartable",
    "is_restartable_init_container",
    "pod_spec",
    "pod_status",
    "probe_of",
    "statuses_of",
    "visit_containers",
]


def pod_spec(pod: Pod) -> PodSpec:
    """spec, or an empty one for a pod without (a printer or client may be handed one)."""
    return pod.get("spec") or {}


def init_containers(pod: Pod) -> list[Container]:
    """spec.initContainers (sidecars included), in spec order."""
    return list(pod_spec(pod).get("initContainers") or [])


def app_containers(pod: Pod) -> list[Container]:
    """spec.containers, the regular ("app") containers."""
    return list(pod_spec(pod).get("containers") or [])


def ephemeral_containers(pod: Pod) -> list[EphemeralContainer]:
    """spec.ephemeralContainers (a Container's fields and targetContainerName)."""
    return list(pod_spec(pod).get("ephemeralContainers") or [])


def all_containers(pod: Pod, *, ephemeral: bool = True) -> list[Container]:
    """Init, then regular, then (unless `ephemeral=False`) ephemeral containers, in spec order."""
    found = [*init_containers(pod), *app_containers(pod)]
    return [*found, *ephemeral_containers(pod)] if ephemeral else found


def visit_containers(pod: Pod) -> Iterator[tuple[ContainerKind, Container]]:
    """Every container with its kind, in `all_containers`' order."""
    for container in init_containers(pod):
        yield "init", container
    for container in app_containers(pod):
        yield "regular", container
    for container in ephemeral_containers(pod):
        yield "ephemeral", container


def container_names(pod: Pod, *, ephemeral: bool = True) -> list[str]:
    """The names of `all_containers`, in the same order."""
    return [c["name"] for c in all_containers(pod, ephemeral=ephemeral)]


def find_container(pod: Pod, name: str) -> Container | None:
    """The container (of any kind) named `name`, None if there is none."""
    return next((c for c in all_containers(pod) if c.get("name") == name), None)


def container_kind(pod: Pod, name: str) -> ContainerKind | None:
    """Whether `name` is an init, regular or ephemeral container of the pod; None if none."""
    return next((kind for kind, c in visit_containers(pod) if c.get("name") == name), None)


def is_restartable_init_container(container: Mapping[str, Any]) -> bool:
    """An init container with restartPolicy Always: a sidecar (`podutil.IsRestartableInitContainer`). Only
    meaningful on an init container; validation refuses the field anywhere else."""
    return container.get("restartPolicy") == "Always"


def pod_status(pod: Pod) -> PodStatus:
    """status, or an empty one for a pod that has none yet (or null)."""
    return pod.get("status") or {}


def statuses_of(status: PodStatus, kind: ContainerKind) -> list[ContainerStatus]:
    """The container statuses of one kind: initContainerStatuses, containerStatuses or ephemeralContainerStatuses."""
    if kind == "init":
        return list(status.get("initContainerStatuses") or [])
    if kind == "regular":
        return list(status.get("containerStatuses") or [])
    return list(status.get("ephemeralContainerStatuses") or [])


def all_statuses(status: PodStatus) -> list[ContainerStatus]:
    """Every container status: init, then regular, then ephemeral."""
    return [*statuses_of(status, "init"), *statuses_of(status, "regular"), *statuses_of(status, "ephemeral")]


def find_status(status: PodStatus, name: str) -> ContainerStatus | None:
    """The status of the container named `name` (of any kind), None if it has none yet."""
    return next((s for s in all_statuses(status) if s.get("name") == name), None)


def probe_of(container: Container, kind: ProbeKind) -> Probe | None:
    """The container's liveness, readiness or startup probe, None if it has none."""
    if kind == "liveness":
        return container.get("livenessProbe")
    if kind == "readiness":
        return container.get("readinessProbe")
    return container.get("startupProbe")


def container_should_restart(container: Mapping[str, Any], spec: Mapping[str, Any], exit_code: int | None) -> bool:
    """podutil.ContainerShouldRestart (ContainerRestartRules, on by default since 1.35): a container's own
    `restartPolicyRules` first (the first rule whose exit codes match decides), then its own `restartPolicy`,
    then the pod's."""
    code = exit_code or 0
    own = container.get("restartPolicy")
    if own:
        for rule in container.get("restartPolicyRules") or []:
            codes = rule.get("exitCodes") or {}
            operator, values = codes.get("operator"), codes.get("values") or []
            if operator not in ("In", "NotIn"):
                continue
            if (code in values) == (operator == "In"):
                return bool(rule.get("action") == "Restart")
        policy = own
    else:
        policy = spec.get("restartPolicy", "Always")
    if policy == "Never":
        return False
    return policy == "Always" or code != 0


def is_container_restartable(container: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    """podutil.IsContainerRestartable: whether any exit could restart the container."""
    own = container.get("restartPolicy")
    if own:
        return own != "Never" or any(r.get("action") == "Restart" for r in container.get("restartPolicyRules") or [])
    return bool(spec.get("restartPolicy", "Always") != "Never")
