"""The judgement of `minikubelet test` (docs/ci.md): has a pod failed for good, is it Ready, what the kubelet said.

Pure: a pod (wire form) or an event in, a `Failure` (why the pod's test ends now) or None out. The command itself
(cli/test.py) watches the pods and their events and calls these on every change; the deadlines are its business.

A pod's test fails at once, without waiting for its deadline, when:

- a container waits for a reason that will not go away on its own: CrashLoopBackOff, an image that cannot be
  pulled (ErrImagePull, ImagePullBackOff, InvalidImageName, ErrImageNeverPull), a container that cannot be
  created or started (CreateContainerError, CreateContainerConfigError, RunContainerError);
- a container was OOMKilled (now or in its last state);
- the kubelet kills a container for a failed liveness or startup probe (its Killing event, seen before the
  container has even stopped);
- the containers restarted more than `max_restarts` times in all (a container that has just exited and that its
  restart policy will start again counts already);
- a regular container exited and nothing will start it again, or the pod reached phase Failed or Succeeded (a pod
  under test is meant to stay up);
- the pod was deleted by someone else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minikubelet.api.podutil import container_should_restart, init_containers, is_restartable_init_container

__all__ = [
    "FAILING_WAITS",
    "Failure",
    "check_event",
    "check_pod",
    "is_ready",
    "ready_message",
    "restarts",
]

# Waiting reasons that end a test at once: the kubelet backs off, or cannot make the container at all.
FAILING_WAITS = (
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerError",
    "CreateContainerConfigError",
    "RunContainerError",
)
MESSAGE_LIMIT = 300  # a waiting message may quote the engine at length; the line keeps its head


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a pod's test failed: `reason` a word (CrashLoopBackOff, OOMKilled, LivenessKill, Restarted, ...),
    `message` one sentence naming the container."""

    reason: str
    message: str


def is_ready(pod: Mapping[str, Any]) -> bool:
    """The pod's Ready condition is True."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def ready_message(pod: Mapping[str, Any]) -> str:
    """Why the pod is not Ready, in a few words: its phase, and each container that is not ready and why."""
    status = pod.get("status") or {}
    parts = [f"phase {status.get('phase') or 'Pending'}"]
    for entry in status.get("containerStatuses") or []:
        if entry.get("ready"):
            continue
        state = entry.get("state") or {}
        kind = next(iter(state), "")
        reason = (state.get(kind) or {}).get("reason", "") if kind else ""
        if kind == "running":
            started = entry.get("started")
            what = "running, startup probe not passed" if started is False else "running, not ready"
        else:
            what = f"{kind or 'not started'}{f' ({reason})' if reason else ''}"
        parts.append(f"container {entry.get('name', '?')} {what}")
    return ", ".join(parts)


def restarts(pod: Mapping[str, Any]) -> int:
    """The restarts of every container of the pod (init containers included)."""
    status = pod.get("status") or {}
    entries = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    return sum(int(e.get("restartCount") or 0) for e in entries)


def check_pod(pod: Mapping[str, Any], *, max_restarts: int) -> Failure | None:
    """The failure that ends this pod's test now, or None while it may still pass."""
    status = pod.get("status") or {}
    phase = status.get("phase", "")
    spec = pod.get("spec") or {}
    inits = {c["name"]: c for c in init_containers(pod)}  # type: ignore[arg-type]
    specs = {**inits, **{c["name"]: c for c in spec.get("containers") or []}}
    entries = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    for entry in entries:
        name = entry.get("name", "?")
        waiting = (entry.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FAILING_WAITS:
            return Failure(waiting["reason"], _clip(f"container {name}: {waiting.get('message') or waiting['reason']}"))
        for key in ("state", "lastState"):
            ended = (entry.get(key) or {}).get("terminated") or {}
            if ended.get("reason") == "OOMKilled":
                return Failure("OOMKilled", f"container {name} was OOMKilled (exit code {ended.get('exitCode', 137)})")
    if phase == "Failed":
        why = status.get("message") or status.get("reason") or _last_exit(entries) or "the pod failed"
        return Failure("Failed", _clip(f"the pod failed: {why}"))
    if phase == "Succeeded":
        return Failure("Succeeded", "every container ended (phase Succeeded): the pod does not stay up")
    pending = 0
    for entry in entries:
        name = entry.get("name", "?")
        ended = (entry.get("state") or {}).get("terminated")
        if ended is None:
            continue
        container = specs.get(name, {})
        code = ended.get("exitCode")
        if name in inits and not is_restartable_init_container(container) and code == 0:
            continue  # an init container that did its job
        if container_should_restart(container, spec, code):
            pending += 1
        elif name not in inits:
            how = f"exited with code {code}" + (f" ({ended['reason']})" if ended.get("reason") else "")
            return Failure("Exited", f"container {name} {how} and its restart policy does not start it again")
    total = restarts(pod) + pending
    if total > max_restarts:
        last = _last_exit(entries)
        count = f"{total} restart{'s' if total != 1 else ''}"
        return Failure("Restarted", _clip(f"{count}, more than --max-restarts {max_restarts}" + (f": {last}" if last else "")))
    return None


def check_event(event: Mapping[str, Any]) -> Failure | None:
    """A Killing event for a failed liveness or startup probe ends the test at once, before the container stops."""
    if event.get("reason") != "Killing":
        return None
    message = str(event.get("message") or "")
    if "failed liveness probe" in message:
        return Failure("LivenessKill", message)
    if "failed startup probe" in message:
        return Failure("StartupKill", message)
    return None


def _last_exit(entries: list[Mapping[str, Any]]) -> str:
    """The latest exit among the containers' current and last states, as `container X exited with code N (R)`."""
    found: list[tuple[str, str]] = []
    for entry in entries:
        for key in ("state", "lastState"):
            ended = (entry.get(key) or {}).get("terminated")
            if ended:
                reason = f" ({ended['reason']})" if ended.get("reason") else ""
                text = f"container {entry.get('name', '?')} exited with code {ended.get('exitCode')}{reason}"
                found.append((str(ended.get("finishedAt") or ""), text))
    return max(found)[1] if found else ""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
