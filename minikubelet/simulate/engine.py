"""`simulate`: one pod, run by the real scheduler, kubelet and prober on a simulated engine and a virtual clock.

What runs is the node's own code: the API server's registry (decoding, defaults, validation, admission) stores
the pod, the scheduler binds it, the kubelet's pod workers sync it (computePodActions, SyncPod, the restart
back-off, the status manager) and the probe manager's workers probe it, each writing the same events, statuses
and records as on a real node. Only two things are stand-ins: the engine (`SimRuntime`: containers are records
whose processes end when their behaviour says) and the probe handlers (`SimProber`: the behaviour answers for
the target). Everything runs on a `VirtualClockLoop`, so an hour of the pod's life takes well under a second,
and the store's, the recorder's and the kubelet's clocks all read that virtual time; the run is repeatable for
a given `seed` (which also seeds the kubelet's own jitter).

The result, a `Simulation`, holds what `describe` and `timeline` show (the pod, its Events, the probe attempts,
the container transitions), every event occurrence with its time, and the verdict (restarts, kills, crash
loops, time to Ready).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from minikubelet.api.namespace import active_namespace
from minikubelet.api.podutil import all_containers, container_names
from minikubelet.api.wire import as_pod
from minikubelet.apiserver.admission import PodSecurityPolicy
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.kubelet import nodestatus
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.printing.durations import parse_time
from minikubelet.recorder import EventRecorder, EventType
from minikubelet.scheduler import Scheduler
from minikubelet.simulate.behaviour import Behaviour
from minikubelet.simulate.clock import VirtualClock, VirtualClockLoop
from minikubelet.simulate.prober import SimProber
from minikubelet.simulate.runtime import SimRuntime
from minikubelet.store import Store

__all__ = ["EPOCH", "NODE_NAME", "ContainerVerdict", "SimEvent", "Simulation", "simulate"]

NODE_NAME = "simulated-node"
PAUSE_IMAGE = "minikubelet.local/pause:3.10"
#: Where the virtual wall clock starts, unless the caller says otherwise: a fixed instant, so that two runs of the
#: same simulation print the same times.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_ATTEMPTS_KEPT = 100_000  # per container: an hour at period 1 s of three probes fits


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One occurrence of an event (a new Event, or one more count of an existing one), `at` seconds after the pod
    was created."""

    at: float
    type: str
    reason: str
    field_path: str
    message: str


@dataclass
class ContainerVerdict:
    name: str
    restarts: int = 0
    liveness_kills: int = 0
    startup_kills: int = 0
    crash_loop: bool = False  # was ever waiting in CrashLoopBackOff
    exit_codes: list[int] = field(default_factory=list)  # of every instance that ended, in order
    ready: bool = False  # at the end


@dataclass
class Simulation:
    pod: dict[str, Any]  # as last stored (the last state seen if it was deleted)
    events: list[SimEvent]  # every occurrence, in order
    event_objects: list[dict[str, Any]]  # the pod's Events as stored at the end (what describe lists)
    attempts: list[dict[str, Any]]  # the prober's record (what `GET .../probes` serves)
    transitions: list[dict[str, Any]]  # the kubelet's record (what `GET .../lifecycle` serves)
    created: datetime  # the pod's creation, on the virtual wall clock
    end: datetime  # the end of the run, on the virtual wall clock
    ready_at: float | None  # seconds from creation to the first Ready=True, None if never
    deleted_at: float | None  # when the API object went away, None if it did not
    containers: dict[str, ContainerVerdict]

    @property
    def duration(self) -> float:
        return (self.end - self.created).total_seconds()

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.containers.values())


class _RecordingRecorder(EventRecorder):
    """The event recorder, noting every occurrence as it is recorded."""

    def __init__(
        self, store: Store, *, component: str, host: str, clock: VirtualClock, sink: list[tuple[float, dict[str, Any]]]
    ) -> None:
        super().__init__(store, component=component, host=host, clock=clock.now)
        self._seconds = clock.seconds
        self._sink = sink

    def record(
        self, obj: Mapping[str, Any], event_type: EventType, reason: str, message: str, *, field_path: str = ""
    ) -> dict[str, Any]:
        event = super().record(obj, event_type, reason, message, field_path=field_path)
        self._sink.append((self._seconds(), event))
        return event


