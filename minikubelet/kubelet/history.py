"""What each container went through, as the kubelet saw it: a bounded ring per container, for the timeline.

A pod's status holds only the current state and the last termination, events are aggregated (a count with
the first and last time) and old container instances are removed, so a container's life cannot be rebuilt
afterwards from the API. The kubelet therefore notes it as it goes: every time it computes a pod's status it
compares each container's state with the one it saw before and records the change (waiting with its reason,
running, terminated with its exit code, each instance by its container ID); it also records the kills it
orders (with their reason) and, for a CrashLoopBackOff wait, when that wait ends. An instance that ended and
was replaced between two looks (the first restart of a crash loop is immediate) still gets its
`terminated` entry, from the new status's `lastState`.

Times are Unix seconds; a start or a finish takes the engine's own timestamp of that instance when it has one,
so that marks line up with the prober's attempts. The last `TRANSITIONS_PER_CONTAINER` entries of each
container are kept, and everything about a pod is forgotten with it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from minikubelet.api.podutil import all_statuses
from minikubelet.api.wire import ContainerStateTerminated, ContainerStatus, as_pod_status
from minikubelet.runtime.interface import RuntimeContainer

__all__ = ["MESSAGE_LIMIT", "TRANSITIONS_PER_CONTAINER", "LifecycleHistory", "Transition"]

TRANSITIONS_PER_CONTAINER = 128
MESSAGE_LIMIT = 512
KILLING = "killing"


@dataclass(slots=True, frozen=True)
class Transition:
    """One change of a container's state, or a kill the kubelet ordered (`state` "killing")."""

    time: float
    container: str
    container_id: str
    state: str  # waiting, running, terminated or killing
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    restart_count: int = 0
    backoff_until: float | None = None  # a CrashLoopBackOff wait: when the kubelet will start the container again

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": _rfc3339(self.time),
            "container": self.container,
            "containerID": self.container_id,
            "state": self.state,
            "reason": self.reason,
            "message": self.message,
            "restartCount": self.restart_count,
        }
        if self.exit_code is not None:
            out["exitCode"] = self.exit_code
        if self.backoff_until is not None:
            out["backOffUntil"] = _rfc3339(self.backoff_until)
        return out


@dataclass(slots=True)
class _Seen:
    """The last state recorded for one container of one pod."""

    key: tuple[str, str, str, int | None] = ("", "", "", None)  # container ID, state, reason, exit code
    terminated: deque[str] = field(default_factory=lambda: deque(maxlen=4))  # the last instances whose end is recorded
    backoff: tuple[str, float] = ("", 0.0)  # the crashed instance and when its back-off ends


