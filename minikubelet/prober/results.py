"""The probe results cache: one verdict per (container instance, probe kind), consumers told on change.

As the kubelet's results manager: a worker `set`s a verdict, and only a *changed* verdict notifies the pod's
kubelet worker (which then restarts a container that failed liveness, or recomputes readiness).
"""

from __future__ import annotations

import enum
from collections.abc import Callable

__all__ = ["ProbeKind", "ResultsCache", "Verdict"]


class ProbeKind(enum.StrEnum):
    LIVENESS = "Liveness"
    READINESS = "Readiness"
    STARTUP = "Startup"


class Verdict(enum.Enum):
    SUCCESS = "Success"
    FAILURE = "Failure"
    UNKNOWN = "Unknown"


class ResultsCache:
    def __init__(self, on_change: Callable[[str], None] = lambda pod_uid: None) -> None:
        self._results: dict[tuple[str, ProbeKind], Verdict] = {}
        self._on_change = on_change

    def get(self, container_id: str, kind: ProbeKind) -> Verdict | None:
        return self._results.get((container_id, kind))

    def set(self, container_id: str, kind: ProbeKind, verdict: Verdict, *, pod_uid: str) -> None:
        if self._results.get((container_id, kind)) is verdict:
            return
        self._results[(container_id, kind)] = verdict
        self._on_change(pod_uid)

    def remove(self, container_id: str, kind: ProbeKind) -> None:
        self._results.pop((container_id, kind), None)