def simulate(
    pod: Mapping[str, Any],
    behaviours: Mapping[str, Behaviour],
    *,
    duration: float,
    seed: int = 0,
    delete_at: float | None = None,
    delete_grace: int | None = None,
    epoch: datetime = EPOCH,
) -> Simulation:
    """Run `pod` for `duration` seconds of virtual time, each container doing what `behaviours` (by container
    name) says; `delete_at` deletes the pod that many seconds after its creation (with `delete_grace`, else its own
    grace period), as `kubectl delete` would. Errors of the pod itself (validation, admission) raise as the API
    server's (InvalidError, ForbiddenError...)."""
    loop = VirtualClockLoop()
    saved = random.getstate()
    random.seed(seed)
    try:
        return loop.run_until_complete(
            _simulate(
                loop,
                dict(pod),
                behaviours,
                duration=duration,
                seed=seed,
                delete_at=delete_at,
                delete_grace=delete_grace,
                epoch=epoch,
            )
        )
    finally:
        random.setstate(saved)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _simulate(
    loop: VirtualClockLoop,
    body: dict[str, Any],
    behaviours: Mapping[str, Behaviour],
    *,
    duration: float,
    seed: int,
    delete_at: float | None,
    delete_grace: int | None,
    epoch: datetime,
) -> Simulation:
    clock = VirtualClock(loop, epoch)
    occurrences: list[tuple[float, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="minikubelet-simulate-") as tmp:
        state = Path(tmp)
        uids = random.Random(seed)
        store = Store(
            state / "state.db", clock=clock.timestamp, new_uid=lambda: str(uuid.UUID(int=uids.getrandbits(128), version=4))
        )
        try:
            registry = Registry(store, clock=clock.now, admission=PodSecurityPolicy())
            namespace = str((body.get("metadata") or {}).get("namespace") or "default")
            store.create(active_namespace(namespace))
            store.create(nodestatus.node_object(NODE_NAME, now=clock.now(), state_dir=state))
            images = [PAUSE_IMAGE, *(c["image"] for c in all_containers(as_pod(body)) if c.get("image"))]
            runtime = SimRuntime(behaviours, images=images, clock=clock.now)
            recorder = _RecordingRecorder(store, component="kubelet", host=NODE_NAME, clock=clock, sink=occurrences)
            prober = SimProber(store, runtime, recorder, clock=clock.now, monotonic=clock.monotonic, seed=seed)
            prober.history.limit = _ATTEMPTS_KEPT
            kubelet = Kubelet(
                store,
                runtime,
                node_name=NODE_NAME,
                pod_infra_image=PAUSE_IMAGE,
                state_dir=state,
                recorder=recorder,
                host_ip="192.168.0.10",
                prober=prober,
                clock=clock.now,
                monotonic=clock.monotonic,
            )
            scheduler = Scheduler(
                registry,
                node_name=NODE_NAME,
                recorder=_RecordingRecorder(store, component="default-scheduler", host="", clock=clock, sink=occurrences),
                clock=clock.now,
            )
            # The records of a pod are dropped when it goes; a simulation keeps them, to show a deletion too.
            setattr(prober.history, "forget", _keep)  # noqa: B010
            setattr(kubelet.lifecycle, "forget", _keep)  # noqa: B010
            created, _ = registry.create(RESOURCES["pods"], namespace, body)
            name, uid = created["metadata"]["name"], created["metadata"]["uid"]
            start = clock.seconds()
            watcher = _PodWatcher(store, namespace, name, clock, start)
            tasks = [
                asyncio.create_task(scheduler.run(), name="scheduler"),
                asyncio.create_task(kubelet.run(), name="kubelet"),
                asyncio.create_task(watcher.run(), name="pod-watch"),
            ]
            if delete_at is not None:
                tasks.append(asyncio.create_task(_delete_later(registry, namespace, name, delete_at, delete_grace)))
            try:
                await asyncio.sleep(duration)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await prober.close()
            final = watcher.last or created
            with contextlib.suppress(Exception):
                final = store.get("Pod", namespace, name)
            events, _ = store.list("Event", namespace)
            mine = [e for e in events if e.get("involvedObject", {}).get("uid") == uid]
            attempts = prober.history(uid)
            transitions = kubelet.lifecycle(uid)
        finally:
            store.close()
    created_at = parse_time(created["metadata"].get("creationTimestamp")) or clock.now()
    sim_events = [
        SimEvent(
            at - start,
            str(event.get("type", "")),
            str(event.get("reason", "")),
            str(event.get("involvedObject", {}).get("fieldPath", "")),
            str(event.get("message", "")),
        )
        for at, event in occurrences
        if event.get("involvedObject", {}).get("uid") == uid
    ]
    return Simulation(
        pod=final,
        events=sim_events,
        event_objects=mine,
        attempts=attempts,
        transitions=transitions,
        created=created_at,
        end=clock.now(),
        ready_at=watcher.ready_at,
        deleted_at=watcher.deleted_at,
        containers=_verdicts(final, sim_events, runtime.exits, watcher),
    )


def _keep(uid: str) -> None:
    """A history's `forget`, in a simulation: nothing is forgotten."""


async def _delete_later(registry: Registry, namespace: str, name: str, at: float, grace: int | None) -> None:
    await asyncio.sleep(at)
    registry.delete(RESOURCES["pods"], namespace, name, grace_period=grace)


class _PodWatcher:
    """Follows the pod's stored states: the first Ready=True, every waiting reason seen, the deletion."""

    def __init__(self, store: Store, namespace: str, name: str, clock: VirtualClock, start: float) -> None:
        self.store, self.namespace, self.name = store, namespace, name
        self.clock, self.start = clock, start
        self.last: dict[str, Any] | None = None
        self.ready_at: float | None = None
        self.deleted_at: float | None = None
        self.waiting: dict[str, set[str]] = {}

    async def run(self) -> None:
        watch = self.store.watch("Pod", self.namespace, field_selector=f"metadata.name={self.name}")
        try:
            async for kind, pod in watch:
                now = self.clock.seconds() - self.start
                if kind == "DELETED":
                    self.deleted_at = now
                    continue
                self.last = pod
                status = pod.get("status") or {}
                ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
                if ready and self.ready_at is None:
                    self.ready_at = now
                for key in ("initContainerStatuses", "containerStatuses"):
                    for entry in status.get(key) or []:
                        reason = (entry.get("state") or {}).get("waiting", {}).get("reason")
                        if reason:
                            self.waiting.setdefault(entry["name"], set()).add(reason)
        finally:
            watch.close()


def _verdicts(
    pod: dict[str, Any], events: list[SimEvent], exits: list[tuple[str, int]], watcher: _PodWatcher
) -> dict[str, ContainerVerdict]:
    status = pod.get("status") or {}
    entries = {e["name"]: e for key in ("initContainerStatuses", "containerStatuses") for e in status.get(key) or []}
    verdicts: dict[str, ContainerVerdict] = {}
    for name in container_names(as_pod(pod), ephemeral=False):
        entry = entries.get(name, {})
        verdict = ContainerVerdict(name, restarts=int(entry.get("restartCount", 0)), ready=bool(entry.get("ready")))
        path = f"spec.containers{{{name}}}"
        for event in events:
            if event.reason == "Killing" and event.field_path.endswith(path[len("spec.containers") :]):
                verdict.liveness_kills += "failed liveness probe" in event.message
                verdict.startup_kills += "failed startup probe" in event.message
        verdict.crash_loop = "CrashLoopBackOff" in watcher.waiting.get(name, set())
        verdict.exit_codes = [code for container, code in exits if container == name]
        verdicts[name] = verdict
    return verdicts
