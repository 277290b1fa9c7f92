"""One probe worker per (pod, container, probe kind), as pkg/kubelet/prober/worker.go.

Why it is shaped this way (docs/kubelet.md#probe-workers, docs/kubelet.md#one-probe-step):
- ticks are anchored at the worker's creation (pod admission), not at the container's start, and
  `initialDelaySeconds` is checked on each tick, in whole seconds since the instance's start as the engine has it;
- each new container instance starts from the kind's initial verdict (readiness Failure, liveness
  Success, startup Unknown), and a liveness failure puts the worker on hold until a new instance appears;
- results change the cache only at the thresholds, and only a change wakes the kubelet;
- an errored probe (it could not run) is not counted, but said in an `Unhealthy` event;
- the startup probe gates the others; liveness and startup stop once the pod is being deleted, readiness
  goes on; readiness can be run off-tick by a manual trigger (after a status computation);
- no jitter, except in the first period after the daemon itself started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from minikubelet.api import wire
from minikubelet.api.podutil import container_should_restart, find_status, pod_spec, pod_status, probe_of
from minikubelet.api.wire import Container, Pod, Probe
from minikubelet.prober.handlers import Outcome, Result
from minikubelet.prober.history import MESSAGE_LIMIT, Attempt
from minikubelet.prober.results import ProbeKind, ResultsCache, Verdict

__all__ = ["INITIAL_VERDICT", "ProbeContext", "Worker", "container_probe", "has_probe"]

log = logging.getLogger(__name__)

INITIAL_VERDICT = {ProbeKind.READINESS: Verdict.FAILURE, ProbeKind.LIVENESS: Verdict.SUCCESS, ProbeKind.STARTUP: Verdict.UNKNOWN}

# The results' probe kinds as the wire's (podutil.probe_of's) spell them.
_WIRE_KIND: dict[ProbeKind, wire.ProbeKind] = {
    ProbeKind.LIVENESS: "liveness",
    ProbeKind.READINESS: "readiness",
    ProbeKind.STARTUP: "startup",
}


def has_probe(container: Container, kind: ProbeKind) -> bool:
    """Whether the container has a probe of `kind` (livenessProbe, readinessProbe or startupProbe)."""
    return probe_of(container, _WIRE_KIND[kind]) is not None


def container_probe(container: Container, kind: ProbeKind) -> Probe:
    """The container's probe of `kind`; KeyError (naming its field) if it has none: a worker runs only for a
    probe its container has."""
    probe = probe_of(container, _WIRE_KIND[kind])
    if probe is None:
        raise KeyError(f"{_WIRE_KIND[kind]}Probe")
    return probe


class ProbeContext(Protocol):
    """What a worker needs from its manager."""

    cache: ResultsCache

    def pod(self, namespace: str, name: str, uid: str) -> Pod | None: ...

    def now(self) -> datetime: ...

    async def started_at(self, container_id: str) -> datetime | None:
        """When the container instance started, to the engine's precision (None: not known)."""
        ...

    def seconds_since_start(self) -> float: ...

    def run(self, kind: ProbeKind, pod: Pod, container: Container, container_id: str) -> Awaitable[Outcome]: ...

    def event(self, pod: Pod, container: str, event_type: str, reason: str, message: str) -> None: ...

    def record(self, pod_uid: str, attempt: Attempt) -> None: ...


@dataclass
class _Counter:
    last: Verdict | None = None
    run: int = 0


