"""`--suggest`: the smallest probe settings under which the behaviour no longer gets a container restarted.

For each container that a liveness or startup probe killed in the simulation, three knobs are searched, each on
its own, each value tried by simulating the same pod and behaviour again (same seed, same length):
- a startupProbe — the liveness probe's own check at the liveness period, or the container's startupProbe —
  with the smallest failureThreshold that lets the start through;
- the liveness probe's smallest failureThreshold that outlasts the failures seen;
- the liveness probe's smallest periodSeconds that does.
The search assumes that more room never brings a kill back (true of a start or a failure burst that lasts a
fixed time), doubles until a value works, then bisects. Each suggestion carries its cost: the time the pod then
takes to become Ready, beside the time it takes with no liveness or startup probe at all (the best any setting
can do). A restart that no probe caused (the process exits, or is OOM-killed) is not a probe setting's to avoid:
it is said so instead.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from minikubelet.api.podutil import find_container
from minikubelet.api.wire import as_pod
from minikubelet.simulate.behaviour import Behaviour
from minikubelet.simulate.engine import Simulation, simulate

__all__ = ["Suggestion", "suggest"]

_MAX_FAILURE_THRESHOLD = 10_000
_MAX_PERIOD = 3600


@dataclass(frozen=True, slots=True)
class Suggestion:
    container: str
    field: str  # the field path in the container: startupProbe, livenessProbe.failureThreshold, ...
    value: Any  # the probe (a dict) for startupProbe, else the number
    ready_after: float | None  # time to Ready with it (None: not Ready within the run)
    best_ready_after: float | None  # time to Ready with no liveness/startup probe on this container
    text: str


def suggest(
    pod: Mapping[str, Any], behaviours: Mapping[str, Behaviour], baseline: Simulation, *, duration: float, seed: int
) -> tuple[list[Suggestion], list[str]]:
    """The suggestions, and the notes about restarts no probe setting can avoid."""
    suggestions: list[Suggestion] = []
    notes: list[str] = []
    for name, verdict in baseline.containers.items():
        killed = verdict.liveness_kills + verdict.startup_kills
        if verdict.restarts > killed:
            others = verdict.restarts - killed
            notes.append(
                f"{name}: {others} restart(s) came from the process itself (exit codes {_codes(verdict.exit_codes)}), "
                "which no probe setting avoids"
            )
        if not killed:
            continue
        container = _container(pod, name)
        if container is None or ("livenessProbe" not in container and "startupProbe" not in container):
            continue

        def run(change: Callable[[dict[str, Any]], None], name: str = name) -> Simulation:
            changed = copy.deepcopy(dict(pod))
            target = _container(changed, name)
            assert target is not None
            change(target)
            return simulate(changed, behaviours, duration=duration, seed=seed)

        best = run(_without_liveness_and_startup).ready_at
        found = _startup_probe(container, run, duration)
        if found is not None:
            probe, sim = found
            suggestions.append(
                Suggestion(name, "startupProbe", probe, sim.ready_at, best, _startup_text(name, probe, sim.ready_at, best))
            )
        liveness = container.get("livenessProbe")
        if liveness is not None:
            for knob, low, high in (
                ("failureThreshold", int(liveness.get("failureThreshold", 3)), _MAX_FAILURE_THRESHOLD),
                ("periodSeconds", int(liveness.get("periodSeconds", 10)), _MAX_PERIOD),
            ):
                result = _smallest(low + 1, high, functools.partial(_run_setting, run, knob), name)
                if result is not None:
                    value, sim = result
                    suggestions.append(
                        Suggestion(
                            name,
                            f"livenessProbe.{knob}",
                            value,
                            sim.ready_at,
                            best,
                            f"{name}: livenessProbe.{knob}: {value} (now {low}) avoids the restarts; "
                            + _readiness_cost(sim.ready_at, best),
                        )
                    )
    return suggestions, notes


def _startup_probe(
    container: Mapping[str, Any], run: Callable[[Callable[[dict[str, Any]], None]], Simulation], duration: float
) -> tuple[dict[str, Any], Simulation] | None:
    if "startupProbe" in container:
        probe = dict(container["startupProbe"])
        low = int(probe.get("failureThreshold", 3)) + 1
    else:
        liveness = dict(container["livenessProbe"])
        probe = {
            key: value for key, value in liveness.items() if key in ("exec", "httpGet", "tcpSocket", "grpc", "timeoutSeconds")
        }
        probe["periodSeconds"] = int(liveness.get("periodSeconds", 10))
        low = 1
    period = int(probe.get("periodSeconds", 10))
    high = max(low, math.ceil(duration / period) + 1)

    def attempt(threshold: int) -> Simulation:
        return run(_set_probe("startupProbe", {**probe, "failureThreshold": threshold}))

    result = _smallest(low, high, attempt, str(container.get("name", "")))
    if result is None:
        return None
    threshold, sim = result
    return {**probe, "failureThreshold": threshold}, sim


def _smallest(low: int, high: int, attempt: Callable[[int], Simulation], name: str) -> tuple[int, Simulation] | None:
    """The smallest value in [low, high] whose simulation has no probe kill of container `name`: doubling, then
    bisection. None when even `high` has one."""

    def fine(sim: Simulation) -> bool:
        verdict = sim.containers[name]
        return verdict.liveness_kills + verdict.startup_kills == 0

    if low > high:
        return None
    tried: dict[int, Simulation] = {}

    def run(value: int) -> Simulation:
        if value not in tried:
            tried[value] = attempt(value)
        return tried[value]

    bad, value = low - 1, low
    while not fine(run(value)):
        if value >= high:
            return None
        bad, value = value, min(high, max(value + 1, value * 2))
    good = value
    while good - bad > 1:
        middle = (good + bad) // 2
        if fine(run(middle)):
            good = middle
        else:
            bad = middle
    return good, run(good)


def _run_setting(run: Callable[[Callable[[dict[str, Any]], None]], Simulation], knob: str, value: int) -> Simulation:
    return run(_setting("livenessProbe", knob, value))


def _container(pod: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The pod's container `name` as the dict it is in `pod` (podutil's lookup), for the search to change."""
    return cast("dict[str, Any] | None", find_container(as_pod(pod), name))


