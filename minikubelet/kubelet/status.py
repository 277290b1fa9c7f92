"""A pod's status computed from what runs, as the kubelet's generateAPIPodStatus (kubelet-spec.md §4).

Pure: the pod (wire form), the runtime's containers of that pod, the reasons the last sync gave for
containers it could not start (the kubelet's "reason cache"), and the probe verdicts in; the status out.
Transition times are carried over from the previous status so they move only when a condition's status does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from minikubelet.api.meta import format_time
from minikubelet.runtime.interface import RuntimeContainer

__all__ = ["ProbeView", "Waiting", "compute_status", "instances_by_name", "latest_sandbox"]


@dataclass(frozen=True, slots=True)
class Waiting:
    reason: str
    message: str = ""


class ProbeView:
    """What the prober says about a container instance; with no prober, started = ready = running."""

    def started(self, uid: str, container: str, container_id: str) -> bool:
        return True

    def ready(self, uid: str, container: str, container_id: str) -> bool:
        return True

    def failed(self, uid: str, container: str, container_id: str) -> str:
        """ "liveness" or "startup" when that probe says the running instance must be killed."""
        return ""

    def sync_pod(self, pod: dict[str, Any]) -> None:
        """Make sure the pod's probe workers run."""

    def after_status(self, uid: str, status: dict[str, Any]) -> None:
        """Told every computed status (readiness re-probes a started container that is not ready)."""

    def forget(self, uid: str) -> None:
        """The pod is gone: stop its workers."""


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
    probes: ProbeView | None = None,
    terminal: bool = False,
) -> dict[str, Any]:
    probes = probes or ProbeView()
    old = pod.get("status") or {}
    spec = pod.get("spec", {})
    groups = instances_by_name(observed)
    sandbox = latest_sandbox(observed)
    init_specs, app_specs = spec.get("initContainers", []), spec.get("containers", [])
    uid = pod["metadata"]["uid"]
    default_waiting = "PodInitializing" if init_specs else "ContainerCreating"
    init_statuses = [
        _container_status(uid, c, groups.get(c["name"], []), waiting, probes, "PodInitializing", init=True) for c in init_specs
    ]
    app_statuses = sorted(
        (_container_status(uid, c, groups.get(c["name"], []), waiting, probes, default_waiting, init=False) for c in app_specs),
        key=lambda s: s["name"],
    )
    old_phase = str(old.get("phase", ""))
    phase = old_phase if old_phase in ("Succeeded", "Failed") else _phase(spec, init_statuses, app_statuses, terminal)
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": _conditions(old, sandbox, init_statuses, app_statuses, phase, now),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": old.get("startTime") or format_time(now),
        "containerStatuses": app_statuses,
        "qosClass": old.get("qosClass", "BestEffort"),
    }
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    ephemeral = [
        _ephemeral_status(uid, c, groups.get(c["name"], []), waiting, default_waiting)
        for c in spec.get("ephemeralContainers", [])
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
    uid: str,
    spec: dict[str, Any],
    instances: list[RuntimeContainer],
    waiting: Mapping[str, Waiting],
    probes: ProbeView,
    default_reason: str,
    *,
    init: bool,
) -> dict[str, Any]:
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
        started = probes.started(uid, name, latest.id)
        status["started"] = started
        status["ready"] = started and probes.ready(uid, name, latest.id)
        if init:
            status["ready"] = False
    elif latest.state == "exited":
        terminated = {"terminated": _terminated(latest)}
        if name in waiting:  # it will be restarted, and is waiting for that
            status["state"] = {"waiting": _waiting_dict(waiting[name])}
            status["lastState"] = terminated
        else:
            status["state"] = terminated
        status["ready"] = init and latest.exit_code == 0
    elif name in waiting:
        status["state"] = {"waiting": _waiting_dict(waiting[name])}
    return status


def _ephemeral_status(
    uid: str, spec: dict[str, Any], instances: list[RuntimeContainer], waiting: Mapping[str, Waiting], default_reason: str
) -> dict[str, Any]:
    """An ephemeral container's status: as a container's, but never ready, and without `started` (the prober,
    which sets it, knows only the regular and init containers). It never counts in the pod's phase or readiness."""
    status = _container_status(uid, spec, instances, waiting, ProbeView(), default_reason, init=False)
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


def _phase(spec: dict[str, Any], inits: list[dict[str, Any]], apps: list[dict[str, Any]], terminal: bool) -> str:
    """getPhase (§4.1)."""
    policy = spec.get("restartPolicy", "Always")
    for s in inits:
        terminated = s["state"].get("terminated") or s["lastState"].get("terminated")
        if terminated and terminated.get("exitCode") != 0 and policy == "Never" and "terminated" in s["state"]:
            return "Failed"
    pending_init = any(s["state"].get("terminated", {}).get("exitCode") != 0 for s in inits)
    running = sum(1 for s in apps if "running" in s["state"])
    stopped = sum(1 for s in apps if "terminated" in s["state"] or ("waiting" in s["state"] and s["lastState"].get("terminated")))
    succeeded = sum(1 for s in apps if s["state"].get("terminated", {}).get("exitCode") == 0)
    waiting = sum(1 for s in apps if "waiting" in s["state"] and not s["lastState"].get("terminated"))
    if (pending_init and not running and not stopped) or waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if terminal:
            return "Succeeded" if succeeded == len(apps) else "Failed"
        if policy == "Always":
            return "Running"
        if succeeded == len(apps):
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _conditions(
    old: dict[str, Any],
    sandbox: RuntimeContainer | None,
    inits: list[dict[str, Any]],
    apps: list[dict[str, Any]],
    phase: str,
    now: datetime,
) -> list[dict[str, Any]]:
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
    unfinished = [s["name"] for s in inits if s["state"].get("terminated", {}).get("exitCode") != 0]
    if phase == "Succeeded":
        initialized = condition("Initialized", True, "PodCompleted")
    elif unfinished:
        initialized = condition(
            "Initialized", False, "ContainersNotInitialized", f"containers with incomplete status: [{' '.join(unfinished)}]"
        )
    else:
        initialized = condition("Initialized", True)
    unready = [s["name"] for s in apps if not s["ready"]]
    if phase == "Succeeded":
        containers_ready = condition("ContainersReady", False, "PodCompleted")
        ready = condition("Ready", False, "PodCompleted")
    elif unready:
        message = f"containers with unready status: [{' '.join(unready)}]"
        containers_ready = condition("ContainersReady", False, "ContainersNotReady", message)
        ready = condition("Ready", False, "ContainersNotReady", message)
    else:
        containers_ready = condition("ContainersReady", True)
        ready = condition("Ready", True)
    scheduled = previous.get("PodScheduled") or {
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": None,
        "lastTransitionTime": stamp,
    }
    return [condition("PodReadyToStartContainers", sandbox_ok), initialized, ready, containers_ready, scheduled]


StatusFn = Callable[..., dict[str, Any]]
