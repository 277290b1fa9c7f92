"""computePodActions: what one sync must do to a pod, decided from the pod and what the runtime holds.

Pure, as pkg/kubelet/kuberuntime/kuberuntime_manager.go's `computePodActions` and kuberuntime_container.go's
`computeInitContainerActions`: the pod (wire form), the runtime's containers of the pod as observed at the start
of the sync, and the prober's liveness and startup results in; a `PodActions` out. `SyncPod`
(kubelet/kubelet.py) then executes it in upstream's order: kill the pod or the containers to kill, create the
sandbox, start the ephemeral, init and regular containers. Kept pure so that the decisions can be tested from
a table, as upstream's `TestComputePodActions*` do (tests/unit/kubelet/test_compute_pod_actions.py).

docs/kubelet.md#container-actions tells the rules in words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from minikubelet.api.podutil import (
    app_containers,
    container_should_restart,
    ephemeral_containers,
    init_containers,
    is_container_restartable,
    is_restartable_init_container,
    probe_of,
)
from minikubelet.api.wire import Container, Pod, as_container, as_pod
from minikubelet.kubelet.containers import spec_hash
from minikubelet.prober.results import ProbeKind, Verdict
from minikubelet.runtime.interface import ContainerID, RuntimeContainer

__all__ = [
    "KillInfo",
    "KillReason",
    "PodActions",
    "ProbeResult",
    "compute_pod_actions",
    "find_exited",
    "find_latest",
    "is_restartable_init_container",
    "should_container_be_restarted",
]

# The reason a running container is killed (kuberuntime's containerKillReason): a probe's own
# terminationGracePeriodSeconds then replaces the pod's (setTerminationGracePeriod).
KillReason = Literal["", "liveness", "startup", "unknown"]
# The prober's current result for (kind, container ID), None when it has none (results manager's Get).
ProbeResult = Callable[[ProbeKind, str], "Verdict | None"]


@dataclass(frozen=True, slots=True)
class KillInfo:
    """containerToKillInfo: a running container the sync stops, and the Killing event's message. `container`
    is its spec: a wire `Container` from `compute_pod_actions`; kubelet.py also builds one from its untyped
    pod, hence the store's mapping type here."""

    name: str
    container: Mapping[str, Any]
    message: str
    reason: KillReason = ""


@dataclass(slots=True)
class PodActions:
    """podActions: the sandbox, kills and starts one sync performs (indices into the spec's lists)."""

    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_id: str = ""  # the sandbox being replaced, "" when there is none
    attempt: int = 0  # the new sandbox's attempt
    containers_to_kill: dict[ContainerID, KillInfo] = field(default_factory=dict)
    init_containers_to_start: list[int] = field(default_factory=list)
    containers_to_start: list[int] = field(default_factory=list)
    ephemeral_containers_to_start: list[int] = field(default_factory=list)

    def changes_nothing(self) -> bool:
        """Nothing to kill, create or start: the pod runs as it should."""
        return not (
            self.kill_pod
            or self.create_sandbox
            or self.containers_to_kill
            or self.init_containers_to_start
            or self.containers_to_start
            or self.ephemeral_containers_to_start
        )


def find_latest(observed: list[RuntimeContainer], name: str) -> RuntimeContainer | None:
    """PodStatus.FindContainerStatusByName: the newest instance of the container `name`."""
    return max(
        (c for c in observed if c.kind != "sandbox" and c.name == name),
        key=lambda c: (c.attempt, c.created_at.timestamp() if c.created_at else 0.0),
        default=None,
    )


def find_exited(observed: list[RuntimeContainer], name: str) -> RuntimeContainer | None:
    """doBackOff's look-up: the newest *exited* instance of `name` among what the sync observed at its start.
    For a container a liveness probe kills in this very sync, that is the instance before it."""
    return max(
        (c for c in observed if c.kind != "sandbox" and c.name == name and c.state == "exited"),
        key=lambda c: (c.attempt, c.created_at.timestamp() if c.created_at else 0.0),
        default=None,
    )


def should_container_be_restarted(pod: Mapping[str, Any], container: Mapping[str, Any], observed: list[RuntimeContainer]) -> bool:
    """kubecontainer.ShouldContainerBeRestarted. Takes the store's pod and container (kubelet.py's callers)."""
    return _should_restart(as_pod(pod), as_container(container), observed)


