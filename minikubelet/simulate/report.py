"""What `minikubelet simulate` says about a simulation: the verdict in words, and everything as JSON. Pure."""

from __future__ import annotations

from collections import Counter
from typing import Any

from minikubelet.printing.durations import go_duration
from minikubelet.simulate.engine import ContainerVerdict, Simulation
from minikubelet.simulate.suggest import Suggestion

__all__ = ["to_json", "verdict_lines"]


def _seconds(value: float) -> str:
    """A time in the verdict: `12s`, `2m30s`, `1h0m0s` (Go's duration, to the second)."""
    return go_duration(round(value))


def verdict_lines(sim: Simulation) -> list[str]:
    """One line per container, then the pod's readiness: restarts and why, crash loops, exit codes."""
    width = max((len(name) for name in sim.containers), default=0)
    lines = [f"  {name.ljust(width)}  {_container_line(verdict)}" for name, verdict in sim.containers.items()]
    lines.append(f"  {'pod'.ljust(width)}  {_readiness(sim)}")
    return lines


def _container_line(verdict: ContainerVerdict) -> str:
    if not verdict.restarts and not verdict.exit_codes:
        parts = ["never restarted"]
    else:
        parts = [f"restarted {verdict.restarts} time{'s' * (verdict.restarts != 1)}"]
        causes = []
        if verdict.liveness_kills:
            causes.append(f"{verdict.liveness_kills} liveness kill{'s' * (verdict.liveness_kills != 1)}")
        if verdict.startup_kills:
            causes.append(f"{verdict.startup_kills} startup kill{'s' * (verdict.startup_kills != 1)}")
        if causes:
            parts[0] += " (" + ", ".join(causes) + ")"
        if verdict.exit_codes:
            counted = Counter(verdict.exit_codes)
            parts.append("exit codes " + ", ".join(f"{code} ×{n}" if n > 1 else str(code) for code, n in sorted(counted.items())))
    if verdict.crash_loop:
        parts.append("went into CrashLoopBackOff")
    parts.append("Ready at the end" if verdict.ready else "not Ready at the end")
    return "; ".join(parts)


def _readiness(sim: Simulation) -> str:
    deleted = f"; deleted (gone from the API) at {_seconds(sim.deleted_at)}" if sim.deleted_at is not None else ""
    if sim.ready_at is None:
        return f"never Ready in {_seconds(sim.duration)}{deleted}"
    conditions = (sim.pod.get("status") or {}).get("conditions") or []
    now = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return f"Ready after {_seconds(sim.ready_at)}; {'Ready' if now else 'not Ready'} at the end{deleted}"


def to_json(
    sim: Simulation, *, seed: int, suggestions: list[Suggestion] | None = None, notes: list[str] | None = None
) -> dict[str, Any]:
    meta = sim.pod.get("metadata") or {}
    out: dict[str, Any] = {
        "pod": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "seed": seed,
        "durationSeconds": sim.duration,
        "readyAfterSeconds": sim.ready_at,
        "deletedAfterSeconds": sim.deleted_at,
        "containers": [
            {
                "name": v.name,
                "restarts": v.restarts,
                "livenessKills": v.liveness_kills,
                "startupKills": v.startup_kills,
                "crashLoopBackOff": v.crash_loop,
                "exitCodes": v.exit_codes,
                "ready": v.ready,
            }
            for v in sim.containers.values()
        ],
        "events": [
            {"at": e.at, "type": e.type, "reason": e.reason, "fieldPath": e.field_path, "message": e.message} for e in sim.events
        ],
    }
    if suggestions is not None:
        out["suggestions"] = [
            {
                "container": s.container,
                "field": s.field,
                "value": s.value,
                "readyAfterSeconds": s.ready_after,
                "bestReadyAfterSeconds": s.best_ready_after,
                "text": s.text,
            }
            for s in suggestions
        ]
        out["notes"] = notes or []
    return out
