"""What the prober did, attempt by attempt: a bounded ring per container, for the timeline and benchmarks.

The kubelet keeps no such record (it logs at V(4) and keeps the verdicts); we keep the last
`ATTEMPTS_PER_CONTAINER` attempts of each container of each pod, all probe kinds together, so that
`minikubelet timeline` can draw every probe mark and `benchmarks/` can measure how late each attempt ran
against its schedule. An attempt is stored as plain floats and short strings: 200 probed pods cost a few MiB.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from minikubelet.prober.results import ProbeKind

__all__ = ["ATTEMPTS_PER_CONTAINER", "MESSAGE_LIMIT", "Attempt", "ProbeHistory"]

ATTEMPTS_PER_CONTAINER = 256
MESSAGE_LIMIT = 512


@dataclass(slots=True, frozen=True)
class Attempt:
    """One run of a probe handler. Times are Unix seconds; `due` is when the ticker (or the manual
    trigger) asked for the attempt, `start` when the handler began, so `start - due` is its lateness."""

    container: str
    container_id: str
    kind: ProbeKind
    due: float
    start: float
    duration: float
    result: str  # Success, Failure, Warning or Unknown (errored: not counted)
    message: str = ""
    verdict: str = ""  # the cached verdict this attempt set when it crossed a threshold, else ""
    manual: bool = False  # run off-tick by the readiness trigger

    @property
    def lateness(self) -> float:
        return self.start - self.due

    def to_dict(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "containerID": self.container_id,
            "probe": str(self.kind),
            "due": _rfc3339(self.due),
            "start": _rfc3339(self.start),
            "latenessSeconds": round(self.lateness, 6),
            "durationSeconds": round(self.duration, 6),
            "result": self.result,
            "message": self.message,
            "verdict": self.verdict,
            "manual": self.manual,
        }


class ProbeHistory:
    """The rings, keyed by pod uid then container name."""

    def __init__(self, limit: int = ATTEMPTS_PER_CONTAINER) -> None:
        self.limit = limit
        self._rings: dict[str, dict[str, deque[Attempt]]] = {}

    def add(self, pod_uid: str, attempt: Attempt) -> None:
        containers = self._rings.setdefault(pod_uid, {})
        ring = containers.get(attempt.container)
        if ring is None:
            ring = containers[attempt.container] = deque(maxlen=self.limit)
        ring.append(attempt)

    def attempts(self, pod_uid: str) -> list[Attempt]:
        """Every kept attempt of the pod, oldest first (by start)."""
        rings = self._rings.get(pod_uid, {})
        return sorted((a for ring in rings.values() for a in ring), key=lambda a: a.start)

    def forget(self, pod_uid: str) -> None:
        self._rings.pop(pod_uid, None)

    def __call__(self, pod_uid: str) -> list[dict[str, Any]]:
        """The API's view: the attempts as JSON-ready dicts."""
        return [attempt.to_dict() for attempt in self.attempts(pod_uid)]


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
