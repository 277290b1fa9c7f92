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
from minikubelet.api.podutil import container_should_restart
from minikubelet.api.resources import get_pod_qos
from minikubelet.api.wire import as_pod
from minikubelet.kubelet.actions import is_restartable_init_container
from minikubelet.runtime.interface import RuntimeContainer

__all__ = ["NoProber", "PodProber", "Waiting", "compute_status", "instances_by_name", "latest_sandbox"]


@dataclass(frozen=True, slots=True)
class Waiting:
    reason: str
    message: str = ""


class PodProber(Protocol):
    """What status generation asks of the prober (prober_manager.go's UpdatePodStatus)."""

    def update_pod_status(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        """Set `started` and `ready` on the running containers' statuses, and trigger a readiness probe for a
        started container that is not ready yet."""
        ...


class NoProber:
    """No prober: a running container is started and ready (a pod without probes, in unit tests)."""

    def update_pod_status(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        for entry in status.get("containerStatuses", []):
            entry["started"] = entry["ready"] = "running" in entry["state"]
        sidecars = {c["name"] for c in pod["spec"].get("initContainers", []) if c.get("restartPolicy") == "Always"}
        for entry in status.get("initContainerStatuses", []):
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
    pod: dict[str, Any],
    observed: list[RuntimeContainer],
    *,
    waiting: Mapping[str, Waiting],
    now: datetime,
    host_ip: str,
    prober: PodProber | None = None,
    terminal: bool = False,
) -> dict[str, Any]:
    """generateAPIPodStatus. `terminal`: the pod's containers are all stopped for good (SyncTerminatingPod's
    final status), so a pod whose containers all stopped is Succeeded or Failed whatever its restart policy."""
    old = pod.get("status") or {}
    spec = pod.get("spec", {})
    groups = instances_by_name(observed)
    sandbox = latest_sandbox(observed)
    init_specs, app_specs = spec.get("initContainers", []), spec.get("containers", [])
    default_waiting = "PodInitializing" if init_specs else "ContainerCreating"
    init_statuses = [_container_status(c, groups.get(c["name"], []), waiting, "PodInitializing") for c in init_specs]
    app_statuses = sorted(
        (_container_status(c, groups.get(c["name"], []), waiting, default_waiting) for c in app_specs),
        key=lambda s: s["name"],
    )
    status: dict[str, Any] = {"containerStatuses": app_statuses}
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    (prober or NoProber()).update_pod_status(pod, status)
    for entry, container in zip(init_statuses, init_specs, strict=True):
        if container.get("restartPolicy") != "Always":  # a run-to-completion init container is ready once it succeeded
            entry["ready"] = entry["state"].get("terminated", {}).get("exitCode") == 0
    # HasAnyActiveRegularContainerStarted: a regular container ran, so the pod was initialized once.
    initialized = any(groups.get(c["name"]) for c in app_specs)
    old_phase = str(old.get("phase", ""))
    phase = _phase(spec, init_statuses, app_statuses, terminal=terminal, initialized=initialized)
    if phase not in ("Succeeded", "Failed") and old_phase in ("Succeeded", "Failed"):
        phase = old_phase  # a terminal phase is never left
    status = {
        "phase": phase,
        "conditions": _conditions(old, spec, sandbox, init_statuses, app_statuses, phase, now, initialized=initialized),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": old.get("startTime") or format_time(now),
        **status,
        "qosClass": get_pod_qos(as_pod(pod)),
    }
    generation = pod["metadata"].get("generation")
    if generation:  # PodObservedGenerationTracking (GA in 1.35): the generation of the spec this status is of
        status["observedGeneration"] = generation
        for entry in status["conditions"]:
            entry["observedGeneration"] = generation
    ephemeral = [
        _ephemeral_status(c, groups.get(c["name"], []), waiting, default_waiting) for c in spec.get("ephemeralContainers", [])
    ]
    if ephemeral:
        status["ephemeralContainerStatuses"] = sorted(ephemeral, key=lambda s: s["name"])
    # A pod on the host's network has the host's address (its sandbox has none of its own).
    pod_ip = host_ip if spec.get("hostNetwork") else sandbox.ip if sandbox is not None else ""
    if sandbox is not None and sandbox.state == "running" and pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    return status


def _container_status(
    spec: dict[str, Any], instances: list[RuntimeContainer], waiting: Mapping[str, Waiting], default_reason: str
) -> dict[str, Any]:
    """convertToAPIContainerStatuses for one container; `started` and `ready` are the prober's to set."""
    name = spec["name"]
    status: dict[str, Any] = {
        "name": name,
        "state": {"waiting": {"reason": default_reason}},
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "image": spec.get("image", ""),
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
        terminated = {"terminated": _terminated(latest)}
        if name in waiting:  # it will be restarted, and is waiting for that (the reason cache)
            status["state"] = {"waiting": _waiting_dict(waiting[name])}
            status["lastState"] = terminated
        else:
            status["state"] = terminated
    elif name in waiting:
        status["state"] = {"waiting": _waiting_dict(waiting[name])}
    return status


def _ephemeral_status(
    spec: dict[str, Any], instances: list[RuntimeContainer], waiting: Mapping[str, Waiting], default_reason: str
) -> dict[str, Any]:
    """An ephemeral container's status: as a container's, but never ready, and without `started` (the prober,
    which sets it, knows only the regular and init containers). It never counts in the pod's phase or readiness."""
    status = _container_status(spec, instances, waiting, default_reason)
    status["ready"] = False
    status.pop("started", None)
    return status


def _terminated(c: RuntimeContainer) -> dict[str, Any]:
    code = c.exit_code if c.exit_code is not None else 0
    if c.oom_killed:
        reason = "OOMKilled"
    elif c.error:
        reason = "ContainerCannotRun"
    else:
        reason = "Completed" if code == 0 else "Error"
    out: dict[str, Any] = {
        "exitCode": code,
        "reason": reason,
        "startedAt": _time(c.started_at),
        "finishedAt": _time(c.finished_at),
        "containerID": f"docker://{c.id}",
    }
    if c.error:
        out["message"] = c.error
    return out


def _waiting_dict(w: Waiting) -> dict[str, str]:
    return {"reason": w.reason, "message": w.message} if w.message else {"reason": w.reason}


def _time(value: datetime | None) -> str | None:
    return format_time(value) if value else None


def _phase(
    spec: dict[str, Any], inits: list[dict[str, Any]], apps: list[dict[str, Any]], *, terminal: bool, initialized: bool
) -> str:
    """getPhase (kubelet_pods.go): restartable init containers (sidecars) counted apart, and whether a stopped
    container is restarted decided by ContainerShouldRestart (its own restart policy and rules, else the pod's)."""
    specs = {c["name"]: c for c in [*spec.get("initContainers", []), *spec.get("containers", [])]}
    pending_init = pending_sidecars = failed_init = 0
    running = waiting = stopped = succeeded = stopped_for_good = 0
    for s in inits:
        state, last = s["state"], s["lastState"].get("terminated")
        container = specs.get(s["name"], {})
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
            stopped_for_good += not container_should_restart(specs.get(s["name"], {}), spec, ended.get("exitCode"))
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
    old: dict[str, Any],
    spec: dict[str, Any],
    sandbox: RuntimeContainer | None,
    inits: list[dict[str, Any]],
    apps: list[dict[str, Any]],
    phase: str,
    now: datetime,
    *,
    initialized: bool,
) -> list[dict[str, Any]]:
    """status/generate.go: PodReadyToStartContainers, Initialized, Ready, ContainersReady, and PodScheduled kept."""
    previous = {c.get("type"): c for c in old.get("conditions", [])}
    stamp = format_time(now)

    def condition(kind: str, ok: bool, reason: str = "", message: str = "") -> dict[str, Any]:
        value = "True" if ok else "False"
        before = previous.get(kind, {})
        out: dict[str, Any] = {
            "type": kind,
            "status": value,
            "lastProbeTime": None,
            "lastTransitionTime": before.get("lastTransitionTime") if before.get("status") == value else stamp,
        }
        if reason:
            out["reason"] = reason
        if message:
            out["message"] = message
        return out

    sandbox_ok = sandbox is not None and sandbox.state == "running"
    sidecars = {c["name"] for c in spec.get("initContainers", []) if c.get("restartPolicy") == "Always"}
    unfinished = [
        s["name"]
        for s in inits
        if (not s.get("started") if s["name"] in sidecars else s["state"].get("terminated", {}).get("exitCode") != 0)
    ]
    if phase == "Succeeded":
        initialized_condition = condition("Initialized", True, "PodCompleted")
    elif initialized or not unfinished:
        initialized_condition = condition("Initialized", True)
    else:
        message = f"containers with incomplete status: [{' '.join(unfinished)}]"
        initialized_condition = condition("Initialized", False, "ContainersNotInitialized", message)
    by_name = {s["name"]: s for s in [*inits, *apps]}
    # GenerateContainersReadyCondition: the sidecars, then the regular containers, in the spec's order.
    order = [c["name"] for c in spec.get("initContainers", []) if c["name"] in sidecars]
    order += [c["name"] for c in spec.get("containers", [])]
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
    scheduled = {**(previous.get("PodScheduled") or {}), "type": "PodScheduled", "status": "True"}
    scheduled.setdefault("lastProbeTime", None)
    scheduled.setdefault("lastTransitionTime", stamp)
    return [condition("PodReadyToStartContainers", sandbox_ok), initialized_condition, ready, containers_ready, scheduled]


def ready_conditions(pod: dict[str, Any], status: dict[str, Any], *, now: datetime) -> list[dict[str, Any]]:
    """The conditions of `status` regenerated after a container's `ready` or `started` changed (the status
    manager's SetContainerReadiness / SetContainerStartup update Ready and ContainersReady in place)."""
    spec = pod.get("spec", {})
    inits, apps = status.get("initContainerStatuses", []), status.get("containerStatuses", [])
    initialized = any(s.get("containerID") for s in apps)
    old_conditions = {c.get("type"): c for c in status.get("conditions", [])}
    sandbox_ready = (old_conditions.get("PodReadyToStartContainers") or {}).get("status") == "True"
    fresh = _conditions(
        pod.get("status") or {}, spec, None, inits, apps, str(status.get("phase", "")), now, initialized=initialized
    )
    for entry in fresh:
        if entry["type"] == "PodReadyToStartContainers":
            entry.update(old_conditions.get("PodReadyToStartContainers") or {"status": "True" if sandbox_ready else "False"})
        if pod["metadata"].get("generation"):
            entry["observedGeneration"] = pod["metadata"]["generation"]
    return fresh