class Worker:
    def __init__(
        self, context: ProbeContext, *, namespace: str, name: str, uid: str, container: Container, kind: ProbeKind
    ) -> None:
        self.context = context
        self.namespace, self.name, self.uid = namespace, name, uid
        self.container = container
        self.kind = kind
        self.probe: Probe = container_probe(container, kind)
        self.period = float(self.probe.get("periodSeconds", 10))
        self.container_id = ""
        self.on_hold = False
        self.counter = _Counter()
        self.trigger = asyncio.Event()
        self.probes_run = 0
        self._due: float | None = None  # the loop time the current step was scheduled for
        self._manual = False
        self._start: datetime | None = None  # the current instance's start, to the engine's precision
        self._start_of = ""  # ... of this container id

    async def run(self, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """Probe on every tick (or manual trigger) until `step` says stop or the task is cancelled."""
        loop = asyncio.get_running_loop()
        if self.context.seconds_since_start() < self.period:
            await sleep(random.uniform(0, self.period))  # the daemon just started: spread the herd
        next_tick = loop.time()
        try:
            while True:
                self._due = next_tick
                try:
                    keep_going = await self.step()
                except Exception:  # a bug in one probe must not end the worker (CancelledError still does)
                    log.exception("probe worker %s/%s %s failed", self.namespace, self.name, self.kind)
                    keep_going = True
                if not keep_going:
                    return
                next_tick += self.period
                now = loop.time()
                if next_tick <= now:
                    # A step outlasted its period: Go's ticker keeps one missed tick and drops the others, so
                    # one probe runs at once and the next ones keep to the ticker's grid.
                    next_tick += math.floor((now - next_tick) / self.period) * self.period
                self._manual = False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_tick - loop.time())):
                        await self.trigger.wait()
                    next_tick = loop.time()  # a manual trigger resets the ticker
                    self._manual = True
                self.trigger.clear()
        finally:
            if self.container_id:
                self.context.cache.remove(self.container_id, self.kind)

    async def step(self) -> bool:
        """doProbe: one pass (docs/kubelet.md#one-probe-step); False ends the worker."""
        pod = self.context.pod(self.namespace, self.name, self.uid)
        if pod is None:
            return True
        status = pod_status(pod)
        if status.get("phase") in ("Failed", "Succeeded"):
            return False
        container_status = find_status(status, self.container["name"])
        container_id = container_status.get("containerID", "") if container_status is not None else ""
        container_id = container_id.removeprefix("docker://")
        if not container_id:
            return True
        cache = self.context.cache
        if container_id != self.container_id:
            if self.container_id:
                cache.remove(self.container_id, self.kind)
            self.container_id = container_id
            cache.set(container_id, self.kind, INITIAL_VERDICT[self.kind], pod_uid=self.uid)
            self.on_hold = False
        if self.on_hold:
            return True
        assert container_status is not None
        state = container_status.get("state", {})
        if "running" not in state:
            cache.set(container_id, self.kind, Verdict.FAILURE, pod_uid=self.uid)
            # The worker stops once the container ended for good (ContainerShouldRestart says no).
            ended = state.get("terminated")
            return ended is None or container_should_restart(self.container, pod_spec(pod), ended.get("exitCode"))
        if pod["metadata"].get("deletionTimestamp") and self.kind is not ProbeKind.READINESS:
            cache.set(container_id, self.kind, Verdict.SUCCESS, pod_uid=self.uid)
            return False
        if not await self._initial_delay_passed(container_id, state["running"].get("startedAt")):
            return True
        started = bool(container_status.get("started"))
        if (self.kind is ProbeKind.STARTUP) == started:
            return True  # startup stops once started; liveness and readiness wait for it
        return await self._probe(pod, container_id)

    async def _probe(self, pod: Pod, container_id: str) -> bool:
        self.probes_run += 1
        loop = asyncio.get_running_loop()
        started, wall = loop.time(), self.context.now().timestamp()
        outcome = await self.context.run(self.kind, pod, self.container, container_id)
        duration = loop.time() - started
        due = wall - (started - self._due) if self._due is not None else wall
        name = self.container["name"]

        def record(result: str, message: str, verdict: str = "") -> None:
            attempt = Attempt(
                name, container_id, self.kind, due, wall, duration, result, message[:MESSAGE_LIMIT], verdict, self._manual
            )
            self.context.record(self.uid, attempt)

        if outcome.error:
            message = f"{self.kind} probe errored and resulted in {outcome.result.value} state: {outcome.error}"
            self.context.event(pod, name, "Warning", "Unhealthy", message)
            record("Unknown", outcome.error)
            return True
        if outcome.result is Result.WARNING:
            self.context.event(pod, name, "Warning", "ProbeWarning", f"{self.kind} probe warning: {outcome.output}")
        elif outcome.result is Result.FAILURE:
            self.context.event(pod, name, "Warning", "Unhealthy", f"{self.kind} probe failed: {outcome.output}")
        verdict = Verdict.SUCCESS if outcome.result in (Result.SUCCESS, Result.WARNING) else Verdict.FAILURE
        if verdict is self.counter.last:
            self.counter.run += 1
        else:
            self.counter.last, self.counter.run = verdict, 1
        if verdict is Verdict.FAILURE:
            threshold = int(self.probe.get("failureThreshold", 1))
        else:
            threshold = int(self.probe.get("successThreshold", 1))
        crossed = self.counter.run >= threshold and self.context.cache.get(container_id, self.kind) is not verdict
        record(
            outcome.result.value.capitalize(),
            "" if outcome.result is Result.SUCCESS else outcome.output,
            verdict.value if crossed else "",
        )
        if self.counter.run < threshold:
            return True
        self.context.cache.set(container_id, self.kind, verdict, pod_uid=self.uid)
        if (self.kind is ProbeKind.LIVENESS and verdict is Verdict.FAILURE) or self.kind is ProbeKind.STARTUP:
            self.on_hold = True
            self.counter.run = 0
        return True

    async def _initial_delay_passed(self, container_id: str, started_at: str | None) -> bool:
        """initialDelaySeconds, counted in whole seconds from the instance's start as the kubelet knows it: to the
        engine's precision (upstream reads its status manager's cache, not the API object, whose startedAt has
        whole seconds only); the status's startedAt when the engine does not say."""
        delay = int(self.probe.get("initialDelaySeconds", 0))
        if not delay:
            return True
        if self._start_of != container_id:
            self._start, self._start_of = await self.context.started_at(container_id), container_id
        started = self._start
        if started is None:
            if not started_at:
                return False
            started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
        return int((self.context.now() - started).total_seconds()) >= delay
