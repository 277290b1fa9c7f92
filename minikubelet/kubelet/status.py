"""A pod's status computed from what runs, as the kubelet's generateAPIPodStatus (docs/kubelet.md#pod-status).

Pure: the pod (wire form), the runtime's containers of that pod, the reasons the last sync gave for
containers it could not start (the kubelet's "reason cache"), and the probe verdicts in; the status out.
Transition times are carried over from the previous status so they move only when a condition's status does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from minikubelet.api.meta import format_time
from minikubelet.api.podutil import (
    all_containers,
    app_containers,
    container_should_restart,
    ephemeral_containers,
    init_containers,
    is_restartable_init_container,
    pod_spec,
    pod_status,
    statuses_of,
)
from minikubelet.api.resources import get_pod_qos
from minikubelet.api.wire import (
    ConditionStatus,
    Container,
    ContainerState,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    Pod,
    PodCondition,
    PodPhase,
    PodStatus,
    as_pod,
)
from minikubelet.runtime.interface import RuntimeContainer

__all__ = ["NoProber", "PodProber", "Waiting", "compute_status", "instances_by_name", "latest_sandbox"]


@dataclass(frozen=True, slots=True)
class Waiting:
    reason: str
    message: str = ""


class PodProber(Protocol):
    """What status generation asks of the prober (prober_manager.go's UpdatePodStatus)."""

    def update_pod_status(self, pod: Pod, status: PodStatus) -> None:
        """Set `started` and `ready` on the running containers' statuses, and trigger a readiness probe for a
        started container that is not ready yet."""
        ...


class NoProber:
    """No prober: a running container is started and ready (a pod without probes, in unit tests)."""

    def update_pod_status(self, pod: Pod, status: PodStatus) -> None:
        for entry in statuses_of(status, "regular"):
            entry["started"] = entry["ready"] = "running" in entry["state"]
        sidecars = {c["name"] for c in init_containers(pod) if is_restartable_init_container(c)}
        for entry in statuses_of(status, "init"):
            if entry["name"] in sidecars:
                entry["started"] = entry["ready"] = "running" in entry["state"]
            else:
                entry["started"] = "running" in entry["state"]


def instances_by_name(observed: list[RuntimeContainer]) -> dict[str, list[RuntimeContainer]]:
    """Each container's instances, newest (highest attempt, then latest created) first."""
    groups: dict[str, list[RuntimeContainer]] = {}
    for c in observed:
        if c.kind != "sandbox":
            groups.setdefault(c.name, []).append(c)
    for instances in groups.values():
        instances.sort(key=lambda c: (c.attempt, c.created_at.timestamp() if c.created_at else 0), reverse=True)
    return groups


def latest_sandbox(observed: list[RuntimeContainer]) -> RuntimeContainer | None:
    sandboxes = [c for c in observed if c.kind == "sandbox"]
    return max(sandboxes, key=lambda c: (c.attempt, c.created_at.timestamp() if c.created_at else 0), default=None)


def compute_status(
    stored: Mapping[str, Any],
    observed: list[RuntimeContainer],
    *,
    waiting: Mapping[str, Waiting],
    now: datetime,
    host_ip: str,
    prober: PodProber | None = None,
    terminal: bool = False,
) -> PodStatus:
    """generateAPIPodStatus, of the stored pod (kubelet.py passes the store's dict). `terminal`: the pod's
    containers are all stopped for good (SyncTerminatingPod's final status), so a pod whose containers all
    stopped is Succeeded or Failed whatever its restart policy."""
    pod = as_pod(stored)
    old = pod_status(pod)
    spec = pod_spec(pod)
    groups = instances_by_name(observed)
    sandbox = latest_sandbox(observed)
    init_specs, app_specs = init_containers(pod), app_containers(pod)
    default_waiting = "PodInitializing" if init_specs else "ContainerCreating"
    init_statuses = [_container_status(c, groups.get(c["name"], []), waiting, "PodInitializing") for c in init_specs]
    app_statuses = sorted(
        (_container_status(c, groups.get(c["name"], []), waiting, default_waiting) for c in app_specs),
        key=lambda s: s["name"],
    )
    containers: PodStatus = {"containerStatuses": app_statuses}
    if init_statuses:
        containers["initContainerStatuses"] = init_statuses
    (prober or NoProber()).update_pod_status(pod, containers)
    for entry, container in zip(init_statuses, init_specs, strict=True):
        if not is_restartable_init_container(container):  # a run-to-completion init container is ready once it succeeded
            entry["ready"] = _exit_code(entry["state"]) == 0
    # HasAnyActiveRegularContainerStarted: a regular container ran, so the pod was initialized once.
    initialized = any(groups.get(c["name"]) for c in app_specs)
    old_phase = old.get("phase")
    phase = _phase(pod, init_statuses, app_statuses, terminal=terminal, initialized=initialized)
    if phase not in ("Succeeded", "Failed") and old_phase in ("Succeeded", "Failed"):
        phase = old_phase  # a terminal phase is never left
    status: PodStatus = {
        "phase": phase,
        "conditions": _conditions(old, pod, sandbox, init_statuses, app_statuses, phase, now, initialized=initialized),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": old.get("startTime") or format_time(now),
        **containers,
        "qosClass": get_pod_qos(pod),
    }
    generation = pod["metadata"].get("generation")
    if generation:  # PodObservedGenerationTracking (GA in 1.35): the generation of the spec this status is of
        status["observedGeneration"] = generation
        for entry_condition in status["conditions"]:
            entry_condition["observedGeneration"] = generation
    ephemeral = [_ephemeral_status(c, groups.get(c["name"], []), waiting, default_waiting) for c in ephemeral_containers(pod)]
    if ephemeral:
        status["ephemeralContainerStatuses"] = sorted(ephemeral, key=lambda s: s["name"])
    # A pod on the host's network has the host's address (its sandbox has none of its own).
    pod_ip = host_ip if spec.get("hostNetwork") else sandbox.ip if sandbox is not None else ""
    if sandbox is not None and sandbox.state == "running" and pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    return status


def _container_status(
    container: Container, instances: list[RuntimeContainer], waiting: Mapping[str, Waiting], default_reason: str
) -> ContainerStatus:
    """convertToAPIContainerStatuses for one container; `started` and `ready` are the prober's to set."""
    name = container["name"]
    status: ContainerStatus = {
        "name": name,
        "state": {"waiting": {"reason": default_reason}},
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "image": container.get("image", ""),
        "imageID": "",
        "started": False,
    }
    if not instances:
        if name in waiting:
            status["state"] = {"waiting": _waiting_dict(waiting[name])}
        return status
    latest = instances[0]
    status["restartCount"] = latest.attempt
    status["containerID"] = f"docker://{latest.id}"
    status["imageID"] = f"docker://{latest.image_id}" if latest.image_id else ""
    if len(instances) > 1 and instances[1].state == "exited":
        status["lastState"] = {"terminated": _terminated(instances[1])}
    if latest.state == "running":
        status["state"] = {"running": {"startedAt": _time(latest.started_at)}}
    elif latest.state == "exited":
        terminated: ContainerState = {"terminated": _terminated(latest)}
        if name in waiting:  # it will be restarted, and is waiting for that (the reason cache)
            status["state"] = {"waiting": _waiting_dict(waiting[name])}
            status["lastState"] = terminated
        else:
            status["state"] = terminated
    elif name in waiting:
        status["state"] = {"waiting": _waiting_dict(waiting[name])}
    return status


def _ephemeral_status(
    container: Container, instances: list[RuntimeContainer], waiting: Mapping[str, Waiting], default_reason: str
) -> ContainerStatus:
    """An ephemeral container's status: as a container's, but never ready, and without `started` (the prober,
    which sets it, knows only the regular and init containers). It never counts in the pod's phase or readiness."""
    status = _container_status(container, instances, waiting, default_reason)
    status["ready"] = False
    status.pop("started", None)
    return status


def _terminated(c: RuntimeContainer) -> ContainerStateTerminated:
    code = c.exit_code if c.exit_code is not None else 0
    if c.oom_killed:
        reason = "OOMKilled"
    elif c.error:
        reason = "ContainerCannotRun"
    else:
        reason = "Completed" if code == 0 else "Error"
    out: ContainerStateTerminated = {
        "exitCode": code,
        "reason": reason,
        "startedAt": _time(c.started_at),
        "finishedAt": _time(c.finished_at),
        "containerID": f"docker://{c.id}",
    }
    if c.error:
        out["message"] = c.error
    return out


def _waiting_dict(w: Waiting) -> ContainerStateWaiting:
    return {"reason": w.reason, "message": w.message} if w.message else {"reason": w.reason}


def _time(value: datetime | None) -> str | None:
    return format_time(value) if value else None


def _exit_code(state: ContainerState) -> int | None:
    """The exit code of a terminated state, None for a waiting or running one."""
    terminated = state.get("terminated")
    return terminated.get("exitCode") if terminated is not None else None


def _phase(pod: Pod, inits: list[ContainerStatus], apps: list[ContainerStatus], *, terminal: bool, initialized: bool) -> PodPhase:
    """getPhase (kubelet_pods.go): restartable init containers (sidecars) counted apart, and whether a stopped
    container is restarted decided by ContainerShouldRestart (its own restart policy and rules, else the pod's)."""
    spec = pod_spec(pod)
    specs = {c["name"]: c for c in all_containers(pod, ephemeral=False)}
    pending_init = pending_sidecars = failed_init = 0
    running = waiting = stopped = succeeded = stopped_for_good = 0
    # A status whose container is not in the spec (none in practice) reads as one without a policy of its own.
    for s in inits:
        state, last = s["state"], s["lastState"].get("terminated")
        container = specs.get(s["name"]) or Container(name=s["name"])
        if is_restartable_init_container(container):
            if "running" in state:
                pending_sidecars += 0 if s.get("started") else 1
                running += 1
            elif "waiting" in state and not last:
                pending_sidecars += 1
                waiting += 1
            continue
        ended = state.get("terminated") or (last if "waiting" in state else None)
        if ended is not None:
            code = ended.get("exitCode")
            failed_init += code != 0 and not container_should_restart(container, spec, code)
            pending_init += code != 0 and container_should_restart(container, spec, code)
        else:
            pending_init += 1
    for s in apps:
        state = s["state"]
        ended = state.get("terminated") or s["lastState"].get("terminated")
        if "running" in state:
            running += 1
        elif ended is not None:
            stopped += 1
            succeeded += "terminated" in state and ended.get("exitCode") == 0
            own = specs.get(s["name"]) or Container(name=s["name"])
            stopped_for_good += not container_should_restart(own, spec, ended.get("exitCode"))
        else:
            waiting += 1
    if failed_init:
        return "Failed"
    if pending_init or (pending_sidecars and not initialized) or waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if stopped_for_good < stopped:
            return "Running"  # a stopped container is being restarted
        return "Succeeded" if stopped == succeeded else "Failed"
    return "Pending"


def _conditions(
    old: PodStatus,
    pod: Pod,
    sandbox: RuntimeContainer | None,
    inits: list[ContainerStatus],
    apps: list[ContainerStatus],
    phase: str,
    now: datetime,
    *,
    initialized: bool,
) -> list[PodCondition]:
    """status/generate.go: PodReadyToStartContainers, Initialized, Ready, ContainersReady, and PodScheduled kept."""
    previous = {c.get("type"): c for c in old.get("conditions", [])}
    stamp = format_time(now)

    def condition(kind: str, ok: bool, reason: str = "", message: str = "") -> PodCondition:
        value: ConditionStatus = "True" if ok else "False"
        before = previous.get(kind)
        same = before is not None and before.get("status") == value
        out: PodCondition = {
            "type": kind,
            "status": value,
            "lastProbeTime": None,
            "lastTransitionTime": before.get("lastTransitionTime") if before is not None and same else stamp,
        }
        if reason:
            out["reason"] = reason
        if message:
            out["message"] = message
        return out

    sandbox_ok = sandbox is not None and sandbox.state == "running"
    sidecars = {c["name"] for c in init_containers(pod) if is_restartable_init_container(c)}
    unfinished = [s["name"] for s in inits if (not s.get("started") if s["name"] in sidecars else _exit_code(s["state"]) != 0)]
    if phase == "Succeeded":
        initialized_condition = condition("Initialized", True, "PodCompleted")
    elif initialized or not unfinished:
        initialized_condition = condition("Initialized", True)
    else:
        message = f"containers with incomplete status: [{' '.join(unfinished)}]"
        initialized_condition = condition("Initialized", False, "ContainersNotInitialized", message)
    by_name = {s["name"]: s for s in [*inits, *apps]}
    # GenerateContainersReadyCondition: the sidecars, then the regular containers, in the spec's order.
    order = [c["name"] for c in init_containers(pod) if c["name"] in sidecars]
    order += [c["name"] for c in app_containers(pod)]
    unready = [name for name in order if name in by_name and not by_name[name]["ready"]]
    if phase in ("Succeeded", "Failed"):
        reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        containers_ready = condition("ContainersReady", False, reason)
        ready = condition("Ready", False, reason)
    elif unready:
        message = f"containers with unready status: [{' '.join(unready)}]"
        containers_ready = condition("ContainersReady", False, "ContainersNotReady", message)
        ready = condition("Ready", False, "ContainersNotReady", message)
    else:
        containers_ready = condition("ContainersReady", True)
        ready = condition("Ready", True)
    kept = previous.get("PodScheduled")
    scheduled: PodCondition = (
        {**kept, "type": "PodScheduled", "status": "True"} if kept else {"type": "PodScheduled", "status": "True"}
    )
    scheduled.setdefault("lastProbeTime", None)
    scheduled.setdefault("lastTransitionTime", stamp)
    return [condition("PodReadyToStartContainers", sandbox_ok), initialized_condition, ready, containers_ready, scheduled]


def ready_conditions(pod: Pod, status: PodStatus, *, now: datetime) -> list[PodCondition]:
    """The conditions of `status` regenerated after a container's `ready` or `started` changed (the status
    manager's SetContainerReadiness / SetContainerStartup update Ready and ContainersReady in place)."""
    inits, apps = statuses_of(status, "init"), statuses_of(status, "regular")
    initialized = any(s.get("containerID") for s in apps)
    old_conditions = {c.get("type"): c for c in status.get("conditions", [])}
    sandbox_condition = old_conditions.get("PodReadyToStartContainers")
    fresh = _conditions(pod_status(pod), pod, None, inits, apps, status.get("phase", ""), now, initialized=initialized)
    for entry in fresh:
        if entry["type"] == "PodReadyToStartContainers":
            # The sandbox is not looked at here: the condition stays as the last full status wrote it.
            entry.update(sandbox_condition or {"status": "False"})
        if pod["metadata"].get("generation"):
            entry["observedGeneration"] = pod["metadata"]["generation"]
    return fresh
