"""minikubelet.lint.timing: the kill window's arithmetic, the startupProbe threshold, Go durations."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minikubelet.api.probe import Probe
from minikubelet.lint.timing import KillWindow, format_seconds, kill_window, parse_go_duration, threshold_for
from minikubelet.prober.handlers import Outcome, Result
from minikubelet.prober.history import Attempt
from minikubelet.prober.results import ProbeKind, ResultsCache, Verdict
from minikubelet.prober.worker import Worker


@pytest.mark.parametrize(
    ("delay", "period", "threshold", "timeout", "earliest", "latest"),
    [
        (0, 10, 3, 1, 20, 31),  # the defaults: 0 + (3 - 1) x 10; 0 + 3 x 10 + 1
        (5, 10, 3, 1, 25, 36),
        (5, 5, 1, 2, 5, 12),  # failureThreshold 1: the first failed attempt kills
        (15, 20, 3, 1, 55, 76),
        (0, 10, 3, 10, 20, 40),  # timeout >= period: hanging attempts every T, latest D + P + F x T
        (0, 5, 3, 12, 10, 41),
    ],
)
def test_kill_window(delay: int, period: int, threshold: int, timeout: int, earliest: int, latest: int) -> None:
    window = KillWindow(delay, period, threshold, timeout)
    assert (window.earliest, window.latest) == (earliest, latest)


def test_kill_window_of_a_defaulted_probe() -> None:
    probe = Probe.model_validate({"httpGet": {"port": 80}})
    assert kill_window(probe) == KillWindow(delay=0, period=10, threshold=3, timeout=1)


def test_arithmetic_texts_show_every_operand() -> None:
    window = KillWindow(5, 10, 3, 1)
    assert window.earliest_arithmetic() == "initialDelaySeconds 5 + (failureThreshold 3 - 1) x periodSeconds 10 = 25s"
    assert window.latest_arithmetic() == "5 + 3 x 10 + timeoutSeconds 1 = 36s"
    assert KillWindow(0, 5, 3, 12).latest_arithmetic() == "0 + periodSeconds 5 + 3 x timeoutSeconds 12 = 41s"


@pytest.mark.parametrize(
    ("start", "period", "delay", "expected"),
    [
        (90, 10, 0, 10),  # (10 - 1) x 10 = 90 >= 90; 9 would give 80
        (91, 10, 0, 11),
        (60, 5, 0, 13),
        (90, 20, 0, 6),  # ceil(4.5) + 1: (6 - 1) x 20 = 100
        (90, 10, 30, 7),  # 30 + (7 - 1) x 10 = 90
        (0, 10, 0, 1),
        (20, 10, 45, 1),  # the delay alone outlasts the start
    ],
)
def test_threshold_for(start: float, period: int, delay: int, expected: int) -> None:
    assert threshold_for(start, period, delay) == expected
    assert KillWindow(delay, period, expected, 1).earliest >= start
    if expected > 1:
        assert KillWindow(delay, period, expected - 1, 1).earliest < start  # and it is the smallest


def test_threshold_for_is_ceil_of_start_over_period_plus_one() -> None:
    for start in range(1, 400, 7):
        for period in (1, 3, 10, 30):
            assert threshold_for(start, period) == math.ceil(start / period) + 1


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("1m30s", 90), ("2m", 120), ("1.5h", 5400), ("500ms", 0.5), ("0", 0), ("1h1m1s", 3661), (".5s", 0.5)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "90", "1d", "-5s", "s", "1m 30s", "ten seconds"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_go_duration(text)


def test_format_seconds() -> None:
    assert (format_seconds(90), format_seconds(90.0), format_seconds(1.5)) == ("90s", "90s", "1.5s")


STARTED = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class FailingContext:
    """A running container (startedAt STARTED) whose every probe attempt fails at once; the clock is set per tick."""

    def __init__(self) -> None:
        self.cache = ResultsCache()
        self.clock = STARTED

    def pod(self, namespace: str, name: str, uid: str) -> dict[str, Any]:
        running = {"running": {"startedAt": "2026-01-01T12:00:00Z"}}
        status = {"name": "app", "containerID": "docker://c1", "state": running, "started": True}
        return {
            "metadata": {"name": "p", "namespace": "default", "uid": "u1"},
            "spec": {},
            "status": {"phase": "Running", "containerStatuses": [status]},
        }

    def now(self) -> datetime:
        return self.clock

    async def started_at(self, container_id: str) -> datetime | None:
        return STARTED  # the engine's start, to the sub-second: STARTED itself

    def seconds_since_start(self) -> float:
        return 1e9

    async def run(self, kind: ProbeKind, pod: dict[str, Any], container: dict[str, Any], container_id: str) -> Outcome:
        return Outcome(Result.FAILURE, output="dial tcp 10.0.0.7:80: connect: connection refused")

    def event(self, pod: dict[str, Any], container: str, event_type: str, reason: str, message: str) -> None:
        pass

    def record(self, pod_uid: str, attempt: Attempt) -> None:
        pass


@pytest.mark.parametrize(("delay", "period", "threshold"), [(0, 10, 3), (5, 10, 3), (5, 5, 1), (15, 20, 3), (7, 3, 4)])
async def test_the_worker_kills_within_the_window(delay: int, period: int, threshold: int) -> None:
    """The arithmetic against the worker's own step: ticks every period anchored at the worker's creation, which
    falls at every phase against the container's start; an immediate failure at each tick. The Failure verdict (the
    kill) comes in [earliest, earliest + period), earliest included (phase 0) and never later (latest - timeout)."""
    window = KillWindow(delay, period, threshold, 1)
    kills = []
    for quarter in range(period * 4):
        context = FailingContext()
        probe = {"tcpSocket": {"port": 80}, "initialDelaySeconds": delay, "periodSeconds": period, "failureThreshold": threshold}
        container = {"name": "app", "livenessProbe": probe}
        worker = Worker(context, namespace="default", name="p", uid="u1", container=container, kind=ProbeKind.LIVENESS)  # type: ignore[arg-type]
        tick = quarter / 4 - period  # the worker's first tick, before the container started
        while context.cache.get("c1", ProbeKind.LIVENESS) is not Verdict.FAILURE:
            context.clock = STARTED + timedelta(seconds=tick)
            if tick >= 0:
                await worker.step()
            tick += period
        kills.append(tick - period)
    assert min(kills) == window.earliest
    assert max(kills) < window.earliest + period <= window.latest - window.timeout
