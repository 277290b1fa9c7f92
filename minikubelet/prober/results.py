"""The probe results cache: one verdict per (container instance, probe kind), and the updates it sends.

As pkg/kubelet/prober/results/results_manager.go: a worker `set`s a verdict; only a *changed* verdict is put on
the `updates` queue (the manager's `Updates()` channel), which the kubelet's sync loop reads: a liveness or
startup failure makes it sync the pod (computePodActions then kills the container), a readiness or startup
change is written into the pod's status at once (the status manager's SetContainerReadiness /
SetContainerStartup) and then synced. Results flow one way: the prober never calls into the kubelet.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

__all__ = ["ProbeKind", "ResultsCache", "Update", "Verdict"]


class ProbeKind(enum.StrEnum):
    LIVENESS = "Liveness"
    READINESS = "Readiness"
    STARTUP = "Startup"


class Verdict(enum.Enum):
    SUCCESS = "Success"
    FAILURE = "Failure"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class Update:
    """results.Update: a verdict that changed, for which container instance of which pod."""

    container_id: str
    kind: ProbeKind
    verdict: Verdict
    pod_uid: str


class ResultsCache:
    def __init__(self) -> None:
        self._results: dict[tuple[str, ProbeKind], Verdict] = {}
        self.updates: asyncio.Queue[Update] = asyncio.Queue()

    def get(self, container_id: str, kind: ProbeKind) -> Verdict | None:
        return self._results.get((container_id, kind))

    def set(self, container_id: str, kind: ProbeKind, verdict: Verdict, *, pod_uid: str) -> None:
        if self._results.get((container_id, kind)) is verdict:
            return
        self._results[(container_id, kind)] = verdict
        self.updates.put_nowait(Update(container_id, kind, verdict, pod_uid))

    def remove(self, container_id: str, kind: ProbeKind) -> None:
        self._results.pop((container_id, kind), None)
