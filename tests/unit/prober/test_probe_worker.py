"""The probe worker's rules (docs/kubelet.md#one-probe-step), one `step` at a time, with a scripted context."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minikubelet.prober.handlers import Outcome, Result
from minikubelet.prober.history import Attempt, ProbeHistory
from minikubelet.prober.results import ProbeKind, ResultsCache, Verdict
from minikubelet.prober.worker import Worker

STARTED = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class Context:
    def __init__(self) -> None:
        self.cache = ResultsCache()
        self._changes: list[str] = []
        self.outcomes: deque[Outcome] = deque()
        self.events: list[tuple[str, str]] = []
        self.clock = STARTED + timedelta(seconds=100)
        self.pod_obj: dict[str, Any] = pod()
        self.history = ProbeHistory(limit=5)
        self.ran = asyncio.Event()
        self.starts: dict[str, datetime] = {}  # the engine's precise starts, by container id

    @property
    def changes(self) -> list[str]:
        """The pods of the updates sent so far (taken off the queue)."""
        while not self.cache.updates.empty():
            self._changes.append(self.cache.updates.get_nowait().pod_uid)
        return self._changes

    def pod(self, namespace: str, name: str, uid: str) -> dict[str, Any] | None:
        return self.pod_obj

    def now(self) -> datetime:
        return self.clock

    async def started_at(self, container_id: str) -> datetime | None:
        return self.starts.get(container_id)

    def seconds_since_start(self) -> float:
        return 1e9

    async def run(self, kind: ProbeKind, pod: dict[str, Any], container: dict[str, Any], container_id: str) -> Outcome:
        self.ran.set()
        return self.outcomes.popleft() if self.outcomes else OK

    def event(self, pod: dict[str, Any], container: str, event_type: str, reason: str, message: str) -> None:
        self.events.append((reason, message))

    def record(self, pod_uid: str, attempt: Attempt) -> None:
        self.history.add(pod_uid, attempt)


def pod(*, container_id: str = "c1", state: str = "running", started: bool = True, phase: str = "Running") -> dict[str, Any]:
    states = {"running": {"running": {"startedAt": "2026-01-01T12:00:00Z"}}, "exited": {"terminated": {"exitCode": 1}}}
    return {
        "metadata": {"name": "p", "namespace": "default", "uid": "u1"},
        "spec": {"restartPolicy": "Always"},
        "status": {
            "phase": phase,
            "containerStatuses": [
                {"name": "app", "containerID": f"docker://{container_id}", "state": states[state], "started": started}
            ],
        },
    }


def worker(context: Context, kind: ProbeKind, **probe: Any) -> Worker:
    field = {ProbeKind.LIVENESS: "livenessProbe", ProbeKind.READINESS: "readinessProbe", ProbeKind.STARTUP: "startupProbe"}[kind]
    settings = {"periodSeconds": 1, "successThreshold": 1, "failureThreshold": 3, **probe}
    container = {"name": "app", field: {"exec": {"command": ["true"]}, **settings}}
    return Worker(context, namespace="default", name="p", uid="u1", container=container, kind=kind)


OK, FAIL = Outcome(Result.SUCCESS), Outcome(Result.FAILURE, output="HTTP probe failed with statuscode: 404")


@pytest.mark.parametrize(
    ("kind", "initial"),
    [(ProbeKind.READINESS, Verdict.FAILURE), (ProbeKind.LIVENESS, Verdict.SUCCESS), (ProbeKind.STARTUP, Verdict.UNKNOWN)],
)
async def test_each_new_container_starts_from_the_initial_verdict(kind: ProbeKind, initial: Verdict) -> None:
    context = Context()
    context.pod_obj = pod(started=kind is not ProbeKind.STARTUP)
    context.outcomes.append(Outcome(Result.UNKNOWN, error="port http not found"))
    probe = worker(context, kind)
    assert await probe.step()
    assert context.cache.get("c1", kind) is initial


async def test_failures_count_up_to_the_threshold_and_every_failure_is_an_event() -> None:
    context = Context()
    probe = worker(context, ProbeKind.LIVENESS, failureThreshold=3)
    context.outcomes.extend([FAIL, FAIL, FAIL, OK])
    await probe.step()
    await probe.step()
    assert context.cache.get("c1", ProbeKind.LIVENESS) is Verdict.SUCCESS, "below the threshold nothing changes"
    await probe.step()
    assert context.cache.get("c1", ProbeKind.LIVENESS) is Verdict.FAILURE
    assert context.events == [("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404")] * 3
    assert await probe.step()
    assert probe.probes_run == 3, "on hold after a liveness failure: no more probes for this instance"
    context.pod_obj = pod(container_id="c2")
    context.outcomes.append(OK)
    await probe.step()
    assert context.cache.get("c2", ProbeKind.LIVENESS) is Verdict.SUCCESS and probe.probes_run == 4


async def test_readiness_needs_success_threshold_successes_and_is_never_on_hold() -> None:
    context = Context()
    probe = worker(context, ProbeKind.READINESS, successThreshold=2, failureThreshold=1)
    context.outcomes.extend([OK, OK, FAIL, OK, OK])
    await probe.step()
    assert context.cache.get("c1", ProbeKind.READINESS) is Verdict.FAILURE
    await probe.step()
    assert context.cache.get("c1", ProbeKind.READINESS) is Verdict.SUCCESS
    await probe.step()
    assert context.cache.get("c1", ProbeKind.READINESS) is Verdict.FAILURE
    await probe.step()
    await probe.step()
    assert context.cache.get("c1", ProbeKind.READINESS) is Verdict.SUCCESS and probe.probes_run == 5


async def test_errors_are_not_counted() -> None:
    context = Context()
    probe = worker(context, ProbeKind.LIVENESS, failureThreshold=2)
    context.outcomes.extend([FAIL, Outcome(Result.UNKNOWN, error="port http not found"), FAIL])
    for _ in range(3):
        await probe.step()
    assert context.cache.get("c1", ProbeKind.LIVENESS) is Verdict.FAILURE
    assert ("Unhealthy", "Liveness probe errored and resulted in unknown state: port http not found") in context.events


async def test_initial_delay_in_whole_seconds_since_started_at() -> None:
    context = Context()
    probe = worker(context, ProbeKind.READINESS, initialDelaySeconds=15)
    context.clock = STARTED + timedelta(seconds=14.9)
    assert await probe.step()
    assert probe.probes_run == 0, "14.9 s counts as 14"
    context.clock = STARTED + timedelta(seconds=15)
    context.outcomes.append(OK)
    await probe.step()
    assert probe.probes_run == 1


async def test_startup_gates_liveness_and_stops_after_success() -> None:
    context = Context()
    context.pod_obj = pod(started=False)
    liveness = worker(context, ProbeKind.LIVENESS)
    startup = worker(context, ProbeKind.STARTUP, failureThreshold=30)
    await liveness.step()
    assert liveness.probes_run == 0, "liveness waits for the startup probe"
    context.outcomes.append(OK)
    await startup.step()
    assert context.cache.get("c1", ProbeKind.STARTUP) is Verdict.SUCCESS
    await startup.step()
    assert startup.probes_run == 1, "the startup worker is on hold after its threshold"
    context.pod_obj = pod(started=True)
    context.outcomes.append(OK)
    await liveness.step()
    assert liveness.probes_run == 1


async def test_a_stopped_container_is_a_failure_and_never_ends_the_worker_unless_restart_never() -> None:
    context = Context()
    probe = worker(context, ProbeKind.READINESS)
    context.pod_obj = pod(state="exited")
    assert await probe.step()
    assert context.cache.get("c1", ProbeKind.READINESS) is Verdict.FAILURE
    context.pod_obj["spec"]["restartPolicy"] = "Never"
    assert await probe.step() is False


async def test_deletion_quiets_liveness_but_not_readiness() -> None:
    context = Context()
    context.pod_obj = pod()
    context.pod_obj["metadata"]["deletionTimestamp"] = "2026-01-01T12:05:00Z"
    liveness, readiness = worker(context, ProbeKind.LIVENESS), worker(context, ProbeKind.READINESS)
    assert await liveness.step() is False
    assert context.cache.get("c1", ProbeKind.LIVENESS) is Verdict.SUCCESS
    context.outcomes.append(OK)
    assert await readiness.step() is True and readiness.probes_run == 1


async def test_a_finished_pod_ends_every_worker() -> None:
    context = Context()
    context.pod_obj = pod(phase="Succeeded")
    assert await worker(context, ProbeKind.READINESS).step() is False


async def test_warnings_count_as_success_with_a_probe_warning_event() -> None:
    context = Context()
    probe = worker(context, ProbeKind.READINESS)
    context.outcomes.append(Outcome(Result.WARNING, output="Probe terminated redirects, Response body: moved"))
    await probe.step()
    assert context.cache.get("c1", ProbeKind.READINESS) is Verdict.SUCCESS
    assert context.events == [("ProbeWarning", "Readiness probe warning: Probe terminated redirects, Response body: moved")]


async def test_only_changes_notify_the_kubelet() -> None:
    context = Context()
    probe = worker(context, ProbeKind.READINESS)
    context.outcomes.extend([OK, OK, OK])
    for _ in range(3):
        await probe.step()
    assert context.changes == ["u1", "u1"], "initial Failure, then Success once"


async def test_every_attempt_is_recorded_with_the_threshold_crossings_in_a_bounded_ring() -> None:
    context = Context()
    probe = worker(context, ProbeKind.LIVENESS, failureThreshold=2)
    context.outcomes.extend([OK, FAIL, Outcome(Result.UNKNOWN, error="port http not found"), FAIL])
    for _ in range(5):
        await probe.step()  # the fifth is on hold: no attempt
    attempts = context.history.attempts("u1")
    assert [(a.result, a.verdict) for a in attempts] == [
        ("Success", ""),
        ("Failure", ""),
        ("Unknown", ""),
        ("Failure", "Failure"),
    ]
    assert attempts[1].message == "HTTP probe failed with statuscode: 404" and attempts[0].message == ""
    assert attempts[2].message == "port http not found"
    assert all(a.kind is ProbeKind.LIVENESS and a.container == "app" and a.container_id == "c1" for a in attempts)
    # Stamped by the context's clock (the manager's: virtual in a simulation); `due` is when the tick fell.
    assert all(a.due <= a.start == context.clock.timestamp() for a in attempts)
    context.pod_obj = pod(container_id="c2")
    for _ in range(3):
        await probe.step()
    assert len(context.history.attempts("u1")) == 5, "the ring keeps the newest `limit` attempts"
    assert [a.container_id for a in context.history.attempts("u1")][-3:] == ["c2"] * 3
    api_view = context.history("u1")[-1]
    assert api_view["probe"] == "Liveness" and api_view["result"] == "Success" and api_view["start"].endswith("Z")


async def test_ticks_keep_to_the_schedule_and_a_manual_trigger_probes_at_once() -> None:
    context = Context()
    context.now = lambda: datetime.now(UTC)  # type: ignore[method-assign]  # attempts stamped in real time
    context.history = ProbeHistory()
    probe = worker(context, ProbeKind.READINESS, periodSeconds=0.2)
    task = asyncio.create_task(probe.run())
    try:
        deadline = time.monotonic() + 10
        while len(context.history.attempts("u1")) < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        ticks = context.history.attempts("u1")
        assert len(ticks) >= 4
        # The ticker is anchored: each attempt is due one period after the one before, whatever its lateness.
        gaps = [b.due - a.due for a, b in itertools.pairwise(ticks)]
        assert all(abs(gap - 0.2) < 0.05 for gap in gaps), gaps
        assert all(0 <= a.lateness < 0.15 for a in ticks), [a.lateness for a in ticks]
        probe.period = 30.0  # from the next tick on, nothing would run for 30 s ...
        await asyncio.sleep(0.5)
        count = len(context.history.attempts("u1"))
        context.ran.clear()
        probe.trigger.set()  # ... but the manual trigger runs the probe at once
        async with asyncio.timeout(5):
            await context.ran.wait()
        await asyncio.sleep(0.05)
        attempts = context.history.attempts("u1")
        assert len(attempts) == count + 1 and attempts[-1].manual and not attempts[0].manual
        assert attempts[-1].lateness < 0.15
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_slow_probe_runs_one_missed_tick_and_drops_the_others_as_go_s_ticker() -> None:
    """A probe that outlasts several periods: Go's ticker keeps one tick in its channel and drops the rest, so
    one probe follows at once and the next ones keep to the grid (not one per missed tick, back to back)."""
    context = Context()
    context.now = lambda: datetime.now(UTC)  # type: ignore[method-assign]  # attempts stamped in real time
    context.history = ProbeHistory()
    started: list[float] = []
    slow = asyncio.Event()

    async def run(kind: ProbeKind, pod: dict[str, Any], container: dict[str, Any], container_id: str) -> Outcome:
        started.append(time.monotonic())
        if len(started) == 1:
            await asyncio.sleep(0.55)  # 2.75 periods of 0.2 s
            slow.set()
        return OK

    context.run = run  # type: ignore[method-assign]
    probe = worker(context, ProbeKind.READINESS, periodSeconds=0.2)
    task = asyncio.create_task(probe.run())
    try:
        deadline = time.monotonic() + 10
        while len(started) < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert len(started) >= 4
        dues = [a.due for a in context.history.attempts("u1")][:4]
        gaps = [round(b - a, 2) for a, b in itertools.pairwise(dues)]
        assert gaps[0] == pytest.approx(0.4, abs=0.05), f"the tick due at 0.2 s was dropped, the one at 0.4 s kept: {gaps}"
        assert gaps[1:] == pytest.approx([0.2, 0.2], abs=0.05), gaps
        assert started[1] - started[0] >= 0.5, "the kept tick runs when the slow probe ends"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