def _should_restart(pod: Pod, container: Container, observed: list[RuntimeContainer]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    status = find_latest(observed, container["name"])
    if status is None:
        return True
    if status.state == "running":
        return False
    if status.state in ("unknown", "created"):
        return True
    return container_should_restart(container, pod["spec"], status.exit_code)


def _restart_on_failure(pod: Pod, container: Container | None = None) -> bool:
    """shouldRestartOnFailure: the pod's policy (or the container's own) restarts a failed container."""
    own = container.get("restartPolicy") if container is not None else None
    policy = own or pod["spec"].get("restartPolicy", "Always")
    return policy != "Never"


def _sandbox_changed(observed: list[RuntimeContainer]) -> tuple[bool, int, str]:
    """PodSandboxChanged: (create a sandbox?, its attempt, the sandbox it replaces)."""
    sandboxes = sorted(
        (c for c in observed if c.kind == "sandbox"),
        key=lambda c: (c.attempt, c.created_at.timestamp() if c.created_at else 0.0),
        reverse=True,
    )
    if not sandboxes:
        return True, 0, ""
    latest = sandboxes[0]
    ready = sum(1 for c in sandboxes if c.state == "running")
    if ready > 1 or latest.state != "running":
        return True, latest.attempt + 1, latest.id
    return False, latest.attempt, latest.id


def compute_pod_actions(stored: Mapping[str, Any], observed: list[RuntimeContainer], probe: ProbeResult) -> PodActions:
    """computePodActions (kuberuntime_manager.go), on the stored pod (kubelet.py passes the store's dict)."""
    pod = as_pod(stored)
    spec = pod["spec"]
    create, attempt, sandbox_id = _sandbox_changed(observed)
    changes = PodActions(kill_pod=create, create_sandbox=create, sandbox_id=sandbox_id, attempt=attempt)
    containers, inits = app_containers(pod), init_containers(pod)

    if create:
        ran = [c for c in observed if c.kind != "sandbox"]
        restartable = _restart_on_failure(pod) or any(is_container_restartable(c, spec) for c in containers)
        if not restartable and attempt != 0 and ran:
            # A pod that never restarts gets no new sandbox once its containers ran: it is just killed.
            changes.create_sandbox = False
            return changes
        to_start = [
            i
            for i, c in enumerate(containers)
            if not (spec.get("restartPolicy") == "OnFailure" and _succeeded(observed, c["name"]))
        ]
        if not to_start and any(find_latest(observed, c["name"]) is not None for c in containers):
            # hasAnyRegularContainerCreated: initialized, nothing left to run.
            changes.create_sandbox = False
            return changes
        if inits:
            changes.init_containers_to_start = [0]
            return changes
        changes.containers_to_start = to_start
        return changes

    # Ephemeral containers may start even while initialization is not done; they are never restarted.
    for i, c in enumerate(ephemeral_containers(pod)):
        if find_latest(observed, c["name"]) is None:
            changes.ephemeral_containers_to_start.append(i)

    initialized = _compute_init_container_actions(pod, observed, probe, changes)
    if changes.kill_pod or not initialized:
        return changes

    keep = 0
    for i, container in enumerate(containers):
        status = find_latest(observed, container["name"])
        if status is None or status.state != "running":
            if _should_restart(pod, container, observed):
                changes.containers_to_start.append(i)
                if status is not None and status.state == "unknown":
                    changes.containers_to_kill[status.id] = KillInfo(
                        status.name,
                        container,
                        f'Container is in "{status.state}" state, try killing it before restart',
                        "unknown",
                    )
            continue
        restart = _restart_on_failure(pod, container)
        reason: KillReason = ""
        if status.spec_hash and status.spec_hash != spec_hash(container):
            message = f"Container {container['name']} definition changed"
            restart = True  # whatever the policy: the spec changed
        elif probe(ProbeKind.LIVENESS, status.id) is Verdict.FAILURE:
            message, reason = f"Container {container['name']} failed liveness probe", "liveness"
        elif probe(ProbeKind.STARTUP, status.id) is Verdict.FAILURE:
            message, reason = f"Container {container['name']} failed startup probe", "startup"
        else:
            keep += 1
            continue
        if restart:
            message += ", will be restarted"
            changes.containers_to_start.append(i)
        changes.containers_to_kill[status.id] = KillInfo(status.name, container, message, reason)

    if keep == 0 and not changes.containers_to_start:
        changes.kill_pod = True
        changes.init_containers_to_start = []  # sidecars must not keep a finished pod alive
    return changes


def _succeeded(observed: list[RuntimeContainer], name: str) -> bool:
    latest = find_latest(observed, name)
    return latest is not None and latest.state == "exited" and latest.exit_code == 0


def _init_failed(status: RuntimeContainer) -> bool:
    """isInitContainerFailed."""
    if status.state == "exited" and status.exit_code != 0:
        return True
    return status.state == "unknown"


def _compute_init_container_actions(pod: Pod, observed: list[RuntimeContainer], probe: ProbeResult, changes: PodActions) -> bool:
    """computeInitContainerActions (the SidecarContainers version): True once the pod is initialized.

    Walks the init containers from the last to the first, so that a completed one removed from the runtime
    does not run again: the first (from the end) with a status decides the next to start; before it, only
    restartable init containers (sidecars) are looked at, to keep them running."""
    inits = init_containers(pod)
    if not inits:
        return True
    initialized = any(
        (s := find_latest(observed, c["name"])) is not None and s.state in ("created", "running") for c in app_containers(pod)
    )
    previously = initialized
    to_start: list[int] = []
    for i in range(len(inits) - 1, -1, -1):
        container = inits[i]
        name = container["name"]
        sidecar = is_restartable_init_container(container)
        status = find_latest(observed, name)
        if status is None:
            if previously and sidecar:
                to_start.append(i)
            continue
        if previously and not sidecar:
            continue  # after initialization only the sidecars are kept running
        if status.state == "created":
            to_start.append(i)
        elif status.state == "running":
            if sidecar:
                _running_sidecar(container, i, status, len(inits), previously, probe, changes, to_start)
                if i == len(inits) - 1 and _sidecar_started(container, status, probe):
                    initialized = True
        elif status.state == "exited":
            if sidecar:
                to_start.append(i)
            elif _init_failed(status):
                if not _should_restart(pod, container, observed):
                    changes.kill_pod = True
                    changes.init_containers_to_start = []
                    return False
                to_start.append(i)
            elif i == len(inits) - 1:
                initialized = True
            else:
                to_start.append(i + 1)
        else:  # unknown
            if not sidecar and not _restart_on_failure(pod, container):
                changes.kill_pod = True
                changes.init_containers_to_start = []
                return False
            message = f'Init container is in "{status.state}" state, try killing it before restart'
            changes.containers_to_kill[status.id] = KillInfo(name, container, message, "unknown")
            to_start.append(i)
        previously = True
    if not previously:
        to_start.append(0)  # no init container has run yet: start the first
    changes.init_containers_to_start = list(dict.fromkeys(to_start))[::-1]  # found backwards, started in order
    return initialized


def _sidecar_started(container: Container, status: RuntimeContainer, probe: ProbeResult) -> bool:
    return not probe_of(container, "startup") or probe(ProbeKind.STARTUP, status.id) is Verdict.SUCCESS


def _running_sidecar(
    container: Container,
    index: int,
    status: RuntimeContainer,
    count: int,
    previously: bool,
    probe: ProbeResult,
    changes: PodActions,
    to_start: list[int],
) -> None:
    """computeInitContainerActions for a running restartable init container."""
    name = container["name"]
    if probe_of(container, "startup"):
        startup = probe(ProbeKind.STARTUP, status.id)
        if startup is None or startup is Verdict.UNKNOWN:
            return  # wait for the startup probe
        if startup is Verdict.FAILURE:
            changes.containers_to_kill[status.id] = KillInfo(
                name, container, f"Init container {name} failed startup probe", "startup"
            )
            to_start.append(index)
            return
    if index < count - 1 and not previously:
        to_start.append(index + 1)  # started for the first time: the next init container may start
    if status.spec_hash and status.spec_hash != spec_hash(container):
        changes.containers_to_kill[status.id] = KillInfo(name, container, f"Init container {name} definition changed")
        to_start.append(index)
        return
    if probe_of(container, "liveness") and probe(ProbeKind.LIVENESS, status.id) is Verdict.FAILURE:
        changes.containers_to_kill[status.id] = KillInfo(
            name, container, f"Init container {name} failed liveness probe", "liveness"
        )
        to_start.append(index)