class LifecycleHistory:
    """The rings, keyed by pod uid then container name."""

    def __init__(self, limit: int = TRANSITIONS_PER_CONTAINER) -> None:
        self.limit = limit
        self._rings: dict[str, dict[str, deque[Transition]]] = {}
        self._seen: dict[str, dict[str, _Seen]] = {}

    # ----------------------------------------------------------------------------------- what the kubelet says

    def observe(self, pod_uid: str, status: Mapping[str, Any], observed: Iterable[RuntimeContainer], *, now: float) -> None:
        """Record what changed since the last status computed for this pod."""
        times: dict[str, RuntimeContainer] = {c.id: c for c in observed}
        for entry in all_statuses(as_pod_status(status)):
            self._observe_container(pod_uid, entry, times, now)

    def killing(self, pod_uid: str, container: str, container_id: str, reason: str, *, now: float) -> None:
        """The kubelet is about to stop this instance, for `reason` (the Killing event's message)."""
        self._add(pod_uid, Transition(now, container, container_id, KILLING, reason=reason[:MESSAGE_LIMIT]))

    def backoff(self, pod_uid: str, container: str, container_id: str, *, until: float) -> None:
        """The crashed instance `container_id` will be replaced at `until` (noted before the status is observed)."""
        self._seen_of(pod_uid, container).backoff = (container_id, until)

    # ---------------------------------------------------------------------------------------------- reading

    def transitions(self, pod_uid: str) -> list[Transition]:
        """Every kept transition of the pod, oldest first."""
        rings = self._rings.get(pod_uid, {})
        return sorted((t for ring in rings.values() for t in ring), key=lambda t: t.time)

    def forget(self, pod_uid: str) -> None:
        self._rings.pop(pod_uid, None)
        self._seen.pop(pod_uid, None)

    def __call__(self, pod_uid: str) -> list[dict[str, Any]]:
        """The API's view: the transitions as JSON-ready dicts."""
        return [t.to_dict() for t in self.transitions(pod_uid)]

    # ----------------------------------------------------------------------------------------------- inside

    def _observe_container(
        self, pod_uid: str, entry: ContainerStatus, instances: dict[str, RuntimeContainer], now: float
    ) -> None:
        name = entry["name"]
        seen = self._seen_of(pod_uid, name)
        restarts = int(entry.get("restartCount", 0))
        last = (entry.get("lastState") or {}).get("terminated")
        if last:
            # An instance that ended between two looks: its end comes before whatever replaced it.
            self._terminated(pod_uid, name, seen, last, instances, now, restarts=max(restarts - 1, 0))
        state = entry.get("state") or {}
        container_id = _short_id(entry.get("containerID", ""))
        if "terminated" in state:
            self._terminated(pod_uid, name, seen, state["terminated"], instances, now, restarts=restarts)
            seen.key = (_short_id(state["terminated"].get("containerID", "")) or container_id, "terminated", "", None)
            return
        if "running" in state:
            key: tuple[str, str, str, int | None] = (container_id, "running", "", None)
            if key != seen.key:
                instance = instances.get(container_id)
                at = instance.started_at.timestamp() if instance is not None and instance.started_at else now
                restarts = instance.attempt if instance is not None else restarts
                self._add(pod_uid, Transition(at, name, container_id, "running", restart_count=restarts))
            seen.key = key
            return
        waiting = state.get("waiting") or {}
        reason = str(waiting.get("reason", ""))
        key = (container_id, "waiting", reason, None)
        if key != seen.key:
            until = seen.backoff[1] if reason == "CrashLoopBackOff" and seen.backoff[0] == container_id else None
            message = str(waiting.get("message", ""))[:MESSAGE_LIMIT]
            self._add(
                pod_uid,
                Transition(now, name, container_id, "waiting", reason, message, restart_count=restarts, backoff_until=until),
            )
        seen.key = key

    def _terminated(
        self,
        pod_uid: str,
        name: str,
        seen: _Seen,
        terminated: ContainerStateTerminated,
        instances: dict[str, RuntimeContainer],
        now: float,
        *,
        restarts: int,
    ) -> None:
        container_id = _short_id(terminated.get("containerID", ""))
        if not container_id or container_id in seen.terminated:
            return
        seen.terminated.append(container_id)
        instance = instances.get(container_id)
        at = instance.finished_at.timestamp() if instance is not None and instance.finished_at else now
        transition = Transition(
            at,
            name,
            container_id,
            "terminated",
            str(terminated.get("reason", "")),
            str(terminated.get("message", ""))[:MESSAGE_LIMIT],
            exit_code=terminated.get("exitCode"),
            restart_count=instance.attempt if instance is not None else restarts,
        )
        self._add(pod_uid, transition)

    def _seen_of(self, pod_uid: str, container: str) -> _Seen:
        return self._seen.setdefault(pod_uid, {}).setdefault(container, _Seen())

    def _add(self, pod_uid: str, transition: Transition) -> None:
        containers = self._rings.setdefault(pod_uid, {})
        ring = containers.get(transition.container)
        if ring is None:
            ring = containers[transition.container] = deque(maxlen=self.limit)
        ring.append(transition)


def _short_id(container_id: str) -> str:
    return container_id.partition("://")[2] or container_id


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