def _without_liveness_and_startup(container: dict[str, Any]) -> None:
    container.pop("livenessProbe", None)
    container.pop("startupProbe", None)


def _set_probe(field: str, probe: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(container: dict[str, Any]) -> None:
        container[field] = probe

    return change


def _setting(field: str, key: str, value: int) -> Callable[[dict[str, Any]], None]:
    def change(container: dict[str, Any]) -> None:
        container[field] = {**container[field], key: value}

    return change


def _codes(codes: list[int]) -> str:
    return ", ".join(str(code) for code in sorted(set(codes))) or "none recorded"


def _seconds(value: float) -> str:
    return f"{value:.0f}s" if value < 120 else f"{value / 60:.1f}m"


def _readiness_cost(ready_after: float | None, best: float | None) -> str:
    if ready_after is None:
        return "the pod is still not Ready within the run"
    if best is None:
        return f"Ready after {_seconds(ready_after)}"
    delay = max(ready_after - best, 0.0)
    return f"Ready after {_seconds(ready_after)} ({_seconds(delay)} later than with no liveness probe at all)"


def _startup_text(name: str, probe: Mapping[str, Any], ready_after: float | None, best: float | None) -> str:
    threshold, period = int(probe["failureThreshold"]), int(probe.get("periodSeconds", 10))
    handler = next((h for h in ("httpGet", "tcpSocket", "exec", "grpc") if h in probe), "")
    return (
        f"{name}: a startupProbe ({handler}, the liveness probe's check) with failureThreshold {threshold} at "
        f"periodSeconds {period} lets up to {threshold * period}s of start through; " + _readiness_cost(ready_after, best)
    )
